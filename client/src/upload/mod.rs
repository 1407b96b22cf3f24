//! The one-call uploader: a file of any size into a Feishu doc, sheet or base.
//!
//! Files up to [`UPLOAD_ALL_REQUEST_SIZE_MAXIMUM`] go through `upload_all` in one request; larger ones through
//! `upload_prepare`, concurrent `upload_part`s and `upload_finish`. Every request is paced on the
//! client side and retried on retryable failures; an expired upload id restarts the upload;
//! blocks the server reports missing at finish are sent again. With a journal, an upload killed
//! mid-way resumes where it stopped, after re-reading and checking every block it trusts.
//!
//! Where things live: [`Client::upload`] and the upload's view of the client (this file),
//! [`UploadRequest`] and its checks (`request.rs`), one upload's flow and its exactly-once rules
//! (`flow.rs`; the one-shot `upload_all` in `one_shot.rs`), the transaction of one upload id, owner of the id and its confirmed blocks
//! (`transaction.rs`), the workers that send its blocks (`workers.rs`), the journal that
//! persists snapshots of the transaction (`journal.rs`), resume verification (`verify.rs`),
//! retries and the budget (`retry.rs`, [`crate::budget`]), [`UploadOutcome`] and [`ProgressEvent`]
//! (`outcome.rs`, `progress.rs`).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use feishu_drive::Client;
//! use feishu_drive::upload::UploadRequest;
//!
//! let client = Client::builder("https://open.feishu.cn")
//!     .app_credentials("cli_a1b2c3", "app-secret")
//!     .build()?;
//! let outcome = client
//!     .upload(UploadRequest::file("report.pdf", "docx_file", "doxcnXgNGAtaAraIRVeCfmabcef"))
//!     .await?;
//! println!("{}", outcome.file_token);
//! # Ok(()) }
//! ```
//!
//! [`UPLOAD_ALL_REQUEST_SIZE_MAXIMUM`]: crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM

mod error;
mod family;
mod flow;
mod journal;
mod one_shot;
mod outcome;
mod progress;
mod request;
pub(crate) mod retry;
mod source;
mod transaction;
mod verify;
mod workers;

use std::sync::atomic::{AtomicU32, AtomicU64};

use tracing::Instrument;

pub use error::UploadError;
pub use family::Family;
pub use journal::{JOURNAL_BATCH_BLOCKS, JOURNAL_BATCH_INTERVAL};
pub use outcome::UploadOutcome;
pub use progress::{ProgressEvent, ProgressFn};
pub use request::UploadRequest;
pub use retry::RetryPolicy;

use crate::Client;
use crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM;
use family::Target;
use flow::{Upload, Uploader};
use journal::JournalLock;
use request::{Data, Input, check_file_name, check_parent, open_file};

/// The parent type of slides media, which only `upload_all` accepts.
const SLIDE_FILE: &str = "slide_file";

/// Blocks in flight at once by default: enough to keep 5 requests a second busy on a link where
/// a 4 MiB block takes most of a second, while holding at most 32 MiB of blocks in memory (two
/// per worker: one being sent, the next being read).
pub const DEFAULT_CONCURRENCY: usize = 4;

impl Client {
    /// Uploads a file (or a reader of known size) into a doc, sheet or base and returns its
    /// `file_token`: `upload_all` up to the client's threshold, the chunked flow above it, every
    /// request through the client's budget and retry policy, resumable with a journal.
    ///
    /// A request's [`cancel_on`](UploadRequest::cancel_on) token stops it promptly: the
    /// journal keeps what was confirmed, and the same request with the same journal resumes.
    pub async fn upload(&self, request: UploadRequest) -> Result<UploadOutcome, UploadError> {
        let uploader = Uploader::of(self);
        let cancel = request.cancel.clone();
        let run = run(&uploader, request);
        match cancel {
            // Dropping `run` drops every request in flight, so cancellation is prompt.
            Some(token) => tokio::select! {
                biased;
                () = token.cancelled() => Err(UploadError::Cancelled),
                result = run => result,
            },
            None => run.await,
        }
    }
}

/// One upload: the request checked, the journal locked, the token fetched, then `upload_all` or
/// the chunked flow.
async fn run(uploader: &Uploader, request: UploadRequest) -> Result<UploadOutcome, UploadError> {
    let UploadRequest {
        data,
        family,
        version_of,
        file_name,
        parent_type,
        parent_node,
        extra,
        journal,
        progress,
        cancel: _,
        refuse_duplicates,
    } = request;
    check_parent(&parent_type, family)?;
    let (input, default_name) = open_input(data)?;
    let file_name = file_name.unwrap_or(default_name);
    check_file_name(&file_name)?;
    check_slides(uploader, &parent_type, input.size())?;
    // Journals apply to files; the lock is held until this upload ends, however it ends.
    let journal = journal.filter(|_| matches!(input, Input::File { .. }));
    let lock = journal.as_deref().map(JournalLock::acquire).transpose()?;
    // Fetching the token first turns bad credentials into a typed error before any upload
    // request.
    let tokens = uploader.client.inner.token_source();
    if let Some(tokens) = tokens {
        tokens.token().await?;
    }
    let upload = Upload {
        uploader,
        target: Target {
            family,
            version_of,
            file_name,
            parent_type,
            parent_node,
            extra,
            app: tokens.and_then(|t| t.identity()),
        },
        retries: AtomicU64::new(0),
        progress,
        refuse_duplicates,
        possible_duplicates: AtomicU32::new(0),
        warnings: std::sync::Mutex::new(Vec::new()),
    };
    let span = tracing::info_span!("upload", file_name = %upload.target.file_name, size = input.size());
    let result = async {
        if input.size() <= uploader.upload_all_max {
            upload.all(input, journal.as_deref()).await
        } else {
            upload.chunked(input, journal.as_deref()).await
        }
    }
    .instrument(span)
    .await;
    if let Some(lock) = lock {
        lock.release();
    }
    // `ProgressEvent::Finished` was emitted by the flow, before the journal was removed.
    result
}

/// The request's data opened, and the file name it suggests.
fn open_input(data: Data) -> Result<(Input, String), UploadError> {
    Ok(match data {
        Data::File(path) => {
            let opened = open_file(&path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (Input::File { path, opened }, name)
        }
        Data::Reader {
            reader,
            size,
            file_name,
        } => (Input::Stream { reader, size }, file_name),
    })
}

/// Slides media go only through `upload_all`: one larger than it takes is refused up front.
fn check_slides(uploader: &Uploader, parent_type: &str, size: u64) -> Result<(), UploadError> {
    let max = uploader.upload_all_max.min(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM);
    if parent_type == SLIDE_FILE && size > max {
        return Err(UploadError::SlideFileTooLarge { size, max });
    }
    Ok(())
}

/// Internals exposed for `benches/resume.rs` only (the journal's fsync cost per block, the
/// resume verification's cost per GiB); not a stable API.
#[doc(hidden)]
pub mod bench_support {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::UploadError;
    use super::family::Target;
    use super::journal::{FileIdentity, Journal, Mode};
    use super::source::Layout;
    use super::transaction::Transaction;

    /// Creates a journal at `path` for `blocks` blocks and confirms each as the uploader does
    /// (written in batches, see [`JOURNAL_BATCH_BLOCKS`](super::JOURNAL_BATCH_BLOCKS)); returns
    /// the time per confirmation, the last batch's write included.
    pub fn journal_confirm_cost(path: &Path, blocks: u64) -> Result<Duration, UploadError> {
        confirm_cost(path, blocks, false)
    }

    /// The same with every confirmation written at once, as before batching: one durable
    /// rewrite (write, `fsync`, rename, `fsync` of the directory) per block.
    pub fn journal_rewrite_cost(path: &Path, blocks: u64) -> Result<Duration, UploadError> {
        confirm_cost(path, blocks, true)
    }

    fn confirm_cost(path: &Path, blocks: u64, write_each: bool) -> Result<Duration, UploadError> {
        let block_size = 4 * 1024 * 1024;
        let layout = Layout::new(blocks * block_size, block_size, blocks)?;
        let identity = FileIdentity {
            size: layout.size,
            mtime_ns: 0,
            edge_checksum: 0,
        };
        let target = Target {
            family: super::Family::Media,
            version_of: None,
            file_name: "bench.bin".to_owned(),
            parent_type: "docx_file".to_owned(),
            parent_node: "doxcnBench".to_owned(),
            extra: None,
            app: None,
        };
        let tx = Transaction::new("bench-upload-id".to_owned(), layout)
            .journal_with(|snapshot| Journal::create(path, Mode::Chunked, identity, target, snapshot))?;
        let started = Instant::now();
        for seq in 0..blocks {
            tx.confirm(seq, u32::try_from(seq).unwrap_or(0))?;
            if write_each {
                tx.flush()?;
            }
        }
        tx.flush()?;
        let per_block = started.elapsed() / u32::try_from(blocks.max(1)).unwrap_or(u32::MAX);
        tx.close()?;
        Ok(per_block)
    }

    /// Runs the resume verification over every block of the file at `path` (blocks of
    /// `block_size`); returns how long it took.
    pub async fn verify_cost(path: &Path, block_size: u64) -> Result<Duration, UploadError> {
        let opened = super::request::open_file(path)?;
        let layout = Layout::new(opened.size, block_size, opened.size.div_ceil(block_size))?;
        let confirmed: Vec<(u64, u32)> = (0..layout.block_num).map(|seq| (seq, 0)).collect();
        let started = Instant::now();
        let changed = super::verify::changed_blocks(path, &opened, layout, &confirmed).await?;
        let elapsed = started.elapsed();
        std::hint::black_box(changed);
        Ok(elapsed)
    }
}
