//! The resume journal: enough to continue an upload in a later process, and to know whether an
//! earlier run may already have created the media.
//!
//! It records the upload id, the block layout, the file's identity, the blocks the server has
//! confirmed with each block's Adler-32, and whether a finish (or the `upload_all`) was sent. It
//! is rewritten atomically — a temp file, `fsync`, rename over the journal, `fsync` of the
//! directory — so a process killed (or a machine that loses power) at any moment leaves the old
//! or the new journal, never a torn one. A sidecar `<journal>.lock` file, locked exclusively for
//! the whole upload, keeps two runs from sharing one journal.
//!
//! Confirmed blocks are written in batches: a rewrite costs two `fsync`s (milliseconds), which on
//! a fast link is longer than a block takes to send, and every confirmation waits for it. The
//! journal is rewritten once [`JOURNAL_BATCH_BLOCKS`] confirmations are pending, or at the first
//! confirmation [`JOURNAL_BATCH_INTERVAL`] or more after the last rewrite, whichever comes
//! first; every other change (creation, forgotten blocks, "finish sent") is written at once, and
//! pending confirmations are written when the journal is dropped (an error, a cancellation).
//! So a process killed at any moment has lost at most `JOURNAL_BATCH_BLOCKS - 1` confirmations:
//! the next run sends those blocks again, which is safe because a part re-sent with the same
//! `seq` replaces the stored one. The journal never claims a block the server did not confirm.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::UploadError;
use super::source::Layout;

const FORMAT_VERSION: u32 = 2;

/// The journal is rewritten at least every this many confirmed blocks: a process killed at any
/// moment has journaled all but at most `JOURNAL_BATCH_BLOCKS - 1` of the blocks the server
/// confirmed (the next run sends those again; a re-sent part replaces the stored one).
pub const JOURNAL_BATCH_BLOCKS: u64 = 8;

/// A confirmation that arrives this long or longer after the journal's last rewrite is written at
/// once, with any still pending: on a slow link every block is journaled as it is confirmed, and
/// at Feishu's 5 requests per second about 5 blocks (one second of sending) can be lost to a kill.
pub const JOURNAL_BATCH_INTERVAL: Duration = Duration::from_secs(1);

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
    /// Which family's endpoints; journals written before the files family are media ones.
    #[serde(default)]
    pub(crate) family: super::Family,
    /// The Drive file this upload makes a new version of (files family only).
    #[serde(default)]
    pub(crate) version_of: Option<String>,
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
    /// Confirmations in `record` not yet written to disk.
    unsaved: u64,
    /// When the journal was last written.
    saved_at: Instant,
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
        if age >= crate::limits::UPLOAD_ID_LIFETIME.as_secs() {
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
            unsaved: 0,
            saved_at: Instant::now(),
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
        let mut journal = Self {
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
            unsaved: 0,
            saved_at: Instant::now(),
        };
        journal.persist_at_once()?;
        Ok(journal)
    }

    /// Records a confirmed block and the Adler-32 of what was sent; written to disk with the
    /// batch it completes (see the module's documentation for the bound).
    pub(crate) fn confirm(&mut self, seq: u64, adler: u32) -> Result<(), UploadError> {
        if self.record.confirmed.insert(seq, adler) == Some(adler) {
            return Ok(());
        }
        self.unsaved += 1;
        if self.unsaved >= JOURNAL_BATCH_BLOCKS || self.saved_at.elapsed() >= JOURNAL_BATCH_INTERVAL {
            self.persist_at_once()?;
        }
        Ok(())
    }

    /// Writes pending confirmations now, if there are any.
    pub(crate) fn flush(&mut self) -> Result<(), UploadError> {
        if self.unsaved > 0 {
            self.persist_at_once()?;
        }
        Ok(())
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
        // At once, not batched: a journal that still trusted these blocks would make the next run
        // skip them (it re-checks their bytes, but cannot know the server lost them).
        self.persist_at_once()
    }

    /// Records, durably, that the finish (or `upload_all`) is about to be sent; pending
    /// confirmations are written with it.
    pub(crate) fn mark_finish_sent(&mut self) -> Result<(), UploadError> {
        if self.record.finish_sent_at.is_none() {
            self.record.finish_sent_at = Some(now_secs());
            self.persist_at_once()?;
        }
        self.flush()
    }

    /// The upload finished (or its id expired): the journal has nothing left to resume.
    pub(crate) fn remove(mut self) -> Result<(), UploadError> {
        // Nothing is left to write: dropping `self` must not bring the file back.
        self.unsaved = 0;
        remove(&self.path)
    }

    /// Rewrites the journal durably, pending confirmations included.
    fn persist_at_once(&mut self) -> Result<(), UploadError> {
        self.persist()?;
        self.unsaved = 0;
        self.saved_at = Instant::now();
        Ok(())
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

impl Drop for Journal {
    /// An upload that ends any other way than finishing (an error, a cancellation that drops its
    /// future) keeps its journal: pending confirmations are written, so the next run re-sends only
    /// the blocks that were in flight.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(
                "writing the journal's last {} confirmations failed ({e}); the next run sends those blocks again",
                self.unsaved
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(dir: &Path, blocks: u64) -> Journal {
        let layout = Layout::new(blocks * 10, 10, blocks).expect("a layout");
        let identity = FileIdentity {
            size: layout.size,
            mtime_ns: 1,
            edge_checksum: 2,
        };
        let target = Target {
            family: crate::upload::Family::Media,
            version_of: None,
            file_name: "f.bin".to_owned(),
            parent_type: "docx_file".to_owned(),
            parent_node: "doxcn1".to_owned(),
            extra: None,
            app: None,
        };
        Journal::create(
            &dir.join("f.journal"),
            Mode::Chunked,
            "u-1",
            layout,
            identity,
            target,
        )
        .expect("created")
    }

    /// What a process killed now would leave: the confirmed blocks on disk.
    fn on_disk(dir: &Path) -> usize {
        let text = std::fs::read(dir.join("f.journal")).expect("the journal exists");
        let record: Record = serde_json::from_slice(&text).expect("a whole journal");
        record.confirmed.len()
    }

    #[test]
    fn confirmations_are_written_in_batches_of_the_documented_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path(), 40);
        assert_eq!(on_disk(dir.path()), 0, "written when created");
        for seq in 0..JOURNAL_BATCH_BLOCKS - 1 {
            journal.confirm(seq, 7).expect("confirm");
        }
        assert_eq!(on_disk(dir.path()), 0, "a batch is pending");
        journal.confirm(JOURNAL_BATCH_BLOCKS - 1, 7).expect("confirm");
        assert_eq!(
            on_disk(dir.path()) as u64,
            JOURNAL_BATCH_BLOCKS,
            "the full batch is written"
        );
        // The same block confirmed again with the same checksum changes nothing.
        journal.confirm(0, 7).expect("confirm");
        assert_eq!(journal.unsaved, 0);
    }

    #[test]
    fn a_confirmation_long_after_the_last_write_is_written_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path(), 40);
        journal.confirm(0, 7).expect("confirm");
        assert_eq!(on_disk(dir.path()), 0);
        journal.saved_at = Instant::now()
            .checked_sub(JOURNAL_BATCH_INTERVAL)
            .expect("the clock is past the interval");
        journal.confirm(1, 7).expect("confirm");
        assert_eq!(on_disk(dir.path()), 2, "both pending confirmations written");
    }

    #[test]
    fn finish_sent_forget_and_drop_write_what_is_pending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path(), 40);
        journal.confirm(0, 7).expect("confirm");
        journal.mark_finish_sent().expect("finish sent");
        assert_eq!(on_disk(dir.path()), 1, "with the finish");

        journal.confirm(1, 7).expect("confirm");
        journal.confirm(2, 7).expect("confirm");
        journal.forget(Some(&[0])).expect("forget");
        assert_eq!(on_disk(dir.path()), 2, "forgetting is written at once");

        journal.confirm(3, 7).expect("confirm");
        drop(journal);
        assert_eq!(
            on_disk(dir.path()),
            3,
            "an upload that stops keeps its confirmations"
        );
    }

    #[test]
    fn a_removed_journal_stays_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path(), 40);
        journal.confirm(0, 7).expect("confirm");
        journal.remove().expect("removed");
        assert!(
            !dir.path().join("f.journal").exists(),
            "dropping a removed journal must not write it again"
        );
    }
}
