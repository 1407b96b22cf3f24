//! What every request of a [`Client`](crate::Client) shares: how it authenticates, how long a
//! transfer may stall, the budget it draws from and how it retries. Built only by
//! [`ClientBuilder`](crate::ClientBuilder), so every `Client` has one token cache, one budget
//! and no whole-request deadline.

use std::sync::Arc;
use std::time::Duration;

use crate::RetryPolicy;
use crate::auth::TokenSource;

/// No bytes moving for this long fails a request with [`ApiError::Stalled`](crate::ApiError::Stalled)
/// (a retryable error), whatever its size: a slow link that keeps moving is never cut off.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long establishing a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The state a [`Client`](crate::Client) hands to its hooks and its high-level operations.
/// Read it through [`Client::context`](crate::Client::context); make it with
/// [`Client::builder`](crate::Client::builder).
#[derive(Clone, Debug)]
pub struct ClientContext {
    pub(crate) tokens: Option<Arc<dyn TokenSource>>,
    pub(crate) stall_timeout: Duration,
    pub(crate) policy: RetryPolicy,
    #[cfg(feature = "upload")]
    pub(crate) budget: crate::budget::Budget,
    #[cfg(feature = "upload")]
    pub(crate) transfer: Transfer,
}

/// How the high-level operations (upload, download) cut their work.
#[cfg(feature = "upload")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Transfer {
    /// Blocks read and sent at once.
    pub(crate) concurrency: usize,
    /// Files up to this size go through `upload_all`.
    pub(crate) upload_all_max: u64,
    /// Bytes asked for per download request (`None`: all at once).
    pub(crate) range_size: Option<u64>,
}

impl ClientContext {
    /// A context without a token (for the token endpoint itself), with the given stall timeout.
    pub(crate) fn anonymous(stall_timeout: Duration) -> Self {
        Self {
            tokens: None,
            stall_timeout,
            policy: RetryPolicy::default(),
            #[cfg(feature = "upload")]
            budget: crate::budget::Budget::own("anonymous", None),
            #[cfg(feature = "upload")]
            transfer: Transfer {
                concurrency: 1,
                upload_all_max: 0,
                range_size: None,
            },
        }
    }

    /// The token source, if requests are authenticated.
    pub fn token_source(&self) -> Option<&Arc<dyn TokenSource>> {
        self.tokens.as_ref()
    }

    /// The stall timeout: a request fails when no byte moved for this long.
    pub fn stall_timeout(&self) -> Duration {
        self.stall_timeout
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.policy
    }

    /// The budget every request of this client draws from.
    #[cfg(feature = "upload")]
    pub fn budget(&self) -> &crate::budget::Budget {
        &self.budget
    }
}

/// The `reqwest` settings every `Client` starts from: a connect timeout and keep-alive, and no
/// whole-request deadline (the hooks enforce the stall timeout instead).
pub(crate) fn http_client_builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .tcp_keepalive(Duration::from_secs(30))
}
