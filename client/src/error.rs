//! One error type for every operation ([`ApiError`]), and the typed failure the hooks carry to
//! it. Below the generated client: nothing here names the client or its generated types, so
//! the budget and the client's context can hold and classify `ApiError`s (the check that makes a
//! non-zero `code` an error, which reads generated types, is `checked.rs`).
//!
//! A failure reaches [`ApiError`] by one of two roads. A documented status with a Feishu envelope
//! arrives as progenitor's `Error::ErrorResponse`. Everything progenitor would get wrong — a body
//! that is not Feishu JSON (an HTML 502 from a proxy, an empty 429), a non-zero `code` with HTTP
//! 200 or 202, a `download` answered with a JSON envelope instead of the file, a stalled transfer,
//! a token that could not be had — is recognised by the client's hooks, which hand it over as a
//! `Carried` value (JSON inside progenitor's `Error::Custom`, the one variant a hook can create)
//! so it keeps its status, headers and code. See `hooks.rs`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::auth::AuthError;

/// The header with the seconds until the gateway's rate-limit window resets.
pub const RATE_LIMIT_RESET_HEADER: &str = "x-ogw-ratelimit-reset";

/// The header with the id Feishu support asks for.
pub const LOG_ID_HEADER: &str = "x-tt-logid";

/// The phase of a request stalled before its body was sent in full ([`ApiError::Stalled`]'s
/// `phase`): nothing can have been handled, so it is not ambiguous. Here, beside the variant,
/// because the hooks write it and the verdict reads it.
pub(crate) const PHASE_SENDING: &str = "sending the request";

/// How much of a body that is not a Feishu envelope an error keeps, in bytes.
pub const BODY_SNIPPET_BYTES: usize = 512;

/// What Feishu says about a failure beyond its code: the envelope's `error` object and the
/// `X-Tt-Logid` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnostics {
    /// The request's log id (`error.log_id`, or the `X-Tt-Logid` header): what Feishu support
    /// asks for.
    pub log_id: Option<String>,
    /// A link to Feishu's troubleshooting page for this failure.
    pub troubleshooter: Option<String>,
    /// Which request fields were rejected, and why.
    pub field_violations: Vec<FieldViolation>,
    /// Which permissions were missing.
    pub permission_violations: Vec<PermissionViolation>,
}

/// One rejected request field (`error.field_violations[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldViolation {
    /// The field's name.
    #[serde(default)]
    pub field: String,
    /// The value sent, when Feishu repeats it.
    #[serde(default)]
    pub value: Option<String>,
    /// What is wrong with it.
    #[serde(default)]
    pub description: Option<String>,
}

/// One missing permission (`error.permission_violations[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionViolation {
    /// The kind of permission.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The permission (e.g. a scope).
    #[serde(default)]
    pub subject: Option<String>,
    /// What is missing.
    #[serde(default)]
    pub description: Option<String>,
}

impl Diagnostics {
    /// Reads an envelope's `error` object (unknown keys ignored, wrong types dropped), with the
    /// `X-Tt-Logid` header as the log id when the object has none.
    pub(crate) fn from_parts(error: Option<&serde_json::Value>, headers: &HeaderMap) -> Self {
        let mut diagnostics = Self::default();
        if let Some(error) = error.and_then(serde_json::Value::as_object) {
            let text = |key: &str| {
                error
                    .get(key)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            diagnostics.log_id = text("log_id").filter(|s| !s.is_empty());
            diagnostics.troubleshooter = text("troubleshooter").filter(|s| !s.is_empty());
            diagnostics.field_violations = list(error.get("field_violations"));
            diagnostics.permission_violations = list(error.get("permission_violations"));
        }
        if diagnostics.log_id.is_none() {
            diagnostics.log_id = header_text(headers, LOG_ID_HEADER);
        }
        diagnostics
    }
}

fn list<T: serde::de::DeserializeOwned>(value: Option<&serde_json::Value>) -> Vec<T> {
    value
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Why an operation failed.
///
/// Retry policy reads [`ApiError::is_retryable`], the one place that decides it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Feishu answered with a non-zero `code`, whatever the HTTP status (1061045 arrives with
    /// 200, 1062004–1062006 with 202).
    #[error("Feishu error {} (HTTP {status}{}): {msg}{}", code.code(), log_id_suffix(diagnostics), troubleshooter_suffix(diagnostics))]
    Api {
        /// The code, typed; unknown codes keep their value.
        code: ErrorCode,
        /// The server's message.
        msg: String,
        /// The HTTP status it came with.
        status: StatusCode,
        /// How long the gateway asked to wait (`x-ogw-ratelimit-reset`), if it did.
        retry_after: Option<Duration>,
        /// The log id, troubleshooter link and field violations, when Feishu sent them.
        diagnostics: Box<Diagnostics>,
    },
    /// A failure status whose body is not a Feishu envelope: an HTML page from a proxy or load
    /// balancer, an empty 429, a `text/plain` 5xx.
    #[error("HTTP {status} without a Feishu envelope ({}){}: {body:?}", content_type.as_deref().unwrap_or("no content type"), log_id_text(log_id.as_deref()))]
    Http {
        /// The status.
        status: StatusCode,
        /// The body's `Content-Type`, if it had one.
        content_type: Option<String>,
        /// The body's first [`BODY_SNIPPET_BYTES`] bytes, as text.
        body: String,
        /// How long the server asked to wait (`x-ogw-ratelimit-reset` or `Retry-After`).
        retry_after: Option<Duration>,
        /// The `X-Tt-Logid` header, if there was one.
        log_id: Option<String>,
    },
    /// No bytes moved for the stall timeout, in either direction.
    #[error("{operation}: no bytes moved for {} s while {phase}; the connection stalled", stalled_for.as_secs_f64())]
    Stalled {
        /// The operation.
        operation: String,
        /// How long nothing moved.
        stalled_for: Duration,
        /// What the request was doing: `sending`, `waiting for the response`, `receiving`.
        phase: String,
    },
    /// No access token could be had.
    #[error("authentication failed: {0}")]
    Auth(#[source] AuthError),
    /// The request could not be built: a missing or invalid field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server could not be reached, or the connection failed mid-request.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A success status the spec does not document (e.g. 204), without a Feishu failure.
    #[error("unexpected HTTP {status} without a Feishu envelope")]
    UnexpectedStatus {
        /// The status.
        status: StatusCode,
        /// How long the server asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// A successful status whose body did not match the spec.
    #[error("the response did not match the spec: {0}")]
    InvalidResponse(String),
    /// `code` was 0 but the payload the operation returns was absent.
    #[error("the response has code 0 but no `data`")]
    MissingData,
    /// The budget's daily quota for the operation is used up (counted here, or answered by the
    /// server): the request was not sent, or retrying it today cannot succeed.
    #[cfg(feature = "upload")]
    #[error(transparent)]
    QuotaExceeded(crate::budget::QuotaExceeded),
}

fn log_id_suffix(diagnostics: &Diagnostics) -> String {
    log_id_text(diagnostics.log_id.as_deref())
}

fn log_id_text(log_id: Option<&str>) -> String {
    log_id.map(|id| format!(", log id {id}")).unwrap_or_default()
}

fn troubleshooter_suffix(diagnostics: &Diagnostics) -> String {
    let mut text = String::new();
    for violation in &diagnostics.field_violations {
        text.push_str(&format!(
            "; field `{}`: {}",
            violation.field,
            violation.description.as_deref().unwrap_or("rejected")
        ));
    }
    if let Some(link) = &diagnostics.troubleshooter {
        text.push_str(&format!(" (troubleshooter: {link})"));
    }
    text
}

impl ApiError {
    /// The Feishu error code, if the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Api { code, .. } => Some(*code),
            ApiError::Auth(e) => e.code(),
            _ => None,
        }
    }

    /// The HTTP status, if a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Api { status, .. }
            | ApiError::Http { status, .. }
            | ApiError::UnexpectedStatus { status, .. } => Some(*status),
            ApiError::Transport(e) => e.status(),
            _ => None,
        }
    }

    /// How long the server asked to wait before the next request, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Api { retry_after, .. }
            | ApiError::Http { retry_after, .. }
            | ApiError::UnexpectedStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The request's log id (what Feishu support asks for), if the server sent one.
    pub fn log_id(&self) -> Option<&str> {
        match self {
            ApiError::Api { diagnostics, .. } => diagnostics.log_id.as_deref(),
            ApiError::Http { log_id, .. } => log_id.as_deref(),
            _ => None,
        }
    }

    /// The envelope's `error` object and log id, for a Feishu failure.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            ApiError::Api { diagnostics, .. } => Some(diagnostics),
            _ => None,
        }
    }

    /// The troubleshooter link Feishu sent, if it did.
    pub fn troubleshooter(&self) -> Option<&str> {
        self.diagnostics()?.troubleshooter.as_deref()
    }

    /// The request fields Feishu rejected, if it named them.
    pub fn field_violations(&self) -> &[FieldViolation] {
        self.diagnostics().map_or(&[], |d| &d.field_violations)
    }

    /// Whether the rate limit refused the request (HTTP 429 of any body, or a code the spec's
    /// table classes `throttled`: 99991400, 1061045), so every request of the same app should
    /// wait, not only this one.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
            || self.code().is_some_and(ErrorCode::is_throttled)
    }

    /// Whether sending the same request again can succeed: retryable codes of the spec's error
    /// table, HTTP 429 and 5xx whatever the body, transport failures and stalls, and token
    /// endpoint failures that were not a refusal. Never for a permanent error.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Api { code, status, .. } => {
                code.is_retryable() || (!code.is_known() && retryable_status(*status))
            }
            ApiError::Http { status, .. } | ApiError::UnexpectedStatus { status, .. } => {
                retryable_status(*status)
            }
            ApiError::Transport(e) => !e.is_builder() && !e.is_redirect(),
            ApiError::Stalled { .. } => true,
            ApiError::Auth(e) => e.is_retryable(),
            ApiError::InvalidRequest(_) | ApiError::InvalidResponse(_) | ApiError::MissingData => false,
            #[cfg(feature = "upload")]
            ApiError::QuotaExceeded(_) => false,
        }
    }

    /// Whether the access token was rejected, so a fresh one may succeed.
    pub fn is_token_rejected(&self) -> bool {
        !matches!(self, ApiError::Auth(_)) && self.code().is_some_and(ErrorCode::is_token_rejected)
    }
}

fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(RATE_LIMIT_RESET_HEADER)
        .or_else(|| headers.get(reqwest::header::RETRY_AFTER))?;
    let seconds: f64 = value.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// The status the hooks give a response that stands for a failure they recognised. No operation
/// documents it, so the generated `send()` never parses the body: it hands the response back as
/// `Error::UnexpectedResponse`, and [`ApiError::from`] takes the typed [`Carried`] failure out of
/// its extensions. The failure keeps the real status.
pub(crate) const FAILURE_STATUS: u16 = 599;

/// A failure the hooks recognised, typed, in the extensions of a [`FAILURE_STATUS`] response.
/// The variants are [`ApiError`]'s that can be cloned (response extensions must be `Clone`).
#[derive(Debug, Clone)]
pub(crate) enum Carried {
    Api {
        code: ErrorCode,
        msg: String,
        status: StatusCode,
        retry_after: Option<Duration>,
        diagnostics: Box<Diagnostics>,
    },
    Http {
        status: StatusCode,
        content_type: Option<String>,
        body: String,
        retry_after: Option<Duration>,
        log_id: Option<String>,
    },
    Stalled {
        operation: String,
        stalled_for: Duration,
        phase: String,
    },
    Auth(AuthError),
    #[cfg(feature = "upload")]
    Quota(crate::budget::QuotaExceeded),
}

impl From<Carried> for ApiError {
    fn from(carried: Carried) -> Self {
        match carried {
            Carried::Api {
                code,
                msg,
                status,
                retry_after,
                diagnostics,
            } => ApiError::Api {
                code,
                msg,
                status,
                retry_after,
                diagnostics,
            },
            Carried::Http {
                status,
                content_type,
                body,
                retry_after,
                log_id,
            } => ApiError::Http {
                status,
                content_type,
                body,
                retry_after,
                log_id,
            },
            Carried::Stalled {
                operation,
                stalled_for,
                phase,
            } => ApiError::Stalled {
                operation,
                stalled_for,
                phase,
            },
            Carried::Auth(e) => ApiError::Auth(e),
            #[cfg(feature = "upload")]
            Carried::Quota(e) => ApiError::QuotaExceeded(e),
        }
    }
}

/// At most [`BODY_SNIPPET_BYTES`] of `body`, as text, cut at a character boundary.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_SNIPPET_BYTES)]);
    let mut text = text.into_owned();
    if body.len() > BODY_SNIPPET_BYTES {
        text.push('…');
    }
    text
}
