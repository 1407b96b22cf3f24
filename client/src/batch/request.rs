//! A batch request: the files (given one by one, or walked from local trees), where they go, and
//! how the batch runs; and the checks made before any request is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use tokio_util::sync::CancellationToken;

use super::outcome::{BatchError, BatchEvent, BatchEventFn};
use crate::limits::{FOLDER_DEPTH, FOLDER_NAME_MAX_LENGTH};
use crate::upload::Family;

/// Files at most this many at once by default (small ones through `upload_all`, up to two large
/// ones each with the client's `concurrency` parts in flight). The budget paces the requests, so
/// more files in flight cost no rate; they keep an operation's next request ready while others
/// are still on the wire (at 5 requests a second, a 20 MiB `upload_all` that takes longer than
/// the spacing would otherwise leave its slot unused). Memory is bounded apart, by
/// [`DEFAULT_MEMORY_LIMIT`].
pub const DEFAULT_FILES_IN_FLIGHT: usize = 8;

/// The most bytes of file data a batch holds in memory at once by default: `upload_all` bodies
/// and the blocks of the chunked files in flight.
pub const DEFAULT_MEMORY_LIMIT: u64 = 128 * 1024 * 1024;

/// What to do with a file whose name the Drive folder already holds.
///
/// Drive lets a folder hold several files of one name, so without a choice a batch uploads
/// every file; with one, the batch decides by name from each folder's listing (one
/// `list_files` page per 200 children). Files this batch uploaded itself are recognised from
/// its journal whatever the choice: unchanged ones (same size and modification time) are
/// skipped, changed ones go as a new version of what this batch uploaded.
///
/// There is no "overwrite": the API has no in-place overwrite and the spec no delete, so a new
/// version ([`IfExists::Version`]) is how a file's content is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IfExists {
    /// Leave the file that is there; report its token.
    Skip,
    /// Upload the local file as a new version of the one that is there: its token, links and
    /// permissions stay, and Drive keeps the old content in its history.
    Version,
}

/// What a batch does when a file fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnFailure {
    /// Go on with the other files, and report the failure in the outcome.
    #[default]
    Continue,
    /// Start no other file; the uploads in flight stop (their journals keep what was sent).
    Stop,
}

/// Where a batch's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A Drive folder (the files family): trees become sub-folders.
    Folder(String),
    /// A doc, sheet or base (the media family): files only, no folders.
    Parent {
        parent_type: String,
        parent_node: String,
    },
}

impl Target {
    pub(crate) fn family(&self) -> Family {
        match self {
            Target::Folder(_) => Family::Files,
            Target::Parent { .. } => Family::Media,
        }
    }

    /// What identifies the target in the batch journal's name.
    pub(crate) fn describe(&self) -> String {
        match self {
            Target::Folder(token) => format!("folder {token}"),
            Target::Parent {
                parent_type,
                parent_node,
            } => format!("{parent_type} {parent_node}"),
        }
    }
}

/// One file of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// As the request named it (or as walked): what reports show.
    pub(crate) shown: PathBuf,
    /// Canonical: what is opened.
    pub(crate) local: PathBuf,
    /// The Drive folder it goes into, relative to the target (empty: the target itself).
    pub(crate) folder: Vec<String>,
    /// Its name in Drive.
    pub(crate) name: String,
    pub(crate) size: u64,
    /// Modification time in nanoseconds since the epoch, when the platform has one.
    pub(crate) modified: Option<u64>,
}

impl Entry {
    /// `sub/folder/name`: what identifies the file in the batch journal and in reports.
    pub(crate) fn remote_path(&self) -> String {
        join(&self.folder, Some(&self.name))
    }
}

/// `a/b` (and `a/b/name`).
pub(crate) fn join(folder: &[String], name: Option<&str>) -> String {
    let mut parts: Vec<&str> = folder.iter().map(String::as_str).collect();
    parts.extend(name);
    parts.join("/")
}

/// Many files uploaded under one scheduler: into a Drive folder (local directory trees become
/// sub-folders) or attached to a doc, sheet or base.
///
/// ```no_run
/// # async fn run(client: feishu_drive::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use feishu_drive::batch::{BatchRequest, IfExists};
///
/// let outcome = client
///     .upload_batch(
///         BatchRequest::to_folder("fldbcO1UuPz8VwnpPx5a92abcef")
///             .tree("photos")?
///             .if_exists(IfExists::Skip)
///             .journal_dir("/var/lib/uploads"),
///     )
///     .await?;
/// println!("{} uploaded, {} failed", outcome.uploaded(), outcome.failed());
/// # Ok(()) }
/// ```
pub struct BatchRequest {
    pub(crate) target: Target,
    pub(crate) entries: Vec<Entry>,
    /// Every folder of the trees, empty ones included, parents before children.
    pub(crate) folders: BTreeSet<Vec<String>>,
    /// The local roots (canonical), what names the batch journal.
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) journal_dir: Option<PathBuf>,
    pub(crate) if_exists: Option<IfExists>,
    pub(crate) on_failure: OnFailure,
    pub(crate) files_in_flight: usize,
    pub(crate) memory_limit: u64,
    pub(crate) refuse_duplicates: bool,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) events: Option<BatchEventFn>,
    pub(crate) warnings: Vec<String>,
}

impl std::fmt::Debug for BatchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchRequest")
            .field("target", &self.target)
            .field("files", &self.entries.len())
            .field("folders", &self.folders.len())
            .field("journal_dir", &self.journal_dir)
            .field("if_exists", &self.if_exists)
            .field("on_failure", &self.on_failure)
            .finish_non_exhaustive()
    }
}

impl BatchRequest {
    /// A batch into the Drive folder `folder_token` (the files family).
    pub fn to_folder(folder_token: impl Into<String>) -> Self {
        Self::new(Target::Folder(folder_token.into()))
    }

    /// A batch of media attached to a doc, sheet or base (the media family): `parent_type` and
    /// `parent_node` as for [`UploadRequest::file`](crate::upload::UploadRequest::file).
    pub fn to_parent(parent_type: impl Into<String>, parent_node: impl Into<String>) -> Self {
        Self::new(Target::Parent {
            parent_type: parent_type.into(),
            parent_node: parent_node.into(),
        })
    }

    fn new(target: Target) -> Self {
        BatchRequest {
            target,
            entries: Vec::new(),
            folders: BTreeSet::new(),
            roots: Vec::new(),
            journal_dir: None,
            if_exists: None,
            on_failure: OnFailure::default(),
            files_in_flight: DEFAULT_FILES_IN_FLIGHT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            refuse_duplicates: false,
            cancel: None,
            events: None,
            warnings: Vec::new(),
        }
    }

    /// Adds the file at `path`, into the target itself, named by its file name.
    pub fn file(mut self, path: impl AsRef<Path>) -> Result<Self, BatchError> {
        let path = path.as_ref();
        let (local, metadata) = canonical(path)?;
        if !metadata.is_file() {
            return Err(bad(path, "not a file (add directories with `tree`)"));
        }
        let name = file_name(path)?;
        self.roots.push(local.clone());
        self.push(path.to_owned(), local, Vec::new(), name, &metadata);
        Ok(self)
    }

    /// Adds every file under the directory `dir`, mirrored into the target folder: `dir/a/b.txt`
    /// goes to `a/b.txt`, sub-folders (empty ones too) made as needed or reused when the folder
    /// already has them. Symbolic links inside the tree are not followed (each is reported as a
    /// warning). Only a Drive folder target has folders.
    pub fn tree(mut self, dir: impl AsRef<Path>) -> Result<Self, BatchError> {
        let dir = dir.as_ref();
        if !matches!(self.target, Target::Folder(_)) {
            return Err(BatchError::Invalid(format!(
                "{}: a doc, sheet or base has no folders; upload a directory tree into a Drive folder",
                dir.display()
            )));
        }
        let (root, metadata) = canonical(dir)?;
        if !metadata.is_dir() {
            return Err(bad(dir, "not a directory (add files with `file`)"));
        }
        self.roots.push(root);
        for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
            let entry = entry.map_err(|e| bad(e.path().unwrap_or(dir), &e.to_string()))?;
            self.walked(dir, &entry)?;
        }
        Ok(self)
    }

    /// Adds one entry of a tree walk.
    fn walked(&mut self, dir: &Path, entry: &walkdir::DirEntry) -> Result<(), BatchError> {
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let mut parts = Vec::new();
        for component in relative.components() {
            let part = component
                .as_os_str()
                .to_str()
                .ok_or_else(|| bad(entry.path(), "its name is not UTF-8, which Drive names must be"))?;
            parts.push(part.to_owned());
        }
        let kind = entry.file_type();
        if kind.is_dir() {
            check_folder(entry.path(), &parts)?;
            self.folders.insert(parts);
        } else if kind.is_file() {
            let name = parts.pop().unwrap_or_default();
            let (local, metadata) = canonical(entry.path())?;
            self.push(entry.path().to_owned(), local, parts, name, &metadata);
        } else {
            self.warnings.push(format!(
                "{}: left out (a symbolic link or special file; trees are walked without following links)",
                entry.path().display()
            ));
        }
        Ok(())
    }

    fn push(
        &mut self,
        shown: PathBuf,
        local: PathBuf,
        folder: Vec<String>,
        name: String,
        metadata: &std::fs::Metadata,
    ) {
        // The same file named twice (a path and a directory holding it) is one file.
        if self
            .entries
            .iter()
            .any(|e| e.local == local && e.folder == folder && e.name == name)
        {
            return;
        }
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok());
        self.entries.push(Entry {
            shown,
            local,
            folder,
            name,
            size: metadata.len(),
            modified,
        });
    }

    /// Keeps the batch journal in `dir` (created with mode 700 if missing): the folders made,
    /// the files done with their tokens, and one resume journal per chunked file in flight. The
    /// same batch run again with the same `dir` skips what is done, adopts what an interrupted
    /// run uploaded without learning so, and resumes half-sent files. Without one, an
    /// interrupted batch starts over.
    pub fn journal_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.journal_dir = Some(dir.into());
        self
    }

    /// Decides by name what to do with files the Drive folder already holds (see [`IfExists`]).
    pub fn if_exists(mut self, choice: IfExists) -> Self {
        self.if_exists = Some(choice);
        self
    }

    /// What to do when a file fails ([`OnFailure::Continue`] by default).
    pub fn on_failure(mut self, policy: OnFailure) -> Self {
        self.on_failure = policy;
        self
    }

    /// Files uploaded at once ([`DEFAULT_FILES_IN_FLIGHT`] by default, at least 1). Each
    /// chunked file has the client's `concurrency` parts in flight.
    pub fn files_in_flight(mut self, files: usize) -> Self {
        self.files_in_flight = files.max(1);
        self
    }

    /// The most bytes of file data held in memory at once ([`DEFAULT_MEMORY_LIMIT`] by default):
    /// a file waits until its `upload_all` body (or its chunked upload's two blocks per worker)
    /// fits. A single file larger than the limit still goes, alone.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes.max(1);
        self
    }

    /// Never sends a file again when an earlier attempt may have succeeded without its answer
    /// (see [`UploadRequest::refuse_duplicates`](crate::upload::UploadRequest::refuse_duplicates)).
    /// Into a Drive folder the batch does not need it to avoid duplicates: after a lost answer
    /// it looks in the folder's listing, adopts the file the lost request made, and sends again
    /// only when there is none; with this set, it fails the file instead of sending again.
    pub fn refuse_duplicates(mut self) -> Self {
        self.refuse_duplicates = true;
        self
    }

    /// Stops the batch when `token` is cancelled: no file starts after it, the uploads in
    /// flight stop with their journals kept, and the outcome says what was done.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Calls `events` for everything that happens, as it happens (see [`BatchEvent`]).
    pub fn on_event(mut self, events: impl Fn(&BatchEvent<'_>) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(events));
        self
    }

    /// The files of the batch: their local paths and where they go, in the batch's order.
    pub fn files(&self) -> impl Iterator<Item = (&Path, String, u64)> {
        self.entries
            .iter()
            .map(|e| (e.shown.as_path(), e.remote_path(), e.size))
    }

    /// Whether the batch has nothing to do: no file, and no folder of a tree to make (a tree
    /// of empty folders into a Drive folder is not empty: its folders are made).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.folders.is_empty()
    }

    /// Every Drive folder the batch needs under the target, parents before children: the
    /// trees' folders (empty ones too) and the folder of every file.
    pub(crate) fn all_folders(&self) -> BTreeSet<Vec<String>> {
        let mut all = self.folders.clone();
        for entry in &self.entries {
            for depth in 1..=entry.folder.len() {
                all.insert(entry.folder[..depth].to_vec());
            }
        }
        all
    }

    /// Whether the batch lists its target before it starts: a Drive folder always is, to find
    /// sub-folders already there, to decide `if_exists`, and to know what the folder held
    /// before, which tells a file a lost answer made (or an interrupted run) from one that
    /// was there.
    pub(crate) fn lists_target(&self) -> bool {
        matches!(self.target, Target::Folder(_))
    }

    /// Checks what can be checked without the network: a target the request can use, names
    /// that clash, an `if_exists` that needs a folder.
    pub(crate) fn check(&self) -> Result<(), BatchError> {
        if self.if_exists.is_some() && !matches!(self.target, Target::Folder(_)) {
            return Err(BatchError::Invalid(
                "if_exists decides from a Drive folder's listing; a doc, sheet or base has none".to_owned(),
            ));
        }
        let mut seen: BTreeMap<String, &Path> = BTreeMap::new();
        for entry in &self.entries {
            let remote_path = entry.remote_path();
            if let Some(first) = seen.insert(remote_path.clone(), &entry.shown) {
                return Err(BatchError::NameClash {
                    remote_path,
                    first: first.to_owned(),
                    second: entry.shown.clone(),
                });
            }
        }
        Ok(())
    }
}

/// A folder of a tree must be a name Drive accepts, no deeper than Drive nests.
fn check_folder(path: &Path, parts: &[String]) -> Result<(), BatchError> {
    if parts.len() as u64 > FOLDER_DEPTH {
        return Err(bad(
            path,
            &format!(
                "nested {} deep; Drive folders nest at most {FOLDER_DEPTH} deep",
                parts.len()
            ),
        ));
    }
    let name = parts.last().map(String::as_str).unwrap_or_default();
    if name.chars().count() > FOLDER_NAME_MAX_LENGTH {
        return Err(bad(
            path,
            &format!("a folder name of at most {FOLDER_NAME_MAX_LENGTH} characters is needed"),
        ));
    }
    Ok(())
}

fn canonical(path: &Path) -> Result<(PathBuf, std::fs::Metadata), BatchError> {
    let local = std::fs::canonicalize(path).map_err(|e| bad(path, &e.to_string()))?;
    let metadata = std::fs::metadata(&local).map_err(|e| bad(path, &e.to_string()))?;
    Ok((local, metadata))
}

fn file_name(path: &Path) -> Result<String, BatchError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| bad(path, "its name is not UTF-8, which Drive names must be"))
}

fn bad(path: &Path, reason: &str) -> BatchError {
    BatchError::BadPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}
