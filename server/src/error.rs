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
    /// The server task panicked.
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A Feishu error answer: the code's documented HTTP status and message, from the spec's table
/// (via the generated [`ErrorCode`]), never re-typed here.
#[derive(Debug)]
pub(crate) struct Failure {
    code: ErrorCode,
    /// Why, for the `error.detail` field and the log; `msg` stays the documented message.
    detail: String,
    /// `(limit, reset seconds)` for the gateway's rate-limit headers.
    rate_limit: Option<(u32, u64)>,
    /// The request body was not read to its end, so the connection cannot be reused.
    close: bool,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            rate_limit: None,
            close: false,
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
            rate_limit: Some((limit, reset_secs)),
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

/// The envelope of an error answer. `msg` is the documented message; `error.detail` says what
/// exactly was wrong (Feishu's own envelopes carry an `error` object with a log id there).
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i64,
    msg: &'a str,
    data: serde_json::Map<String, serde_json::Value>,
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    detail: &'a str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code.code(), detail = %self.detail, "error answer");
        let status = self
            .code
            .http_status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.code.code(),
            msg: self.code.message().unwrap_or("error"),
            data: serde_json::Map::new(),
            error: ErrorDetail { detail: &self.detail },
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
