//! The seam between the generated client and this crate: one `ClientHooks` implementation is
//! the one request path of every operation. For each attempt it adds the access token, takes a
//! budget [`Permit`](crate::budget::Permit) for the operation's rate group, sends under the stall
//! timeout, recognises every failure once, reports the answer to the budget, and makes sure no
//! failure reaches the caller as a success or loses its status.
//!
//! What the hooks recognise, and how it reaches the caller:
//!
//! | response | progenitor alone | with these hooks |
//! | --- | --- | --- |
//! | any status with a Feishu envelope whose `code` is not 0 (400, 202, 200, 503…) | `ErrorResponse`, `UnexpectedResponse` (code lost) or `Ok` | [`ApiError::Api`](crate::ApiError::Api), with the envelope's `error` object |
//! | failure status with a body that is not a Feishu envelope (HTML, empty, text) | `InvalidResponsePayload`, status lost | [`ApiError::Http`](crate::ApiError::Http) |
//! | no bytes moved for the stall timeout | hangs, or progenitor's 15 s cap | [`ApiError::Stalled`](crate::ApiError::Stalled) |
//! | no token could be had | — | [`ApiError::Auth`](crate::ApiError::Auth) |
//! | the budget's daily quota is used up | — | `ApiError::QuotaExceeded`, nothing sent |
//!
//! Each failure travels typed: `exec` answers with a response of status
//! [`FAILURE_STATUS`] (which no operation documents, so the generated code hands it back as
//! `Error::UnexpectedResponse` without parsing it) carrying the [`Carried`] failure in its
//! extensions, and `ApiError::from` takes it out.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
// tokio's `Instant` (the system clock unless a test pauses tokio's), like the timers it is
// compared with: the 30 s default stall timeout is then tested on a paused clock.
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::{
    Carried, Diagnostics, FAILURE_STATUS, LOG_ID_HEADER, PHASE_SENDING, header_text, retry_after, snippet,
};
use crate::operations::OperationId;
use crate::{Client, ClientContext};

/// Bodies of JSON answers are read whole by the hooks; past this size the rest is not read.
const MAX_JSON_BODY: usize = 8 * 1024 * 1024;

/// Data frames of a request body are handed to the connection in slices of at most this size,
/// so progress (and so a stall) is seen at this granularity, not per 4 MiB block.
const SEND_SLICE: usize = 64 * 1024;

impl ClientHooks<ClientContext> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "feishu_request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
        );
        let operation = OperationId::from_name(info.operation_id);
        async move {
            let mut request = request;
            if let Err(failure) = self.authorize(&mut request, operation).await {
                return Ok(failure.into_response());
            }
            #[cfg(feature = "upload")]
            let permit = match operation.and_then(OperationId::rate_group) {
                Some(group) => match self.inner.budget.acquire(group).await {
                    Ok(permit) => Some(permit),
                    Err(quota) => return Ok(Carried::Quota(quota).into_response()),
                },
                None => None,
            };
            let answer = self.send_watched(request, info.operation_id).await;
            #[cfg(feature = "upload")]
            let answer = match permit {
                Some(permit) => report(permit, answer).await,
                None => answer,
            };
            match answer {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(failure)) => Ok(failure.into_response()),
                Err(e) => Err(e),
            }
        }
        .instrument(span)
        .await
    }
}

/// What one attempt brought: a response for the generated code, a failure the hooks
/// recognised, or a transport error.
type Answer = reqwest::Result<Result<reqwest::Response, Carried>>;

/// Tells the budget what the server answered; a quota answer becomes the budget's typed
/// quota error.
#[cfg(feature = "upload")]
async fn report(permit: crate::budget::Permit, answer: Answer) -> Answer {
    match answer {
        Ok(Ok(response)) => {
            permit.succeeded().await;
            Ok(Ok(response))
        }
        Ok(Err(failure)) => match permit.failed(&crate::ApiError::from(failure.clone())).await {
            Some(quota) => Ok(Err(Carried::Quota(quota))),
            None => Ok(Err(failure)),
        },
        // A transport failure says nothing about the rate; the permit was spent all the same.
        Err(e) => {
            drop(permit);
            Err(e)
        }
    }
}

impl Client {
    /// Adds the `Authorization` header, unless the operation carries no token.
    async fn authorize(
        &self,
        request: &mut reqwest::Request,
        operation: Option<OperationId>,
    ) -> Result<(), Carried> {
        if operation.is_some_and(|op| !op.is_authenticated()) {
            return Ok(());
        }
        let Some(source) = self.inner.token_source() else {
            return Ok(());
        };
        let token = source.token().await.map_err(Carried::Auth)?;
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(|_| {
            Carried::Auth(crate::auth::AuthError::Unavailable {
                reason: "the access token is not a valid header value".to_owned(),
                code: None,
                retryable: false,
            })
        })?;
        // Marks the header sensitive, so reqwest and hyper never print it.
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// Sends under the stall timeout and recognises the answer.
    async fn send_watched(&self, mut request: reqwest::Request, operation: &str) -> Answer {
        let stall = self.inner.stall_timeout();
        let progress = Arc::new(Progress::new());
        if let Some(body) = request.body_mut().take() {
            *request.body_mut() = Some(reqwest::Body::wrap(ProgressBody::new(
                body,
                Arc::clone(&progress),
            )));
        }
        let response = match watch(self.client.execute(request), &progress, stall).await {
            Ok(response) => response,
            Err(()) => {
                let phase = if progress.sent_all.load(Ordering::Relaxed) {
                    "waiting for the response"
                } else {
                    PHASE_SENDING
                };
                tracing::debug!(phase, ?stall, "stalled");
                return Ok(Err(stalled(operation, stall, phase)));
            }
        };
        match &response {
            Ok(r) => tracing::debug!(
                status = r.status().as_u16(),
                log_id = header_text(r.headers(), LOG_ID_HEADER).as_deref().unwrap_or(""),
                "response"
            ),
            Err(e) => tracing::debug!(error = %e, "transport error"),
        }
        inspect(operation, response?, stall).await
    }
}

impl Carried {
    /// The response that stands for this failure (see the module docs).
    fn into_response(self) -> reqwest::Response {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() =
            StatusCode::from_u16(FAILURE_STATUS).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.extensions_mut().insert(self);
        reqwest::Response::from(response)
    }
}

/// When a byte last moved, and whether the request body was sent in full.
#[derive(Debug)]
struct Progress {
    start: Instant,
    last_nanos: AtomicU64,
    sent_all: AtomicBool,
}

impl Progress {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_nanos: AtomicU64::new(0),
            sent_all: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.store(nanos, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
    }
}

/// Runs `future` until it completes, or until nothing moved for `stall`.
async fn watch<F: Future>(future: F, progress: &Progress, stall: Duration) -> Result<F::Output, ()> {
    tokio::pin!(future);
    loop {
        let deadline = progress.last() + stall;
        tokio::select! {
            output = &mut future => return Ok(output),
            () = tokio::time::sleep_until(deadline) => {
                if progress.last() + stall <= Instant::now() {
                    return Err(());
                }
            }
        }
    }
}

/// A request body that reports each slice it hands to the connection. When the peer stops
/// reading, the connection stops asking for slices, and the stall shows.
struct ProgressBody {
    inner: Pin<Box<reqwest::Body>>,
    rest: Bytes,
    progress: Arc<Progress>,
}

impl ProgressBody {
    fn new(inner: reqwest::Body, progress: Arc<Progress>) -> Self {
        Self {
            inner: Box::pin(inner),
            rest: Bytes::new(),
            progress,
        }
    }

    fn slice(&mut self) -> Bytes {
        let n = self.rest.len().min(SEND_SLICE);
        self.progress.touch();
        self.rest.split_to(n)
    }
}

impl http_body::Body for ProgressBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, reqwest::Error>>> {
        if !self.rest.is_empty() {
            let slice = self.slice();
            return Poll::Ready(Some(Ok(http_body::Frame::data(slice))));
        }
        match self.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => {
                    self.rest = data;
                    let slice = self.slice();
                    Poll::Ready(Some(Ok(http_body::Frame::data(slice))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(None) => {
                self.progress.touch();
                self.progress.sent_all.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let inner = self.inner.size_hint();
        let rest = self.rest.len() as u64;
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(inner.lower() + rest);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + rest);
        }
        hint
    }
}

/// The failure of a request on which nothing moved for `stall`.
fn stalled(operation: &str, stall: Duration, phase: &str) -> Carried {
    Carried::Stalled {
        operation: operation.to_owned(),
        stalled_for: stall,
        phase: phase.to_owned(),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim_start().to_ascii_lowercase();
            v.starts_with("application/json") || v.starts_with("text/json")
        })
}

/// Looks at a response before the generated code does (see the module's table).
async fn inspect(operation: &str, response: reqwest::Response, stall: Duration) -> Answer {
    let status = response.status();
    let streamed = OperationId::from_name(operation).is_some_and(OperationId::has_media_success)
        && status.is_success()
        && !is_json(response.headers());
    if streamed {
        return Ok(Ok(with_stall_on_read(response, stall, operation)));
    }
    let version = response.version();
    let headers = response.headers().clone();
    let body = match read_body(response, stall).await {
        Ok(body) => body?,
        Err(()) => return Ok(Err(stalled(operation, stall, "receiving the response"))),
    };
    if let Some(failure) = failure(status, &headers, &body) {
        tracing::debug!(status = status.as_u16(), "failure");
        return Ok(Err(failure));
    }
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(Ok(reqwest::Response::from(rebuilt)))
}

/// The failure a whole (JSON or error) body stands for: a Feishu envelope with a non-zero
/// `code`, whatever the status, or a failure status without an envelope.
fn failure(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<Carried> {
    match envelope(body) {
        Some(env) if env.code != 0 => Some(Carried::Api {
            code: env.code.into(),
            msg: env.msg,
            status,
            retry_after: retry_after(headers),
            diagnostics: Box::new(Diagnostics::from_parts(env.error.as_ref(), headers)),
        }),
        Some(_) => None,
        None if !status.is_success() => Some(Carried::Http {
            status,
            content_type: header_text(headers, CONTENT_TYPE.as_str()),
            body: snippet(body),
            retry_after: retry_after(headers),
            log_id: header_text(headers, LOG_ID_HEADER),
        }),
        None => None,
    }
}

/// The fields of a Feishu envelope that matter for a failure.
struct Parsed {
    code: i64,
    msg: String,
    error: Option<serde_json::Value>,
}

/// A body is a Feishu envelope when it is a JSON object with an integer `code` and a string
/// `msg` (a downloaded JSON file rarely has both).
fn envelope(body: &[u8]) -> Option<Parsed> {
    let serde_json::Value::Object(mut map) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let code = map.get("code")?.as_i64()?;
    let msg = map.get("msg")?.as_str()?.to_owned();
    Some(Parsed {
        code,
        msg,
        error: map.remove("error"),
    })
}

/// Reads a (JSON) body whole, failing with `Err(())` when no chunk arrives for `stall`.
async fn read_body(mut response: reqwest::Response, stall: Duration) -> Result<reqwest::Result<Bytes>, ()> {
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(stall, response.chunk()).await {
            Err(_) => return Err(()),
            Ok(Err(e)) => return Ok(Err(e)),
            Ok(Ok(None)) => return Ok(Ok(Bytes::from(body))),
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_JSON_BODY {
                    return Ok(Ok(Bytes::from(body)));
                }
            }
        }
    }
}

/// An error in a streamed body: no chunk arrived for the stall timeout.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: no bytes arrived for {} s while receiving the body; the connection stalled", stall.as_secs_f64())]
pub struct BodyStalled {
    operation: String,
    stall: Duration,
}

/// A streamed (download) body whose reads fail after `stall` without a chunk.
fn with_stall_on_read(response: reqwest::Response, stall: Duration, operation: &str) -> reqwest::Response {
    use futures::StreamExt;
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let operation = operation.to_owned();
    let stream = futures::stream::unfold(Some(response.bytes_stream()), move |state| {
        let operation = operation.clone();
        async move {
            let mut stream = state?;
            match tokio::time::timeout(stall, stream.next()).await {
                Err(_) => Some((
                    Err(Box::new(BodyStalled { operation, stall })
                        as Box<dyn std::error::Error + Send + Sync>),
                    None,
                )),
                Ok(None) => None,
                Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
                Ok(Some(Err(e))) => {
                    Some((Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>), None))
                }
            }
        }
    });
    let mut rebuilt = http::Response::new(reqwest::Body::wrap_stream(stream));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    reqwest::Response::from(rebuilt)
}
