//! The resume journal: enough to continue an upload in a later process, and to know whether an
//! earlier run may already have created the media.
//!
//! It records the upload id, the block layout, the file's identity, the blocks the server has
//! confirmed with each block's Adler-32, and whether a finish (or the `upload_all`) was sent. It
//! is rewritten atomically after every change — a temp file, `fsync`, rename over the journal,
//! `fsync` of the directory — so a process killed (or a machine that loses power) at any moment
//! leaves the old or the new journal, never a torn one. A sidecar `<journal>.lock` file, locked
//! exclusively for the whole upload, keeps two runs from sharing one journal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::UploadError;
use super::source::Layout;

const FORMAT_VERSION: u32 = 2;

/// What identifies the file: if any of it differs, the bytes on disk are not the bytes whose
/// blocks the server holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileIdentity {
    pub(crate) size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub(crate) mtime_ns: u128,
    /// Adler-32 of the first and last MiB: a cheap first look. Every confirmed block is also
    /// checked against its own Adler-32 before a resumed upload finishes.
    pub(crate) edge_checksum: u32,
}

/// Where the upload goes, and as whom; a journal for another target must not be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Target {
    pub(crate) file_name: String,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
    pub(crate) extra: Option<String>,
    /// The app whose token uploads (an upload id belongs to it), when the token source says.
    pub(crate) app: Option<String>,
}

/// Which flow the journal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Chunked,
    UploadAll,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    version: u32,
    mode: Mode,
    /// Empty for `upload_all`.
    upload_id: String,
    block_size: u64,
    block_num: u64,
    /// When upload_prepare returned the id, seconds since the Unix epoch.
    prepared_at: u64,
    file: FileIdentity,
    target: Target,
    /// Confirmed blocks and the Adler-32 of the bytes that were sent.
    confirmed: BTreeMap<u64, u32>,
    /// When `upload_finish` (or `upload_all`) was first sent: from then on the media may exist.
    finish_sent_at: Option<u64>,
}

/// A journal file and its contents.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    record: Record,
}

/// What a journal on disk means for this run.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// No journal.
    None,
    /// A journal of this upload: continue it.
    Resume(Box<Journal>),
    /// A journal that cannot be continued (expired, or the file changed): start afresh.
    Discard {
        /// Why.
        reason: String,
        /// Whether the discarded upload had sent its finish: its media may exist.
        finish_sent: bool,
    },
}

/// The exclusive lock on a journal, held for the whole upload.
#[derive(Debug)]
pub(crate) struct JournalLock {
    path: PathBuf,
    file: std::fs::File,
}

impl JournalLock {
    /// Locks `<journal>.lock`, or fails at once with [`UploadError::JournalLocked`].
    pub(crate) fn acquire(journal: &Path) -> Result<Self, UploadError> {
        let mut name = journal.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| UploadError::Journal {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { path, file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(UploadError::JournalLocked {
                path: journal.to_owned(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(UploadError::Journal { path, source }),
        }
    }

    /// The upload is over: unlock, and remove the lock file.
    pub(crate) fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

impl Journal {
    /// Reads the journal at `path`. Checks, in order: it parses (else
    /// [`UploadError::JournalCorrupt`]), it is for this target (else
    /// [`UploadError::JournalMismatch`]), its upload id has not expired, the file is the one it
    /// describes — the last two discard it rather than fail.
    pub(crate) fn load(
        path: &Path,
        mode: Mode,
        identity: &FileIdentity,
        target: &Target,
    ) -> Result<Loaded, UploadError> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::None),
            Err(source) => {
                return Err(UploadError::Journal {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| UploadError::JournalCorrupt {
            path: path.to_owned(),
            reason,
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            return Err(corrupt("it is empty".to_owned()));
        }
        let record: Record = match serde_json::from_slice::<serde_json::Value>(&text) {
            Err(e) => return Err(corrupt(format!("it is not JSON ({e})"))),
            Ok(value) => {
                let version = value.get("version").and_then(serde_json::Value::as_u64);
                if version != Some(u64::from(FORMAT_VERSION)) {
                    return Err(corrupt(format!(
                        "journal format {} (this version reads {FORMAT_VERSION})",
                        version.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
                    )));
                }
                serde_json::from_value(value)
                    .map_err(|e| corrupt(format!("a field is missing or wrong ({e})")))?
            }
        };
        if &record.target != target {
            return Err(UploadError::JournalMismatch {
                path: path.to_owned(),
                reason: format!(
                    "it is for {:?} in {} {} (extra {:?}, app {:?}), not this upload",
                    record.target.file_name,
                    record.target.parent_type,
                    record.target.parent_node,
                    record.target.extra,
                    record.target.app
                ),
            });
        }
        let finish_sent = record.finish_sent_at.is_some();
        let age = now_secs().saturating_sub(record.prepared_at);
        if age >= crate::limits::UPLOAD_ID_TTL.as_secs() {
            return Ok(Loaded::Discard {
                reason: format!("the journal's upload id expired ({age} s old)"),
                finish_sent,
            });
        }
        if &record.file != identity {
            return Ok(Loaded::Discard {
                reason: format!(
                    "the file changed since the journal was written ({})",
                    describe_change(&record.file, identity)
                ),
                finish_sent,
            });
        }
        if record.mode != mode {
            return Ok(Loaded::Discard {
                reason: "the journal is for the other upload flow".to_owned(),
                finish_sent,
            });
        }
        if mode == Mode::UploadAll {
            return Ok(Loaded::Discard {
                reason: "an earlier upload_all got no answer".to_owned(),
                finish_sent,
            });
        }
        let layout = Layout::new(record.file.size, record.block_size, record.block_num)
            .map_err(|e| corrupt(format!("its block layout is inconsistent ({e})")))?;
        if record.confirmed.keys().any(|&seq| seq >= layout.block_num) {
            return Err(corrupt("it confirms a block past the last one".to_owned()));
        }
        Ok(Loaded::Resume(Box::new(Self {
            path: path.to_owned(),
            record,
        })))
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

    /// The confirmed blocks and their Adler-32.
    pub(crate) fn confirmed(&self) -> &BTreeMap<u64, u32> {
        &self.record.confirmed
    }

    /// Whether a finish of this upload id was sent by an earlier run.
    pub(crate) fn finish_sent(&self) -> bool {
        self.record.finish_sent_at.is_some()
    }

    /// A journal for an upload id upload_prepare just returned (or, with an empty id, for an
    /// `upload_all` about to be sent), written at once.
    pub(crate) fn create(
        path: &Path,
        mode: Mode,
        upload_id: &str,
        layout: Layout,
        file: FileIdentity,
        target: Target,
    ) -> Result<Self, UploadError> {
        let journal = Self {
            path: path.to_owned(),
            record: Record {
                version: FORMAT_VERSION,
                mode,
                upload_id: upload_id.to_owned(),
                block_size: layout.block_size,
                block_num: layout.block_num,
                prepared_at: now_secs(),
                file,
                target,
                confirmed: BTreeMap::new(),
                finish_sent_at: None,
            },
        };
        journal.persist()?;
        Ok(journal)
    }

    /// Records a confirmed block and the Adler-32 of what was sent.
    pub(crate) fn confirm(&mut self, seq: u64, adler: u32) -> Result<(), UploadError> {
        if self.record.confirmed.insert(seq, adler) == Some(adler) {
            return Ok(());
        }
        self.persist()
    }

    /// Forgets confirmed blocks: all of them (the server lost some and cannot say which), or
    /// those whose bytes on disk no longer match.
    pub(crate) fn forget(&mut self, seqs: Option<&[u64]>) -> Result<(), UploadError> {
        match seqs {
            None => self.record.confirmed.clear(),
            Some(seqs) => {
                for seq in seqs {
                    self.record.confirmed.remove(seq);
                }
            }
        }
        self.persist()
    }

    /// Records, durably, that the finish (or `upload_all`) is about to be sent.
    pub(crate) fn mark_finish_sent(&mut self) -> Result<(), UploadError> {
        if self.record.finish_sent_at.is_none() {
            self.record.finish_sent_at = Some(now_secs());
            self.persist()?;
        }
        Ok(())
    }

    /// The upload finished (or its id expired): the journal has nothing left to resume.
    pub(crate) fn remove(self) -> Result<(), UploadError> {
        remove(&self.path)
    }

    fn persist(&self) -> Result<(), UploadError> {
        let fail = |source: std::io::Error| UploadError::Journal {
            path: self.path.clone(),
            source,
        };
        let dir = parent_dir(&self.path);
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        serde_json::to_writer(&mut temp, &self.record).map_err(|e| fail(std::io::Error::other(e)))?;
        temp.as_file().sync_all().map_err(fail)?;
        temp.persist(&self.path).map_err(|e| fail(e.error))?;
        sync_dir(dir).map_err(fail)
    }
}

/// Removes a journal file, durably.
pub(crate) fn remove(path: &Path) -> Result<(), UploadError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(parent_dir(path)).map_err(|source| UploadError::Journal {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(UploadError::Journal {
            path: path.to_owned(),
            source,
        }),
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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
