//! Access tokens: where they come from, and keeping them out of logs.

use std::fmt;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// An access token. Its `Debug` output is redacted, so it never reaches a log or an error.
///
/// ```
/// let token = feishu_drive::auth::AccessToken::new("t-secret");
/// assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
/// ```
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the app's credentials.
    #[error("the token endpoint refused the credentials: code {code}: {msg}")]
    Refused {
        /// The envelope's code.
        code: crate::ErrorCode,
        /// The envelope's message.
        msg: String,
    },
    /// The token endpoint could not be reached or answered something unexpected.
    #[error("fetching an access token failed: {0}")]
    Fetch(String),
}

/// Where a client's access tokens come from.
///
/// The client asks for a token before every request; implementations cache. When the server
/// says a token is invalid or expired, the caller reports it with [`TokenSource::invalidate`] and
/// asks again.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token to send now.
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>>;

    /// The server rejected `token`; the next [`TokenSource::token`] should not return it.
    /// A static token cannot be replaced, so the default does nothing.
    fn invalidate(&self, token: &AccessToken) {
        let _ = token;
    }
}

/// A fixed token, such as a `user_access_token` obtained elsewhere.
#[derive(Debug, Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// Uses `token` for every request.
    pub fn new(token: impl Into<String>) -> Self {
        Self(AccessToken::new(token))
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}
