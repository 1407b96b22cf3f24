//! The resume journal: enough to continue an upload in a later process.
//!
//! It records the upload id, the block layout, the file's identity and the blocks the server has
//! confirmed. It is rewritten atomically (temp file + rename) after every confirmed block, so a
//! process killed at any moment leaves either the old or the new journal, never a torn one; at
//! most the blocks in flight at the kill are sent again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::UploadError;
use super::source::Layout;

const FORMAT_VERSION: u32 = 1;

/// What identifies the file: if any of it differs, the bytes on disk are not the bytes whose
/// blocks the server holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileIdentity {
    pub(crate) size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub(crate) mtime_ns: u128,
    /// Adler-32 of the first and last MiB, so an edit that keeps size and mtime is still caught
    /// at its most likely places without reading a large file twice.
    pub(crate) edge_checksum: u32,
}

/// Where the upload goes; a journal for another target must not be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Target {
    pub(crate) file_name: String,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    version: u32,
    upload_id: String,
    block_size: u64,
    block_num: u64,
    /// When upload_prepare returned the id, seconds since the Unix epoch.
    prepared_at: u64,
    file: FileIdentity,
    target: Target,
    confirmed: BTreeSet<u64>,
}

/// A journal file and its contents.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    record: Record,
}

impl Journal {
    /// Reads the journal at `path`, if there is one, and checks it belongs to this file and
    /// target. An upload id older than its 24-hour lifetime yields `None` (start afresh).
    pub(crate) fn load(
        path: &Path,
        file_path: &Path,
        identity: &FileIdentity,
        target: &Target,
    ) -> Result<Option<Self>, UploadError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(UploadError::Journal {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mismatch = |reason: String| UploadError::JournalMismatch {
            path: path.to_owned(),
            reason,
        };
        let record: Record = serde_json::from_str(&text)
            .map_err(|e| mismatch(format!("not a journal this version can read ({e})")))?;
        if record.version != FORMAT_VERSION {
            return Err(mismatch(format!(
                "journal format {} (expected {FORMAT_VERSION})",
                record.version
            )));
        }
        if &record.target != target {
            return Err(mismatch(format!(
                "it is for {:?} in {} {}, not this upload",
                record.target.file_name, record.target.parent_type, record.target.parent_node
            )));
        }
        if &record.file != identity {
            return Err(UploadError::FileChanged {
                path: file_path.to_owned(),
                when: "since the journal was written",
                what: describe_change(&record.file, identity),
            });
        }
        let age = now_secs().saturating_sub(record.prepared_at);
        if age >= crate::limits::UPLOAD_ID_TTL.as_secs() {
            tracing::info!(
                age_secs = age,
                "the journal's upload id has expired; starting afresh"
            );
            return Ok(None);
        }
        let layout = Layout::new(record.file.size, record.block_size, record.block_num)?;
        if record.confirmed.iter().any(|&seq| seq >= layout.block_num) {
            return Err(mismatch("it confirms a block past the last one".to_owned()));
        }
        Ok(Some(Self {
            path: path.to_owned(),
            record,
        }))
    }

    pub(crate) fn upload_id(&self) -> &str {
        &self.record.upload_id
    }

    /// The block layout; checked against the file's size when the journal was loaded.
    pub(crate) fn layout(&self) -> Layout {
        Layout {
            size: self.record.file.size,
            block_size: self.record.block_size,
            block_num: self.record.block_num,
        }
    }

    pub(crate) fn confirmed(&self) -> &BTreeSet<u64> {
        &self.record.confirmed
    }

    /// A journal for an upload id upload_prepare just returned, written at once.
    pub(crate) fn create(
        path: &Path,
        upload_id: &str,
        layout: Layout,
        file: FileIdentity,
        target: Target,
    ) -> Result<Self, UploadError> {
        let journal = Self {
            path: path.to_owned(),
            record: Record {
                version: FORMAT_VERSION,
                upload_id: upload_id.to_owned(),
                block_size: layout.block_size,
                block_num: layout.block_num,
                prepared_at: now_secs(),
                file,
                target,
                confirmed: BTreeSet::new(),
            },
        };
        journal.persist()?;
        Ok(journal)
    }

    /// Records a confirmed block.
    pub(crate) fn confirm(&mut self, seq: u64) -> Result<(), UploadError> {
        if self.record.confirmed.insert(seq) {
            self.persist()
        } else {
            Ok(())
        }
    }

    /// Forgets every confirmed block (the server lost some, and cannot say which).
    pub(crate) fn clear_confirmed(&mut self) -> Result<(), UploadError> {
        self.record.confirmed.clear();
        self.persist()
    }

    /// The upload finished: the journal has nothing left to resume.
    pub(crate) fn remove(self) -> Result<(), UploadError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(UploadError::Journal {
                path: self.path,
                source,
            }),
        }
    }

    fn persist(&self) -> Result<(), UploadError> {
        let fail = |source: std::io::Error| UploadError::Journal {
            path: self.path.clone(),
            source,
        };
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        serde_json::to_writer(&mut temp, &self.record).map_err(|e| fail(std::io::Error::other(e)))?;
        temp.persist(&self.path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn describe_change(then: &FileIdentity, now: &FileIdentity) -> String {
    if then.size != now.size {
        format!("size {} → {}", then.size, now.size)
    } else if then.mtime_ns != now.mtime_ns {
        "modification time differs".to_owned()
    } else {
        "content differs".to_owned()
    }
}
