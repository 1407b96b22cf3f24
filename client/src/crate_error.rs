//! The crate's one error type, above every part whose errors it gathers (building a client,
//! raw operations, uploads, downloads), so none of them has to import it.

use crate::{ApiError, ErrorCode};

/// Any failure of this crate, for callers that handle them alike (`?` into one type): building
/// a [`Client`](crate::Client), a raw operation, an upload or a download. Each variant keeps the
/// specific error; [`Error::api_error`] finds the Feishu failure inside any of them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be built.
    #[error(transparent)]
    Build(#[from] crate::BuildError),
    /// An operation failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// An upload failed.
    #[cfg(feature = "upload")]
    #[error(transparent)]
    Upload(#[from] crate::upload::UploadError),
    /// A download failed.
    #[cfg(feature = "upload")]
    #[error(transparent)]
    Download(#[from] crate::download::DownloadError),
}

impl Error {
    /// The failed request's error, when one request's answer is the reason.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Build(_) => None,
            Error::Api(e) => Some(e),
            #[cfg(feature = "upload")]
            Error::Upload(e) => e.api_error(),
            #[cfg(feature = "upload")]
            Error::Download(e) => e.api_error(),
        }
    }

    /// The Feishu error code, if a server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        self.api_error().and_then(ApiError::code)
    }

    /// The request's log id (what Feishu support asks for), if the server sent one.
    pub fn log_id(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::log_id)
    }
}
