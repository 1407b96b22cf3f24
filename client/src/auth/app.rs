//! A custom app's credentials as a [`TokenSource`]: they fetch tokens through a generated
//! [`Client`](crate::Client), so they sit above it (and the client's context only knows the
//! trait, in `token.rs`).

use std::fmt;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::token::{AccessToken, AuthError, TokenSource};

/// A custom app's `tenant_access_token`, fetched with its app id and secret, cached, and
/// refreshed before it expires (or at once, after the server rejected it).
///
/// Transient failures of the token endpoint (unreachable, 5xx, 429, a retryable code, a stall)
/// are retried with backoff, the first fetch included; only a refusal of the credentials is
/// final. When a refresh fails while the cached token is still valid, the cached token is used
/// (and the refresh tried again a little later), so one bad answer never stops an upload.
///
/// The endpoint issues a new token only when the current one has under 30 minutes left
/// (otherwise it returns the same token with its remaining lifetime), so the refresh happens
/// 25 minutes before expiry: late enough to get a new token, early enough that no request
/// carries one that expires in flight. Tokens are opaque: any length (JWT-sized tenant tokens of
/// ~4 KB exist), no `t-` prefix assumed.
///
/// ```no_run
/// use feishu_drive::{Client, auth::AppCredentials};
///
/// // `Client::builder(..).app_credentials(id, secret)` makes one of these; make it yourself to
/// // change its retry policy.
/// let tokens = AppCredentials::new("https://open.feishu.cn", "cli_a1b2c3", "app-secret")
///     .retry_policy(feishu_drive::RetryPolicy::default());
/// let client = Client::builder("https://open.feishu.cn").token_source(tokens).build();
/// ```
pub struct AppCredentials {
    app_id: String,
    app_secret: SecretString,
    client: crate::Client,
    policy: crate::RetryPolicy,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

/// Times are tokio's `Instant` (the system clock unless a test pauses tokio's): the refresh
/// schedule, hours long, is then tested on a paused clock (`tests/tests/suite/client_clock.rs`).
struct CachedToken {
    token: AccessToken,
    refresh_at: tokio::time::Instant,
    /// Expiry, less a safety margin: a request sent before it does not carry an expired token.
    usable_until: tokio::time::Instant,
}

/// Refresh this long before the token expires: under the endpoint's 30-minute reissue threshold,
/// with room for requests in flight. Short-lived tokens refresh at half-life.
const REFRESH_MARGIN: std::time::Duration = std::time::Duration::from_secs(25 * 60);

/// A cached token is not used in its last 30 seconds (its last quarter, if it lives less than
/// 2 minutes), when a request could outlive it.
const EXPIRY_SAFETY: std::time::Duration = std::time::Duration::from_secs(30);

/// After a failed refresh with a valid cached token, the next refresh waits this long.
const REFRESH_RETRY: std::time::Duration = std::time::Duration::from_secs(15);

impl AppCredentials {
    /// Credentials for the token endpoint at `base_url` (the API host, e.g.
    /// `https://open.feishu.cn`).
    pub fn new(base_url: &str, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        // Building an HTTP client fails only without a TLS backend; reqwest's default client
        // then reports the same failure on its first request.
        let http = crate::context::http_client_builder(crate::CONNECT_TIMEOUT)
            .build()
            .unwrap_or_default();
        let client =
            crate::Client::anonymous(base_url.trim_end_matches('/'), http, crate::DEFAULT_STALL_TIMEOUT);
        Self::with_client(client, app_id, app_secret)
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
            policy: crate::RetryPolicy {
                max_retries: 5,
                min_delay: std::time::Duration::from_millis(200),
                max_delay: std::time::Duration::from_secs(5),
            },
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// How transient token-endpoint failures are retried (5 retries from 200 ms to 5 s by
    /// default).
    pub fn retry_policy(mut self, policy: crate::RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// One token request, with the retry policy.
    async fn fetch(&self) -> Result<CachedToken, AuthError> {
        use backon::Retryable;
        let backoff = backon::ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        (|| self.fetch_once())
            .retry(backoff)
            .when(AuthError::is_retryable)
            .notify(|e: &AuthError, delay| {
                tracing::warn!(app_id = %self.app_id, error = %e, ?delay, "token endpoint failed; retrying");
            })
            .await
    }

    async fn fetch_once(&self) -> Result<CachedToken, AuthError> {
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
            .map_err(|e| classify(&e))?
            .into_inner();
        let token = response
            .tenant_access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::Unavailable {
                reason: "the token response has code 0 but no token".to_owned(),
                code: None,
                retryable: true,
            })?;
        let lifetime = std::time::Duration::from_secs(response.expire.unwrap_or(0).max(0).unsigned_abs());
        let early = if lifetime > REFRESH_MARGIN * 2 {
            lifetime - REFRESH_MARGIN
        } else {
            lifetime / 2
        };
        tracing::debug!(app_id = %self.app_id, expires_in = lifetime.as_secs(), "fetched a tenant_access_token");
        let now = tokio::time::Instant::now();
        Ok(CachedToken {
            token: AccessToken::new(token),
            refresh_at: now + early,
            usable_until: now + lifetime - EXPIRY_SAFETY.min(lifetime / 4),
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
            let now = tokio::time::Instant::now();
            if let Some(cached) = cache.as_ref()
                && now < cached.refresh_at
            {
                return Ok(cached.token.clone());
            }
            match self.fetch().await {
                Ok(fresh) => {
                    let token = fresh.token.clone();
                    *cache = Some(fresh);
                    Ok(token)
                }
                Err(error) => match cache.as_mut() {
                    // A refresh that fails while the cached token is still good is not a
                    // failure of the request: keep using the token, and try again shortly.
                    Some(cached) if now < cached.usable_until && error.is_retryable() => {
                        tracing::warn!(app_id = %self.app_id, %error, "refreshing the access token failed; using the cached one, still valid");
                        cached.refresh_at = now + REFRESH_RETRY;
                        Ok(cached.token.clone())
                    }
                    _ => Err(error),
                },
            }
        })
    }

    fn identity(&self) -> Option<String> {
        Some(self.app_id.clone())
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

/// Classifies a failed token request: a refusal of the credentials is permanent, anything
/// the retry policy would retry (5xx, 429, transport, stall, retryable codes) is transient.
fn classify(error: &crate::ApiError) -> AuthError {
    let code = error.code();
    let refusal_code = code.is_some_and(crate::ErrorCode::is_credentials_refused);
    let client_error = error
        .status()
        .is_some_and(|s| s.is_client_error() && s.as_u16() != 429);
    match code {
        Some(code) if refusal_code || (client_error && !error.is_retryable()) => AuthError::Refused {
            code,
            msg: match error {
                crate::ApiError::Api { msg, .. } => msg.clone(),
                other => other.to_string(),
            },
            log_id: error.log_id().map(str::to_owned),
        },
        _ => AuthError::Unavailable {
            reason: with_causes(error),
            code,
            retryable: error.is_retryable(),
        },
    }
}

/// The error and its causes on one line: a transport error's own text hides why ("error sending
/// request" for a refused connection, a DNS failure, a TLS error alike), and the reason is all
/// the caller gets.
fn with_causes(error: &crate::ApiError) -> String {
    let causes = std::iter::successors(std::error::Error::source(error), |e| e.source());
    causes.fold(error.to_string(), |mut text, cause| {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
        text
    })
}
