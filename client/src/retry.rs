//! Sending a request again: the retry policy, and the one loop every caller runs it through
//! (uploads, downloads, and raw operations through [`Client::retrying`](crate::Client::retrying)).
//!
//! The loop decides from [`ApiError::verdict`] alone: throttled and transient failures are sent
//! again after the backoff (or the server's reset, if later), an ambiguous one only where its
//! repetition does no harm, a rejected token once with a new token, anything else not at all.
//! Every attempt is a full request through the client's hooks, so each takes its own budget
//! permit.

mod policy;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenSource;
use crate::{ApiError, Verdict};

pub use policy::RetryPolicy;

/// What a retried attempt failed with.
pub(crate) trait Attempted: std::fmt::Display {
    /// The request's error, when a request's answer is why the attempt failed; `None` for a
    /// failure no retry can mend (a local file that changed, say).
    fn api_error(&self) -> Option<&ApiError>;

    /// Whether the attempt got somewhere before it failed (a download wrote bytes): the backoff
    /// starts over, since the trouble is not the same trouble.
    fn made_progress(&self) -> bool {
        false
    }
}

impl Attempted for ApiError {
    fn api_error(&self) -> Option<&ApiError> {
        Some(self)
    }
}

/// The retry loop's settings for one kind of request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry<'a> {
    pub(crate) policy: RetryPolicy,
    pub(crate) tokens: Option<&'a Arc<dyn TokenSource>>,
    /// Whether an ambiguous failure may be sent again: not for a request whose repetition could
    /// duplicate what the first one did.
    pub(crate) retry_ambiguous: bool,
}

/// What [`Retry::run`] ended with.
#[derive(Debug)]
pub(crate) struct Retried<T, E> {
    pub(crate) result: Result<T, E>,
    /// Attempts that may have been handled although no usable answer came back (the uploader
    /// reads it; raw calls have no use for it).
    #[cfg_attr(not(feature = "upload"), allow(dead_code))]
    pub(crate) ambiguous: u32,
}

impl<'a> Retry<'a> {
    /// Runs `attempt` until it succeeds or its failure's verdict says to stop; `on_retry` hears
    /// of each failure that is sent again, with the delay before the next attempt.
    pub(crate) async fn run<T, E, F, Fut>(
        &self,
        mut attempt: F,
        mut on_retry: impl FnMut(&E, Duration),
    ) -> Retried<T, E>
    where
        E: Attempted,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut retrying = self.start();
        loop {
            let error = match attempt().await {
                Ok(value) => {
                    return Retried {
                        result: Ok(value),
                        ambiguous: retrying.ambiguous,
                    };
                }
                Err(error) => error,
            };
            let Some(delay) = retrying.decide(&error).await else {
                return Retried {
                    result: Err(error),
                    ambiguous: retrying.ambiguous,
                };
            };
            on_retry(&error, delay);
            tokio::time::sleep(delay).await;
        }
    }

    /// The decisions of one request's retries, for a caller that runs its own attempts (one
    /// that must borrow its state mutably in each).
    pub(crate) fn start(&self) -> Retrying<'a> {
        Retrying {
            retry: *self,
            delays: Box::new(self.policy.backoff()),
            token_refreshed: false,
            ambiguous: 0,
        }
    }
}

/// One request's retries so far: the backoff left, whether the token was refreshed, how many
/// attempts were ambiguous.
pub(crate) struct Retrying<'a> {
    retry: Retry<'a>,
    delays: Box<dyn Iterator<Item = Duration> + Send>,
    token_refreshed: bool,
    pub(crate) ambiguous: u32,
}

impl Retrying<'_> {
    /// Whether to send again after `error`, and after how long.
    pub(crate) async fn decide<E: Attempted>(&mut self, error: &E) -> Option<Duration> {
        // No token: the token source has already retried its endpoint under its own policy
        // (`AuthError::Unavailable` comes after those retries). Sending the request again would
        // multiply them: against an unreachable host, 6 token requests for each of the request's
        // 9 attempts, minutes of silence before the error.
        if matches!(error.api_error(), Some(ApiError::Auth(_))) {
            return None;
        }
        let verdict = error.api_error().map_or(Verdict::Permanent, ApiError::verdict);
        if verdict == Verdict::Ambiguous {
            self.ambiguous += 1;
        }
        if error.made_progress() {
            self.delays = Box::new(self.retry.policy.backoff());
        }
        let delay = match verdict {
            Verdict::TokenRejected if !self.token_refreshed && refresh(self.retry.tokens).await => {
                self.token_refreshed = true;
                Some(Duration::ZERO)
            }
            Verdict::Ambiguous if !self.retry.retry_ambiguous => None,
            verdict if verdict.is_retryable() => self
                .delays
                .next()
                .map(|d| verdict.wait().map_or(d, |wait| wait.max(d))),
            _ => None,
        }?;
        tracing::debug!(error = %error, ?delay, "retrying");
        Some(delay)
    }
}

/// Drops the rejected token from the source's cache; whether a new one may come.
async fn refresh(tokens: Option<&Arc<dyn TokenSource>>) -> bool {
    let Some(tokens) = tokens else {
        return false;
    };
    match tokens.token().await {
        Ok(rejected) => {
            tokens.invalidate(&rejected);
            true
        }
        Err(_) => false,
    }
}

impl crate::Client {
    /// Sends the request `make` builds under the client's retry policy: throttled and
    /// transient failures are sent again after the backoff (or the server's reset), a rejected
    /// token once with a new one, an ambiguous failure only when `idempotent` (a request whose
    /// repetition does no harm). Each attempt draws its own budget permit.
    ///
    /// ```no_run
    /// # async fn run(client: feishu_drive::Client) -> Result<(), feishu_drive::ApiError> {
    /// use feishu_drive::{FeishuResult, types};
    ///
    /// let body = types::UploadFinishRequest::builder().upload_id("7111211691345512356").block_num(3_u64);
    /// let data = client
    ///     .retrying(false, || async { client.upload_finish().body(body.clone()).send().await.into_data() })
    ///     .await?;
    /// println!("file_token: {}", data.file_token);
    /// # Ok(()) }
    /// ```
    pub async fn retrying<T, F, Fut>(&self, idempotent: bool, make: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let retry = Retry {
            policy: self.inner.policy,
            tokens: self.inner.token_source(),
            retry_ambiguous: idempotent,
        };
        retry.run(make, |_, _| {}).await.result
    }
}
