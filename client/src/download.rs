//! Reading media back: [`Client::download_media`] writes a media to a file with ranged requests,
//! resumes a partial file, checks what it got, and never leaves a partial file under the final
//! name.
//!
//! ```no_run
//! use feishu_drive::Client;
//! use feishu_drive::download::DownloadRequest;
//!
//! # async fn run() -> Result<(), feishu_drive::Error> {
//! let client = Client::builder("https://open.feishu.cn")
//!     .app_credentials("cli_a1b2c3", "app-secret")
//!     .build()?;
//! // Into a directory, under the name the server gives (Content-Disposition, `filename*` decoded).
//! let outcome = client
//!     .download_media(DownloadRequest::into_dir("boxcnrHpsg1QDqXAAAyachabcef", "downloads"))
//!     .await?;
//! println!("{} bytes of {:?} in {}", outcome.size, outcome.media_type, outcome.path.display());
//! # Ok(()) }
//! ```
//!
//! How it works:
//!
//! - The bytes go to a temporary file next to the destination (`.<name>.<file token>.part`, in
//!   the same directory so the final rename is atomic). At the end the file is synced and
//!   renamed; the final name only ever holds a complete, checked file.
//! - Requests ask for `Range: bytes=<offset>-<offset + range_size - 1>` (32 MiB by default), so
//!   a dropped connection costs at most what was in flight: the next request starts where the
//!   file ends. A partial file left by an earlier run is resumed the same way (turn it off with
//!   [`DownloadRequest::resume`]). A server that ignores `Range` and answers 200 with the whole
//!   media is handled: the file starts over from that response.
//! - Checks: every 206 starts where it was asked to and states the same total size
//!   (`Content-Range`); a body is exactly as long as its `Content-Range` / `Content-Length`
//!   says; the finished file is as long as the media; the media type stays the same from range
//!   to range and, if asked, is the expected one. A `Content-Type: application/json` answer
//!   with a non-zero `code` is a Feishu failure, whatever its status (1061045 comes with 200,
//!   1062004 with 202), never file bytes.
//! - Retries follow [`RetryPolicy`] and [`ApiError::is_retryable`], the uploader's rules; the
//!   backoff starts afresh whenever an attempt wrote bytes. The client-side rate limit is the
//!   documented 5 requests per second of `download` by default.

mod disposition;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderMap};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub use disposition::{file_name_from_content_disposition, safe_file_name};

use crate::budget::QuotaExceeded;
use crate::retry::{Attempted, Retry};
use crate::upload::RetryPolicy;
use crate::{ApiError, Client, types};

/// The bytes asked for per request by default: 32 MiB, a few seconds on a slow link.
pub const DEFAULT_RANGE_SIZE: u64 = 32 * 1024 * 1024;

/// The largest `application/json` body read to decide whether it is a Feishu failure envelope;
/// a larger one is a JSON media.
const ENVELOPE_MAX_BYTES: usize = 64 * 1024;

/// Downloads media to files, for [`Client::download_media`]: the client's budget, retry policy
/// and range size.
#[derive(Debug)]
pub(crate) struct Downloader {
    client: Client,
    policy: RetryPolicy,
    range_size: Option<u64>,
}

impl Client {
    /// Downloads one media (`drive/v1/medias/{file_token}/download`) to a file: in ranges of the
    /// client's range size, each request through the client's budget and retry policy, resumable
    /// from a partial file, verified against the size the server declared.
    pub async fn download_media(&self, request: DownloadRequest) -> Result<DownloadOutcome, DownloadError> {
        Downloader::of(self).download(request).await
    }
}

/// One download: which media, where to, and how.
pub struct DownloadRequest {
    file_token: String,
    destination: Destination,
    family: crate::upload::Family,
    version: Option<String>,
    extra: Option<String>,
    expect_media_type: Option<String>,
    resume: bool,
    progress: Option<DownloadProgressFn>,
    cancel: Option<CancellationToken>,
}

#[derive(Debug, Clone)]
enum Destination {
    File(PathBuf),
    Dir(PathBuf),
}

impl std::fmt::Debug for DownloadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadRequest")
            .field("file_token", &self.file_token)
            .field("destination", &self.destination)
            .field("expect_media_type", &self.expect_media_type)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

impl DownloadRequest {
    /// Download the media `file_token` to the file `path` (replaced if it exists).
    pub fn to_file(file_token: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self::new(file_token.into(), Destination::File(path.into()))
    }

    /// Download the media `file_token` into the directory `dir`, under the file name the server
    /// sends in `Content-Disposition` (made safe with [`safe_file_name`]; the file token when
    /// there is none).
    pub fn into_dir(file_token: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        Self::new(file_token.into(), Destination::Dir(dir.into()))
    }

    fn new(file_token: String, destination: Destination) -> Self {
        Self {
            file_token,
            destination,
            family: crate::upload::Family::Media,
            version: None,
            extra: None,
            expect_media_type: None,
            resume: true,
            progress: None,
            cancel: None,
        }
    }

    /// Which family the token belongs to: [`Family::Media`](crate::upload::Family::Media) (the
    /// default: `drive/v1/medias/{token}/download`) or
    /// [`Family::Files`](crate::upload::Family::Files) (a Drive file:
    /// `drive/v1/files/{token}/download`).
    pub fn family(mut self, family: crate::upload::Family) -> Self {
        self.family = family;
        self
    }

    /// A Drive file's version to read (files family; the newest by default).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The `extra` query parameter (JSON text), needed for media in some documents.
    pub fn extra(mut self, extra: impl Into<String>) -> Self {
        self.extra = Some(extra.into());
        self
    }

    /// Fail with [`DownloadError::UnexpectedMediaType`] unless the media has this type
    /// (compared without parameters, case-insensitively: `image/png`).
    pub fn expect_media_type(mut self, media_type: impl Into<String>) -> Self {
        self.expect_media_type = Some(media_type.into());
        self
    }

    /// Whether to continue a partial file left by an earlier run (default `true`); `false`
    /// starts from the first byte.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Receive [`DownloadEvent`]s as the download advances.
    pub fn progress(mut self, progress: impl Fn(&DownloadEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Stop when this token is cancelled ([`DownloadError::Cancelled`]); the partial file stays,
    /// under its temporary name, for a later run to resume.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// What just happened in a download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadEvent {
    /// The first response arrived: the media's size, if the server said, and the bytes an
    /// earlier run had already written.
    Started {
        /// The media's size in bytes, if known.
        total_bytes: Option<u64>,
        /// Bytes kept from a partial file.
        resumed_bytes: u64,
    },
    /// Bytes were written to the file.
    Received {
        /// Bytes in the file so far, resumed ones included.
        written_bytes: u64,
        /// The media's size in bytes, if known.
        total_bytes: Option<u64>,
    },
    /// A request failed with a retryable error and is sent again after `delay`.
    Retrying {
        /// The error, as text (it never contains a token).
        error: String,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// The file starts over from the first byte.
    Restarted {
        /// Why.
        reason: String,
    },
    /// The file is complete, checked, and under its final name.
    Finished {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
}

/// A download progress callback. It runs on the download's task, so it should return quickly.
pub type DownloadProgressFn = Arc<dyn Fn(&DownloadEvent) + Send + Sync>;

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOutcome {
    /// Where the file is.
    pub path: PathBuf,
    /// The file name the server sent (`Content-Disposition`, `filename*` decoded), as sent.
    pub file_name: Option<String>,
    /// The media's type (`Content-Type`), as sent.
    pub media_type: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// Bytes kept from a partial file of an earlier run.
    pub resumed_bytes: u64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests that failed and were sent again.
    pub retries: u64,
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// Feishu answered with an error (a non-zero `code`, whatever the status), or the request
    /// failed, and retrying did not help (or could not).
    #[error("download of {file_token}: {source}")]
    Api {
        /// The media's token.
        file_token: String,
        /// The last error.
        #[source]
        source: ApiError,
    },
    /// The daily quota of the `download` group is used up (counted by the budget, or answered
    /// by the server); retrying before `resets_at` cannot succeed.
    #[error(transparent)]
    QuotaExceeded(QuotaExceeded),
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// The destination cannot be used.
    #[error("destination {path}: {reason}")]
    Destination {
        /// The destination.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A response said one length and carried another, or the file ended at another size than
    /// the media's.
    #[error("length mismatch: expected {expected} bytes, got {actual} ({what})")]
    LengthMismatch {
        /// What was measured.
        what: &'static str,
        /// The length announced.
        expected: u64,
        /// The length received.
        actual: u64,
    },
    /// A 206 without a usable `Content-Range`, or one for another range than asked.
    #[error("bad Content-Range {value:?}: {reason}")]
    BadContentRange {
        /// The header's value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The media's size changed between two responses.
    #[error("the media's size changed from {before} to {after} bytes during the download")]
    SizeChanged {
        /// The size first announced.
        before: u64,
        /// The size announced later.
        after: u64,
    },
    /// The media's type changed between two responses.
    #[error("the media's type changed from {before:?} to {after:?} during the download")]
    MediaTypeChanged {
        /// The first type.
        before: String,
        /// The later type.
        after: String,
    },
    /// The media is not of the type the request expected.
    #[error("the media is {actual:?}, not {expected:?}")]
    UnexpectedMediaType {
        /// The type asked for.
        expected: String,
        /// The type sent.
        actual: String,
    },
    /// The download was cancelled; the partial file stays under its temporary name.
    #[error("the download was cancelled")]
    Cancelled,
}

impl DownloadError {
    /// The failed request's error, when one request's answer is the reason.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            DownloadError::Api { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Downloader {
    fn of(client: &Client) -> Self {
        let context = &client.inner;
        Downloader {
            client: client.clone(),
            policy: context.policy,
            range_size: context.transfer.range_size,
        }
    }

    /// Downloads one media to a file.
    pub async fn download(&self, request: DownloadRequest) -> Result<DownloadOutcome, DownloadError> {
        match request.cancel.clone() {
            Some(token) => tokio::select! {
                biased;
                () = token.cancelled() => Err(DownloadError::Cancelled),
                result = self.run(request) => result,
            },
            None => self.run(request).await,
        }
    }

    async fn run(&self, request: DownloadRequest) -> Result<DownloadOutcome, DownloadError> {
        let (dir, final_name) = match &request.destination {
            Destination::File(path) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| DownloadError::Destination {
                        path: path.clone(),
                        reason: "not a file path".to_owned(),
                    })?;
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                (dir, Some(name))
            }
            Destination::Dir(dir) => (dir.clone(), None),
        };
        if !dir.is_dir() {
            return Err(DownloadError::Destination {
                path: dir,
                reason: "no such directory".to_owned(),
            });
        }
        let token_part = safe_file_name(&request.file_token).unwrap_or_else(|| "media".to_owned());
        let temp_path = dir.join(format!(
            ".{}.{token_part}.part",
            final_name.as_deref().unwrap_or("download")
        ));
        let mut state = State::open(&temp_path, request.resume).await?;
        let resumed_bytes = state.written;
        let mut run = Run {
            downloader: self,
            request: &request,
            state: &mut state,
            requests: 0,
            retries: 0,
            started: false,
            resumed_bytes,
        };
        run.fetch_all().await?;
        let Run {
            requests, retries, ..
        } = run;

        // Complete and checked: make it durable, then give it its final name.
        state.finish().await?;
        let name = match final_name {
            Some(name) => name,
            None => state
                .file_name
                .as_deref()
                .and_then(safe_file_name)
                .unwrap_or_else(|| token_part.clone()),
        };
        let path = dir.join(&name);
        tokio::fs::rename(&temp_path, &path)
            .await
            .map_err(|source| DownloadError::Io {
                path: path.clone(),
                source,
            })?;
        sync_dir(&dir).await;
        emit(
            &request,
            DownloadEvent::Finished {
                path: path.clone(),
                size: state.written,
            },
        );
        Ok(DownloadOutcome {
            path,
            file_name: state.file_name.clone(),
            media_type: state.media_type.clone(),
            size: state.written,
            resumed_bytes,
            requests,
            retries,
        })
    }
}

/// The temporary file and what the responses so far said about the media.
struct State {
    path: PathBuf,
    file: tokio::fs::File,
    written: u64,
    total: Option<u64>,
    media_type: Option<String>,
    file_name: Option<String>,
}

impl State {
    async fn open(path: &Path, resume: bool) -> Result<State, DownloadError> {
        let io = |source| DownloadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .await
            .map_err(io)?;
        let written = if resume {
            file.metadata().await.map_err(io)?.len()
        } else {
            file.set_len(0).await.map_err(io)?;
            0
        };
        file.seek(std::io::SeekFrom::Start(written)).await.map_err(io)?;
        Ok(State {
            path: path.to_path_buf(),
            file,
            written,
            total: None,
            media_type: None,
            file_name: None,
        })
    }

    fn io(&self, source: std::io::Error) -> DownloadError {
        DownloadError::Io {
            path: self.path.clone(),
            source,
        }
    }

    async fn restart(&mut self) -> Result<(), DownloadError> {
        self.file.set_len(0).await.map_err(|e| self.io(e))?;
        self.file
            .seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(|e| self.io(e))?;
        self.written = 0;
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), DownloadError> {
        self.file.write_all(chunk).await.map_err(|e| self.io(e))?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), DownloadError> {
        self.file.flush().await.map_err(|e| self.io(e))?;
        self.file.sync_all().await.map_err(|e| self.io(e))?;
        let len = self.file.metadata().await.map_err(|e| self.io(e))?.len();
        if len != self.written {
            return Err(DownloadError::LengthMismatch {
                what: "file on disk",
                expected: self.written,
                actual: len,
            });
        }
        Ok(())
    }
}

/// Makes a rename durable (on Unix a directory can be opened and synced; elsewhere this is a
/// no-op, and failures are not fatal: the file itself is synced).
async fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn emit(request: &DownloadRequest, event: DownloadEvent) {
    if let Some(progress) = &request.progress {
        progress(&event);
    }
}

/// The `type/subtype` of a media type, lower-case, without parameters.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    essence == "application/json" || essence == "text/json"
}

/// `bytes <first>-<last>/<size>` (RFC 9110 14.4); the size may be `*` (unknown).
fn parse_content_range(value: &str) -> Result<(u64, u64, Option<u64>), String> {
    let rest = value
        .trim()
        .strip_prefix("bytes ")
        .ok_or("the unit is not `bytes`")?;
    let (range, size) = rest.split_once('/').ok_or("no `/size`")?;
    let (first, last) = range.split_once('-').ok_or("no `first-last`")?;
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a number"))
    };
    let (first, last) = (number(first)?, number(last)?);
    if last < first {
        return Err("the last byte comes before the first".to_owned());
    }
    let size = match size.trim() {
        "*" => None,
        s => Some(number(s)?),
    };
    if size.is_some_and(|size| last >= size) {
        return Err("the range ends past the size".to_owned());
    }
    Ok((first, last, size))
}

/// One call of [`Downloader::download`].
struct Run<'a> {
    downloader: &'a Downloader,
    request: &'a DownloadRequest,
    state: &'a mut State,
    requests: u64,
    retries: u64,
    started: bool,
    resumed_bytes: u64,
}

/// How one attempt ended, when it did not fail.
enum Step {
    /// Bytes were written; ask for the next range.
    Progress,
    /// The media is complete.
    Done,
}

/// Why one attempt failed.
enum Failure {
    /// Possibly worth retrying (the policy decides); `wrote` says whether bytes were written.
    Api { error: ApiError, wrote: bool },
    /// Not worth retrying.
    Fatal(DownloadError),
}

impl From<DownloadError> for Failure {
    fn from(error: DownloadError) -> Self {
        Failure::Fatal(error)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Api { error, .. } => error.fmt(f),
            Failure::Fatal(error) => error.fmt(f),
        }
    }
}

impl Attempted for Failure {
    fn api_error(&self) -> Option<&ApiError> {
        match self {
            Failure::Api { error, .. } => Some(error),
            Failure::Fatal(_) => None,
        }
    }

    fn made_progress(&self) -> bool {
        matches!(self, Failure::Api { wrote: true, .. })
    }
}

impl Run<'_> {
    /// Fetches range after range; each range's failures go through the one retry loop's
    /// decisions ([`crate::retry`]), and a range that brought bytes starts the backoff over.
    async fn fetch_all(&mut self) -> Result<(), DownloadError> {
        let retry = Retry {
            policy: self.downloader.policy,
            tokens: self.downloader.client.inner.token_source(),
            retry_ambiguous: true,
        };
        let mut retrying = retry.start();
        loop {
            let failure = match self.attempt().await {
                Ok(Step::Done) => return Ok(()),
                Ok(Step::Progress) => {
                    retrying = retry.start();
                    continue;
                }
                Err(failure) => failure,
            };
            let Some(delay) = retrying.decide(&failure).await else {
                return Err(match failure {
                    Failure::Fatal(error) => error,
                    Failure::Api {
                        error: ApiError::QuotaExceeded(quota),
                        ..
                    } => DownloadError::QuotaExceeded(quota),
                    Failure::Api { error, .. } => DownloadError::Api {
                        file_token: self.request.file_token.clone(),
                        source: error,
                    },
                });
            };
            self.retries += 1;
            emit(
                self.request,
                DownloadEvent::Retrying {
                    error: failure.to_string(),
                    delay,
                },
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Asks the request's family for `range` of the file.
    async fn send(
        &self,
        range: String,
    ) -> Result<
        progenitor_client::ResponseValue<progenitor_client::ByteStream>,
        progenitor_client::Error<types::ErrorEnvelope>,
    > {
        let client = &self.downloader.client;
        let token = self.request.file_token.as_str();
        match self.request.family {
            crate::upload::Family::Media => {
                let mut builder = client.download().file_token(token).range(range);
                if let Some(extra) = &self.request.extra {
                    builder = builder.extra(extra.clone());
                }
                builder.send().await
            }
            crate::upload::Family::Files => {
                let mut builder = client.file_download().file_token(token).range(range);
                if let Some(version) = &self.request.version {
                    builder = builder.version(version.clone());
                }
                builder.send().await
            }
        }
    }

    /// Sends one request for the next range and writes what it brings.
    async fn attempt(&mut self) -> Result<Step, Failure> {
        let offset = self.state.written;
        if self.state.total == Some(offset) {
            return Ok(Step::Done);
        }
        let range = match self.downloader.range_size {
            Some(size) => format!("bytes={offset}-{}", offset.saturating_add(size - 1)),
            None => format!("bytes={offset}-"),
        };
        self.requests += 1;
        let response = self.send(range).await.map_err(|e| Failure::Api {
            error: ApiError::from(e),
            wrote: false,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let media_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = response.into_inner_stream();

        if media_type.as_deref().is_some_and(is_json) || status == StatusCode::ACCEPTED {
            // A Feishu envelope with a non-zero code is a failure, whatever the status. A JSON
            // body that is not one is the media itself (a .json file), unless it came with 202.
            let mut buffered = Vec::new();
            while buffered.len() <= ENVELOPE_MAX_BYTES {
                match body.next().await {
                    Some(Ok(chunk)) => buffered.extend_from_slice(&chunk),
                    Some(Err(e)) => {
                        return Err(Failure::Api {
                            error: ApiError::Transport(e),
                            wrote: false,
                        });
                    }
                    None => break,
                }
            }
            if let Some(error) = envelope_error(&buffered, status, &headers) {
                return Err(Failure::Api { error, wrote: false });
            }
            if status == StatusCode::ACCEPTED {
                return Err(Failure::Api {
                    error: ApiError::InvalidResponse(format!(
                        "download answered 202 without a failure envelope: {}",
                        String::from_utf8_lossy(&buffered[..buffered.len().min(200)])
                    )),
                    wrote: false,
                });
            }
            let first = futures::stream::iter([Ok(bytes::Bytes::from(buffered))]);
            return self
                .write_body(status, &headers, media_type, first.chain(body).boxed(), offset)
                .await;
        }
        self.write_body(status, &headers, media_type, body, offset).await
    }

    async fn write_body(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        media_type: Option<String>,
        mut body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        offset: u64,
    ) -> Result<Step, Failure> {
        // Where this body starts, how long it is, and the media's size.
        let (start, length, total) = match status {
            StatusCode::PARTIAL_CONTENT => {
                let value = headers
                    .get(CONTENT_RANGE)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default();
                let bad = |reason: String| {
                    Failure::Fatal(DownloadError::BadContentRange {
                        value: value.clone(),
                        reason,
                    })
                };
                let (first, last, size) = parse_content_range(&value).map_err(bad)?;
                if first != offset {
                    return Err(bad(format!("asked for bytes from {offset}, got from {first}")));
                }
                (first, Some(last - first + 1), size)
            }
            StatusCode::OK => {
                let length = headers
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                (0, length, length)
            }
            other => {
                return Err(Failure::Fatal(DownloadError::Api {
                    file_token: self.request.file_token.clone(),
                    source: ApiError::InvalidResponse(format!("download answered HTTP {other} with a body")),
                }));
            }
        };
        self.check_media(media_type)?;
        if let (Some(before), Some(after)) = (self.state.total, total)
            && before != after
        {
            return Err(DownloadError::SizeChanged { before, after }.into());
        }
        if let Some(total) = total {
            self.state.total = Some(total);
            if self.state.written > total {
                // A partial file longer than the media: it belongs to something else.
                self.state.restart().await?;
                emit(
                    self.request,
                    DownloadEvent::Restarted {
                        reason: format!("the partial file is longer than the media's {total} bytes"),
                    },
                );
                return Ok(Step::Progress);
            }
        }
        if self.state.file_name.is_none() {
            self.state.file_name = headers
                .get(CONTENT_DISPOSITION)
                .and_then(|v| file_name_from_content_disposition(v.as_bytes()));
        }
        if start == 0 && offset > 0 {
            // The server sent the whole media, not the range: start the file over.
            self.state.restart().await?;
            emit(
                self.request,
                DownloadEvent::Restarted {
                    reason: "the server ignored the Range header and sent the whole media".to_owned(),
                },
            );
        }
        if !self.started {
            self.started = true;
            emit(
                self.request,
                DownloadEvent::Started {
                    total_bytes: self.state.total,
                    resumed_bytes: self.resumed_bytes.min(self.state.written),
                },
            );
        }

        let mut received = 0_u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    // Keep what arrived; the next request resumes after it.
                    return Err(Failure::Api {
                        error: ApiError::Transport(e),
                        wrote: received > 0,
                    });
                }
            };
            received += chunk.len() as u64;
            if let Some(length) = length
                && received > length
            {
                return Err(DownloadError::LengthMismatch {
                    what: "response body longer than announced",
                    expected: length,
                    actual: received,
                }
                .into());
            }
            self.state.write(&chunk).await?;
            emit(
                self.request,
                DownloadEvent::Received {
                    written_bytes: self.state.written,
                    total_bytes: self.state.total,
                },
            );
        }
        if let Some(length) = length
            && received < length
        {
            // The body ended early without an error: resume after what arrived, if anything did.
            if received > 0 {
                return Ok(Step::Progress);
            }
            return Err(DownloadError::LengthMismatch {
                what: "response body shorter than announced",
                expected: length,
                actual: received,
            }
            .into());
        }
        match self.state.total {
            Some(total) if self.state.written == total => Ok(Step::Done),
            Some(_) => Ok(Step::Progress),
            // A range of a media of unknown size (`bytes a-b/*`): a full range may be followed by
            // more; anything else (a short range, a 200 without Content-Length) ends the media.
            None if status == StatusCode::PARTIAL_CONTENT
                && self.downloader.range_size.is_some_and(|size| received >= size) =>
            {
                Ok(Step::Progress)
            }
            None => Ok(Step::Done),
        }
    }

    fn check_media(&mut self, media_type: Option<String>) -> Result<(), DownloadError> {
        let Some(media_type) = media_type else {
            return Ok(());
        };
        if let Some(expected) = &self.request.expect_media_type
            && essence(expected) != essence(&media_type)
        {
            return Err(DownloadError::UnexpectedMediaType {
                expected: expected.clone(),
                actual: media_type,
            });
        }
        match &self.state.media_type {
            Some(before) if essence(before) != essence(&media_type) => Err(DownloadError::MediaTypeChanged {
                before: before.clone(),
                after: media_type,
            }),
            Some(_) => Ok(()),
            None => {
                self.state.media_type = Some(media_type);
                Ok(())
            }
        }
    }
}

/// The failure a JSON body states, if it is a Feishu envelope with a non-zero `code`; it becomes
/// an [`ApiError`] the same way an error status does (code, message, diagnostics, reset header).
fn envelope_error(body: &[u8], status: StatusCode, headers: &HeaderMap) -> Option<ApiError> {
    let envelope: types::ErrorEnvelope = serde_json::from_slice(body).ok()?;
    if envelope.code == 0 {
        return None;
    }
    let response = progenitor_client::ResponseValue::new(envelope, status, headers.clone());
    Some(ApiError::from(progenitor_client::Error::ErrorResponse(response)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn content_ranges_parse_per_rfc_9110() {
        assert_eq!(parse_content_range("bytes 0-499/1234"), Ok((0, 499, Some(1234))));
        assert_eq!(parse_content_range("bytes 500-999/*"), Ok((500, 999, None)));
        assert_eq!(
            parse_content_range("bytes 1233-1233/1234"),
            Ok((1233, 1233, Some(1234)))
        );
        for bad in [
            "",
            "bytes */1234",
            "items 0-1/2",
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes a-b/c",
            "bytes 0-1",
        ] {
            assert!(parse_content_range(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn media_types_compare_by_essence() {
        assert_eq!(essence("Image/PNG; charset=binary"), "image/png");
        assert!(is_json("application/json; charset=utf-8"));
        assert!(!is_json("application/octet-stream"));
    }

    #[test]
    fn an_envelope_with_a_code_is_an_error_and_a_json_media_is_not() {
        let headers = HeaderMap::new();
        let error = envelope_error(
            br#"{"code":1061045,"msg":"can retry.","data":{}}"#,
            StatusCode::OK,
            &headers,
        )
        .expect("an envelope with a non-zero code is an error");
        assert_eq!(error.code(), Some(ErrorCode::CanRetry));
        assert!(error.is_retryable());
        assert!(envelope_error(br#"{"code":0,"msg":"ok"}"#, StatusCode::OK, &headers).is_none());
        assert!(envelope_error(br#"{"name":"a media that is JSON"}"#, StatusCode::OK, &headers).is_none());
        assert!(envelope_error(b"[1,2,3]", StatusCode::OK, &headers).is_none());
    }
}
