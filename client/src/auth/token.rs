//! What a token source is and what it hands out: below the generated client, so the client's
//! context can hold a [`TokenSource`] without depending on the client that fetches tokens.

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
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the app's credentials (10003, 10014, 99991543, or any other
    /// 4xx answer with a code that is not retryable): sending them again cannot help.
    #[error("the token endpoint refused the credentials: code {}: {msg}{}", code.code(), log_id.as_ref().map(|id| format!(" (log id {id})")).unwrap_or_default())]
    Refused {
        /// The envelope's code.
        code: crate::ErrorCode,
        /// The envelope's message.
        msg: String,
        /// The log id, if the endpoint sent one.
        log_id: Option<String>,
    },
    /// No token could be had for a reason that may pass: the endpoint was unreachable, slow,
    /// answered 5xx or 429, or a retryable code — after the token source's own retries.
    #[error("fetching an access token failed{}: {reason}", if *retryable { " (transient)" } else { "" })]
    Unavailable {
        /// What went wrong.
        reason: String,
        /// The code, if the endpoint sent one.
        code: Option<crate::ErrorCode>,
        /// Whether a later attempt may succeed.
        retryable: bool,
    },
}

impl AuthError {
    /// Whether asking again later may succeed (never for a refusal).
    pub fn is_retryable(&self) -> bool {
        match self {
            AuthError::Refused { .. } => false,
            AuthError::Unavailable { retryable, .. } => *retryable,
        }
    }

    /// The token endpoint's code, if it sent one.
    pub fn code(&self) -> Option<crate::ErrorCode> {
        match self {
            AuthError::Refused { code, .. } => Some(*code),
            AuthError::Unavailable { code, .. } => *code,
        }
    }
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

    /// Who the tokens act for (an app id), if the source knows: a resume journal belongs to it,
    /// since an upload id belongs to the app that prepared it.
    fn identity(&self) -> Option<String> {
        None
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
