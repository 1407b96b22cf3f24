//! Sending one request until it succeeds, fails for good, or runs out of retries.
//!
//! Which errors are retried is decided by [`ApiError::is_retryable`] alone (the spec's
//! `retryable` column, HTTP 429 and 5xx whatever the body, transport failures and stalls). Here:
//! the backoff (exponential with jitter, from `backon`), the [`Pacer`] (the client-side rate
//! limit, and the pause every worker takes after a rate-limit refusal), the gateway's
//! `x-ogw-ratelimit-reset`, one token refresh when the server rejects the token, and whether an
//! attempt was *ambiguous* — it may have been handled although no answer came back.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use backon::{ExponentialBuilder, Retryable};

use super::UploadError;
use super::pacer::Pacer;
use super::progress::{ProgressEvent, ProgressFn};
use crate::ApiError;
use crate::auth::TokenSource;

pub use crate::retry_policy::RetryPolicy;

/// Whether the request may have reached the server and been handled although no usable answer
/// came back: the connection broke or stalled after it was sent, or a proxy answered 5xx
/// without a Feishu envelope. A connection that was never made, a Feishu envelope (the server
/// said what happened), and 429 are not ambiguous.
pub(crate) fn is_ambiguous(error: &ApiError) -> bool {
    match error {
        ApiError::Transport(e) => !e.is_connect() && !e.is_builder(),
        ApiError::Stalled { phase, .. } => phase != "sending the request",
        ApiError::Http { status, .. } | ApiError::UnexpectedStatus { status, .. } => status.is_server_error(),
        _ => false,
    }
}

/// What every request of one upload shares.
pub(crate) struct Caller<'a> {
    pub(crate) pacer: &'a Pacer,
    pub(crate) policy: RetryPolicy,
    pub(crate) tokens: Option<&'a Arc<dyn TokenSource>>,
    pub(crate) progress: Option<&'a ProgressFn>,
    pub(crate) retries: &'a AtomicU64,
}

/// The result of [`Caller::call`], and whether any attempt was ambiguous.
pub(crate) struct Called<T> {
    pub(crate) result: Result<T, UploadError>,
    /// How many attempts may have been handled without an answer.
    pub(crate) ambiguous: u32,
}

impl Caller<'_> {
    /// Sends the request `make` builds until it succeeds or fails for good.
    pub(crate) async fn call<T, F, Fut>(&self, operation: &'static str, make: F) -> Result<T, UploadError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.call_tracked(operation, true, make).await.result
    }

    /// [`Caller::call`], also telling whether an attempt may have been handled without an answer.
    /// With `retry_ambiguous` false, such an attempt is not sent again.
    pub(crate) async fn call_tracked<T, F, Fut>(
        &self,
        operation: &'static str,
        retry_ambiguous: bool,
        make: F,
    ) -> Called<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let token_refreshed = AtomicBool::new(false);
        let retry_with_new_token = AtomicBool::new(false);
        let ambiguous = AtomicU32::new(0);
        let attempt = || {
            let request = make();
            async {
                self.pacer.acquire().await;
                let result = request.await;
                if let Err(e) = &result {
                    if is_ambiguous(e) {
                        ambiguous.fetch_add(1, Ordering::Relaxed);
                    }
                    if e.is_token_rejected()
                        && !token_refreshed.swap(true, Ordering::Relaxed)
                        && let Some(tokens) = self.tokens
                        && let Ok(rejected) = tokens.token().await
                    {
                        tokens.invalidate(&rejected);
                        retry_with_new_token.store(true, Ordering::Relaxed);
                    }
                }
                result
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .when(|e: &ApiError| {
                (e.is_retryable() && (retry_ambiguous || !is_ambiguous(e)))
                    || (e.is_token_rejected() && retry_with_new_token.swap(false, Ordering::Relaxed))
            })
            // The gateway says when its window resets: waiting less only earns another 429, and
            // every other worker of the uploader waits too.
            .adjust(|e: &ApiError, delay| {
                let delay = delay.map(|d| e.retry_after().map_or(d, |reset| reset.max(d)));
                if let Some(delay) = delay
                    && e.is_rate_limited()
                {
                    self.pacer.pause_until(tokio::time::Instant::now() + delay);
                }
                delay
            })
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
            .map_err(|source| UploadError::Api { operation, source });
        Called {
            result,
            ambiguous: ambiguous.load(Ordering::Relaxed),
        }
    }
}
