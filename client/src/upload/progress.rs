//! Progress events, delivered to a callback as the upload advances.

use std::sync::Arc;
use std::time::Duration;

/// What just happened in an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The upload started: `total_bytes` to send, of which `resumed_bytes` were already confirmed
    /// by a journal.
    Started {
        /// The upload id of the chunked flow (`None` for `upload_all`).
        upload_id: Option<String>,
        /// The file's size.
        total_bytes: u64,
        /// The number of blocks (1 for `upload_all`).
        total_blocks: u64,
        /// Bytes confirmed by an earlier run.
        resumed_bytes: u64,
        /// Blocks confirmed by an earlier run.
        resumed_blocks: u64,
    },
    /// The server confirmed a block.
    BlockConfirmed {
        /// The block's number.
        seq: u64,
        /// The block's size.
        bytes: u64,
        /// Bytes confirmed so far, resumed ones included.
        confirmed_bytes: u64,
        /// Blocks confirmed so far, resumed ones included.
        confirmed_blocks: u64,
    },
    /// A request failed with a retryable error and is sent again after `delay`.
    Retrying {
        /// The operation.
        operation: crate::operations::OperationId,
        /// The error, as text (it never contains a token).
        error: String,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// The upload starts over (the upload id expired) or re-sends blocks the server lost.
    Restarted {
        /// Why.
        reason: String,
    },
    /// A resumed upload re-read every block its journal confirmed and checked its Adler-32;
    /// `changed` blocks no longer match the file and are sent again.
    ResumeVerified {
        /// Blocks checked.
        checked_blocks: u64,
        /// Blocks whose bytes changed since they were sent.
        changed: Vec<u64>,
    },
    /// A second media may exist: a finish or `upload_all` that may have succeeded got no answer,
    /// and the upload was made again.
    PossibleDuplicate {
        /// What happened.
        reason: String,
    },
    /// Something went wrong that did not stop the upload (e.g. removing the journal failed).
    Warning {
        /// What.
        message: String,
    },
    /// The upload finished: the media exists. Emitted before the journal is removed (then
    /// removal warnings, if any, follow), so a caller that records the token here never loses it
    /// to a crash without the journal still saying the finish was sent.
    Finished {
        /// The media's token.
        file_token: String,
    },
}

/// A progress callback. It runs on the upload's task, so it should return quickly.
pub type ProgressFn = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;
