//! The data directory: where blocks arrive, wait for `upload_finish`, and are read back.
//!
//! ```text
//! <data dir>/.feishu-drive-server  the marker: this server made the directory and owns it
//! <data dir>/tmp/                 request bodies being received (deleted unless committed)
//! <data dir>/uploads/<upload_id>/<seq>   blocks of an upload in progress
//! <data dir>/files/<dir>/<seq>    blocks of a finished file (media: `<dir>` is its token;
//!                                 a Drive file version: `<token>.<version>`)
//! <data dir>/files/<dir>/meta.json
//! <data dir>/folders/<token>.json  a Drive folder (the root one has no parent)
//! ```
//!
//! A finished file keeps its blocks as they arrived: `upload_finish` renames the upload's
//! directory instead of concatenating gigabytes, and `download` streams the blocks in order.
//!
//! A given data directory is used only if it is new, empty, or carries the marker file (written
//! when the server first takes an empty directory): at start the server deletes `tmp/` and
//! `uploads/` in it, which must never hit a directory that belongs to someone else.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tempfile::{NamedTempFile, TempDir};
use tokio_util::io::ReaderStream;

use crate::auth::Identity;
use crate::error::ServerError;

const META: &str = "meta.json";
/// The file that says a data directory belongs to this server.
pub(crate) const MARKER: &str = ".feishu-drive-server";
const MARKER_TEXT: &str = "This directory is the data directory of feishu-drive-server.\n\
    At every start the server deletes tmp/ and uploads/ in it (unfinished uploads).\n";

/// Which family a finished file belongs to: media (`drive/v1/medias/…`, attached to a document)
/// or a Drive file (`drive/v1/files/…`, in a folder, with versions). Files of older runs are
/// media.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Family {
    #[default]
    Media,
    File,
}

/// What is known of a finished file (a media, or one version of a Drive file).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FileMeta {
    pub(crate) file_token: String,
    pub(crate) file_name: String,
    pub(crate) size: u64,
    /// How many block files `<seq>` hold the bytes, in order.
    pub(crate) blocks: u64,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
    /// Who uploaded it; only they may download it (1061004). Files of older runs have none and
    /// may be read by anyone.
    #[serde(default)]
    pub(crate) owner: Option<Identity>,
    /// The media type `download` answers with, guessed from the file name's extension.
    #[serde(default = "octet_stream")]
    pub(crate) content_type: String,
    #[serde(default)]
    pub(crate) family: Family,
    /// A Drive file's version (every version keeps the file's token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    /// The directory under `files/` holding the blocks, when it is not the token (versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dir: Option<String>,
    /// When it was finished, in seconds since the Unix epoch (0 for files of older runs).
    #[serde(default)]
    pub(crate) created_secs: u64,
}

impl FileMeta {
    /// The name of its directory under `files/`.
    pub(crate) fn dir_name(&self) -> &str {
        self.dir.as_deref().unwrap_or(&self.file_token)
    }
}

/// A Drive folder as it is kept on disk.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FolderMeta {
    pub(crate) token: String,
    pub(crate) name: String,
    /// `None` for the root folder.
    pub(crate) parent: Option<String>,
    /// Who made it; only they may add to or list it (1061004). The root folder has none.
    pub(crate) owner: Option<Identity>,
    pub(crate) created_secs: u64,
    /// Creation order, to sort folders made in the same second.
    pub(crate) seq: u64,
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What an earlier run left in the data directory: finished files and Drive folders.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub(crate) files: Vec<FileMeta>,
    pub(crate) folders: Vec<FolderMeta>,
}

fn octet_stream() -> String {
    "application/octet-stream".to_owned()
}

/// The media type of a file called `name`, from its extension (`application/octet-stream` when
/// unknown). The bytes are not sniffed.
pub(crate) fn media_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first()
        .map_or_else(octet_stream, |m| m.essence_str().to_owned())
}

#[derive(Debug)]
pub(crate) struct Storage {
    root: PathBuf,
    /// Holds the default temporary directory, deleted when the server's state is dropped.
    _temp: Option<TempDir>,
}

impl Storage {
    /// Opens (creating) the data directory, clears what an earlier run left unfinished, and
    /// returns the files it finished and the folders it made.
    pub(crate) fn open(dir: Option<&Path>) -> Result<(Self, Kept), ServerError> {
        let (root, temp) = match dir {
            Some(dir) => {
                claim(dir)?;
                (dir.to_path_buf(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("feishu-drive-server-")
                    .tempdir()
                    .map_err(|source| ServerError::DataDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let storage = Self { root, _temp: temp };
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ServerError::DataDir { path, source }
        };
        // Upload ids live in memory, so blocks of an earlier run can never be finished.
        for stale in [storage.tmp_dir(), storage.uploads_dir()] {
            match std::fs::remove_dir_all(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(&stale)(e)),
            }
        }
        for dir in [
            storage.tmp_dir(),
            storage.uploads_dir(),
            storage.files_dir(),
            storage.folders_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(fail(&dir))?;
        }
        let files_dir = storage.files_dir();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&files_dir).map_err(fail(&files_dir))? {
            let path = entry.map_err(fail(&files_dir))?.path().join(META);
            // A directory without readable metadata was never finished: skip it, don't fail.
            let meta = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<FileMeta>(&bytes).ok());
            match meta {
                Some(meta) => files.push(meta),
                None => tracing::warn!(path = %path.display(), "skipping a file without metadata"),
            }
        }
        let folders_dir = storage.folders_dir();
        let mut folders = Vec::new();
        for entry in std::fs::read_dir(&folders_dir).map_err(fail(&folders_dir))? {
            let path = entry.map_err(fail(&folders_dir))?.path();
            let meta = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<FolderMeta>(&bytes).ok());
            match meta {
                Some(meta) => folders.push(meta),
                None => tracing::warn!(path = %path.display(), "skipping an unreadable folder"),
            }
        }
        Ok((storage, Kept { files, folders }))
    }

    fn folders_dir(&self) -> PathBuf {
        self.root.join("folders")
    }

    /// Writes a folder's record (to a temporary file first, so a crash leaves the old one or
    /// the new one). Blocking: call from `spawn_blocking`.
    pub(crate) fn save_folder(&self, folder: &FolderMeta) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(folder).map_err(io::Error::other)?;
        let mut tmp = self.temp_file()?;
        io::Write::write_all(&mut tmp, &json)?;
        tmp.persist(self.folders_dir().join(format!("{}.json", folder.token)))
            .map(drop)
            .map_err(|e| e.error)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// A file to receive a body into; deleted when dropped unless persisted.
    pub(crate) fn temp_file(&self) -> io::Result<NamedTempFile> {
        tempfile::Builder::new()
            .prefix("body-")
            .tempfile_in(self.tmp_dir())
    }

    pub(crate) fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.uploads_dir().join(upload_id)
    }

    pub(crate) fn file_dir(&self, file_token: &str) -> PathBuf {
        self.files_dir().join(file_token)
    }

    /// Makes `dir` (holding the blocks) a finished file: writes its metadata, then moves it to
    /// `files/<dir name>`. Blocking: call from `spawn_blocking`.
    pub(crate) fn commit_file(&self, dir: &Path, meta: &FileMeta) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        std::fs::write(dir.join(META), json)?;
        std::fs::rename(dir, self.file_dir(meta.dir_name()))
    }
}

/// Makes sure `dir` is ours to manage: created now, empty (then marked), or marked by an earlier
/// run. A directory with anything else in it is refused.
fn claim(dir: &Path) -> Result<(), ServerError> {
    let fail = |source| ServerError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    let marker = dir.join(MARKER);
    match std::fs::symlink_metadata(&marker) {
        Ok(meta) if meta.is_file() => return Ok(()),
        Ok(_) => {
            return Err(ServerError::ForeignDataDir {
                path: dir.to_path_buf(),
                marker: MARKER,
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    std::fs::create_dir_all(dir).map_err(fail)?;
    let empty = std::fs::read_dir(dir).map_err(fail)?.next().is_none();
    if !empty {
        return Err(ServerError::ForeignDataDir {
            path: dir.to_path_buf(),
            marker: MARKER,
        });
    }
    std::fs::write(&marker, MARKER_TEXT).map_err(fail)
}

/// Bytes `start..=end` of a finished file whose blocks are in `dir`, in order. The blocks' lengths
/// are read from the disk, so files of any block size (and `upload_all`'s single block) are
/// served alike.
pub(crate) async fn read_range(
    dir: PathBuf,
    blocks: u64,
    start: u64,
    end: u64,
) -> io::Result<impl Stream<Item = io::Result<Bytes>> + Send> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    // (block path, offset in the block, bytes to take)
    let plan = tokio::task::spawn_blocking(move || {
        let mut plan = Vec::new();
        let mut at = 0u64;
        for seq in 0..blocks {
            if at > end {
                break;
            }
            let path = dir.join(seq.to_string());
            let len = std::fs::metadata(&path)?.len();
            let (lo, hi) = (at, at.saturating_add(len));
            if hi > start && len > 0 {
                let skip = start.saturating_sub(lo);
                let take = end.saturating_add(1).min(hi) - lo - skip;
                plan.push((path, skip, take));
            }
            at = hi;
        }
        Ok::<_, io::Error>(plan)
    })
    .await
    .map_err(io::Error::other)??;
    Ok(futures::stream::iter(plan)
        .then(|(path, skip, take)| async move {
            let mut file = tokio::fs::File::open(path).await?;
            if skip > 0 {
                file.seek(io::SeekFrom::Start(skip)).await?;
            }
            Ok::<_, io::Error>(ReaderStream::with_capacity(file.take(take), 256 * 1024))
        })
        .try_flatten())
}
