//! Sending one request until it succeeds, fails for good, or runs out of retries.
//!
//! Which errors are retried is decided by [`ApiError::is_retryable`] alone (the spec's
//! `retryable` column, HTTP 429 and 5xx, transport failures). Here: the backoff (exponential with
//! jitter, from `backon`), the client-side rate limit (a GCRA limiter from `governor`, shared by
//! every upload of one `Uploader`), the gateway's `x-ogw-ratelimit-reset`, and one token refresh
//! when the server rejects the token.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use super::UploadError;
use super::progress::{ProgressEvent, ProgressFn};
use crate::ApiError;
use crate::auth::TokenSource;

/// How often, and how patiently, a failed request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The first backoff delay; each retry doubles it, with jitter.
    pub min_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 retries from 200 ms up to 20 s: rides out a minute of trouble.
    fn default() -> Self {
        Self {
            max_retries: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// The client-side rate limiter.
pub(crate) type Limiter = governor::DefaultDirectRateLimiter;

/// Each request's share of a second is stretched by this much. With exact `1 s / n` spacing,
/// requests `i` and `i + n` are exactly one second apart, so one that arrives a little late puts
/// `n + 1` requests into a server's one-second window and earns a 429 (measured: 0–4 refusals
/// per 200 MiB at 5 QPS without the margin, none with it, at a cost of 2.5 % of the ceiling).
const SPACING_MARGIN: Duration = Duration::from_millis(25);

/// A limiter that spaces requests evenly at just under `per_second`, with no burst: the
/// documented limit is per second, and a burst at the start of a window is what trips it.
pub(crate) fn limiter(per_second: std::num::NonZeroU32) -> Limiter {
    let period = (Duration::from_secs(1) + SPACING_MARGIN) / per_second.get();
    let quota = governor::Quota::with_period(period)
        .unwrap_or_else(|| governor::Quota::per_second(per_second))
        .allow_burst(std::num::NonZeroU32::MIN);
    governor::RateLimiter::direct(quota)
}

/// What every request of one upload shares.
pub(crate) struct Caller<'a> {
    pub(crate) limiter: Option<&'a Limiter>,
    pub(crate) policy: RetryPolicy,
    pub(crate) tokens: Option<&'a Arc<dyn TokenSource>>,
    pub(crate) progress: Option<&'a ProgressFn>,
    pub(crate) retries: &'a AtomicU64,
}

impl Caller<'_> {
    /// Sends the request `make` builds until it succeeds or fails for good.
    pub(crate) async fn call<T, F, Fut>(&self, operation: &'static str, make: F) -> Result<T, UploadError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let token_refreshed = AtomicBool::new(false);
        let retry_with_new_token = AtomicBool::new(false);
        let attempt = || {
            let request = make();
            async {
                if let Some(limiter) = self.limiter {
                    limiter.until_ready().await;
                }
                let result = request.await;
                if let Err(e) = &result
                    && e.is_token_rejected()
                    && !token_refreshed.swap(true, Ordering::Relaxed)
                    && let Some(tokens) = self.tokens
                    && let Ok(rejected) = tokens.token().await
                {
                    tokens.invalidate(&rejected);
                    retry_with_new_token.store(true, Ordering::Relaxed);
                }
                result
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        attempt
            .retry(backoff)
            .when(|e: &ApiError| {
                e.is_retryable()
                    || (e.is_token_rejected() && retry_with_new_token.swap(false, Ordering::Relaxed))
            })
            // The gateway says when its window resets: waiting less only earns another 429.
            .adjust(|e: &ApiError, delay| delay.map(|d| e.retry_after().map_or(d, |reset| reset.max(d))))
            .notify(|e: &ApiError, delay| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(operation, error = %e, ?delay, "retrying");
                if let Some(progress) = self.progress {
                    progress(&ProgressEvent::Retrying {
                        operation,
                        error: e.to_string(),
                        delay,
                    });
                }
            })
            .await
            .map_err(|source| UploadError::Api { operation, source })
    }
}
