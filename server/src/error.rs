//! The two kinds of failure: a Feishu error answer to one request, and a server that cannot start.

use std::io;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use feishu_drive::ErrorCode;
use serde::Serialize;

/// The gateway's rate-limit headers, sent with 99991400.
pub(crate) const RATE_LIMIT_LIMIT_HEADER: &str = "x-ogw-ratelimit-limit";
pub(crate) const RATE_LIMIT_RESET_HEADER: &str = "x-ogw-ratelimit-reset";

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration cannot work, e.g. a block size of 0.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `--data-dir` names a directory that holds files and was not made by this server: it is
    /// refused rather than have its `tmp/` and `uploads/` deleted.
    #[error(
        "data directory {path} is not empty and was not created by feishu-drive-server (no {marker} file in it); \
         give an empty or new directory, or one an earlier run of this server created"
    )]
    ForeignDataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The marker file the server looks for.
        marker: &'static str,
    },
    /// The server task panicked.
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The response header carrying the request's log id, as Feishu sends it.
pub(crate) const LOG_ID_HEADER: &str = "x-tt-logid";

tokio::task_local! {
    /// The log id of the request being served (set around every request by the router's
    /// middleware), for the `error.log_id` of a failure envelope.
    pub(crate) static LOG_ID: String;
}

/// A Feishu error answer: the code's documented HTTP status and message, from the spec's table
/// (via the generated [`ErrorCode`]), never re-typed here. Codes the table does not list yet
/// carry their own status and message.
#[derive(Debug)]
pub(crate) struct Failure {
    code: ErrorCode,
    /// Why, for the `error.detail` field and the log; `msg` stays the documented message.
    detail: String,
    /// `(limit, reset seconds)` for the gateway's rate-limit headers.
    rate_limit: Option<(u64, u64)>,
    /// The request body was not read to its end, so the connection cannot be reused.
    close: bool,
    /// Status and message for a code the table does not list.
    fallback: Option<(StatusCode, &'static str)>,
    /// `error.field_violations`: `(field, value, description)`.
    field_violations: Vec<(String, String, String)>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            rate_limit: None,
            close: false,
            fallback: None,
            field_violations: Vec::new(),
        }
    }

    /// A failure with a code the table may not list, with the status and message to use then.
    pub(crate) fn raw(
        code: i64,
        status: StatusCode,
        message: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            fallback: Some((status, message)),
            ..Self::new(ErrorCode::from_code(code), detail)
        }
    }

    /// 99992402 "field validation failed" (HTTP 400), naming the field in `error.field_violations`.
    pub(crate) fn field_violation(field: &str, value: &str, description: impl Into<String>) -> Self {
        let description = description.into();
        let mut failure = Self::raw(
            FIELD_VALIDATION_FAILED,
            StatusCode::BAD_REQUEST,
            "field validation failed",
            format!("{field}: {description}"),
        );
        failure
            .field_violations
            .push((field.to_owned(), value.to_owned(), description));
        failure
    }

    /// An exhausted call quota: HTTP 429 with the gateway's headers (`limit` calls, `reset`
    /// seconds until the quota day ends).
    pub(crate) fn quota_exceeded(code: i64, limit: u64, reset_secs: u64, detail: String) -> Self {
        Self {
            rate_limit: Some((limit, reset_secs)),
            ..Self::raw(
                code,
                StatusCode::TOO_MANY_REQUESTS,
                "api call quota exceeded",
                detail,
            )
        }
    }

    pub(crate) fn params(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ParamsError, detail)
    }

    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InternalError, detail.to_string())
    }

    pub(crate) fn rate_limited(limit: u32, reset_secs: u64) -> Self {
        Self {
            rate_limit: Some((u64::from(limit), reset_secs)),
            ..Self::new(ErrorCode::RateLimited, "request rate limit exceeded")
        }
    }

    /// Asks hyper to close the connection after the answer (the body was not read to its end).
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    #[cfg(test)]
    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }
}

/// 99992402, the generic "field validation failed" (the official CLI met it on upload_prepare).
pub(crate) const FIELD_VALIDATION_FAILED: i64 = 99992402;

/// The envelope of an error answer. `msg` is the documented message; `error` is Feishu's
/// diagnostics object: the request's `log_id` (also in the `X-Tt-Logid` header),
/// `field_violations` when a field is wrong, and `detail`, this server's own word on what
/// exactly was wrong.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i64,
    msg: &'a str,
    data: serde_json::Map<String, serde_json::Value>,
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    log_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    field_violations: Vec<FieldViolation<'a>>,
    detail: &'a str,
}

#[derive(Serialize)]
struct FieldViolation<'a> {
    field: &'a str,
    value: &'a str,
    description: &'a str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code.code(), detail = %self.detail, "error answer");
        let status = self
            .code
            .http_status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .or(self.fallback.map(|(status, _)| status))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.code.code(),
            msg: self
                .code
                .message()
                .or(self.fallback.map(|(_, message)| message))
                .unwrap_or("error"),
            data: serde_json::Map::new(),
            error: ErrorDetail {
                log_id: LOG_ID.try_with(Clone::clone).ok(),
                field_violations: self
                    .field_violations
                    .iter()
                    .map(|(field, value, description)| FieldViolation {
                        field,
                        value,
                        description,
                    })
                    .collect(),
                detail: &self.detail,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some((limit, reset)) = self.rate_limit {
            headers.insert(RATE_LIMIT_LIMIT_HEADER, HeaderValue::from(limit));
            headers.insert(RATE_LIMIT_RESET_HEADER, HeaderValue::from(reset));
        }
        if self.close {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
