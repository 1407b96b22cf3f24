//! Why an upload failed: every variant says what was wrong and what to do.

use std::path::PathBuf;

use crate::ApiError;

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The file does not exist.
    #[error("{path}: no such file; check the path")]
    FileNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("{path}: is a directory; give the path of a file")]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("{path}: cannot read the file: {source}")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file name is empty or too long for Feishu.
    #[error("invalid file name {name:?}: {reason}")]
    InvalidFileName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The parent type is not a well-formed value.
    #[error(
        "invalid parent_type {value:?}: expected a lower-case identifier such as `docx_image` or `sheet_file` (documented values: {known})"
    )]
    InvalidParentType {
        /// The value given.
        value: String,
        /// The documented values, comma-separated.
        known: String,
    },
    /// `slide_file` media go through `upload_all` only (`upload_prepare` rejects the parent type
    /// with 99992402), so a slides media larger than `upload_all` takes cannot be uploaded.
    #[error(
        "parent_type slide_file takes at most {max} bytes (upload_all only; upload_prepare rejects it), and this file has {size}"
    )]
    SlideFileTooLarge {
        /// The file's size.
        size: u64,
        /// The largest size `upload_all` takes.
        max: u64,
    },
    /// The file changed while it was being uploaded (a file that changed between runs starts
    /// afresh instead, and a confirmed block whose bytes changed is sent again).
    #[error("{path}: the file changed {when} ({what}); upload it again from the start")]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// When the change was seen.
        when: &'static str,
        /// What changed.
        what: String,
    },
    /// The journal belongs to another upload.
    #[error("journal {path}: {reason}; delete it to start a new upload")]
    JournalMismatch {
        /// The journal file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The journal is empty, unreadable as JSON, or inconsistent.
    #[error(
        "journal {path}: {reason}; delete it to start the upload afresh (an interrupted upload id is then abandoned; it expires on the server)"
    )]
    JournalCorrupt {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Another run holds the journal's lock.
    #[error(
        "journal {path}: another upload is using it; wait for it to end, or give this upload its own journal"
    )]
    JournalLocked {
        /// The journal file.
        path: PathBuf,
    },
    /// A finish or `upload_all` may have created the media, but no answer came back, and the
    /// request asked not to risk a second media ([`UploadRequest::refuse_duplicates`]).
    ///
    /// [`UploadRequest::refuse_duplicates`]: super::UploadRequest::refuse_duplicates
    #[error(
        "{operation} may have succeeded without an answer (upload id {upload_id:?}); not uploading again, which could create a duplicate media"
    )]
    AmbiguousFinish {
        /// `upload_finish` or `upload_all`.
        operation: crate::operations::OperationId,
        /// The upload id (empty for `upload_all`).
        upload_id: String,
    },
    /// The journal could not be read or written.
    #[error("journal {path}: {source}")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A stream ended before `size` bytes, or went on past it.
    #[error("the reader {0}; pass the exact size of the stream")]
    ReaderSize(String),
    /// The server lost blocks or the upload id of a stream, which cannot be read again.
    #[error(
        "the server asked to send data again ({0}), but a stream cannot be rewound; upload from a file instead"
    )]
    CannotRewind(&'static str),
    /// No access token could be had (for example, the app id or secret is wrong).
    #[error("authentication failed: {0}")]
    Auth(#[from] crate::auth::AuthError),
    /// An API call failed with a permanent error, or kept failing after every retry.
    #[error("{operation} failed: {source}")]
    Api {
        /// The operation, e.g. `upload_part`.
        operation: crate::operations::OperationId,
        /// The error from the last attempt.
        #[source]
        source: ApiError,
    },
    /// The server answered something inconsistent with the documented protocol.
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    /// The upload was cancelled.
    #[error("the upload was cancelled")]
    Cancelled,
    /// The daily call quota cannot cover the upload (checked before `upload_prepare`), or the
    /// server answered that it is used up. Running it again before `resets_at` cannot succeed.
    #[error(transparent)]
    QuotaExceeded(#[from] crate::budget::QuotaExceeded),
}

impl UploadError {
    /// The API error behind this failure, if there is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            UploadError::Api { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The log id Feishu support asks for, if the failure came with one.
    pub fn log_id(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::log_id)
    }

    /// Whether running the same upload again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            UploadError::Api { source, .. } => source.is_retryable(),
            UploadError::Auth(e) => e.is_retryable(),
            UploadError::JournalLocked { .. } => true,
            _ => false,
        }
    }
}
