//! The one-call uploader: a file of any size into a Feishu doc, sheet or base.
//!
//! Files up to [`UPLOAD_ALL_MAX_BYTES`] go through `upload_all` in one request; larger ones through
//! `upload_prepare`, concurrent `upload_part`s and `upload_finish`. Every request is rate-limited
//! on the client side and retried on retryable failures; an expired upload id restarts the upload;
//! blocks the server reports missing at finish are sent again. With a journal, an upload killed
//! mid-way resumes where it stopped.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use feishu_drive::auth::AppCredentials;
//! use feishu_drive::upload::Uploader;
//!
//! let base = "https://open.feishu.cn";
//! let uploader = Uploader::builder(base)
//!     .credentials(AppCredentials::new(base, "cli_a1b2c3", "app-secret"))
//!     .build()?;
//! let file_token = uploader.upload_file("report.pdf", "docx_file", "doxcnXgNGAtaAraIRVeCfmabcef").await?;
//! println!("{file_token}");
//! # Ok(()) }
//! ```
//!
//! [`UPLOAD_ALL_MAX_BYTES`]: crate::limits::UPLOAD_ALL_MAX_BYTES

mod error;
mod journal;
mod progress;
pub(crate) mod retry;
mod source;

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncRead;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use error::UploadError;
pub use progress::{ProgressEvent, ProgressFn};
pub use retry::RetryPolicy;

use crate::auth::{AppCredentials, TokenSource};
use crate::checksum::adler32_field;
use crate::limits::{FILE_NAME_MAX_CHARS, REQUESTS_PER_SECOND, UPLOAD_ALL_MAX_BYTES};
use crate::{ApiError, Client, ClientContext, ErrorCode, FeishuResult, types};
use journal::{FileIdentity, Journal, Target};
use retry::{Caller, Limiter};
use source::{FileBlocks, Layout, StreamBlocks};

/// Blocks in flight at once by default: enough to keep 5 requests a second busy on a link where
/// a 4 MiB block takes most of a second, while holding at most 16 MiB of blocks in memory.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// How many times an upload starts over after its upload id expired, or re-sends blocks the
/// server lost, before giving up.
const MAX_RESTARTS: u32 = 3;

/// Uploads files; cheap to share (`&Uploader` from many tasks), and every upload made through one
/// `Uploader` shares its rate limit.
#[derive(Debug)]
pub struct Uploader {
    client: Client,
    concurrency: usize,
    upload_all_max: u64,
    limiter: Option<Limiter>,
    policy: RetryPolicy,
}

/// Configures an [`Uploader`].
#[derive(Debug)]
pub struct UploaderBuilder {
    base_url: String,
    context: ClientContext,
    concurrency: usize,
    upload_all_max: u64,
    requests_per_second: Option<NonZeroU32>,
    policy: RetryPolicy,
    timeout: Duration,
}

/// Why an [`Uploader`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The HTTP client could not be created.
    #[error("creating the HTTP client failed: {0}")]
    Http(#[from] reqwest::Error),
    /// `concurrency` was 0.
    #[error("concurrency must be at least 1")]
    ZeroConcurrency,
    /// The base URL is not an absolute http(s) URL.
    #[error("base URL {0:?} must start with http:// or https://")]
    BaseUrl(String),
}

impl UploaderBuilder {
    /// Authenticate with a fixed access token.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.context = ClientContext::with_token(token);
        self
    }

    /// Authenticate as a custom app: tenant tokens are fetched, cached and refreshed.
    pub fn credentials(mut self, credentials: AppCredentials) -> Self {
        self.context = ClientContext::with_source(credentials);
        self
    }

    /// Authenticate with any token source.
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.context = ClientContext::with_source(source);
        self
    }

    /// Blocks read and sent at once ([`DEFAULT_CONCURRENCY`] by default). Memory holds at most
    /// this many blocks.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Requests per second for all uploads of this uploader; the documented 5 by default.
    /// `None` removes the limit (for a local server).
    pub fn requests_per_second(mut self, limit: Option<u32>) -> Self {
        self.requests_per_second = limit.and_then(NonZeroU32::new);
        self
    }

    /// Files up to this size go through `upload_all`, larger ones through the chunked flow.
    /// Default and ceiling: the documented [`UPLOAD_ALL_MAX_BYTES`]; lower it to exercise the
    /// chunked flow with small files, or to get per-block progress on medium ones.
    pub fn upload_all_max(mut self, bytes: u64) -> Self {
        self.upload_all_max = bytes.min(UPLOAD_ALL_MAX_BYTES);
        self
    }

    /// Retries and backoff.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The longest a single request may take (120 s by default: a 4 MiB block on a slow link).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the uploader.
    pub fn build(self) -> Result<Uploader, BuildError> {
        if self.concurrency == 0 {
            return Err(BuildError::ZeroConcurrency);
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(BuildError::BaseUrl(self.base_url));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(self.timeout)
            .pool_max_idle_per_host(self.concurrency.max(4))
            .build()?;
        Ok(Uploader {
            client: Client::new_with_client(self.base_url.trim_end_matches('/'), http, self.context),
            concurrency: self.concurrency,
            upload_all_max: self.upload_all_max,
            limiter: self.requests_per_second.map(retry::limiter),
            policy: self.policy,
        })
    }
}

/// One upload: what to send, where, and how.
pub struct UploadRequest {
    data: Data,
    file_name: Option<String>,
    parent_type: String,
    parent_node: String,
    extra: Option<String>,
    journal: Option<PathBuf>,
    progress: Option<ProgressFn>,
    cancel: Option<CancellationToken>,
}

enum Data {
    File(PathBuf),
    Reader {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
        file_name: String,
    },
}

impl std::fmt::Debug for UploadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = match &self.data {
            Data::File(path) => format!("file {}", path.display()),
            Data::Reader { size, file_name, .. } => format!("stream {file_name:?} of {size} bytes"),
        };
        f.debug_struct("UploadRequest")
            .field("data", &data)
            .field("parent_type", &self.parent_type)
            .field("parent_node", &self.parent_node)
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl UploadRequest {
    /// Upload the file at `path`, named by its file name.
    pub fn file(
        path: impl Into<PathBuf>,
        parent_type: impl Into<String>,
        parent_node: impl Into<String>,
    ) -> Self {
        Self::new(Data::File(path.into()), parent_type.into(), parent_node.into())
    }

    /// Upload `size` bytes read from `reader`, named `file_name`. A stream cannot be resumed or
    /// rewound, so journals do not apply.
    pub fn reader(
        reader: impl AsyncRead + Send + Unpin + 'static,
        size: u64,
        file_name: impl Into<String>,
        parent_type: impl Into<String>,
        parent_node: impl Into<String>,
    ) -> Self {
        let data = Data::Reader {
            reader: Box::new(reader),
            size,
            file_name: file_name.into(),
        };
        Self::new(data, parent_type.into(), parent_node.into())
    }

    fn new(data: Data, parent_type: String, parent_node: String) -> Self {
        Self {
            data,
            file_name: None,
            parent_type,
            parent_node,
            extra: None,
            journal: None,
            progress: None,
            cancel: None,
        }
    }

    /// The name the media gets (default: the file's name).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The `extra` field, e.g. `{"drive_route_token":"…"}` for some parent types.
    pub fn extra(mut self, extra: impl Into<String>) -> Self {
        self.extra = Some(extra.into());
        self
    }

    /// Keep a resume journal at `path`: a run that finds one continues its upload. It applies to
    /// the chunked flow from a file; an `upload_all` is one request, with nothing to resume.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Call `progress` with every [`ProgressEvent`].
    pub fn progress(mut self, progress: impl Fn(&ProgressEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Stop promptly, with [`UploadError::Cancelled`], when `token` is cancelled.
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// How an upload went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutcome {
    /// The media's token.
    pub file_token: String,
    /// The file's size.
    pub size: u64,
    /// `upload_all` (one request) or the chunked flow.
    pub chunked: bool,
    /// Blocks sent in this run (re-sent ones counted again).
    pub blocks_sent: u64,
    /// Blocks skipped because a journal showed the server had them.
    pub blocks_resumed: u64,
    /// Requests retried.
    pub retries: u64,
    /// Times the upload started over or re-sent lost blocks.
    pub restarts: u32,
}

impl Uploader {
    /// Starts configuring an uploader for the API at `base_url` (e.g. `https://open.feishu.cn`).
    pub fn builder(base_url: impl Into<String>) -> UploaderBuilder {
        UploaderBuilder {
            base_url: base_url.into(),
            context: ClientContext::anonymous(),
            concurrency: DEFAULT_CONCURRENCY,
            upload_all_max: UPLOAD_ALL_MAX_BYTES,
            requests_per_second: NonZeroU32::new(REQUESTS_PER_SECOND),
            policy: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
        }
    }

    /// The generated client this uploader sends through, for other operations (e.g. `download`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Uploads the file at `path` to `parent_node` and returns its `file_token`.
    pub async fn upload_file(
        &self,
        path: impl AsRef<Path>,
        parent_type: &str,
        parent_node: &str,
    ) -> Result<String, UploadError> {
        let request = UploadRequest::file(path.as_ref(), parent_type, parent_node);
        Ok(self.upload(request).await?.file_token)
    }

    /// Uploads `size` bytes from `reader` as `file_name` and returns the `file_token`.
    pub async fn upload_reader(
        &self,
        reader: impl AsyncRead + Send + Unpin + 'static,
        size: u64,
        file_name: &str,
        parent_type: &str,
        parent_node: &str,
    ) -> Result<String, UploadError> {
        let request = UploadRequest::reader(reader, size, file_name, parent_type, parent_node);
        Ok(self.upload(request).await?.file_token)
    }

    /// Runs one upload.
    pub async fn upload(&self, request: UploadRequest) -> Result<UploadOutcome, UploadError> {
        let cancel = request.cancel.clone();
        let run = self.run(request);
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

    async fn run(&self, request: UploadRequest) -> Result<UploadOutcome, UploadError> {
        let UploadRequest {
            data,
            file_name,
            parent_type,
            parent_node,
            extra,
            journal,
            progress,
            cancel: _,
        } = request;
        check_parent(&parent_type)?;
        let (input, default_name) = match data {
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
        };
        let file_name = file_name.unwrap_or(default_name);
        check_file_name(&file_name)?;
        if parent_type == SLIDE_FILE && input.size() > self.upload_all_max.min(UPLOAD_ALL_MAX_BYTES) {
            return Err(UploadError::SlideFileTooLarge {
                size: input.size(),
                max: self.upload_all_max.min(UPLOAD_ALL_MAX_BYTES),
            });
        }
        // Fetching the token first turns bad credentials into a typed error: inside a request,
        // progenitor's hooks can only report them as text.
        if let Some(tokens) = self.client.inner.token_source() {
            tokens.token().await?;
        }
        let upload = Upload {
            uploader: self,
            target: Target {
                file_name,
                parent_type,
                parent_node,
            },
            extra,
            retries: AtomicU64::new(0),
            progress,
        };
        let span = tracing::info_span!("upload", file_name = %upload.target.file_name, size = input.size());
        let outcome = async {
            if input.size() <= self.upload_all_max {
                upload.all(input).await
            } else {
                upload.chunked(input, journal.as_deref()).await
            }
        }
        .instrument(span)
        .await?;
        upload.emit(ProgressEvent::Finished {
            file_token: outcome.file_token.clone(),
        });
        Ok(outcome)
    }
}

/// The parent type of slides media, which only `upload_all` accepts.
const SLIDE_FILE: &str = "slide_file";

/// Checks the parent before any request. The spec keeps `parent_type` open (Feishu adds values),
/// so an undocumented but well-formed value is sent with a warning; a malformed one is refused.
fn check_parent(parent_type: &str) -> Result<(), UploadError> {
    let well_formed = parent_type.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && parent_type
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err(UploadError::InvalidParentType {
            value: parent_type.to_owned(),
            known: types::ParentType::KNOWN.join(", "),
        });
    }
    if !types::ParentType::KNOWN.contains(&parent_type) {
        tracing::warn!(
            parent_type,
            "parent_type is not among the documented values; sending it as given"
        );
    }
    // `parent_node` is optional and may be empty (parent types such as `ccm_import_open` need
    // none): an empty one is left out of the request, nothing stricter than the docs.
    Ok(())
}

fn check_file_name(name: &str) -> Result<(), UploadError> {
    let reason = if name.trim().is_empty() {
        "it is empty".to_owned()
    } else if name.chars().count() > FILE_NAME_MAX_CHARS {
        format!(
            "it has {} characters; Feishu takes at most {FILE_NAME_MAX_CHARS}",
            name.chars().count()
        )
    } else {
        return Ok(());
    };
    Err(UploadError::InvalidFileName {
        name: name.to_owned(),
        reason,
    })
}

/// An opened file and what it looked like when opened.
struct Opened {
    file: Arc<std::fs::File>,
    size: u64,
    mtime_ns: u128,
}

fn open_file(path: &Path) -> Result<Opened, UploadError> {
    let unreadable = |source| UploadError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UploadError::FileNotFound {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(unreadable(e)),
    };
    if metadata.is_dir() {
        return Err(UploadError::IsDirectory {
            path: path.to_owned(),
        });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    Ok(Opened {
        file: Arc::new(file),
        size: metadata.len(),
        mtime_ns: mtime_ns(&metadata),
    })
}

fn mtime_ns(metadata: &std::fs::Metadata) -> u128 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

enum Input {
    File {
        path: PathBuf,
        opened: Opened,
    },
    Stream {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
    },
}

impl Input {
    fn size(&self) -> u64 {
        match self {
            Input::File { opened, .. } => opened.size,
            Input::Stream { size, .. } => *size,
        }
    }
}

/// The state of one upload in progress.
struct Upload<'a> {
    uploader: &'a Uploader,
    target: Target,
    extra: Option<String>,
    retries: AtomicU64,
    progress: Option<ProgressFn>,
}

impl Upload<'_> {
    fn caller(&self) -> Caller<'_> {
        Caller {
            limiter: self.uploader.limiter.as_ref(),
            policy: self.uploader.policy,
            tokens: self.uploader.client.inner.token_source(),
            progress: self.progress.as_ref(),
            retries: &self.retries,
        }
    }

    fn emit(&self, event: ProgressEvent) {
        if let Some(progress) = &self.progress {
            progress(&event);
        }
    }

    fn outcome(
        &self,
        file_token: String,
        size: u64,
        chunked: bool,
        sent: u64,
        resumed: u64,
        restarts: u32,
    ) -> UploadOutcome {
        UploadOutcome {
            file_token,
            size,
            chunked,
            blocks_sent: sent,
            blocks_resumed: resumed,
            retries: self.retries.load(Ordering::Relaxed),
            restarts,
        }
    }

    /// `upload_all`: the whole file in one request.
    async fn all(&self, input: Input) -> Result<UploadOutcome, UploadError> {
        let size = input.size();
        let bytes = match input {
            Input::File { path, opened } => {
                let bytes = source::read_at(&path, &opened.file, 0, size).await?;
                check_unchanged(&path, &opened, "during the upload")?;
                bytes
            }
            Input::Stream { mut reader, size } => {
                let bytes = source::read_exact(&mut *reader, size, size).await?;
                source::ensure_ended(&mut *reader, size).await?;
                bytes
            }
        };
        self.emit(ProgressEvent::Started {
            upload_id: None,
            total_bytes: size,
            total_blocks: 1,
            resumed_bytes: 0,
            resumed_blocks: 0,
        });
        let checksum = adler32_field(&bytes);
        let client = &self.uploader.client;
        let target = &self.target;
        let data = self
            .caller()
            .call("upload_all", || {
                let mut builder = client
                    .upload_all()
                    .file_name(target.file_name.as_str())
                    .parent_type(target.parent_type.as_str())
                    .size(size)
                    .checksum(checksum.as_str())
                    .file(bytes.clone());
                if let Some(extra) = &self.extra {
                    builder = builder.extra(extra.clone());
                }
                if !target.parent_node.is_empty() {
                    builder = builder.parent_node(target.parent_node.clone());
                }
                async move { builder.send().await.into_data() }
            })
            .await?;
        self.emit(ProgressEvent::BlockConfirmed {
            seq: 0,
            bytes: size,
            confirmed_bytes: size,
            confirmed_blocks: 1,
        });
        Ok(self.outcome(data.file_token, size, false, 1, 0, 0))
    }

    /// The chunked flow, from a file (resumable, restartable) or a stream (one pass).
    async fn chunked(&self, input: Input, journal_path: Option<&Path>) -> Result<UploadOutcome, UploadError> {
        match input {
            Input::File { path, opened } => self.chunked_file(&path, opened, journal_path).await,
            Input::Stream { reader, size } => self.chunked_stream(reader, size).await,
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
        let mut tx = match journal_path {
            Some(journal) => Journal::load(journal, path, &identity, &self.target)?.map(Transaction::resumed),
            None => None,
        };
        let blocks_resumed = tx.as_ref().map_or(0, Transaction::confirmed_blocks);
        let (mut sent, mut restarts) = (0, 0);
        loop {
            let current = match tx.take() {
                Some(tx) => tx,
                None => {
                    let (upload_id, layout) = self.prepare(size).await?;
                    let journal = journal_path
                        .map(|p| {
                            Journal::create(p, &upload_id, layout, identity.clone(), self.target.clone())
                        })
                        .transpose()?;
                    Transaction::new(upload_id, layout, journal)
                }
            };
            let blocks = FileBlocks::new(
                path.to_owned(),
                Arc::clone(&opened.file),
                current.layout,
                current.pending(),
            );
            let result = match self.send_blocks(&current, Blocks::File(&blocks)).await {
                Ok(n) => {
                    sent += n;
                    check_unchanged(path, &opened, "during the upload")?;
                    self.finish(&current).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(file_token) => {
                    current.close()?;
                    return Ok(self.outcome(file_token, size, true, sent, blocks_resumed, restarts));
                }
                Err(e) if restarts < MAX_RESTARTS && error_code(&e) == Some(ErrorCode::UploadIdExpired) => {
                    restarts += 1;
                    self.emit(ProgressEvent::Restarted {
                        reason: "the upload id expired; starting over".to_owned(),
                    });
                    current.close()?;
                }
                Err(e) if restarts < MAX_RESTARTS && error_code(&e) == Some(ErrorCode::BlockMissing) => {
                    // The server cannot say which blocks it lacks, so every block goes again.
                    restarts += 1;
                    self.emit(ProgressEvent::Restarted {
                        reason: "upload_finish reported missing blocks; sending every block again".to_owned(),
                    });
                    current.forget_confirmed()?;
                    tx = Some(current);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn chunked_stream(
        &self,
        reader: Box<dyn AsyncRead + Send + Unpin>,
        size: u64,
    ) -> Result<UploadOutcome, UploadError> {
        let (upload_id, layout) = self.prepare(size).await?;
        let tx = Transaction::new(upload_id, layout, None);
        let blocks = StreamBlocks::new(reader, layout);
        let result = match self.send_blocks(&tx, Blocks::Stream(&blocks)).await {
            Ok(sent) => self.finish(&tx).await.map(|token| (token, sent)),
            Err(e) => Err(e),
        };
        match result {
            Ok((file_token, sent)) => Ok(self.outcome(file_token, size, true, sent, 0, 0)),
            Err(e) => Err(match error_code(&e) {
                Some(ErrorCode::UploadIdExpired) => UploadError::CannotRewind("the upload id expired"),
                Some(ErrorCode::BlockMissing) => UploadError::CannotRewind("blocks were missing at finish"),
                _ => e,
            }),
        }
    }

    async fn prepare(&self, size: u64) -> Result<(String, Layout), UploadError> {
        let client = &self.uploader.client;
        let target = &self.target;
        let data = self
            .caller()
            .call("upload_prepare", || {
                let body = types::UploadPrepareRequest::builder()
                    .file_name(target.file_name.as_str())
                    .parent_type(target.parent_type.as_str())
                    .parent_node(
                        (!target.parent_node.is_empty())
                            .then(|| types::ParentNode::from(target.parent_node.clone())),
                    )
                    .size(size)
                    .extra(self.extra.clone().map(types::Extra));
                let request = client.upload_prepare().body(body);
                async move { request.send().await.into_data() }
            })
            .await?;
        let block_num = u64::try_from(data.block_num)
            .map_err(|_| UploadError::Protocol(format!("negative block_num {}", data.block_num)))?;
        let layout = Layout::new(size, data.block_size.get(), block_num)?;
        Ok((String::from(data.upload_id), layout))
    }

    /// Sends every block `blocks` hands out, `concurrency` at a time; the first permanent error
    /// stops the others. Returns the number of blocks sent.
    async fn send_blocks(&self, tx: &Transaction, blocks: Blocks<'_>) -> Result<u64, UploadError> {
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
        while let Some((seq, bytes)) = current {
            let (result, next) = tokio::join!(self.send_part(tx, seq, &bytes), blocks.next(spare.take()));
            result?;
            sent += 1;
            let (confirmed_bytes, confirmed_blocks) = tx.confirm(seq)?;
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

    async fn send_part(&self, tx: &Transaction, seq: u64, bytes: &Bytes) -> Result<(), UploadError> {
        let client = &self.uploader.client;
        let len = bytes.len() as u64;
        let checksum = adler32_field(bytes);
        self.caller()
            .call("upload_part", || {
                let request = client
                    .upload_part()
                    .upload_id(tx.upload_id.as_str())
                    .seq(seq)
                    .size(len)
                    .checksum(checksum.as_str())
                    .file(bytes.clone());
                async move { request.send().await.checked().map(drop) }
            })
            .await
    }

    async fn finish(&self, tx: &Transaction) -> Result<String, UploadError> {
        let client = &self.uploader.client;
        let data = self
            .caller()
            .call("upload_finish", || {
                let body = types::UploadFinishRequest::builder()
                    .upload_id(tx.upload_id.as_str())
                    .block_num(tx.layout.block_num);
                let request = client.upload_finish().body(body);
                async move { request.send().await.into_data() }
            })
            .await?;
        Ok(data.file_token)
    }
}

fn error_code(error: &UploadError) -> Option<ErrorCode> {
    error.api_error().and_then(ApiError::code)
}

/// Where the next block comes from.
enum Blocks<'a> {
    File(&'a FileBlocks),
    Stream(&'a StreamBlocks),
}

impl Blocks<'_> {
    /// The next block; a file source reads it into `spare` when it can.
    async fn next(&self, spare: Option<BytesMut>) -> Result<Option<(u64, Bytes)>, UploadError> {
        match self {
            Blocks::File(blocks) => blocks.next_block(spare).await,
            Blocks::Stream(blocks) => blocks.next_block().await,
        }
    }
}

/// One upload id and the blocks the server has confirmed for it, mirrored into the journal.
struct Transaction {
    upload_id: String,
    layout: Layout,
    state: std::sync::Mutex<Confirmed>,
}

struct Confirmed {
    blocks: BTreeSet<u64>,
    journal: Option<Journal>,
}

impl Transaction {
    fn new(upload_id: String, layout: Layout, journal: Option<Journal>) -> Self {
        let state = Confirmed {
            blocks: BTreeSet::new(),
            journal,
        };
        Self {
            upload_id,
            layout,
            state: std::sync::Mutex::new(state),
        }
    }

    fn resumed(journal: Journal) -> Self {
        let (upload_id, layout) = (journal.upload_id().to_owned(), journal.layout());
        let state = Confirmed {
            blocks: journal.confirmed().clone(),
            journal: Some(journal),
        };
        Self {
            upload_id,
            layout,
            state: std::sync::Mutex::new(state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Confirmed> {
        // Each change is one insert or clear, so a panic elsewhere cannot leave it half-done.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn pending(&self) -> Vec<u64> {
        let state = self.lock();
        (0..self.layout.block_num)
            .filter(|seq| !state.blocks.contains(seq))
            .collect()
    }

    fn confirmed_blocks(&self) -> u64 {
        self.lock().blocks.len() as u64
    }

    fn confirmed_totals(&self) -> (u64, u64) {
        let state = self.lock();
        (
            state.blocks.iter().map(|&seq| self.layout.len(seq)).sum(),
            state.blocks.len() as u64,
        )
    }

    /// Records a confirmed block; returns the confirmed bytes and blocks so far.
    fn confirm(&self, seq: u64) -> Result<(u64, u64), UploadError> {
        let mut state = self.lock();
        state.blocks.insert(seq);
        if let Some(journal) = state.journal.as_mut() {
            journal.confirm(seq)?;
        }
        drop(state);
        Ok(self.confirmed_totals())
    }

    fn forget_confirmed(&self) -> Result<(), UploadError> {
        let mut state = self.lock();
        state.blocks.clear();
        match state.journal.as_mut() {
            Some(journal) => journal.clear_confirmed(),
            None => Ok(()),
        }
    }

    /// The transaction is over (finished, or its id expired): its journal goes.
    fn close(self) -> Result<(), UploadError> {
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

/// The identity a journal records: size, mtime and the Adler-32 of the first and last MiB.
async fn identify(path: &Path, opened: &Opened) -> Result<FileIdentity, UploadError> {
    const EDGE: u64 = 1024 * 1024;
    let head = source::read_at(path, &opened.file, 0, opened.size.min(EDGE)).await?;
    let tail_start = opened.size.saturating_sub(EDGE).max(head.len() as u64);
    let tail = source::read_at(path, &opened.file, tail_start, opened.size - tail_start).await?;
    let mut adler = simd_adler32::Adler32::new();
    adler.write(&head);
    adler.write(&tail);
    Ok(FileIdentity {
        size: opened.size,
        mtime_ns: opened.mtime_ns,
        edge_checksum: adler.finish(),
    })
}

/// Fails if the file's size or modification time moved since it was opened.
fn check_unchanged(path: &Path, opened: &Opened, when: &'static str) -> Result<(), UploadError> {
    let metadata = std::fs::metadata(path).map_err(|source| UploadError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    if metadata.len() != opened.size {
        return Err(UploadError::FileChanged {
            path: path.to_owned(),
            when,
            what: format!("size {} → {}", opened.size, metadata.len()),
        });
    }
    if mtime_ns(&metadata) != opened.mtime_ns {
        return Err(UploadError::FileChanged {
            path: path.to_owned(),
            when,
            what: "it was modified".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_checked_in_characters() {
        assert!(check_file_name("a.txt").is_ok());
        assert!(check_file_name(&"é".repeat(250)).is_ok());
        assert!(matches!(
            check_file_name(&"é".repeat(251)),
            Err(UploadError::InvalidFileName { .. })
        ));
        assert!(matches!(
            check_file_name(" "),
            Err(UploadError::InvalidFileName { .. })
        ));
    }

    #[test]
    fn parent_types_may_be_undocumented_but_not_malformed() {
        assert!(check_parent("docx_image").is_ok());
        assert!(check_parent("future_type_2027").is_ok());
        for bad in ["", "Docx", "docx image", "docx-image", "1docx"] {
            assert!(
                matches!(check_parent(bad), Err(UploadError::InvalidParentType { .. })),
                "{bad:?}"
            );
        }
    }
}
