//! The resume journal: enough to continue an upload in a later process, and to know whether an
//! earlier run may already have created the media.
//!
//! It records the file's identity and the upload's target (written once), and a snapshot of the
//! transaction (`transaction.rs`, which owns it): the upload id, the block layout, the blocks the
//! server has confirmed with each block's Adler-32, and whether a finish (or the `upload_all`)
//! was sent. The journal keeps no copy of the transaction; each rewrite writes the snapshot it
//! is handed. It
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
//! pending confirmations are written when the transaction is dropped (an error, a cancellation).
//! So a process killed at any moment has lost at most `JOURNAL_BATCH_BLOCKS - 1` confirmations:
//! the next run sends those blocks again, which is safe because a part re-sent with the same
//! `seq` replaces the stored one. The journal never claims a block the server did not confirm.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::UploadError;
use super::family::Target;
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

/// Which flow the journal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Chunked,
    UploadAll,
}

/// What the journal holds of one upload beyond the transaction: written once, when it is made.
#[derive(Debug, Clone)]
struct Header {
    mode: Mode,
    /// When upload_prepare returned the id, seconds since the Unix epoch.
    prepared_at: u64,
    file: FileIdentity,
    target: Target,
}

/// A snapshot of a transaction, as the journal writes it: the transaction owns these values
/// (`transaction.rs`); the journal only borrows them for each rewrite and keeps no copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot<'a> {
    /// Empty for `upload_all`.
    pub(crate) upload_id: &'a str,
    pub(crate) layout: Layout,
    /// Confirmed blocks and the Adler-32 of the bytes that were sent.
    pub(crate) confirmed: &'a BTreeMap<u64, u32>,
    /// When `upload_finish` (or `upload_all`) was first sent: from then on the media may exist.
    pub(crate) finish_sent_at: Option<u64>,
}

/// The journal on disk, as written: the header and a snapshot.
#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    mode: Mode,
    upload_id: &'a str,
    block_size: u64,
    block_num: u64,
    prepared_at: u64,
    file: &'a FileIdentity,
    target: &'a Target,
    confirmed: &'a BTreeMap<u64, u32>,
    finish_sent_at: Option<u64>,
}

/// The journal on disk, as read back.
#[derive(Debug, Deserialize)]
struct Record {
    mode: Mode,
    upload_id: String,
    block_size: u64,
    block_num: u64,
    prepared_at: u64,
    file: FileIdentity,
    target: Target,
    confirmed: BTreeMap<u64, u32>,
    finish_sent_at: Option<u64>,
}

/// The transaction a journal describes, handed to the transaction that resumes it.
#[derive(Debug)]
pub(crate) struct Saved {
    pub(crate) upload_id: String,
    pub(crate) layout: Layout,
    pub(crate) confirmed: BTreeMap<u64, u32>,
    pub(crate) finish_sent_at: Option<u64>,
}

/// A journal file: where it is, what it was made for, and how much of the transaction it has
/// not written yet.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    header: Header,
    /// Confirmations of the transaction not yet written to disk.
    unsaved: u64,
    /// When the journal was last written.
    saved_at: Instant,
}

/// What a journal on disk means for this run.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// No journal.
    None,
    /// A journal of this upload: continue its transaction.
    Resume(Box<(Journal, Saved)>),
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
        let Some(record) = read_record(path)? else {
            return Ok(Loaded::None);
        };
        let header = Header {
            mode: record.mode,
            prepared_at: record.prepared_at,
            file: record.file,
            target: record.target,
        };
        if &header.target != target {
            return Err(UploadError::JournalMismatch {
                path: path.to_owned(),
                reason: format!(
                    "it is for {:?} in {} {} (extra {:?}, app {:?}), not this upload",
                    header.target.file_name,
                    header.target.parent_type,
                    header.target.parent_node,
                    header.target.extra,
                    header.target.app
                ),
            });
        }
        if let Some(reason) = why_not_resumable(&header, mode, identity) {
            return Ok(Loaded::Discard {
                reason,
                finish_sent: record.finish_sent_at.is_some(),
            });
        }
        let layout = Layout::new(header.file.size, record.block_size, record.block_num)
            .map_err(|e| corrupt(path, format!("its block layout is inconsistent ({e})")))?;
        if record.confirmed.keys().any(|&seq| seq >= layout.block_num) {
            return Err(corrupt(path, "it confirms a block past the last one".to_owned()));
        }
        let saved = Saved {
            upload_id: record.upload_id,
            layout,
            confirmed: record.confirmed,
            finish_sent_at: record.finish_sent_at,
        };
        let journal = Self {
            path: path.to_owned(),
            header,
            unsaved: 0,
            saved_at: Instant::now(),
        };
        Ok(Loaded::Resume(Box::new((journal, saved))))
    }

    /// A journal for an upload id upload_prepare just returned (or, with an empty id, for an
    /// `upload_all` about to be sent), with the transaction's first snapshot, written at once.
    pub(crate) fn create(
        path: &Path,
        mode: Mode,
        file: FileIdentity,
        target: Target,
        snapshot: &Snapshot<'_>,
    ) -> Result<Self, UploadError> {
        let mut journal = Self {
            path: path.to_owned(),
            header: Header {
                mode,
                prepared_at: now_secs(),
                file,
                target,
            },
            unsaved: 0,
            saved_at: Instant::now(),
        };
        journal.save(snapshot)?;
        Ok(journal)
    }

    /// A block was confirmed (it is in `snapshot`): the snapshot is written with the batch the
    /// confirmation completes (see the module's documentation for the bound).
    pub(crate) fn confirmed(&mut self, snapshot: &Snapshot<'_>) -> Result<(), UploadError> {
        self.unsaved += 1;
        if self.unsaved >= JOURNAL_BATCH_BLOCKS || self.saved_at.elapsed() >= JOURNAL_BATCH_INTERVAL {
            self.save(snapshot)?;
        }
        Ok(())
    }

    /// Whether confirmations wait to be written.
    pub(crate) fn has_unsaved(&self) -> bool {
        self.unsaved > 0
    }

    /// Writes pending confirmations now, if there are any.
    pub(crate) fn flush(&mut self, snapshot: &Snapshot<'_>) -> Result<(), UploadError> {
        if self.has_unsaved() {
            self.save(snapshot)?;
        }
        Ok(())
    }

    /// Rewrites the journal durably with `snapshot`: a change the next run must see (forgotten
    /// blocks, a finish about to be sent), pending confirmations included.
    pub(crate) fn save(&mut self, snapshot: &Snapshot<'_>) -> Result<(), UploadError> {
        self.write(snapshot)?;
        self.unsaved = 0;
        self.saved_at = Instant::now();
        Ok(())
    }

    /// The upload finished (or its id expired): the journal has nothing left to resume.
    pub(crate) fn remove(self) -> Result<(), UploadError> {
        remove(&self.path)
    }

    fn write(&self, snapshot: &Snapshot<'_>) -> Result<(), UploadError> {
        let fail = |source: std::io::Error| UploadError::Journal {
            path: self.path.clone(),
            source,
        };
        let written = Written {
            version: FORMAT_VERSION,
            mode: self.header.mode,
            upload_id: snapshot.upload_id,
            block_size: snapshot.layout.block_size,
            block_num: snapshot.layout.block_num,
            prepared_at: self.header.prepared_at,
            file: &self.header.file,
            target: &self.header.target,
            confirmed: snapshot.confirmed,
            finish_sent_at: snapshot.finish_sent_at,
        };
        let dir = parent_dir(&self.path);
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        serde_json::to_writer(&mut temp, &written).map_err(|e| fail(std::io::Error::other(e)))?;
        temp.as_file().sync_all().map_err(fail)?;
        temp.persist(&self.path).map_err(|e| fail(e.error))?;
        sync_dir(dir).map_err(fail)
    }
}

fn corrupt(path: &Path, reason: String) -> UploadError {
    UploadError::JournalCorrupt {
        path: path.to_owned(),
        reason,
    }
}

/// The journal at `path`, parsed; `None` when there is none.
fn read_record(path: &Path) -> Result<Option<Record>, UploadError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(UploadError::Journal {
                path: path.to_owned(),
                source,
            });
        }
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(corrupt(path, "it is empty".to_owned()));
    }
    let value = serde_json::from_slice::<serde_json::Value>(&text)
        .map_err(|e| corrupt(path, format!("it is not JSON ({e})")))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(corrupt(
            path,
            format!(
                "journal format {} (this version reads {FORMAT_VERSION})",
                version.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
            ),
        ));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| corrupt(path, format!("a field is missing or wrong ({e})")))
}

/// Why a journal for this target cannot be continued by this run, if it cannot: its upload id
/// expired, the file changed, it is for the other flow, or it recorded an `upload_all`.
fn why_not_resumable(header: &Header, mode: Mode, identity: &FileIdentity) -> Option<String> {
    let age = now_secs().saturating_sub(header.prepared_at);
    if age >= crate::limits::UPLOAD_ID_LIFETIME.as_secs() {
        return Some(format!("the journal's upload id expired ({age} s old)"));
    }
    if &header.file != identity {
        return Some(format!(
            "the file changed since the journal was written ({})",
            describe_change(&header.file, identity)
        ));
    }
    if header.mode != mode {
        return Some("the journal is for the other upload flow".to_owned());
    }
    (mode == Mode::UploadAll).then(|| "an earlier upload_all got no answer".to_owned())
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

    fn layout(blocks: u64) -> Layout {
        Layout::new(blocks * 10, 10, blocks).expect("a layout")
    }

    fn target() -> Target {
        Target {
            family: crate::upload::Family::Media,
            version_of: None,
            file_name: "f.bin".to_owned(),
            parent_type: "docx_file".to_owned(),
            parent_node: "doxcn1".to_owned(),
            extra: None,
            app: None,
        }
    }

    fn snapshot(confirmed: &BTreeMap<u64, u32>) -> Snapshot<'_> {
        Snapshot {
            upload_id: "u-1",
            layout: layout(40),
            confirmed,
            finish_sent_at: None,
        }
    }

    fn journal(dir: &Path) -> Journal {
        let identity = FileIdentity {
            size: layout(40).size,
            mtime_ns: 1,
            edge_checksum: 2,
        };
        let empty = BTreeMap::new();
        Journal::create(
            &dir.join("f.journal"),
            Mode::Chunked,
            identity,
            target(),
            &snapshot(&empty),
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
        let mut journal = journal(dir.path());
        let mut confirmed = BTreeMap::new();
        assert_eq!(on_disk(dir.path()), 0, "written when created");
        for seq in 0..JOURNAL_BATCH_BLOCKS - 1 {
            confirmed.insert(seq, 7);
            journal.confirmed(&snapshot(&confirmed)).expect("confirm");
        }
        assert_eq!(on_disk(dir.path()), 0, "a batch is pending");
        confirmed.insert(JOURNAL_BATCH_BLOCKS - 1, 7);
        journal.confirmed(&snapshot(&confirmed)).expect("confirm");
        assert_eq!(
            on_disk(dir.path()) as u64,
            JOURNAL_BATCH_BLOCKS,
            "the full batch is written"
        );
        assert!(!journal.has_unsaved());
    }

    #[test]
    fn a_confirmation_long_after_the_last_write_is_written_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path());
        let mut confirmed = BTreeMap::from([(0, 7)]);
        journal.confirmed(&snapshot(&confirmed)).expect("confirm");
        assert_eq!(on_disk(dir.path()), 0);
        journal.saved_at = Instant::now()
            .checked_sub(JOURNAL_BATCH_INTERVAL)
            .expect("the clock is past the interval");
        confirmed.insert(1, 7);
        journal.confirmed(&snapshot(&confirmed)).expect("confirm");
        assert_eq!(on_disk(dir.path()), 2, "both pending confirmations written");
    }

    #[test]
    fn a_journal_reads_back_the_snapshot_it_wrote() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = journal(dir.path());
        let confirmed = BTreeMap::from([(0, 7), (3, 9)]);
        let mut sent = snapshot(&confirmed);
        sent.finish_sent_at = Some(now_secs());
        journal.save(&sent).expect("saved");
        let identity = journal.header.file.clone();
        let Loaded::Resume(resumed) =
            Journal::load(&dir.path().join("f.journal"), Mode::Chunked, &identity, &target())
                .expect("loaded")
        else {
            panic!("a journal of this upload resumes");
        };
        let (_, saved) = *resumed;
        assert_eq!(saved.upload_id, "u-1");
        assert_eq!(saved.layout, layout(40));
        assert_eq!(saved.confirmed, confirmed);
        assert_eq!(saved.finish_sent_at, sent.finish_sent_at);
    }
}
