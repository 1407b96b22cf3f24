//! One upload id's transaction: the one owner of the upload id, its block layout, the blocks the
//! server confirmed and when the finish was sent. With a journal, every change is handed to it as
//! a [`Snapshot`] (batched for confirmations, at once for the rest); the journal keeps no copy,
//! so there is one truth about what the server has, and the journal's file is a picture of it.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::UploadError;
use super::journal::{Journal, Saved, Snapshot, now_secs};
use super::source::Layout;

/// One upload id and what the server has confirmed for it.
pub(crate) struct Transaction {
    pub(crate) upload_id: String,
    pub(crate) layout: Layout,
    /// A finish of this id may have been handled without its answer arriving (an ambiguous
    /// attempt in this run, or a finish an earlier run sent): a 1061021 then means "finished".
    pub(crate) finish_maybe_delivered: AtomicBool,
    state: Mutex<State>,
}

/// What changes while blocks are sent, and the journal that pictures it (under one lock, so the
/// journal is written in the order the changes happened).
struct State {
    progress: Progress,
    journal: Option<Journal>,
}

struct Progress {
    /// Confirmed blocks and the Adler-32 of the bytes sent.
    confirmed: BTreeMap<u64, u32>,
    /// When the finish was first sent (this run or an earlier one), seconds since the epoch.
    finish_sent_at: Option<u64>,
}

impl Progress {
    fn snapshot<'a>(&'a self, upload_id: &'a str, layout: Layout) -> Snapshot<'a> {
        Snapshot {
            upload_id,
            layout,
            confirmed: &self.confirmed,
            finish_sent_at: self.finish_sent_at,
        }
    }

    /// The confirmed bytes and blocks.
    fn totals(&self, layout: Layout) -> (u64, u64) {
        (
            self.confirmed.keys().map(|&seq| layout.len(seq)).sum(),
            self.confirmed.len() as u64,
        )
    }
}

impl Transaction {
    /// A transaction for an upload id upload_prepare just returned.
    pub(crate) fn new(upload_id: String, layout: Layout) -> Self {
        let saved = Saved {
            upload_id,
            layout,
            confirmed: BTreeMap::new(),
            finish_sent_at: None,
        };
        Self::from_saved(saved, None)
    }

    /// A transaction continued from what its journal saved.
    pub(crate) fn resumed(journal: Journal, saved: Saved) -> Self {
        Self::from_saved(saved, Some(journal))
    }

    fn from_saved(saved: Saved, journal: Option<Journal>) -> Self {
        let Saved {
            upload_id,
            layout,
            confirmed,
            finish_sent_at,
        } = saved;
        Self {
            upload_id,
            layout,
            finish_maybe_delivered: AtomicBool::new(finish_sent_at.is_some()),
            state: Mutex::new(State {
                progress: Progress {
                    confirmed,
                    finish_sent_at,
                },
                journal,
            }),
        }
    }

    /// Starts a journal of this transaction: `create` writes its first snapshot, and every
    /// change is handed to the journal from then on.
    pub(crate) fn journal_with(
        self,
        create: impl FnOnce(&Snapshot<'_>) -> Result<Journal, UploadError>,
    ) -> Result<Self, UploadError> {
        let journal = create(&self.lock().progress.snapshot(&self.upload_id, self.layout))?;
        self.lock().journal = Some(journal);
        Ok(self)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each change is one insert or clear, so a panic elsewhere cannot leave it half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn pending(&self) -> Vec<u64> {
        let state = self.lock();
        (0..self.layout.block_num)
            .filter(|seq| !state.progress.confirmed.contains_key(seq))
            .collect()
    }

    pub(crate) fn confirmed(&self) -> Vec<(u64, u32)> {
        let state = self.lock();
        state
            .progress
            .confirmed
            .iter()
            .map(|(&seq, &adler)| (seq, adler))
            .collect()
    }

    pub(crate) fn confirmed_blocks(&self) -> u64 {
        self.lock().progress.confirmed.len() as u64
    }

    /// The confirmed bytes and blocks so far.
    pub(crate) fn confirmed_totals(&self) -> (u64, u64) {
        self.lock().progress.totals(self.layout)
    }

    /// Records a confirmed block; returns the confirmed bytes and blocks so far.
    pub(crate) fn confirm(&self, seq: u64, adler: u32) -> Result<(u64, u64), UploadError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        // The same block confirmed again with the same checksum changes nothing to write.
        if state.progress.confirmed.insert(seq, adler) != Some(adler)
            && let Some(journal) = state.journal.as_mut()
        {
            journal.confirmed(&state.progress.snapshot(&self.upload_id, self.layout))?;
        }
        Ok(state.progress.totals(self.layout))
    }

    /// Forgets confirmed blocks: `None` all of them (the server lost some and cannot say which),
    /// else those listed (their bytes on disk changed).
    pub(crate) fn forget(&self, seqs: Option<&[u64]>) -> Result<(), UploadError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let confirmed = &mut state.progress.confirmed;
        match seqs {
            None => confirmed.clear(),
            Some(seqs) => {
                for seq in seqs {
                    confirmed.remove(seq);
                }
            }
        }
        // At once, not batched: a journal that still trusted these blocks would make the next run
        // skip them (it re-checks their bytes, but cannot know the server lost them).
        match state.journal.as_mut() {
            Some(journal) => journal.save(&state.progress.snapshot(&self.upload_id, self.layout)),
            None => Ok(()),
        }
    }

    /// Records, durably (in the journal first), that the finish is about to be sent; pending
    /// confirmations are written with it.
    pub(crate) fn mark_finish_sent(&self) -> Result<(), UploadError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let first = state.progress.finish_sent_at.is_none();
        if first {
            state.progress.finish_sent_at = Some(now_secs());
        }
        let Some(journal) = state.journal.as_mut() else {
            return Ok(());
        };
        let snapshot = state.progress.snapshot(&self.upload_id, self.layout);
        if first {
            journal.save(&snapshot)
        } else {
            journal.flush(&snapshot)
        }
    }

    /// Writes pending confirmations now (`benches/resume.rs` measures a write per block).
    pub(crate) fn flush(&self) -> Result<(), UploadError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        match state.journal.as_mut() {
            Some(journal) => journal.flush(&state.progress.snapshot(&self.upload_id, self.layout)),
            None => Ok(()),
        }
    }

    /// The transaction is over (finished, or its id expired): its journal goes.
    pub(crate) fn close(self) -> Result<(), UploadError> {
        // Taken out, so that dropping `self` does not write the journal again.
        let journal = self.lock().journal.take();
        match journal {
            Some(journal) => journal.remove(),
            None => Ok(()),
        }
    }
}

impl Drop for Transaction {
    /// A transaction that ends any other way than closing (an error, a cancellation that drops
    /// its future) keeps its journal: pending confirmations are written, so the next run re-sends
    /// only the blocks that were in flight.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Some(journal) = state.journal.as_mut() else {
            return;
        };
        if let Err(e) = journal.flush(&state.progress.snapshot(&self.upload_id, self.layout)) {
            tracing::warn!(
                "writing the journal's last confirmations failed ({e}); the next run sends those blocks again"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::upload::family::Target;
    use crate::upload::journal::{FileIdentity, Loaded, Mode};

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

    fn identity() -> FileIdentity {
        FileIdentity {
            size: 400,
            mtime_ns: 1,
            edge_checksum: 2,
        }
    }

    fn journaled(path: &Path) -> Transaction {
        let layout = Layout::new(400, 10, 40).expect("a layout");
        Transaction::new("u-1".to_owned(), layout)
            .journal_with(|snapshot| Journal::create(path, Mode::Chunked, identity(), target(), snapshot))
            .expect("journaled")
    }

    /// What the next run would resume from.
    fn saved(path: &Path) -> Saved {
        match Journal::load(path, Mode::Chunked, &identity(), &target()).expect("loaded") {
            Loaded::Resume(resumed) => resumed.1,
            other => panic!("expected a journal to resume, got {other:?}"),
        }
    }

    #[test]
    fn finish_sent_forget_and_drop_write_what_is_pending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.journal");
        let tx = journaled(&path);
        tx.confirm(0, 7).expect("confirm");
        tx.mark_finish_sent().expect("finish sent");
        let after_finish = saved(&path);
        assert_eq!(after_finish.confirmed.len(), 1, "with the finish");
        assert!(after_finish.finish_sent_at.is_some());

        tx.confirm(1, 7).expect("confirm");
        tx.confirm(2, 7).expect("confirm");
        tx.forget(Some(&[0])).expect("forget");
        assert_eq!(saved(&path).confirmed.len(), 2, "forgetting is written at once");

        tx.confirm(3, 7).expect("confirm");
        drop(tx);
        let resumed = Transaction::resumed(
            match Journal::load(&path, Mode::Chunked, &identity(), &target()).expect("loaded") {
                Loaded::Resume(resumed) => resumed.0,
                other => panic!("expected a journal to resume, got {other:?}"),
            },
            saved(&path),
        );
        assert_eq!(
            resumed.confirmed(),
            [(1, 7), (2, 7), (3, 7)],
            "an upload that stops keeps its confirmations"
        );
        assert_eq!(resumed.upload_id, "u-1");
        assert!(
            resumed
                .finish_maybe_delivered
                .load(std::sync::atomic::Ordering::Relaxed)
        );
    }

    #[test]
    fn a_closed_transaction_leaves_no_journal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.journal");
        let tx = journaled(&path);
        tx.confirm(0, 7).expect("confirm");
        tx.close().expect("closed");
        assert!(
            !path.exists(),
            "closing must not leave the journal, nor dropping write it again"
        );
    }
}
