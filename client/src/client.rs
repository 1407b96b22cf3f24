//! The one way to make a [`Client`]: [`Client::builder`]. One client holds one token cache, one
//! budget, one retry policy and one HTTP connection pool, and has every generated operation plus
//! [`Client::upload`] and [`Client::download_media`].

#[cfg(feature = "upload")]
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AppCredentials, TokenSource};
use crate::context::{CONNECT_TIMEOUT, ClientContext, DEFAULT_STALL_TIMEOUT, http_client_builder};
use crate::{Client, RetryPolicy};

#[cfg(feature = "upload")]
use crate::budget::Budget;

/// How the client authenticates, until [`ClientBuilder::build`] makes the token source.
#[derive(Debug)]
enum Auth {
    None,
    Token(String),
    App { app_id: String, app_secret: String },
    Source(Arc<dyn TokenSource>),
}

/// Configures a [`Client`]; made by [`Client::builder`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use feishu_drive::Client;
/// use feishu_drive::upload::UploadRequest;
///
/// let client = Client::builder("https://open.feishu.cn")
///     .app_credentials("cli_a1b2c3", "app-secret")
///     .build()?;
/// let outcome = client
///     .upload(UploadRequest::file("video.mp4", "docx_file", "doxcnXgNGAtaAraIRVeCfmabcef"))
///     .await?;
/// println!("file_token: {}", outcome.file_token);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    policy: RetryPolicy,
    stall_timeout: Duration,
    connect_timeout: Duration,
    #[cfg(feature = "upload")]
    requests_per_second: Option<NonZeroU32>,
    #[cfg(feature = "upload")]
    budget: Option<Budget>,
    #[cfg(feature = "upload")]
    concurrency: usize,
    #[cfg(feature = "upload")]
    upload_all_max: u64,
    #[cfg(feature = "upload")]
    range_size: Option<u64>,
}

/// Why a [`Client`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The HTTP client could not be created (no TLS backend, for instance).
    #[error("creating the HTTP client failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The base URL is not an absolute http(s) URL.
    #[error("base URL {0:?} must start with http:// or https:// (e.g. https://open.feishu.cn)")]
    BaseUrl(String),
    /// `concurrency` was 0.
    #[error("concurrency must be at least 1")]
    ZeroConcurrency,
    /// A download range size of 0 bytes.
    #[error("the range size must be at least 1 byte")]
    ZeroRangeSize,
}

impl Client {
    /// Starts configuring a client for the API at `base_url`: `https://open.feishu.cn` (Feishu),
    /// `https://open.larksuite.com` (Lark), or a local server.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            policy: RetryPolicy::default(),
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            #[cfg(feature = "upload")]
            requests_per_second: NonZeroU32::new(crate::limits::REQUESTS_PER_SECOND),
            #[cfg(feature = "upload")]
            budget: None,
            #[cfg(feature = "upload")]
            concurrency: crate::upload::DEFAULT_CONCURRENCY,
            #[cfg(feature = "upload")]
            upload_all_max: crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM,
            #[cfg(feature = "upload")]
            range_size: Some(crate::download::DEFAULT_RANGE_SIZE),
        }
    }

    /// A client for the token endpoint: same base URL and connection pool, no token.
    pub(crate) fn anonymous(base_url: &str, http: reqwest::Client, stall_timeout: Duration) -> Self {
        Client::new_with_client(base_url, http, ClientContext::anonymous(stall_timeout))
    }

    /// What every request of this client shares: its token source, stall timeout, retry
    /// policy and budget.
    pub fn context(&self) -> &ClientContext {
        &self.inner
    }

    /// The budget every request of this client draws from (shared with its clones).
    #[cfg(feature = "upload")]
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }
}

impl ClientBuilder {
    /// Authenticate with a fixed access token (`tenant_access_token` or `user_access_token`).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Token(token.into());
        self
    }

    /// Authenticate as a custom app: tenant tokens are fetched from this client's base URL,
    /// cached and refreshed before they expire.
    pub fn app_credentials(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.auth = Auth::App {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
        };
        self
    }

    /// Authenticate with any token source (e.g. [`AppCredentials`] with its own retry policy).
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.auth = Auth::Source(Arc::new(source));
        self
    }

    /// Retries and backoff of every request ([`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A request fails (and is retried) when no byte moved for this long, sending or receiving
    /// ([`DEFAULT_STALL_TIMEOUT`] by default). There is no cap on a request's total time: a slow
    /// link that keeps moving is never cut off.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout.max(Duration::from_millis(10));
        self
    }

    /// How long establishing a connection may take ([`CONNECT_TIMEOUT`] by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Requests per second per endpoint group, in a budget of this client's own: the spec's
    /// [`REQUESTS_PER_SECOND`](crate::limits::REQUESTS_PER_SECOND) by default, with the daily
    /// quota. `None` removes the limit and the quota (for a local server); a refusal with a
    /// reset still pauses every request. Ignored when a [`budget`](Self::budget) is set.
    #[cfg(feature = "upload")]
    pub fn requests_per_second(mut self, limit: Option<u32>) -> Self {
        self.requests_per_second = limit.and_then(NonZeroU32::new);
        self
    }

    /// Sends every request through `budget`, shared with its clones: other clients and, with a
    /// Redis budget, other processes. Each attempt waits for a permit of its endpoint group and
    /// reports rate and quota answers to it.
    #[cfg(feature = "upload")]
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Blocks read and sent at once by one upload
    /// ([`DEFAULT_CONCURRENCY`](crate::upload::DEFAULT_CONCURRENCY) by default). An upload holds
    /// at most two blocks per worker in memory (one being sent, one being read).
    #[cfg(feature = "upload")]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Files up to this size go through `upload_all`, larger ones through the chunked flow.
    /// Default and ceiling: the spec's
    /// [`UPLOAD_ALL_REQUEST_SIZE_MAXIMUM`](crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM); lower
    /// it to exercise the chunked flow with small files, or for per-block progress.
    #[cfg(feature = "upload")]
    pub fn upload_all_max(mut self, bytes: u64) -> Self {
        self.upload_all_max = bytes.min(crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM);
        self
    }

    /// Bytes a download asks for per request
    /// ([`DEFAULT_RANGE_SIZE`](crate::download::DEFAULT_RANGE_SIZE) by default); `None` asks for
    /// everything from the current offset on in one request.
    #[cfg(feature = "upload")]
    pub fn range_size(mut self, bytes: Option<u64>) -> Self {
        self.range_size = bytes;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(BuildError::BaseUrl(self.base_url));
        }
        let http = http_client_builder(self.connect_timeout);
        #[cfg(feature = "upload")]
        let http = {
            if self.concurrency == 0 {
                return Err(BuildError::ZeroConcurrency);
            }
            if self.range_size == Some(0) {
                return Err(BuildError::ZeroRangeSize);
            }
            http.pool_max_idle_per_host(self.concurrency.max(4))
        };
        let http = http.build()?;
        let tokens: Option<Arc<dyn TokenSource>> = match self.auth {
            Auth::None => None,
            Auth::Token(token) => Some(Arc::new(crate::auth::StaticToken::new(token))),
            Auth::App { app_id, app_secret } => {
                let anonymous = Client::anonymous(&base_url, http.clone(), self.stall_timeout);
                Some(Arc::new(AppCredentials::with_client(
                    anonymous, app_id, app_secret,
                )))
            }
            Auth::Source(source) => Some(source),
        };
        let context = ClientContext {
            #[cfg(feature = "upload")]
            budget: self.budget.unwrap_or_else(|| {
                let app = tokens.as_ref().and_then(|t| t.identity()).unwrap_or_default();
                Budget::own(&app, self.requests_per_second)
            }),
            #[cfg(feature = "upload")]
            transfer: crate::context::Transfer {
                concurrency: self.concurrency,
                upload_all_max: self.upload_all_max,
                range_size: self.range_size,
            },
            tokens,
            stall_timeout: self.stall_timeout,
            policy: self.policy,
        };
        Ok(Client::new_with_client(&base_url, http, context))
    }
}
