//! The workers that send a transaction's blocks, `concurrency` at a time, each reading its next
//! block while the current one is on the wire.

use bytes::{Bytes, BytesMut};

use super::family::{self, Family};
use super::retry::Caller;
use super::source::{Block, FileBlocks, StreamBlocks};
use super::transaction::Transaction;
use super::{ProgressEvent, UploadError};
use crate::Client;

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

/// What the workers of one upload share: where the parts go and how they are sent.
pub(super) struct Sender<'a> {
    pub(super) client: &'a Client,
    pub(super) family: Family,
    /// Blocks read and sent at once.
    pub(super) concurrency: usize,
    pub(super) caller: Caller<'a>,
}

impl Sender<'_> {
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
        let workers = (0..self.concurrency).map(|_| self.worker(tx, &blocks));
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
        let checksum = adler.to_string();
        self.caller
            .call(self.family.upload_part(), || {
                family::part(
                    self.client,
                    self.family,
                    tx.upload_id.as_str(),
                    seq,
                    bytes.clone(),
                    &checksum,
                )
            })
            .await
    }

    fn emit(&self, event: ProgressEvent) {
        if let Some(progress) = self.caller.progress {
            progress(&event);
        }
    }
}
