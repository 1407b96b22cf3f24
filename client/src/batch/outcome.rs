//! What a batch reports: an event per thing that happened (streamed while it runs), a report per
//! file, the batch's outcome, and the errors that stop a batch before it starts.

use std::path::PathBuf;
use std::sync::Arc;

use crate::ApiError;
use crate::auth::AuthError;
use crate::upload::{ProgressEvent, UploadError, UploadOutcome};

/// What happened to one file of a batch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FileReport {
    /// The file's position in the batch (the order the request listed or walked it).
    pub index: usize,
    /// The local file, as the request named it (or as walked from a tree).
    pub path: PathBuf,
    /// Where it goes, relative to the batch's target: `sub/folder/name.ext`.
    pub remote_path: String,
    /// Its size when the batch was listed.
    pub size: u64,
    /// How it went.
    pub result: FileResult,
}

/// How one file of a batch went.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FileResult {
    /// Uploaded in this run.
    Uploaded(UploadOutcome),
    /// Not uploaded: it is already there.
    Skipped {
        /// The token of the file that is already there.
        file_token: String,
        /// Why it counts as there.
        reason: SkipReason,
    },
    /// An earlier run uploaded it without learning so (it was killed, or the answer was lost):
    /// the folder listing shows a file of its name that the batch created, and this run took
    /// it instead of uploading it a second time.
    Adopted {
        /// The token of the file the earlier run made.
        file_token: String,
    },
    /// It failed; the batch went on or stopped according to its [`OnFailure`](super::OnFailure).
    Failed(Arc<FileError>),
    /// Stopped mid-way (the batch was cancelled or stopped at another file's failure): its
    /// resume journal, if the batch keeps journals, holds the blocks the server confirmed, and
    /// a run of the same batch goes on from there.
    Interrupted {
        /// The file's resume journal, if one was written.
        journal: Option<PathBuf>,
    },
    /// Never started: the batch was cancelled or stopped first. A run of the same batch (same
    /// journal directory) picks it up.
    NotStarted,
}

impl FileResult {
    /// The file's token, when it is in Drive (uploaded, skipped or adopted).
    pub fn file_token(&self) -> Option<&str> {
        match self {
            FileResult::Uploaded(outcome) => Some(&outcome.file_token),
            FileResult::Skipped { file_token, .. } | FileResult::Adopted { file_token } => Some(file_token),
            FileResult::Failed(_) | FileResult::Interrupted { .. } | FileResult::NotStarted => None,
        }
    }
}

/// Why a file of a batch was not uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// An earlier run of this batch uploaded it, and its size and modification time are
    /// unchanged since.
    DoneEarlier,
    /// The folder already holds a file of its name (`IfExists::Skip`).
    NameExists,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::DoneEarlier => "an earlier run of this batch uploaded it",
            SkipReason::NameExists => "the folder already holds a file of this name",
        })
    }
}

/// Why one file of a batch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Its upload failed.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// The Drive folder it goes into could not be made or found.
    #[error("the folder `{folder}` could not be made: {source}")]
    Folder {
        /// The folder, relative to the batch's target.
        folder: String,
        /// What the API said.
        source: Arc<ApiError>,
    },
    /// The batch journal could not record the file (nothing was sent for it).
    #[error(transparent)]
    Journal(BatchError),
    /// The folder it goes into could not be listed (needed to decide `--if-exists`).
    #[error("the folder `{folder}` could not be listed: {source}")]
    Listing {
        /// The folder, relative to the batch's target (`""`: the target itself).
        folder: String,
        /// What the API said.
        source: Arc<ApiError>,
    },
}

impl FileError {
    /// Whether the failure says the app's credentials (or token) were refused: then every
    /// other file would fail the same way, and the batch stops.
    pub fn credentials_refused(&self) -> bool {
        match self {
            FileError::Upload(UploadError::Api { source, .. }) => credentials_refused(source),
            FileError::Upload(UploadError::Auth(auth)) => auth_refused(auth),
            FileError::Folder { source, .. } | FileError::Listing { source, .. } => {
                credentials_refused(source)
            }
            FileError::Upload(_) | FileError::Journal(_) => false,
        }
    }
}

impl FileError {
    /// Whether no access token could be had, after the token source's own retries (the token
    /// endpoint unreachable or failing): every other file waits for the same endpoint, so the
    /// batch stops rather than fail each file after the same wait.
    pub fn token_unavailable(&self) -> bool {
        let unavailable = |auth: &AuthError| matches!(auth, AuthError::Unavailable { .. });
        match self {
            FileError::Upload(UploadError::Auth(auth)) => unavailable(auth),
            FileError::Upload(UploadError::Api { source, .. }) => {
                matches!(source, ApiError::Auth(auth) if unavailable(auth))
            }
            FileError::Folder { source, .. } | FileError::Listing { source, .. } => {
                matches!(&**source, ApiError::Auth(auth) if unavailable(auth))
            }
            FileError::Upload(_) | FileError::Journal(_) => false,
        }
    }
}

fn credentials_refused(error: &ApiError) -> bool {
    match error {
        ApiError::Auth(auth) => auth_refused(auth),
        _ => error.is_token_rejected() || error.code().is_some_and(|code| code.is_credentials_refused()),
    }
}

/// A token endpoint that refused the app id and secret (not one that hiccuped).
fn auth_refused(error: &AuthError) -> bool {
    matches!(error, AuthError::Refused { .. })
}

/// Something that happened in a batch, in the order it happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchEvent<'a> {
    /// A Drive folder of the tree is ready: found in the listing, or made.
    FolderReady {
        /// The folder, relative to the batch's target.
        folder: &'a str,
        /// Its token.
        token: &'a str,
        /// Made by this run (`false`: it was there, or an earlier run made it).
        created: bool,
    },
    /// A file's upload starts.
    Started {
        /// The file's position in the batch.
        index: usize,
        /// The local file.
        path: &'a std::path::Path,
        /// Where it goes.
        remote_path: &'a str,
        /// Its size.
        size: u64,
        /// It goes as a new version of this Drive file.
        new_version_of: Option<&'a str>,
    },
    /// Something happened in a file's upload (a block confirmed, a retry, …).
    Progress {
        /// The file's position in the batch.
        index: usize,
        /// What happened.
        event: &'a ProgressEvent,
    },
    /// A file is done (uploaded, skipped, adopted, failed or not started): its report.
    Finished(&'a FileReport),
}

/// A batch's event callback. It runs on the batch's tasks, so it should return quickly.
pub type BatchEventFn = Arc<dyn Fn(&BatchEvent<'_>) + Send + Sync>;

/// How a batch went: every file's report, in the batch's order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// One report per file, in the batch's order.
    pub files: Vec<FileReport>,
    /// Folders this run made.
    pub folders_created: u64,
    /// The batch was cancelled (its [`cancel_on`](super::BatchRequest::cancel_on) token), or
    /// stopped at a failure: the files it did not start are [`FileResult::NotStarted`].
    pub stopped: Option<Stopped>,
    /// The batch journal, when the batch keeps one: a run of the same batch reads it.
    pub journal: Option<PathBuf>,
    /// Things that went wrong without failing a file (a symbolic link left out of a tree, a
    /// journal that could not be removed).
    pub warnings: Vec<String>,
}

/// Why a batch stopped before every file was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stopped {
    /// Its cancellation token fired.
    Cancelled,
    /// A file failed and the batch's policy is [`OnFailure::Stop`](super::OnFailure::Stop).
    AtFailure,
    /// The credentials were refused: every other file would fail the same way.
    CredentialsRefused,
    /// No access token could be had (the token endpoint unreachable or failing, after the token
    /// source's retries): every other file would wait for it in vain. A later run of the same
    /// batch picks up what is left.
    TokenUnavailable,
}

impl BatchOutcome {
    /// Files uploaded in this run.
    pub fn uploaded(&self) -> usize {
        self.count(|r| matches!(r, FileResult::Uploaded(_)))
    }

    /// Files already there (skipped) or adopted from an earlier run.
    pub fn already_there(&self) -> usize {
        self.count(|r| matches!(r, FileResult::Skipped { .. } | FileResult::Adopted { .. }))
    }

    /// Files that failed.
    pub fn failed(&self) -> usize {
        self.count(|r| matches!(r, FileResult::Failed(_)))
    }

    /// Files not started, or stopped mid-way: what a run of the same batch picks up.
    pub fn not_started(&self) -> usize {
        self.count(|r| matches!(r, FileResult::NotStarted | FileResult::Interrupted { .. }))
    }

    /// Whether every file is in Drive.
    pub fn is_complete(&self) -> bool {
        self.files.iter().all(|f| f.result.file_token().is_some())
    }

    fn count(&self, matches: impl Fn(&FileResult) -> bool) -> usize {
        self.files.iter().filter(|f| matches(&f.result)).count()
    }
}

/// Why a batch could not start (a file's own failure is a [`FileResult::Failed`] instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A path of the request could not be read.
    #[error("{path}: {reason}")]
    BadPath {
        /// The path.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The request asks for something its target cannot do.
    #[error("{0}")]
    Invalid(String),
    /// Two files would get the same name in the same folder, which `if_exists` and resuming
    /// cannot tell apart.
    #[error(
        "{first} and {second} would both be `{remote_path}` in Drive, which resuming and if_exists \
         cannot tell apart: rename one, upload them in separate batches, or (into a Drive folder) \
         upload their directories as trees"
    )]
    NameClash {
        /// The remote path both map to.
        remote_path: String,
        /// One local file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// The batch journal could not be read or written.
    #[error("batch journal {path}: {reason}")]
    Journal {
        /// The journal.
        path: PathBuf,
        /// What went wrong, and what to do.
        reason: String,
    },
    /// The target folder could not be listed (a folder batch lists it before it starts, to
    /// find the folders and files already there).
    #[error("the target folder could not be listed: {0}")]
    Listing(#[source] ApiError),
}
