//! The two kinds of failure: a Feishu error answer to one request, and a server that cannot start.

use std::io;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use feishu_drive::{ErrorCode, types};

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
/// (via the generated [`ErrorCode`]), never re-typed here; every code the server sends is a row
/// of that table.
#[derive(Debug)]
pub(crate) struct Failure {
    code: ErrorCode,
    /// Why, for the log and `error.details` (key `detail`); `msg` stays the documented message.
    detail: String,
    /// `(limit, reset seconds)` for the gateway's rate-limit headers.
    rate_limit: Option<(u64, u64)>,
    /// The request body was not read to its end, so the connection cannot be reused.
    close: bool,
    /// `error.field_violations`.
    field_violations: Vec<types::FieldViolation>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            rate_limit: None,
            close: false,
            field_violations: Vec::new(),
        }
    }

    /// 99992402 "field validation failed", naming the field in `error.field_violations`.
    pub(crate) fn field_violation(field: &str, value: &str, description: impl Into<String>) -> Self {
        let description = description.into();
        let mut failure = Self::new(
            ErrorCode::FieldValidationFailed,
            format!("{field}: {description}"),
        );
        failure.field_violations.push(types::FieldViolation {
            field: Some(field.to_owned()),
            value: Some(value.to_owned()),
            description: Some(description),
        });
        failure
    }

    /// An exhausted call quota (99991403, HTTP 429) with the gateway's headers (`limit` calls,
    /// `reset` seconds until the quota day ends).
    pub(crate) fn quota_exceeded(limit: u64, reset_secs: u64, detail: String) -> Self {
        Self {
            rate_limit: Some((limit, reset_secs)),
            ..Self::new(ErrorCode::ApiCallQuotaExceeded, detail)
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

/// The key of this server's own word on what exactly was wrong, in `error.details`.
const DETAIL_KEY: &str = "detail";

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code.code(), detail = %self.detail, "error answer");
        let status = self
            .code
            .http_status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // The envelope as the spec defines it (the generated type): `msg` the documented
        // message, `error` Feishu's diagnostics — the request's `log_id` (also in the
        // `X-Tt-Logid` header), `field_violations` when a field is wrong, and in `details` this
        // server's explanation.
        let body = types::ErrorEnvelope {
            code: self.code.code(),
            msg: self.code.message().unwrap_or_default().to_owned(),
            data: serde_json::Map::new(),
            error: Some(types::ErrorInfo {
                log_id: LOG_ID.try_with(Clone::clone).ok(),
                field_violations: self.field_violations,
                details: vec![types::ErrorDetail {
                    key: Some(DETAIL_KEY.to_owned()),
                    value: Some(self.detail),
                }],
                helps: Vec::new(),
                permission_violations: Vec::new(),
                troubleshooter: None,
            }),
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
