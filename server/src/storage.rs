//! The data directory: where blocks arrive, wait for `upload_finish`, and are read back.
//!
//! ```text
//! <data dir>/tmp/                 request bodies being received (deleted unless committed)
//! <data dir>/uploads/<upload_id>/<seq>   blocks of an upload in progress
//! <data dir>/files/<file_token>/<seq>    blocks of a finished file
//! <data dir>/files/<file_token>/meta.json
//! ```
//!
//! A finished file keeps its blocks as they arrived: `upload_finish` renames the upload's
//! directory instead of concatenating gigabytes, and `download` streams the blocks in order.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tempfile::{NamedTempFile, TempDir};
use tokio_util::io::ReaderStream;

use crate::error::ServerError;

const META: &str = "meta.json";

/// What is known of a finished file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FileMeta {
    pub(crate) file_token: String,
    pub(crate) file_name: String,
    pub(crate) size: u64,
    /// How many block files `<seq>` hold the bytes, in order.
    pub(crate) blocks: u64,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
}

#[derive(Debug)]
pub(crate) struct Storage {
    root: PathBuf,
    /// Holds the default temporary directory, deleted when the server's state is dropped.
    _temp: Option<TempDir>,
}

impl Storage {
    /// Opens (creating) the data directory, clears what an earlier run left unfinished, and
    /// returns the files it finished.
    pub(crate) fn open(dir: Option<&Path>) -> Result<(Self, Vec<FileMeta>), ServerError> {
        let (root, temp) = match dir {
            Some(dir) => (dir.to_path_buf(), None),
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
        for dir in [storage.tmp_dir(), storage.uploads_dir(), storage.files_dir()] {
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
        Ok((storage, files))
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
    /// `files/<token>`. Blocking: call from `spawn_blocking`.
    pub(crate) fn commit_file(&self, dir: &Path, meta: &FileMeta) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        std::fs::write(dir.join(META), json)?;
        std::fs::rename(dir, self.file_dir(&meta.file_token))
    }
}

/// The bytes of a finished file, block after block.
pub(crate) fn read_blocks(dir: PathBuf, blocks: u64) -> impl Stream<Item = io::Result<Bytes>> + Send {
    futures::stream::iter(0..blocks)
        .then(move |seq| tokio::fs::File::open(dir.join(seq.to_string())))
        .map_ok(|file| ReaderStream::with_capacity(file, 256 * 1024))
        .try_flatten()
}
