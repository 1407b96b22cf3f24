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
mod media;
mod partial;
mod request;

use std::path::PathBuf;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderMap};

pub use disposition::{file_name_from_content_disposition, safe_file_name};
use media::{Span, body_span, essence, is_json};
use partial::{State, sync_dir, take_name};
use request::Destination;
pub use request::{DownloadError, DownloadEvent, DownloadOutcome, DownloadProgressFn, DownloadRequest};

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
        let (dir, final_name) = destination(&request)?;
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
        let fetched = run.fetch_all().await;
        let Run {
            requests, retries, ..
        } = run;
        if let Err(error) = fetched {
            // Nothing written (a token that does not exist, say): no partial file to resume
            // from is worth leaving behind.
            if state.written == 0 {
                let _ = tokio::fs::remove_file(&temp_path).await;
            }
            return Err(error);
        }

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
        take_name(&temp_path, &path, request.replace).await?;
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

/// The directory the download goes into and, for a file path, its final name; refused before
/// anything is sent when the directory is missing, or the file is there and must be kept.
fn destination(request: &DownloadRequest) -> Result<(PathBuf, Option<String>), DownloadError> {
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
    if let Some(name) = final_name.as_deref().filter(|_| !request.replace)
        && dir.join(name).exists()
    {
        return Err(DownloadError::Exists { path: dir.join(name) });
    }
    Ok((dir, final_name))
}

fn emit(request: &DownloadRequest, event: DownloadEvent) {
    if let Some(progress) = &request.progress {
        progress(&event);
    }
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
        let response = match self.send(range).await.map_err(ApiError::from) {
            Ok(response) => response,
            // No range of an empty media is satisfiable (RFC 9110 §14.1.1), so a 416 for the
            // bytes from 0 says the media is empty: done, with nothing to write.
            Err(ApiError::Http { status, .. })
                if offset == 0 && status == StatusCode::RANGE_NOT_SATISFIABLE =>
            {
                self.state.total = Some(0);
                return Ok(Step::Done);
            }
            Err(error) => return Err(Failure::Api { error, wrote: false }),
        };
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
        body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        offset: u64,
    ) -> Result<Step, Failure> {
        let Some(Span { start, length, total }) = body_span(status, headers, offset)? else {
            return Err(Failure::Fatal(DownloadError::Api {
                file_token: self.request.file_token.clone(),
                source: ApiError::InvalidResponse(format!("download answered HTTP {status} with a body")),
            }));
        };
        if let Some(step) = self
            .accept_body(headers, media_type, start, total, offset)
            .await?
        {
            return Ok(step);
        }
        let received = self.receive(body, length).await?;
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

    /// Checks a body before its first byte is written: its media type and size, and whether the
    /// partial file can continue (a `Some` step ends this request without reading the body).
    async fn accept_body(
        &mut self,
        headers: &HeaderMap,
        media_type: Option<String>,
        start: u64,
        total: Option<u64>,
        offset: u64,
    ) -> Result<Option<Step>, Failure> {
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
                return Ok(Some(Step::Progress));
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
        Ok(None)
    }

    /// Writes the body to the partial file as it arrives; returns how many bytes came.
    async fn receive(
        &mut self,
        mut body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        length: Option<u64>,
    ) -> Result<u64, Failure> {
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
        Ok(received)
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
mod tests;
