//! What every request of a [`Client`](crate::Client) shares: how it authenticates, and how long
//! a transfer may stall.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{StaticToken, TokenSource};

/// No bytes moving for this long fails a request with [`ApiError::Stalled`](crate::ApiError::Stalled)
/// (a retryable error), whatever its size: a slow link that keeps moving is never cut off.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long establishing a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The state a [`Client`](crate::Client) hands to its hooks: the source of its access tokens and
/// the stall timeout.
///
/// ```
/// use feishu_drive::{Client, ClientContext};
///
/// let client = Client::with_stall_timeout("https://open.feishu.cn", ClientContext::with_token("t-example"))
///     .expect("an HTTP client");
/// ```
#[derive(Clone, Debug)]
pub struct ClientContext {
    tokens: Option<Arc<dyn TokenSource>>,
    stall_timeout: Duration,
}

impl Default for ClientContext {
    fn default() -> Self {
        Self {
            tokens: None,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
        }
    }
}

impl ClientContext {
    /// No `Authorization` header: for the token endpoint itself, or a server that needs none.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Every request carries this access token (`tenant_access_token` or `user_access_token`).
    pub fn with_token(token: impl Into<String>) -> Self {
        Self::with_source(StaticToken::new(token))
    }

    /// Every request asks `source` for its token, so the source can cache and refresh it.
    pub fn with_source(source: impl TokenSource + 'static) -> Self {
        Self {
            tokens: Some(Arc::new(source)),
            ..Self::default()
        }
    }

    /// Fail a request when no byte has moved (sent or received) for `timeout`
    /// ([`DEFAULT_STALL_TIMEOUT`] by default). Waiting for the server's answer counts as stalled.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout.max(Duration::from_millis(10));
        self
    }

    /// The token source, if requests are authenticated.
    pub fn token_source(&self) -> Option<&Arc<dyn TokenSource>> {
        self.tokens.as_ref()
    }

    /// The stall timeout.
    pub fn stall_timeout_value(&self) -> Duration {
        self.stall_timeout
    }
}

/// The `reqwest` settings of [`Client::with_stall_timeout`](crate::Client::with_stall_timeout):
/// a connect timeout and no whole-request deadline (the hooks enforce the stall timeout).
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_keepalive(Duration::from_secs(30))
}

impl crate::Client {
    /// A client whose requests have a connect timeout ([`CONNECT_TIMEOUT`]) and a stall timeout
    /// (the context's), and no whole-request deadline: a 20 MiB `upload_all` on a slow link
    /// that keeps moving completes. Prefer it to the generated `Client::new`, which keeps
    /// progenitor's 15-second cap on every request (the stall timeout applies there too).
    pub fn with_stall_timeout(base_url: &str, context: ClientContext) -> Result<Self, reqwest::Error> {
        let http = http_client_builder().build()?;
        Ok(Self::new_with_client(base_url, http, context))
    }
}
