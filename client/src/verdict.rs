//! What one failed request means, decided once: the budget (slow down, stop for the day), the
//! retry loop of uploads, downloads and raw calls (send again, refresh the token, stop) all read
//! [`ApiError::verdict`], so no two callers can disagree about a failure.

use std::time::Duration;

use crate::ApiError;

/// A rate refusal whose reset is at least this far away is the daily quota, not the per-second
/// window.
const QUOTA_RESET_THRESHOLD: Duration = Duration::from_secs(60 * 60);

/// The class of a failed request, in the order they are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The app's daily call quota is used up (the spec's `class: quota` code, or a rate refusal
    /// whose reset is an hour or more away): nothing more today.
    QuotaExhausted,
    /// A rate refusal (HTTP 429 of any body, or a `class: throttled` code): every participant of
    /// the budget slows down, or pauses until `reset`; the request can be sent again then.
    Throttled {
        /// The server's reset (`x-ogw-ratelimit-reset` or `Retry-After`), if it gave one.
        reset: Option<Duration>,
    },
    /// The access token was rejected (a `class: token` code): a new token may succeed where the
    /// same one cannot. Worth one refresh.
    TokenRejected,
    /// No usable answer, and the request may have been handled: the connection broke or stalled
    /// after it was sent, or a proxy answered 5xx without a Feishu envelope. Sending again is
    /// safe only for a request whose repetition does no harm.
    Ambiguous,
    /// A failure that may pass (a retryable code, a 5xx with an envelope, a connection that was
    /// never made, a stall before the request was sent): send again, after `retry_after` if the
    /// server gave one.
    Transient {
        /// How long the server asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// Sending the same request again cannot succeed.
    Permanent,
}

impl Verdict {
    /// Whether sending the request again (with the same token) can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Verdict::Throttled { .. } | Verdict::Ambiguous | Verdict::Transient { .. }
        )
    }

    /// How long to wait at least before sending again, if the server said.
    pub fn wait(self) -> Option<Duration> {
        match self {
            Verdict::Throttled { reset } => reset,
            Verdict::Transient { retry_after } => retry_after,
            _ => None,
        }
    }
}

impl ApiError {
    /// What this failure means for the caller and for the budget; see [`Verdict`].
    pub fn verdict(&self) -> Verdict {
        #[cfg(feature = "upload")]
        if matches!(self, ApiError::QuotaExceeded(_)) {
            return Verdict::QuotaExhausted;
        }
        if self.code().is_some_and(|code| code.is_quota_exhausted()) {
            return Verdict::QuotaExhausted;
        }
        if self.is_rate_limited() {
            return match self.retry_after() {
                Some(reset) if reset >= QUOTA_RESET_THRESHOLD => Verdict::QuotaExhausted,
                reset => Verdict::Throttled { reset },
            };
        }
        if self.is_token_rejected() {
            return Verdict::TokenRejected;
        }
        if !self.is_retryable() {
            return Verdict::Permanent;
        }
        if self.is_ambiguous() {
            return Verdict::Ambiguous;
        }
        Verdict::Transient {
            retry_after: self.retry_after(),
        }
    }

    /// Whether the request may have reached the server and been handled although no usable
    /// answer came back: the connection broke or stalled after it was sent, or a proxy answered
    /// 5xx without a Feishu envelope. A connection that was never made, a Feishu envelope (the
    /// server said what happened), and 429 are not ambiguous.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ApiError::Transport(e) => !e.is_connect() && !e.is_builder(),
            ApiError::Stalled { phase, .. } => phase != crate::error::PHASE_SENDING,
            ApiError::Http { status, .. } | ApiError::UnexpectedStatus { status, .. } => {
                status.is_server_error()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn api(code: i64, status: u16, reset: Option<u64>) -> ApiError {
        ApiError::Api {
            code: ErrorCode::from(code),
            msg: String::new(),
            status: http::StatusCode::from_u16(status).unwrap_or_default(),
            retry_after: reset.map(Duration::from_secs),
            diagnostics: Box::default(),
        }
    }

    fn http(status: u16, reset: Option<u64>) -> ApiError {
        ApiError::Http {
            status: http::StatusCode::from_u16(status).unwrap_or_default(),
            content_type: Some("text/html".to_owned()),
            body: "<html>".to_owned(),
            retry_after: reset.map(Duration::from_secs),
            log_id: None,
        }
    }

    #[test]
    fn failures_are_classified_by_code_status_and_reset() {
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            api(99991400, 429, Some(1)).verdict(),
            Verdict::Throttled { reset: secs(1) }
        );
        // "Classify by the code, not the status": 99991400 also arrives with HTTP 400.
        assert_eq!(
            api(99991400, 400, None).verdict(),
            Verdict::Throttled { reset: None }
        );
        assert_eq!(
            api(1061045, 200, None).verdict(),
            Verdict::Throttled { reset: None }
        );
        assert_eq!(
            api(99991400, 429, Some(20_000)).verdict(),
            Verdict::QuotaExhausted
        );
        assert_eq!(api(99991403, 429, Some(5)).verdict(), Verdict::QuotaExhausted);
        // A 429 from a proxy, without a Feishu body, slows the budget like one with a body.
        assert_eq!(http(429, None).verdict(), Verdict::Throttled { reset: None });
        assert_eq!(api(99991663, 400, None).verdict(), Verdict::TokenRejected);
        assert_eq!(api(1061002, 400, None).verdict(), Verdict::Permanent);
        assert_eq!(
            api(1061001, 200, None).verdict(),
            Verdict::Transient { retry_after: None }
        );
        // An HTML 502 from a proxy: the request may have been handled behind it.
        assert_eq!(http(502, None).verdict(), Verdict::Ambiguous);
        assert_eq!(http(404, None).verdict(), Verdict::Permanent);
    }

    /// A stall before the body was sent in full cannot have been handled; one after can.
    #[test]
    fn a_stall_is_ambiguous_only_once_the_request_was_sent() {
        let stalled = |phase: &str| ApiError::Stalled {
            operation: "upload_all".to_owned(),
            stalled_for: Duration::from_secs(30),
            phase: phase.to_owned(),
        };
        let sending = stalled(crate::error::PHASE_SENDING);
        assert!(!sending.is_ambiguous());
        assert_eq!(sending.verdict(), Verdict::Transient { retry_after: None });
        let waiting = stalled("waiting for the response");
        assert!(waiting.is_ambiguous());
        assert_eq!(waiting.verdict(), Verdict::Ambiguous);
    }
}
