//! The check that makes a non-zero `code` an error: [`FeishuResult`] on what a generated
//! `send()` returns, and progenitor's error as an [`ApiError`]. Above the generated client (it
//! reads its envelope types); `ApiError` itself is in `error.rs`, below it.

use progenitor_client::ResponseValue;

use crate::error::{Carried, Diagnostics, retry_after, snippet};
use crate::types::ErrorEnvelope;
use crate::{ApiError, Envelope, EnvelopeData, ErrorCode};

impl From<progenitor_client::Error<ErrorEnvelope>> for ApiError {
    fn from(error: progenitor_client::Error<ErrorEnvelope>) -> Self {
        use progenitor_client::Error as E;
        match error {
            // The hooks carry every failure as `Carried`; a documented error status reaches here
            // only without them.
            E::ErrorResponse(rv) => {
                let headers = rv.headers();
                let diagnostics = Diagnostics::from_parts(None, headers);
                ApiError::Api {
                    code: ErrorCode::from(rv.code),
                    retry_after: retry_after(headers),
                    status: rv.status(),
                    diagnostics: Box::new(diagnostics),
                    msg: rv.into_inner().msg,
                }
            }
            E::InvalidRequest(message) => ApiError::InvalidRequest(message),
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                ApiError::Transport(e)
            }
            E::InvalidResponsePayload(body, e) => {
                ApiError::InvalidResponse(format!("{e}; body: {}", snippet(&body)))
            }
            E::UnexpectedResponse(response) => match response.extensions().get::<Carried>() {
                Some(carried) => carried.clone().into(),
                None => ApiError::UnexpectedStatus {
                    status: response.status(),
                    retry_after: retry_after(response.headers()),
                },
            },
            E::Custom(text) => ApiError::InvalidResponse(text),
        }
    }
}

/// Turns what a generated `send()` returns into a `Result` that is `Ok` only when `code == 0`.
///
/// The client's hooks already turn every non-zero `code` into an error (see the README), so
/// `send()` itself never returns `Ok` for a Feishu failure; this is where the error becomes an
/// [`ApiError`], and where `data` is unwrapped.
///
/// ```no_run
/// use feishu_drive::{Client, FeishuResult, types};
///
/// # async fn run() -> Result<(), feishu_drive::Error> {
/// let client = Client::builder("https://open.feishu.cn").access_token("t-…").build()?;
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
        // The hooks make this unreachable through the generated client; a `ResponseValue` built
        // by hand still gets the same check.
        Err(ApiError::Api {
            code: ErrorCode::from(response.code()),
            msg: response.msg().to_owned(),
            status: response.status(),
            retry_after: retry_after(response.headers()),
            diagnostics: Box::new(Diagnostics::from_parts(None, response.headers())),
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
