//! The seam between the generated client and this crate: one `ClientHooks` implementation adds
//! the access token to every request, traces it, enforces the stall timeout, and makes sure no
//! failure reaches the caller as a success or loses its status.
//!
//! What the hooks recognise, and how it reaches the caller:
//!
//! | response | progenitor alone | with these hooks |
//! | --- | --- | --- |
//! | documented status (400, 401, 403, 404, 429, 500) with a Feishu envelope | `ErrorResponse` | `ErrorResponse`, the envelope's `error` object kept in a private header |
//! | any other status with a Feishu envelope (202, 503…) | `UnexpectedResponse`, code lost | `Custom` → [`ApiError::Api`](crate::ApiError::Api) |
//! | 2xx with a non-zero `code` (any operation, `download` too) | `Ok` | `Custom` → `ApiError::Api` |
//! | failure status with a body that is not a Feishu envelope (HTML, empty, text) | `InvalidResponsePayload`, status lost | `Custom` → [`ApiError::Http`](crate::ApiError::Http) |
//! | no bytes moved for the stall timeout | hangs, or progenitor's 15 s cap | `Custom` → [`ApiError::Stalled`](crate::ApiError::Stalled) |
//! | no token could be had | `Custom(text)` | `Custom` → [`ApiError::Auth`](crate::ApiError::Auth) |
//!
//! `Custom` is the one variant a hook (generic over the error type) can build; its text is the
//! failure as JSON, which `ApiError::from` reads back.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, Error, OperationInfo};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use tracing::Instrument;

use crate::error::{
    Carried, CarriedKind, Diagnostics, ERROR_DETAIL_HEADER, LOG_ID_HEADER, header_text, retry_after, snippet,
};
use crate::operations::OperationId;
use crate::{Client, ClientContext};

/// Bodies of JSON answers are read whole by the hooks; past this size the rest is not read.
const MAX_JSON_BODY: usize = 8 * 1024 * 1024;

/// Data frames of a request body are handed to the connection in slices of at most this size,
/// so progress (and so a stall) is seen at this granularity, not per 4 MiB block.
const SEND_SLICE: usize = 64 * 1024;

/// The failure the hooks found in a response, for `post` to return.
#[derive(Debug, Clone)]
struct CarriedFailure(String);

impl ClientHooks<ClientContext> for Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, _info: &OperationInfo) -> Result<(), Error<E>> {
        let Some(source) = self.inner.token_source() else {
            return Ok(());
        };
        let token = source
            .token()
            .await
            .map_err(|e| Error::Custom(Carried::new(CarriedKind::Auth((&e).into())).to_text()))?;
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| Error::InvalidRequest("the access token is not a valid header value".to_owned()))?;
        // Marks the header sensitive, so reqwest and hyper never print it.
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        match result {
            Ok(response) => match response.extensions().get::<CarriedFailure>() {
                Some(CarriedFailure(text)) => Err(Error::Custom(text.clone())),
                None => Ok(()),
            },
            Err(_) => Ok(()),
        }
    }

    async fn exec(
        &self,
        mut request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "feishu_request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
        );
        let stall = self.inner.stall_timeout();
        let operation = info.operation_id;
        async move {
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
                        "sending the request"
                    };
                    tracing::debug!(phase, ?stall, "stalled");
                    return Ok(stalled(operation, stall, phase));
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
        .instrument(span)
        .await
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
            () = tokio::time::sleep_until(deadline.into()) => {
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

/// A response standing for a stall; `post` turns it into the error before anyone sees it.
fn stalled(operation: &str, stall: Duration, phase: &str) -> reqwest::Response {
    let kind = CarriedKind::Stalled {
        operation: operation.to_owned(),
        stalled_ms: u64::try_from(stall.as_millis()).unwrap_or(u64::MAX),
        phase: phase.to_owned(),
    };
    carried(StatusCode::REQUEST_TIMEOUT, HeaderMap::new(), Bytes::new(), kind)
}

fn carried(status: StatusCode, headers: HeaderMap, body: Bytes, kind: CarriedKind) -> reqwest::Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
        .extensions_mut()
        .insert(CarriedFailure(Carried::new(kind).to_text()));
    reqwest::Response::from(response)
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
async fn inspect(
    operation: &str,
    response: reqwest::Response,
    stall: Duration,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let streamed = OperationId::from_name(operation).is_some_and(OperationId::has_media_success)
        && status.is_success()
        && !is_json(response.headers());
    if streamed {
        return Ok(with_stall_on_read(response, stall, operation));
    }
    let version = response.version();
    let mut headers = response.headers().clone();
    let body = match read_body(response, stall).await {
        Ok(body) => body?,
        Err(()) => return Ok(stalled(operation, stall, "receiving the response")),
    };
    let envelope = envelope(&body);
    let kind = match &envelope {
        Some(env) if env.code != 0 => {
            if !status.is_success() && documented_error_status(operation, status) {
                // progenitor parses it as `ErrorResponse`; keep the `error` object for ApiError.
                if let Some(detail) = env.error.as_ref().and_then(ascii_json)
                    && let Ok(value) = HeaderValue::from_str(&detail)
                {
                    headers.insert(ERROR_DETAIL_HEADER, value);
                }
                None
            } else {
                Some(CarriedKind::Api {
                    code: env.code,
                    msg: env.msg.clone(),
                    status: status.as_u16(),
                    retry_after_ms: millis(retry_after(&headers)),
                    diagnostics: Diagnostics::from_parts(env.error.as_ref(), &headers),
                })
            }
        }
        Some(_) => None,
        None if !status.is_success() => Some(CarriedKind::Http {
            status: status.as_u16(),
            content_type: header_text(&headers, CONTENT_TYPE.as_str()),
            body: snippet(&body),
            retry_after_ms: millis(retry_after(&headers)),
            log_id: header_text(&headers, LOG_ID_HEADER),
        }),
        None => None,
    };
    if let Some(kind) = kind {
        tracing::debug!(
            status = status.as_u16(),
            "a failure the generated code would mishandle"
        );
        return Ok(carried(status, headers, body, kind));
    }
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

/// The failure statuses the spec documents for the operation, with the error envelope (progenitor
/// parses those as `ErrorResponse`; any other reaches `ApiError` through the hooks).
fn documented_error_status(operation: &str, status: StatusCode) -> bool {
    OperationId::from_name(operation).is_some_and(|op| op.error_statuses().contains(&status.as_u16()))
}

fn millis(duration: Option<Duration>) -> Option<u64> {
    duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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

/// JSON text with every non-ASCII character escaped, so it fits in a header value.
fn ascii_json(value: &serde_json::Value) -> Option<String> {
    let text = serde_json::to_string(value).ok()?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Some(out)
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
