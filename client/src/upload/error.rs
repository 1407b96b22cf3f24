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
    /// The file changed while it was being uploaded, or since the journal was written.
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
        operation: &'static str,
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
}

impl UploadError {
    /// The API error behind this failure, if there is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            UploadError::Api { source, .. } => Some(source),
            _ => None,
        }
    }
}
