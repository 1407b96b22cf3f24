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

/// A custom app's `tenant_access_token`, fetched with its app id and secret, cached, and
/// refreshed before it expires (or at once, after the server rejected it).
///
/// ```no_run
/// use feishu_drive::{Client, ClientContext, auth::AppCredentials};
///
/// let tokens = AppCredentials::new("https://open.feishu.cn", "cli_a1b2c3", "app-secret");
/// let client = Client::new("https://open.feishu.cn", ClientContext::with_source(tokens));
/// ```
pub struct AppCredentials {
    app_id: String,
    app_secret: SecretString,
    client: crate::Client,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    token: AccessToken,
    refresh_at: std::time::Instant,
}

/// Refresh this long before the token expires, so a request never carries a token that expires
/// in flight (the official SDKs use the same margin). Short-lived tokens refresh at half-life.
const REFRESH_MARGIN: std::time::Duration = std::time::Duration::from_secs(600);

impl AppCredentials {
    /// Credentials for the token endpoint at `base_url` (the API host, e.g.
    /// `https://open.feishu.cn`).
    pub fn new(base_url: &str, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self::with_client(
            crate::Client::new(base_url, crate::ClientContext::anonymous()),
            app_id,
            app_secret,
        )
    }

    /// Credentials that fetch tokens through `client` (which should send no token itself).
    pub fn with_client(
        client: crate::Client,
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: SecretString::from(app_secret.into()),
            client,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    async fn fetch(&self) -> Result<CachedToken, AuthError> {
        use crate::FeishuResult;
        let body = crate::types::TenantAccessTokenRequest::builder()
            .app_id(self.app_id.clone())
            .app_secret(self.app_secret.expose_secret().to_owned());
        let response = self
            .client
            .tenant_access_token_internal()
            .body(body)
            .send()
            .await
            .checked()
            .map_err(|e| match e.code() {
                Some(code) => AuthError::Refused {
                    code,
                    msg: e.to_string(),
                },
                None => AuthError::Fetch(e.to_string()),
            })?
            .into_inner();
        let token = response
            .tenant_access_token
            .ok_or_else(|| AuthError::Fetch("the token response has code 0 but no token".to_owned()))?;
        let lifetime = std::time::Duration::from_secs(response.expire.unwrap_or(0).max(0).unsigned_abs());
        let early = if lifetime > REFRESH_MARGIN * 2 {
            lifetime - REFRESH_MARGIN
        } else {
            lifetime / 2
        };
        tracing::debug!(app_id = %self.app_id, expires_in = lifetime.as_secs(), "fetched a tenant_access_token");
        Ok(CachedToken {
            token: AccessToken::new(token),
            refresh_at: std::time::Instant::now() + early,
        })
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("app_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl TokenSource for AppCredentials {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            // Holding the lock across the fetch makes concurrent callers share one request
            // instead of each fetching a token.
            let mut cache = self.cache.lock().await;
            if let Some(cached) = cache.as_ref()
                && std::time::Instant::now() < cached.refresh_at
            {
                return Ok(cached.token.clone());
            }
            let fresh = self.fetch().await?;
            let token = fresh.token.clone();
            *cache = Some(fresh);
            Ok(token)
        })
    }

    fn invalidate(&self, token: &AccessToken) {
        // `try_lock`: a fetch in progress will produce a new token anyway.
        if let Ok(mut cache) = self.cache.try_lock()
            && cache.as_ref().is_some_and(|c| &c.token == token)
        {
            *cache = None;
        }
    }
}
