//! The uploader's side of the one retry loop ([`crate::retry`]): which operation a request is,
//! whether repeating it could duplicate a media, and the [`ProgressEvent::Retrying`] each retry
//! reports. The budget permits, the token and the failure's classification are the client's
//! (its hooks and [`crate::Verdict`]); nothing here restates them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::UploadError;
use super::progress::{ProgressEvent, ProgressFn};
use crate::ApiError;
use crate::auth::TokenSource;
use crate::operations::OperationId;
use crate::retry::Retry;

pub use crate::retry::RetryPolicy;

/// What every request of one upload shares.
pub(crate) struct Caller<'a> {
    pub(crate) policy: RetryPolicy,
    pub(crate) tokens: Option<&'a Arc<dyn TokenSource>>,
    pub(crate) progress: Option<&'a ProgressFn>,
    pub(crate) retries: &'a AtomicU64,
}

/// The result of [`Caller::call_tracked`], and whether any attempt was ambiguous.
pub(crate) struct Called<T> {
    pub(crate) result: Result<T, UploadError>,
    /// How many attempts may have been handled without an answer.
    pub(crate) ambiguous: u32,
}

impl Caller<'_> {
    /// Sends the request `make` builds until it succeeds or fails for good.
    pub(crate) async fn call<T, F, Fut>(&self, operation: OperationId, make: F) -> Result<T, UploadError>
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
        operation: OperationId,
        retry_ambiguous: bool,
        make: F,
    ) -> Called<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let retry = Retry {
            policy: self.policy,
            tokens: self.tokens,
            retry_ambiguous,
        };
        let retried = retry
            .run(make, |error: &ApiError, delay| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                if let Some(progress) = self.progress {
                    progress(&ProgressEvent::Retrying {
                        operation,
                        error: error.to_string(),
                        delay,
                    });
                }
            })
            .await;
        Called {
            result: retried.result.map_err(|e| match e {
                ApiError::QuotaExceeded(quota) => UploadError::QuotaExceeded(quota),
                source => UploadError::Api { operation, source },
            }),
            ambiguous: retried.ambiguous,
        }
    }
}
