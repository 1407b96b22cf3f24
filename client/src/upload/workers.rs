//! One upload id's transaction — the blocks the server confirmed, mirrored into the journal —
//! and the workers that send its blocks.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};

use super::flow::Upload;
use super::journal::Journal;
use super::source::{Block, FileBlocks, Layout, StreamBlocks};
use super::{ProgressEvent, UploadError};

/// Where the next block comes from.
pub(super) enum Blocks<'a> {
    File(&'a FileBlocks),
    Stream(&'a StreamBlocks),
}

impl Blocks<'_> {
    /// The next block; a file source reads it into `spare` when it can.
    async fn next(&self, spare: Option<BytesMut>) -> Result<Option<Block>, UploadError> {
        match self {
            Blocks::File(blocks) => blocks.next_block(spare).await,
            Blocks::Stream(blocks) => blocks.next_block().await,
        }
    }
}

/// One upload id and the blocks the server has confirmed for it, mirrored into the journal.
pub(super) struct Transaction {
    pub(super) upload_id: String,
    pub(super) layout: Layout,
    /// A finish of this id may have been handled without its answer arriving (an ambiguous
    /// attempt in this run, or a finish an earlier run sent): a 1061021 then means "finished".
    pub(super) finish_maybe_delivered: std::sync::atomic::AtomicBool,
    state: std::sync::Mutex<Confirmed>,
}

struct Confirmed {
    /// Confirmed blocks and the Adler-32 of the bytes sent.
    blocks: BTreeMap<u64, u32>,
    journal: Option<Journal>,
}

impl Transaction {
    pub(super) fn new(upload_id: String, layout: Layout, journal: Option<Journal>) -> Self {
        Self::with_state(upload_id, layout, BTreeMap::new(), journal, false)
    }

    pub(super) fn resumed(journal: Journal) -> Self {
        let (upload_id, layout) = (journal.upload_id().to_owned(), journal.layout());
        let blocks = journal.confirmed().clone();
        let finish_sent = journal.finish_sent();
        Self::with_state(upload_id, layout, blocks, Some(journal), finish_sent)
    }

    fn with_state(
        upload_id: String,
        layout: Layout,
        blocks: BTreeMap<u64, u32>,
        journal: Option<Journal>,
        finish_sent: bool,
    ) -> Self {
        Self {
            upload_id,
            layout,
            finish_maybe_delivered: std::sync::atomic::AtomicBool::new(finish_sent),
            state: std::sync::Mutex::new(Confirmed { blocks, journal }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Confirmed> {
        // Each change is one insert or clear, so a panic elsewhere cannot leave it half-done.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn pending(&self) -> Vec<u64> {
        let state = self.lock();
        (0..self.layout.block_num)
            .filter(|seq| !state.blocks.contains_key(seq))
            .collect()
    }

    pub(super) fn confirmed(&self) -> Vec<(u64, u32)> {
        self.lock()
            .blocks
            .iter()
            .map(|(&seq, &adler)| (seq, adler))
            .collect()
    }

    pub(super) fn confirmed_blocks(&self) -> u64 {
        self.lock().blocks.len() as u64
    }

    pub(super) fn confirmed_totals(&self) -> (u64, u64) {
        let state = self.lock();
        (
            state.blocks.keys().map(|&seq| self.layout.len(seq)).sum(),
            state.blocks.len() as u64,
        )
    }

    /// Records a confirmed block; returns the confirmed bytes and blocks so far.
    fn confirm(&self, seq: u64, adler: u32) -> Result<(u64, u64), UploadError> {
        let mut state = self.lock();
        state.blocks.insert(seq, adler);
        if let Some(journal) = state.journal.as_mut() {
            journal.confirm(seq, adler)?;
        }
        drop(state);
        Ok(self.confirmed_totals())
    }

    /// Forgets confirmed blocks: `None` all of them, else those listed.
    pub(super) fn forget(&self, seqs: Option<&[u64]>) -> Result<(), UploadError> {
        let mut state = self.lock();
        match seqs {
            None => state.blocks.clear(),
            Some(seqs) => {
                for seq in seqs {
                    state.blocks.remove(seq);
                }
            }
        }
        match state.journal.as_mut() {
            Some(journal) => journal.forget(seqs),
            None => Ok(()),
        }
    }

    /// Records, in the journal first, that the finish is about to be sent.
    pub(super) fn mark_finish_sent(&self) -> Result<(), UploadError> {
        match self.lock().journal.as_mut() {
            Some(journal) => journal.mark_finish_sent(),
            None => Ok(()),
        }
    }

    /// The transaction is over (finished, or its id expired): its journal goes.
    pub(super) fn close(self) -> Result<(), UploadError> {
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match state.journal {
            Some(journal) => journal.remove(),
            None => Ok(()),
        }
    }
}

impl Upload<'_> {
    /// Sends every block `blocks` hands out, `concurrency` at a time; the first permanent error
    /// stops the others. Returns the number of blocks sent.
    pub(super) async fn send_blocks(&self, tx: &Transaction, blocks: Blocks<'_>) -> Result<u64, UploadError> {
        let (confirmed_bytes, confirmed_blocks) = tx.confirmed_totals();
        self.emit(ProgressEvent::Started {
            upload_id: Some(tx.upload_id.clone()),
            total_bytes: tx.layout.size,
            total_blocks: tx.layout.block_num,
            resumed_bytes: confirmed_bytes,
            resumed_blocks: confirmed_blocks,
        });
        let workers = (0..self.uploader.concurrency).map(|_| self.worker(tx, &blocks));
        let sent = futures::future::try_join_all(workers).await?;
        Ok(sent.into_iter().sum())
    }

    /// Sends blocks until none is left. Each worker reads its next block while the current one
    /// is on the wire, so the link never waits for the disk; memory holds at most two blocks per
    /// worker, and the buffer of a sent block is reused for the read after next.
    async fn worker(&self, tx: &Transaction, blocks: &Blocks<'_>) -> Result<u64, UploadError> {
        let mut sent = 0;
        let mut spare = None;
        let mut current = blocks.next(None).await?;
        while let Some(Block { seq, bytes, adler32 }) = current {
            let (result, next) = tokio::join!(
                self.send_part(tx, seq, &bytes, adler32),
                blocks.next(spare.take())
            );
            result?;
            sent += 1;
            let (confirmed_bytes, confirmed_blocks) = tx.confirm(seq, adler32)?;
            self.emit(ProgressEvent::BlockConfirmed {
                seq,
                bytes: bytes.len() as u64,
                confirmed_bytes,
                confirmed_blocks,
            });
            current = next?;
            // The request is gone, so this is the only handle left and the buffer can be reused.
            spare = bytes.try_into_mut().ok();
        }
        Ok(sent)
    }

    async fn send_part(
        &self,
        tx: &Transaction,
        seq: u64,
        bytes: &Bytes,
        adler: u32,
    ) -> Result<(), UploadError> {
        let client = &self.uploader.client;
        let checksum = adler.to_string();
        let family = self.target.family;
        self.caller()
            .call(family.upload_part(), || {
                super::family::part(
                    client,
                    family,
                    tx.upload_id.as_str(),
                    seq,
                    bytes.clone(),
                    &checksum,
                )
            })
            .await
    }
}
