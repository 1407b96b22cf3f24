//! One upload from start to finish: prepare → parts → finish (the one-shot `upload_all` is
//! `one_shot.rs`); restarts, resume, and the rules that keep an upload from being finished
//! twice without a word.
//!
//! Exactly-once where the protocol allows it: an upload id can be finished once, so re-sending
//! parts or a finish of the same id never makes a second media. What the protocol does not
//! allow is telling, after a finish or `upload_all` that got no answer, whether it was handled.
//! The journal records that a finish was sent before sending it; a later 1061021 ("expired")
//! for that id then most likely means "already finished", and the upload is made again with
//! [`UploadOutcome::possible_duplicate`] set, a [`ProgressEvent::PossibleDuplicate`], and no
//! silent second media — or, with [`UploadRequest::refuse_duplicates`], it stops with
//! [`UploadError::AmbiguousFinish`].
//!
//! [`UploadRequest::refuse_duplicates`]: super::UploadRequest::refuse_duplicates

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use tokio::io::AsyncRead;

use super::family::{self, Target, Uploaded};
use super::journal::{self, Journal, Loaded, Mode};
use super::request::{Input, Opened};
use super::retry::{Caller, RetryPolicy};
use super::source::{FileBlocks, Layout, StreamBlocks};
use super::transaction::Transaction;
use super::verify::{changed_blocks, check_unchanged, identify};
use super::workers::{Blocks, Sender};
use super::{ProgressEvent, ProgressFn, UploadError, UploadOutcome};
use crate::budget::{Budget, Group};
use crate::limits::{BLOCK_SIZE, CALLS_PER_DAY, UPLOAD_ID_LIFETIME};
use crate::{ApiError, Client, ErrorCode};

/// How many times an upload starts over after its upload id expired, or re-sends blocks the
/// server lost, before giving up.
const MAX_RESTARTS: u32 = 3;

/// One upload's view of its [`Client`]: the client's budget, retry policy, concurrency and
/// `upload_all` threshold.
#[derive(Debug)]
pub(super) struct Uploader {
    pub(super) client: Client,
    pub(super) concurrency: usize,
    pub(super) upload_all_max: u64,
    pub(super) budget: Option<Budget>,
    pub(super) policy: RetryPolicy,
}

impl Uploader {
    pub(super) fn of(client: &Client) -> Self {
        let context = &client.inner;
        Uploader {
            client: client.clone(),
            concurrency: context.transfer.concurrency,
            upload_all_max: context.transfer.upload_all_max,
            budget: Some(context.budget.clone()),
            policy: context.policy,
        }
    }
}

/// The state of one upload in progress.
pub(super) struct Upload<'a> {
    pub(super) uploader: &'a Uploader,
    pub(super) target: Target,
    pub(super) retries: AtomicU64,
    pub(super) progress: Option<ProgressFn>,
    pub(super) refuse_duplicates: bool,
    pub(super) possible_duplicates: AtomicU32,
    pub(super) warnings: std::sync::Mutex<Vec<String>>,
}

/// Counts for the outcome.
#[derive(Default)]
pub(super) struct Tally {
    sent: u64,
    resumed: u64,
    verified: u64,
    changed: u64,
    restarts: u32,
}

impl Tally {
    /// The tally of an upload that sent `sent` blocks and nothing else.
    pub(super) fn sent(sent: u64) -> Self {
        Tally {
            sent,
            ..Tally::default()
        }
    }
}

impl Upload<'_> {
    pub(super) fn caller(&self) -> Caller<'_> {
        Caller {
            policy: self.uploader.policy,
            tokens: self.uploader.client.inner.token_source(),
            progress: self.progress.as_ref(),
            retries: &self.retries,
        }
    }

    fn sender(&self) -> Sender<'_> {
        Sender {
            client: &self.uploader.client,
            family: self.target.family,
            concurrency: self.uploader.concurrency,
            caller: self.caller(),
        }
    }

    pub(super) fn emit(&self, event: ProgressEvent) {
        if let Some(progress) = &self.progress {
            progress(&event);
        }
    }

    pub(super) fn warn(&self, message: String) {
        tracing::warn!("{message}");
        self.emit(ProgressEvent::Warning {
            message: message.clone(),
        });
        self.warnings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }

    /// `count` more media may exist; say so.
    pub(super) fn report_duplicate(&self, count: u32, reason: String) {
        tracing::warn!(%reason, count, "possible duplicate media");
        self.possible_duplicates.fetch_add(count, Ordering::Relaxed);
        self.emit(ProgressEvent::PossibleDuplicate { reason });
    }

    pub(super) fn outcome(
        &self,
        uploaded: Uploaded,
        size: u64,
        chunked: bool,
        tally: &Tally,
    ) -> UploadOutcome {
        UploadOutcome {
            file_token: uploaded.file_token,
            family: self.target.family,
            version: uploaded.version,
            url: uploaded.url,
            size,
            chunked,
            blocks_sent: tally.sent,
            blocks_resumed: tally.resumed,
            blocks_verified: tally.verified,
            blocks_changed: tally.changed,
            retries: self.retries.load(Ordering::Relaxed),
            restarts: tally.restarts,
            possible_duplicate: self.possible_duplicates.load(Ordering::Relaxed) > 0,
            possible_duplicates: self.possible_duplicates.load(Ordering::Relaxed),
            warnings: self
                .warnings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }

    /// The media exists: hands its token to the callback *before* the journal is removed. A
    /// caller that records the token there can then never lose it to a crash unless the journal
    /// still says the finish was sent (and the next run reports the possible duplicate); with
    /// the event after the removal, a crash in between would leave a media nobody knows about.
    pub(super) fn finished(&self, file_token: &str) {
        self.emit(ProgressEvent::Finished {
            file_token: file_token.to_owned(),
        });
    }

    /// Removes a finished upload's journal; a failure is a warning, never a failed upload.
    pub(super) fn cleanup(&self, result: Result<(), UploadError>) {
        if let Err(e) = result {
            self.warn(format!(
                "the upload finished, but removing its journal failed: {e}"
            ));
        }
    }

    /// The chunked flow, from a file (resumable, restartable) or a stream (one pass).
    pub(super) async fn chunked(
        &self,
        input: Input,
        journal_path: Option<&Path>,
    ) -> Result<UploadOutcome, UploadError> {
        match input {
            Input::File { path, opened } => self.chunked_file(&path, opened, journal_path).await,
            Input::Stream { reader, size } => self.chunked_stream(reader, size).await,
        }
    }

    /// Loads the journal: a transaction to resume (its confirmed blocks verified), or none.
    async fn resume(
        &self,
        journal_path: &Path,
        path: &Path,
        opened: &Opened,
        identity: &journal::FileIdentity,
        tally: &mut Tally,
    ) -> Result<Option<Transaction>, UploadError> {
        match Journal::load(journal_path, Mode::Chunked, identity, &self.target)? {
            Loaded::None => Ok(None),
            Loaded::Discard { reason, finish_sent } => {
                if finish_sent {
                    // Its finish may have made a media; whatever this run makes is a second.
                    self.report_duplicate(
                        1,
                        format!("{reason}, and its finish had been sent without an answer"),
                    );
                }
                self.emit(ProgressEvent::Restarted {
                    reason: format!("{reason}; starting afresh"),
                });
                journal::remove(journal_path)?;
                Ok(None)
            }
            Loaded::Resume(resumed) => {
                let (journal, saved) = *resumed;
                let tx = Transaction::resumed(journal, saved);
                let confirmed = tx.confirmed();
                let changed = changed_blocks(path, opened, tx.layout, &confirmed).await?;
                tally.verified = confirmed.len() as u64;
                tally.changed = changed.len() as u64;
                self.emit(ProgressEvent::ResumeVerified {
                    checked_blocks: tally.verified,
                    changed: changed.clone(),
                });
                if !changed.is_empty() {
                    tracing::warn!(
                        ?changed,
                        "confirmed blocks changed since they were sent; sending them again"
                    );
                    tx.forget(Some(&changed))?;
                }
                tally.resumed = tx.confirmed_blocks();
                Ok(Some(tx))
            }
        }
    }

    async fn chunked_file(
        &self,
        path: &Path,
        opened: Opened,
        journal_path: Option<&Path>,
    ) -> Result<UploadOutcome, UploadError> {
        let size = opened.size;
        let identity = identify(path, &opened).await?;
        let mut tally = Tally::default();
        let mut tx = match journal_path {
            Some(journal_path) => {
                self.resume(journal_path, path, &opened, &identity, &mut tally)
                    .await?
            }
            None => None,
        };
        loop {
            let current = match tx.take() {
                Some(tx) => tx,
                None => self.begin(size, journal_path, &identity).await?,
            };
            let blocks = FileBlocks::new(
                path.to_owned(),
                Arc::clone(&opened.file),
                current.layout,
                current.pending(),
            );
            let result = match self.sender().send_blocks(&current, Blocks::File(&blocks)).await {
                Ok(n) => {
                    tally.sent += n;
                    check_unchanged(path, &opened, "during the upload")?;
                    self.finish(&current).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(uploaded) => {
                    self.finished(&uploaded.file_token);
                    self.cleanup(current.close());
                    return Ok(self.outcome(uploaded, size, true, &tally));
                }
                Err(e) => tx = self.after_failure(current, e, &mut tally).await?,
            }
        }
    }

    /// A new transaction: upload_prepare, and with a journal path a journal of it.
    async fn begin(
        &self,
        size: u64,
        journal_path: Option<&Path>,
        identity: &journal::FileIdentity,
    ) -> Result<Transaction, UploadError> {
        let (upload_id, layout) = self.prepare(size).await?;
        let tx = Transaction::new(upload_id, layout);
        match journal_path {
            Some(path) => tx.journal_with(|snapshot| {
                Journal::create(
                    path,
                    Mode::Chunked,
                    identity.clone(),
                    self.target.clone(),
                    snapshot,
                )
            }),
            None => Ok(tx),
        }
    }

    /// What follows a failed transaction: a new one (`Ok(None)`: its upload id expired), the
    /// same one with every block again (`Ok(Some)`: the server lost blocks), or the end.
    async fn after_failure(
        &self,
        mut current: Transaction,
        error: UploadError,
        tally: &mut Tally,
    ) -> Result<Option<Transaction>, UploadError> {
        if tally.restarts >= MAX_RESTARTS {
            return Err(error);
        }
        match error_code(&error) {
            Some(ErrorCode::UploadIdExpired) => {
                tally.restarts += 1;
                if current.finish_maybe_delivered.load(Ordering::Relaxed) {
                    let reason = format!(
                        "upload id {} answered 1061021 after a finish that got no answer: it was most likely finished, under a token never received",
                        current.upload_id
                    );
                    current = self.maybe_finished(current, reason)?;
                }
                self.emit(ProgressEvent::Restarted {
                    reason: "the upload id expired; starting over".to_owned(),
                });
                current.close()?;
                Ok(None)
            }
            Some(ErrorCode::BlockMissing) => {
                tally.restarts += 1;
                // After a finish that got no answer, "blocks missing" may mean the upload was
                // finished (and its blocks consumed) under a token never received: finishing
                // again may create a second media, so that is said, or refused.
                if current.finish_maybe_delivered.swap(false, Ordering::Relaxed) {
                    let reason = format!(
                        "upload id {} answered 1062010 after a finish that got no answer: it may have been finished, under a token never received",
                        current.upload_id
                    );
                    current = self.maybe_finished(current, reason)?;
                }
                // Feishu's 1062010 ("block missing, please upload all blocks") names no block,
                // so every block goes again: each re-send draws on the budget like any part, and
                // a repair the day's quota cannot finish is refused before it starts.
                self.check_quota(current.layout.block_num, false).await?;
                self.emit(ProgressEvent::Restarted {
                    reason: "upload_finish reported missing blocks; sending every block again".to_owned(),
                });
                current.forget(None)?;
                Ok(Some(current))
            }
            _ => Err(error),
        }
    }

    /// The transaction's upload id may have been finished under a token never received: that
    /// is reported as a possible duplicate, or, with `refuse_duplicates`, the upload stops.
    fn maybe_finished(&self, current: Transaction, reason: String) -> Result<Transaction, UploadError> {
        if !self.refuse_duplicates {
            self.report_duplicate(1, reason);
            return Ok(current);
        }
        tracing::warn!(%reason, "refusing to upload again");
        let upload_id = current.upload_id.clone();
        current.close()?;
        Err(UploadError::AmbiguousFinish {
            operation: self.target.family.upload_finish(),
            upload_id,
        })
    }

    async fn chunked_stream(
        &self,
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
    ) -> Result<UploadOutcome, UploadError> {
        let (upload_id, layout) = self.prepare(size).await?;
        let tx = Transaction::new(upload_id, layout);
        let blocks = StreamBlocks::new(reader, layout);
        let result = match self.sender().send_blocks(&tx, Blocks::Stream(&blocks)).await {
            Ok(sent) => self.finish(&tx).await.map(|uploaded| (uploaded, sent)),
            Err(e) => Err(e),
        };
        match result {
            Ok((uploaded, sent)) => {
                self.finished(&uploaded.file_token);
                Ok(self.outcome(uploaded, size, true, &Tally::sent(sent)))
            }
            Err(e) => Err(match error_code(&e) {
                Some(ErrorCode::UploadIdExpired) if tx.finish_maybe_delivered.load(Ordering::Relaxed) => {
                    UploadError::AmbiguousFinish {
                        operation: self.target.family.upload_finish(),
                        upload_id: tx.upload_id.clone(),
                    }
                }
                Some(ErrorCode::UploadIdExpired) => UploadError::CannotRewind("the upload id expired"),
                Some(ErrorCode::BlockMissing) => UploadError::CannotRewind("blocks were missing at finish"),
                _ => e,
            }),
        }
    }

    /// Checks that an upload of `parts` blocks fits what is left of the day's quota in each
    /// group it uses (one prepare, the parts, one finish), without counting anything.
    async fn check_quota(&self, parts: u64, prepare: bool) -> Result<(), UploadError> {
        let Some(budget) = &self.uploader.budget else {
            return Ok(());
        };
        if prepare {
            budget.check_fits(Group::UploadPrepare, 1).await?;
        }
        budget.check_fits(Group::UploadPart, parts).await?;
        budget.check_fits(Group::UploadFinish, 1).await?;
        Ok(())
    }

    async fn prepare(&self, size: u64) -> Result<(String, Layout), UploadError> {
        // Refuse before `upload_prepare` an upload the day's quota cannot finish, counting
        // parts of the documented block size; then again with the server's actual layout.
        self.check_quota(size.div_ceil(BLOCK_SIZE), true).await?;
        let client = &self.uploader.client;
        let target = &self.target;
        let data = self
            .caller()
            .call(target.family.upload_prepare(), || {
                family::prepare(client, target, size)
            })
            .await?;
        let block_num = u64::try_from(data.block_num)
            .map_err(|_| UploadError::Protocol(format!("negative block_num {}", data.block_num)))?;
        let layout = Layout::new(size, data.block_size, block_num)?;
        check_plan(&layout)?;
        self.check_quota(layout.block_num, false).await?;
        Ok((data.upload_id, layout))
    }

    /// Sends the finish, recording first (durably, in the journal) that it was sent.
    async fn finish(&self, tx: &Transaction) -> Result<Uploaded, UploadError> {
        tx.mark_finish_sent()?;
        let client = &self.uploader.client;
        let family = self.target.family;
        let called = self
            .caller()
            .call_tracked(family.upload_finish(), true, || {
                family::finish(client, family, tx.upload_id.as_str(), tx.layout.block_num)
            })
            .await;
        if called.ambiguous > 0 {
            tx.finish_maybe_delivered.store(true, Ordering::Relaxed);
        }
        called.result
    }
}

fn error_code(error: &UploadError) -> Option<ErrorCode> {
    error.api_error().and_then(ApiError::code)
}

/// A plan the server dictates is checked against the spec before any part is sent: blocks larger
/// than the documented block would break the memory bound (two blocks per worker), and more
/// parts than one day's `upload_part` calls cannot finish while the upload id lives (one day) —
/// a server answering one-byte blocks would otherwise get millions of one-byte parts.
fn check_plan(layout: &Layout) -> Result<(), UploadError> {
    if layout.block_size > BLOCK_SIZE {
        return Err(UploadError::Protocol(format!(
            "upload_prepare planned blocks of {} bytes; the documented block is {BLOCK_SIZE} bytes, and \
             larger blocks would hold more memory than the uploader allows",
            layout.block_size
        )));
    }
    if layout.block_num > CALLS_PER_DAY {
        return Err(UploadError::Protocol(format!(
            "upload_prepare planned {} parts of {} bytes for {} bytes: more than the {CALLS_PER_DAY} \
             upload_part calls a day allows while the upload id lives ({} h); the documented block \
             is {BLOCK_SIZE} bytes",
            layout.block_num,
            layout.block_size,
            layout.size,
            UPLOAD_ID_LIFETIME.as_secs() / 3600
        )));
    }
    Ok(())
}
