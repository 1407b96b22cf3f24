//! Configuring an [`Uploader`].

use std::num::NonZeroU32;
use std::time::Duration;

use super::{RetryPolicy, Uploader};
use crate::auth::{AppCredentials, TokenSource};
use crate::budget::Budget;
use crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM;
use crate::{Client, ClientContext};

/// Configures an [`Uploader`].
#[derive(Debug)]
pub struct UploaderBuilder {
    pub(super) base_url: String,
    pub(super) context: ClientContext,
    pub(super) concurrency: usize,
    pub(super) upload_all_max: u64,
    pub(super) requests_per_second: Option<NonZeroU32>,
    pub(super) budget: Option<Budget>,
    pub(super) policy: RetryPolicy,
    pub(super) stall_timeout: Duration,
    pub(super) connect_timeout: Duration,
}

/// Why an [`Uploader`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The HTTP client could not be created.
    #[error("creating the HTTP client failed: {0}")]
    Http(#[from] reqwest::Error),
    /// `concurrency` was 0.
    #[error("concurrency must be at least 1")]
    ZeroConcurrency,
    /// The base URL is not an absolute http(s) URL.
    #[error("base URL {0:?} must start with http:// or https://")]
    BaseUrl(String),
}

impl UploaderBuilder {
    /// Authenticate with a fixed access token.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.context = ClientContext::with_token(token);
        self
    }

    /// Authenticate as a custom app: tenant tokens are fetched, cached and refreshed.
    pub fn credentials(mut self, credentials: AppCredentials) -> Self {
        self.context = ClientContext::with_source(credentials);
        self
    }

    /// Authenticate with any token source.
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.context = ClientContext::with_source(source);
        self
    }

    /// Blocks read and sent at once ([`DEFAULT_CONCURRENCY`](super::DEFAULT_CONCURRENCY) by
    /// default). Memory holds at most twice this many blocks.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Requests per second per endpoint group for all uploads of this uploader; the documented
    /// 5 by default, with the documented daily quota, in a budget of its own. `None` removes the
    /// limit and the quota (for a local server); a refusal with a reset still pauses every
    /// request. Ignored when a [`budget`](Self::budget) is set.
    pub fn requests_per_second(mut self, limit: Option<u32>) -> Self {
        self.requests_per_second = limit.and_then(NonZeroU32::new);
        self
    }

    /// Sends every request through `budget` (shared with its clones: other uploaders,
    /// [`Downloader`](crate::download::Downloader)s, raw [`Client`] calls through [`Budget::call`], and
    /// with a Redis budget other processes): each attempt waits for a permit of its endpoint
    /// group and reports rate and quota answers to it, and an upload whose parts do not fit the
    /// day's quota is refused before `upload_prepare`.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Files up to this size go through `upload_all`, larger ones through the chunked flow.
    /// Default and ceiling: the documented [`UPLOAD_ALL_REQUEST_SIZE_MAXIMUM`]; lower it to exercise the
    /// chunked flow with small files, or to get per-block progress on medium ones.
    pub fn upload_all_max(mut self, bytes: u64) -> Self {
        self.upload_all_max = bytes.min(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM);
        self
    }

    /// Retries and backoff.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A request fails (and is retried) when no byte moved for this long, sending or receiving
    /// ([`DEFAULT_STALL_TIMEOUT`](crate::DEFAULT_STALL_TIMEOUT) by default). There is no cap on
    /// a request's total time: a slow link that keeps moving is never cut off.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// How long establishing a connection may take ([`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Builds the uploader.
    pub fn build(self) -> Result<Uploader, BuildError> {
        if self.concurrency == 0 {
            return Err(BuildError::ZeroConcurrency);
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(BuildError::BaseUrl(self.base_url));
        }
        let http = crate::http_client_builder()
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(self.concurrency.max(4))
            .build()?;
        let context = self.context.stall_timeout(self.stall_timeout);
        Ok(Uploader {
            client: Client::new_with_client(self.base_url.trim_end_matches('/'), http, context),
            concurrency: self.concurrency,
            upload_all_max: self.upload_all_max,
            budget: Some(
                self.budget
                    .unwrap_or_else(|| Budget::own("uploader", self.requests_per_second)),
            ),
            policy: self.policy,
        })
    }
}
