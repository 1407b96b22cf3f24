//! One error type for every operation, and the check that makes a non-zero `code` an error.

use std::time::Duration;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;

use crate::types::ErrorEnvelope;
use crate::{Envelope, EnvelopeData, ErrorCode};

/// The header with the seconds until the gateway's rate-limit window resets.
pub const RATE_LIMIT_RESET_HEADER: &str = "x-ogw-ratelimit-reset";

/// Why an operation failed.
///
/// Retry policy reads [`ApiError::is_retryable`], the one place that decides it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Feishu answered with a non-zero `code`, whatever the HTTP status (1061045 arrives with 200).
    #[error("Feishu error {code} (HTTP {status}): {msg}")]
    Api {
        /// The code, typed; unknown codes keep their value.
        code: ErrorCode,
        /// The server's message.
        msg: String,
        /// The HTTP status it came with.
        status: StatusCode,
        /// How long the gateway asked to wait (`x-ogw-ratelimit-reset`), if it did.
        retry_after: Option<Duration>,
    },
    /// The request could not be built: a missing or invalid field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server could not be reached, or the connection failed mid-request.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A status the spec does not document, without a Feishu envelope.
    #[error("unexpected HTTP {status} without a Feishu envelope")]
    UnexpectedStatus {
        /// The status.
        status: StatusCode,
        /// How long the server asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// A documented status whose body did not match the spec.
    #[error("the response did not match the spec: {0}")]
    InvalidResponse(String),
    /// `code` was 0 but the payload the operation returns was absent.
    #[error("the response has code 0 but no `data`")]
    MissingData,
    /// A hook failed, for example fetching the access token.
    #[error("{0}")]
    Hook(String),
}

impl ApiError {
    /// The Feishu error code, if the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The HTTP status, if a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Api { status, .. } | ApiError::UnexpectedStatus { status, .. } => Some(*status),
            ApiError::Transport(e) => e.status(),
            _ => None,
        }
    }

    /// How long the server asked to wait before the next request, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Api { retry_after, .. } | ApiError::UnexpectedStatus { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Whether sending the same request again can succeed: retryable codes of the spec's error
    /// table, HTTP 429 and 5xx, and transport failures. Never for a permanent error.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Api { code, status, .. } => {
                code.is_retryable() || (!code.is_known() && retryable_status(*status))
            }
            ApiError::UnexpectedStatus { status, .. } => retryable_status(*status),
            ApiError::Transport(e) => !e.is_builder() && !e.is_redirect(),
            ApiError::InvalidRequest(_)
            | ApiError::InvalidResponse(_)
            | ApiError::MissingData
            | ApiError::Hook(_) => false,
        }
    }

    /// Whether the access token was rejected, so a fresh one may succeed.
    pub fn is_token_rejected(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::AccessTokenInvalid | ErrorCode::UserAccessTokenInvalid | ErrorCode::AuthFailed)
        )
    }
}

fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(RATE_LIMIT_RESET_HEADER)
        .or_else(|| headers.get(reqwest::header::RETRY_AFTER))?;
    let seconds: f64 = value.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

impl From<progenitor_client::Error<ErrorEnvelope>> for ApiError {
    fn from(error: progenitor_client::Error<ErrorEnvelope>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::ErrorResponse(rv) => ApiError::Api {
                code: ErrorCode::from(rv.code),
                retry_after: retry_after(rv.headers()),
                status: rv.status(),
                msg: rv.into_inner().msg,
            },
            E::InvalidRequest(message) => ApiError::InvalidRequest(message),
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                ApiError::Transport(e)
            }
            E::InvalidResponsePayload(body, e) => {
                ApiError::InvalidResponse(format!("{e}; body: {}", String::from_utf8_lossy(&body)))
            }
            E::UnexpectedResponse(response) => ApiError::UnexpectedStatus {
                status: response.status(),
                retry_after: retry_after(response.headers()),
            },
            E::Custom(message) => ApiError::Hook(message),
        }
    }
}

/// Turns what a generated `send()` returns into a `Result` that is `Ok` only when `code == 0`.
///
/// ```no_run
/// use feishu_drive::{Client, ClientContext, FeishuResult, types};
///
/// # async fn run() -> Result<(), feishu_drive::ApiError> {
/// let client = Client::new("https://open.feishu.cn", ClientContext::with_token("t-…"));
/// let prepared = client
///     .upload_prepare()
///     .body(types::UploadPrepareRequest::builder()
///         .file_name("report.pdf")
///         .parent_type("docx_file")
///         .parent_node(types::ParentNode::from("doxcnXgNGAtaAraIRVeCfmabcef".to_owned()))
///         .size(10_485_760))
///     .send()
///     .await
///     .into_data()?;
/// println!("upload id {}", *prepared.upload_id);
/// # Ok(()) }
/// ```
pub trait FeishuResult<T> {
    /// The response, if its `code` is 0; otherwise the typed error.
    fn checked(self) -> Result<ResponseValue<T>, ApiError>;

    /// The response's `data`, if its `code` is 0.
    fn into_data(self) -> Result<T::Data, ApiError>
    where
        T: EnvelopeData;
}

impl<T: Envelope> FeishuResult<T> for Result<ResponseValue<T>, progenitor_client::Error<ErrorEnvelope>> {
    fn checked(self) -> Result<ResponseValue<T>, ApiError> {
        let response = self?;
        if response.code() == 0 {
            return Ok(response);
        }
        Err(ApiError::Api {
            code: ErrorCode::from(response.code()),
            msg: response.msg().to_owned(),
            status: response.status(),
            retry_after: retry_after(response.headers()),
        })
    }

    fn into_data(self) -> Result<T::Data, ApiError>
    where
        T: EnvelopeData,
    {
        self.checked()?
            .into_inner()
            .into_data()
            .ok_or(ApiError::MissingData)
    }
}
