//! One upload request: what to send, where, and how; and the checks made before any request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::AsyncRead;
use tokio_util::sync::CancellationToken;

use super::{ProgressEvent, ProgressFn, UploadError};
use crate::limits::FILE_NAME_MAX_LENGTH;

/// The `parent_type` of a Drive folder in the files family.
const EXPLORER: &str = "explorer";

/// One upload: what to send, where, and how.
pub struct UploadRequest {
    pub(super) data: Data,
    pub(super) family: super::Family,
    pub(super) version_of: Option<String>,
    pub(super) file_name: Option<String>,
    pub(super) parent_type: String,
    pub(super) parent_node: String,
    pub(super) extra: Option<String>,
    pub(super) journal: Option<PathBuf>,
    pub(super) progress: Option<ProgressFn>,
    pub(super) cancel: Option<CancellationToken>,
    pub(super) refuse_duplicates: bool,
}

pub(super) enum Data {
    File(PathBuf),
    Reader {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
        file_name: String,
    },
}

impl std::fmt::Debug for UploadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = match &self.data {
            Data::File(path) => format!("file {}", path.display()),
            Data::Reader { size, file_name, .. } => format!("stream {file_name:?} of {size} bytes"),
        };
        f.debug_struct("UploadRequest")
            .field("data", &data)
            .field("parent_type", &self.parent_type)
            .field("parent_node", &self.parent_node)
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl UploadRequest {
    /// Upload the file at `path`, named by its file name.
    pub fn file(
        path: impl Into<PathBuf>,
        parent_type: impl Into<String>,
        parent_node: impl Into<String>,
    ) -> Self {
        Self::new(Data::File(path.into()), parent_type.into(), parent_node.into())
    }

    /// Upload `size` bytes read from `reader`, named `file_name`. A stream cannot be resumed or
    /// rewound, so journals do not apply.
    pub fn reader(
        reader: impl AsyncRead + Send + Unpin + 'static,
        size: u64,
        file_name: impl Into<String>,
        parent_type: impl Into<String>,
        parent_node: impl Into<String>,
    ) -> Self {
        let data = Data::Reader {
            reader: Box::new(reader),
            size,
            file_name: file_name.into(),
        };
        Self::new(data, parent_type.into(), parent_node.into())
    }

    /// Upload the file at `path` into the Drive folder `folder_token` (the `files` family,
    /// `parent_type: explorer`), named by its file name. An empty token is the root folder.
    pub fn to_folder(path: impl Into<PathBuf>, folder_token: impl Into<String>) -> Self {
        Self::file(path, EXPLORER, folder_token).family(super::Family::Files)
    }

    /// Upload `size` bytes from `reader` into the Drive folder `folder_token`, named `file_name`.
    pub fn reader_to_folder(
        reader: impl AsyncRead + Send + Unpin + 'static,
        size: u64,
        file_name: impl Into<String>,
        folder_token: impl Into<String>,
    ) -> Self {
        Self::reader(reader, size, file_name, EXPLORER, folder_token).family(super::Family::Files)
    }

    /// Which endpoints to upload through ([`Family::Media`](super::Family::Media) by default,
    /// [`Family::Files`](super::Family::Files) for a Drive folder or a wiki node).
    pub fn family(mut self, family: super::Family) -> Self {
        self.family = family;
        self
    }

    /// Upload a new version of the Drive file `file_token` (the files family's `file_token`
    /// field); the file keeps its token and gets a new `version`.
    pub fn new_version_of(mut self, file_token: impl Into<String>) -> Self {
        self.version_of = Some(file_token.into());
        self
    }

    fn new(data: Data, parent_type: String, parent_node: String) -> Self {
        Self {
            data,
            family: super::Family::Media,
            version_of: None,
            file_name: None,
            parent_type,
            parent_node,
            extra: None,
            journal: None,
            progress: None,
            cancel: None,
            refuse_duplicates: false,
        }
    }

    /// The name the media gets (default: the file's name).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The `extra` field, e.g. `{"drive_route_token":"…"}` for some parent types.
    pub fn extra(mut self, extra: impl Into<String>) -> Self {
        self.extra = Some(extra.into());
        self
    }

    /// Keep a resume journal at `path`: a run that finds one continues its upload. It applies to
    /// the chunked flow from a file; an `upload_all` is one request, with nothing to resume.
    /// Confirmed blocks are written to it in batches: a process killed mid-upload has lost at
    /// most [`JOURNAL_BATCH_BLOCKS`](super::JOURNAL_BATCH_BLOCKS)` - 1` confirmations, whose
    /// blocks the next run sends again.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Call `progress` with every [`ProgressEvent`].
    pub fn progress(mut self, progress: impl Fn(&ProgressEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Never risk a second media: when a finish or `upload_all` may have succeeded without its
    /// answer arriving, fail with [`UploadError::AmbiguousFinish`] instead of uploading again
    /// (the default uploads again and reports
    /// [`UploadOutcome::possible_duplicate`](super::UploadOutcome::possible_duplicate)).
    pub fn refuse_duplicates(mut self) -> Self {
        self.refuse_duplicates = true;
        self
    }

    /// Stop promptly, with [`UploadError::Cancelled`], when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// Checks the parent before any request. The spec keeps `parent_type` open (Feishu adds values),
/// so an undocumented but well-formed value is sent with a warning; a malformed one is refused.
pub(super) fn check_parent(parent_type: &str, family: super::Family) -> Result<(), UploadError> {
    let well_formed = parent_type.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && parent_type
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err(UploadError::InvalidParentType {
            value: parent_type.to_owned(),
            known: family.known_parent_types().join(", "),
        });
    }
    if !family.known_parent_types().contains(&parent_type) {
        tracing::warn!(
            parent_type,
            "parent_type is not among the documented values; sending it as given"
        );
    }
    // `parent_node` is optional and may be empty (parent types such as `ccm_import_open` need
    // none): an empty one is left out of the request, nothing stricter than the docs.
    Ok(())
}

pub(super) fn check_file_name(name: &str) -> Result<(), UploadError> {
    let reason = if name.trim().is_empty() {
        "it is empty".to_owned()
    } else if name.chars().count() > FILE_NAME_MAX_LENGTH {
        format!(
            "it has {} characters; Feishu takes at most {FILE_NAME_MAX_LENGTH}",
            name.chars().count()
        )
    } else {
        return Ok(());
    };
    Err(UploadError::InvalidFileName {
        name: name.to_owned(),
        reason,
    })
}

/// An opened file and what it looked like when opened.
pub(super) struct Opened {
    pub(super) file: Arc<std::fs::File>,
    pub(super) size: u64,
    pub(super) mtime_ns: u128,
}

pub(super) fn open_file(path: &Path) -> Result<Opened, UploadError> {
    let unreadable = |source| UploadError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UploadError::FileNotFound {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(unreadable(e)),
    };
    if metadata.is_dir() {
        return Err(UploadError::IsDirectory {
            path: path.to_owned(),
        });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    Ok(Opened {
        file: Arc::new(file),
        size: metadata.len(),
        mtime_ns: mtime_ns(&metadata),
    })
}

pub(super) fn mtime_ns(metadata: &std::fs::Metadata) -> u128 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

pub(super) enum Input {
    File {
        path: PathBuf,
        opened: Opened,
    },
    Stream {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
    },
}

impl Input {
    pub(super) fn size(&self) -> u64 {
        match self {
            Input::File { opened, .. } => opened.size,
            Input::Stream { size, .. } => *size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_checked_in_characters() {
        assert!(check_file_name("a.txt").is_ok());
        assert!(check_file_name(&"é".repeat(250)).is_ok());
        assert!(matches!(
            check_file_name(&"é".repeat(251)),
            Err(UploadError::InvalidFileName { .. })
        ));
        assert!(matches!(
            check_file_name(" "),
            Err(UploadError::InvalidFileName { .. })
        ));
    }

    #[test]
    fn parent_types_may_be_undocumented_but_not_malformed() {
        use crate::upload::Family;
        assert!(check_parent("docx_image", Family::Media).is_ok());
        assert!(check_parent("future_type_2027", Family::Media).is_ok());
        assert!(check_parent("explorer", Family::Files).is_ok());
        for bad in ["", "Docx", "docx image", "docx-image", "1docx"] {
            for family in [Family::Media, Family::Files] {
                assert!(
                    matches!(
                        check_parent(bad, family),
                        Err(UploadError::InvalidParentType { .. })
                    ),
                    "{bad:?}"
                );
            }
        }
    }
}
