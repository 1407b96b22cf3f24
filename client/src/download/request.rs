//! What a download is asked to do and what it reports: [`DownloadRequest`], its events, its
//! outcome and its errors. How a download runs is the parent module's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ApiError;
use crate::budget::QuotaExceeded;

/// One download: which media, where to, and how.
pub struct DownloadRequest {
    pub(super) file_token: String,
    pub(super) destination: Destination,
    pub(super) family: crate::upload::Family,
    pub(super) version: Option<String>,
    pub(super) extra: Option<String>,
    pub(super) expect_media_type: Option<String>,
    pub(super) resume: bool,
    pub(super) replace: bool,
    pub(super) progress: Option<DownloadProgressFn>,
    pub(super) cancel: Option<CancellationToken>,
}

#[derive(Debug, Clone)]
pub(super) enum Destination {
    File(PathBuf),
    Dir(PathBuf),
}

impl std::fmt::Debug for DownloadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadRequest")
            .field("file_token", &self.file_token)
            .field("destination", &self.destination)
            .field("expect_media_type", &self.expect_media_type)
            .field("resume", &self.resume)
            .field("replace", &self.replace)
            .finish_non_exhaustive()
    }
}

impl DownloadRequest {
    /// Download the media `file_token` to the file `path` (replaced if it exists, unless
    /// [`keep_existing`](Self::keep_existing)).
    pub fn to_file(file_token: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self::new(file_token.into(), Destination::File(path.into()))
    }

    /// Download the media `file_token` into the directory `dir`, under the file name the server
    /// sends in `Content-Disposition` (made safe with [`safe_file_name`](super::safe_file_name); the file token when
    /// there is none).
    pub fn into_dir(file_token: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        Self::new(file_token.into(), Destination::Dir(dir.into()))
    }

    fn new(file_token: String, destination: Destination) -> Self {
        Self {
            file_token,
            destination,
            family: crate::upload::Family::Media,
            version: None,
            extra: None,
            expect_media_type: None,
            resume: true,
            replace: true,
            progress: None,
            cancel: None,
        }
    }

    /// Which family the token belongs to: [`Family::Media`](crate::upload::Family::Media) (the
    /// default: `drive/v1/medias/{token}/download`) or
    /// [`Family::Files`](crate::upload::Family::Files) (a Drive file:
    /// `drive/v1/files/{token}/download`).
    pub fn family(mut self, family: crate::upload::Family) -> Self {
        self.family = family;
        self
    }

    /// A Drive file's version to read (files family; the newest by default).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The `extra` query parameter (JSON text), needed for media in some documents.
    pub fn extra(mut self, extra: impl Into<String>) -> Self {
        self.extra = Some(extra.into());
        self
    }

    /// Fail with [`DownloadError::UnexpectedMediaType`] unless the media has this type
    /// (compared without parameters, case-insensitively: `image/png`).
    pub fn expect_media_type(mut self, media_type: impl Into<String>) -> Self {
        self.expect_media_type = Some(media_type.into());
        self
    }

    /// Whether to continue a partial file left by an earlier run (default `true`); `false`
    /// starts from the first byte.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Never replace a file already at the destination: the download fails with
    /// [`DownloadError::Exists`] instead. With a file path, that is known before anything is
    /// sent; with a directory, the name comes from the server, so the check is made when the
    /// finished file takes its name, without replacing one that appeared meanwhile.
    ///
    /// ```
    /// use feishu_drive::download::DownloadRequest;
    ///
    /// let request = DownloadRequest::into_dir("boxcnrHpsg1QDqXAAAyachabcef", "downloads").keep_existing();
    /// # let _ = request;
    /// ```
    pub fn keep_existing(mut self) -> Self {
        self.replace = false;
        self
    }

    /// Receive [`DownloadEvent`]s as the download advances.
    pub fn progress(mut self, progress: impl Fn(&DownloadEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Stop when this token is cancelled ([`DownloadError::Cancelled`]); the partial file stays,
    /// under its temporary name, for a later run to resume.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// What just happened in a download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadEvent {
    /// The first response arrived: the media's size, if the server said, and the bytes an
    /// earlier run had already written.
    Started {
        /// The media's size in bytes, if known.
        total_bytes: Option<u64>,
        /// Bytes kept from a partial file.
        resumed_bytes: u64,
    },
    /// Bytes were written to the file.
    Received {
        /// Bytes in the file so far, resumed ones included.
        written_bytes: u64,
        /// The media's size in bytes, if known.
        total_bytes: Option<u64>,
    },
    /// A request failed with a retryable error and is sent again after `delay`.
    Retrying {
        /// The error, as text (it never contains a token).
        error: String,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// The file starts over from the first byte.
    Restarted {
        /// Why.
        reason: String,
    },
    /// The file is complete, checked, and under its final name.
    Finished {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
}

/// A download progress callback. It runs on the download's task, so it should return quickly.
pub type DownloadProgressFn = Arc<dyn Fn(&DownloadEvent) + Send + Sync>;

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOutcome {
    /// Where the file is.
    pub path: PathBuf,
    /// The file name the server sent (`Content-Disposition`, `filename*` decoded), as sent.
    pub file_name: Option<String>,
    /// The media's type (`Content-Type`), as sent.
    pub media_type: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// Bytes kept from a partial file of an earlier run.
    pub resumed_bytes: u64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests that failed and were sent again.
    pub retries: u64,
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// Feishu answered with an error (a non-zero `code`, whatever the status), or the request
    /// failed, and retrying did not help (or could not).
    #[error("download of {file_token}: {source}")]
    Api {
        /// The media's token.
        file_token: String,
        /// The last error.
        #[source]
        source: ApiError,
    },
    /// The daily quota of the `download` group is used up (counted by the budget, or answered
    /// by the server); retrying before `resets_at` cannot succeed.
    #[error(transparent)]
    QuotaExceeded(QuotaExceeded),
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A file is already at the destination, and the request keeps existing files
    /// ([`DownloadRequest::keep_existing`]). Nothing was written there; a download that found
    /// the name taken only once it was complete is discarded.
    #[error(
        "{path}: a file is there already, and it is kept; choose another destination, or let the download replace it"
    )]
    Exists {
        /// The file that is kept.
        path: PathBuf,
    },
    /// The destination cannot be used.
    #[error("destination {path}: {reason}")]
    Destination {
        /// The destination.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A response said one length and carried another, or the file ended at another size than
    /// the media's.
    #[error("length mismatch: expected {expected} bytes, got {actual} ({what})")]
    LengthMismatch {
        /// What was measured.
        what: &'static str,
        /// The length announced.
        expected: u64,
        /// The length received.
        actual: u64,
    },
    /// A 206 without a usable `Content-Range`, or one for another range than asked.
    #[error("bad Content-Range {value:?}: {reason}")]
    BadContentRange {
        /// The header's value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The media's size changed between two responses.
    #[error("the media's size changed from {before} to {after} bytes during the download")]
    SizeChanged {
        /// The size first announced.
        before: u64,
        /// The size announced later.
        after: u64,
    },
    /// The media's type changed between two responses.
    #[error("the media's type changed from {before:?} to {after:?} during the download")]
    MediaTypeChanged {
        /// The first type.
        before: String,
        /// The later type.
        after: String,
    },
    /// The media is not of the type the request expected.
    #[error("the media is {actual:?}, not {expected:?}")]
    UnexpectedMediaType {
        /// The type asked for.
        expected: String,
        /// The type sent.
        actual: String,
    },
    /// The download was cancelled; the partial file stays under its temporary name.
    #[error("the download was cancelled")]
    Cancelled,
}

impl DownloadError {
    /// The failed request's error, when one request's answer is the reason.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            DownloadError::Api { source, .. } => Some(source),
            _ => None,
        }
    }
}
