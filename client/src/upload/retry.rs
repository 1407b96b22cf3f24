//! Sending one request until it succeeds, fails for good, or runs out of retries.
//!
//! Which errors are retried is decided by [`ApiError::is_retryable`] alone (the spec's
//! `retryable` column, HTTP 429 and 5xx whatever the body, transport failures and stalls). Here:
//! the backoff (exponential with jitter, from `backon`), the [`Budget`] (the client-side rate
//! limit and daily quota, and the pause every participant takes after a rate-limit refusal —
//! every attempt acquires a permit and reports its answer), the gateway's
//! `x-ogw-ratelimit-reset`, one token refresh when the server rejects the token, and whether an
//! attempt was *ambiguous* — it may have been handled although no answer came back.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use backon::{ExponentialBuilder, Retryable};

use super::UploadError;
use super::progress::{ProgressEvent, ProgressFn};
use crate::ApiError;
use crate::auth::TokenSource;
use crate::budget::{Budget, CallError, Group, QuotaExceeded};
use crate::operations::OperationId;

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
    /// The uploader's budget (`None` only where a caller has none).
    pub(crate) budget: Option<&'a Budget>,
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

/// The budget group an operation's requests count against (the spec's `x-feishu-rate-limit`).
fn group_of(operation: &'static str) -> Option<Group> {
    OperationId::from_name(operation).and_then(OperationId::rate_group)
}

/// Why one attempt failed: the request, or the budget refusing it for the daily quota.
enum Attempt {
    Api(ApiError),
    Quota(QuotaExceeded),
}

impl Attempt {
    fn api(&self) -> Option<&ApiError> {
        match self {
            Attempt::Api(e) => Some(e),
            Attempt::Quota(_) => None,
        }
    }
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attempt::Api(e) => e.fmt(f),
            Attempt::Quota(e) => e.fmt(f),
        }
    }
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
        let group = group_of(operation);
        let attempt = || {
            let request = make();
            async {
                if let (Some(budget), Some(group)) = (self.budget, group) {
                    budget.acquire(group).await.map_err(Attempt::Quota)?;
                }
                let result = request.await;
                match &result {
                    Ok(_) => {
                        if let (Some(budget), Some(group)) = (self.budget, group) {
                            budget.report_success(group).await;
                        }
                    }
                    Err(e) => {
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
                }
                match result {
                    Ok(value) => Ok(value),
                    // A rate refusal pauses or slows every participant of the budget; a quota
                    // answer ends the upload typed instead of being retried.
                    Err(e) => match (self.budget, group) {
                        (Some(budget), Some(group)) => match budget.report_error(group, e).await {
                            CallError::Quota(quota) => Err(Attempt::Quota(quota)),
                            CallError::Api(e) => Err(Attempt::Api(e)),
                        },
                        _ => Err(Attempt::Api(e)),
                    },
                }
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .when(|e: &Attempt| {
                e.api().is_some_and(|e| {
                    (e.is_retryable() && (retry_ambiguous || !is_ambiguous(e)))
                        || (e.is_token_rejected() && retry_with_new_token.swap(false, Ordering::Relaxed))
                })
            })
            // The gateway says when its window resets: waiting less only earns another 429 (the
            // budget has already paused every other request until then).
            .adjust(|e: &Attempt, delay| {
                delay.map(|d| {
                    e.api()
                        .and_then(ApiError::retry_after)
                        .map_or(d, |reset| reset.max(d))
                })
            })
            .notify(|e: &Attempt, delay| {
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
            .map_err(|e| match e {
                Attempt::Api(source) => UploadError::Api { operation, source },
                Attempt::Quota(quota) => UploadError::QuotaExceeded(quota),
            });
        Called {
            result,
            ambiguous: ambiguous.load(Ordering::Relaxed),
        }
    }
}
