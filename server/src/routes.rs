//! The endpoints, with the real API's paths and envelopes.
//!
//! Every request first meets the front: it gets a log id (the `X-Tt-Logid` header of every
//! answer, and `error.log_id` of a failure envelope), and a [fault rule](crate::FaultRule) may
//! take it over there — a proxy's HTML page, a lost answer, a delay. Every media request then
//! passes the same gate, in the gateway's order: added latency, the bearer token
//! (99991661/99991663/99991668), the rate limit, the daily quota. Then an injected fault may
//! replace it, and only then is it read and checked. Bodies are always read (or drained, up to
//! the cap) before an error is answered, so a client still sending a block reads the answer
//! rather than a reset connection.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use feishu_drive::{ErrorCode, types};
use futures::StreamExt;
use serde_json::Value;

use crate::auth::Identity;
use crate::config::{FaultKind, Operation};
use crate::error::{Failure, LOG_ID, LOG_ID_HEADER};
use crate::faults::Fault;
use crate::form::{self, FORM_OVERHEAD, Form, FormError, TEXT_LIMIT};
use crate::server::ConnControl;
use crate::state::{App, Counters, UploadSpec};
use crate::storage;

/// The longest file name the docs allow, in characters.
const FILE_NAME_MAX_CHARS: usize = 250;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/open-apis/auth/v3/tenant_access_token/internal",
            post(tenant_access_token),
        )
        .route("/open-apis/drive/v1/medias/upload_prepare", post(upload_prepare))
        .route("/open-apis/drive/v1/medias/upload_part", post(upload_part))
        .route("/open-apis/drive/v1/medias/upload_finish", post(upload_finish))
        .route("/open-apis/drive/v1/medias/upload_all", post(upload_all))
        .route("/open-apis/drive/v1/medias/{file_token}/download", get(download))
        .layer(axum::middleware::from_fn_with_state(app.clone(), front))
        .with_state(app)
}

/// The operation a request is for, from its method and path.
fn operation(method: &Method, path: &str) -> Option<Operation> {
    const MEDIAS: &str = "/open-apis/drive/v1/medias/";
    match (method, path) {
        (&Method::POST, "/open-apis/auth/v3/tenant_access_token/internal") => {
            Some(Operation::TenantAccessToken)
        }
        (&Method::POST, _) => match path.strip_prefix(MEDIAS)? {
            "upload_prepare" => Some(Operation::UploadPrepare),
            "upload_part" => Some(Operation::UploadPart),
            "upload_finish" => Some(Operation::UploadFinish),
            "upload_all" => Some(Operation::UploadAll),
            _ => None,
        },
        (&Method::GET, _) => path
            .strip_prefix(MEDIAS)?
            .strip_suffix("/download")
            .filter(|token| !token.is_empty() && !token.contains('/'))
            .map(|_| Operation::Download),
        _ => None,
    }
}

/// The most of a request body worth draining for `op` before answering.
fn body_cap(app: &App, op: Operation) -> u64 {
    match op {
        Operation::UploadPart => app.config.block_size.saturating_add(FORM_OVERHEAD),
        Operation::UploadAll => app.config.upload_all_limit.saturating_add(FORM_OVERHEAD),
        _ => TEXT_LIMIT,
    }
}

/// A log id shaped like Feishu's: the UTC time `YYYYMMDDhhmmss` and 18 hex digits.
fn new_log_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let tail: u128 = rand::random::<u128>() >> 56;
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}{tail:018X}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// What every request meets first: a log id, and the fault rules.
async fn front(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let log_id = new_log_id();
    let mut response = LOG_ID.scope(log_id.clone(), faulted(app, req, next)).await;
    if let Ok(value) = HeaderValue::from_str(&log_id) {
        response.headers_mut().insert(LOG_ID_HEADER, value);
    }
    response
}

/// Serves the request, or lets the fault rule that hits it answer instead.
async fn faulted(app: Arc<App>, req: Request, next: Next) -> Response {
    let Some(op) = operation(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let Some(kind) = app.faults.pick(op) else {
        return next.run(req).await;
    };
    let cap = body_cap(&app, op);
    let counters = &app.counters;
    match kind {
        FaultKind::Delay(delay) => {
            Counters::bump(&counters.delayed_requests);
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        FaultKind::LoseResponse => {
            let Some(control) = req.extensions().get::<ConnControl>().cloned() else {
                return next.run(req).await;
            };
            // The endpoint does all it would; only its answer never leaves.
            let response = next.run(req).await;
            drop(response);
            Counters::bump(&counters.lost_responses);
            control.drop_connection();
            std::future::pending().await
        }
        FaultKind::DropRequest => {
            let (parts, body) = req.into_parts();
            drop_connection(&app, &parts, body).await
        }
        FaultKind::Html(_) | FaultKind::PlainText(_) | FaultKind::Empty429 => {
            Counters::bump(&counters.foreign_failures);
            let drained = form::drain(req.into_body(), cap).await;
            let mut response = foreign_failure(kind, status_of(kind));
            if !drained {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
        FaultKind::Envelope200 | FaultKind::Accepted202 | FaultKind::RefuseCredentials => {
            Counters::bump(&counters.injected_envelopes);
            let failure = match kind {
                FaultKind::Accepted202 => {
                    let code = app
                        .faults
                        .choose(&[
                            ErrorCode::CoverGenerating,
                            ErrorCode::FileTypeNotSupportCover,
                            ErrorCode::CoverNotExist,
                        ])
                        .unwrap_or(ErrorCode::CoverGenerating);
                    Failure::new(code, "injected fault")
                }
                FaultKind::RefuseCredentials => {
                    if app.faults.choose(&[true, false]).unwrap_or(true) {
                        Failure::raw(
                            10014,
                            StatusCode::BAD_REQUEST,
                            "app secret invalid",
                            "injected fault: the credentials are refused",
                        )
                    } else {
                        Failure::raw(
                            99991543,
                            StatusCode::BAD_REQUEST,
                            "app_id or app_secret is invalid",
                            "injected fault: the credentials are refused",
                        )
                    }
                }
                _ => {
                    let code = app.faults.choose(&RETRYABLE_200).unwrap_or(ErrorCode::CanRetry);
                    Failure::new(code, "injected fault")
                }
            };
            reject_unread(failure, req.into_body(), cap).await
        }
    }
}

/// The table's codes documented with HTTP 200 (all retryable).
const RETRYABLE_200: [ErrorCode; 3] = [
    ErrorCode::CanRetry,
    ErrorCode::InternalError,
    ErrorCode::InternalTimeout,
];

fn status_of(kind: FaultKind) -> StatusCode {
    let code = match kind {
        FaultKind::Html(status) | FaultKind::PlainText(status) => status,
        _ => 429,
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY)
}

/// A failure as a proxy or load balancer in front of Feishu sends it: not Feishu JSON.
fn foreign_failure(kind: FaultKind, status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let (content_type, body) = match kind {
        FaultKind::Html(_) => (
            "text/html",
            format!(
                "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n\
                 <center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                 </body>\r\n</html>\r\n",
                code = status.as_u16()
            ),
        ),
        FaultKind::PlainText(_) => (
            "text/plain; charset=utf-8",
            format!("{} {reason}\n", status.as_u16()),
        ),
        _ => ("", String::new()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if !content_type.is_empty() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

type Answer = Result<Response, Failure>;

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

// ------------------------------------------------------------------------------- the gate

/// Latency, token, rate limit: what the gateway does before the endpoint sees the request.
async fn gate(app: &App, headers: &HeaderMap, op: Operation) -> Result<Identity, Failure> {
    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let who = app.tokens.authenticate(headers)?;
    app.faults
        .check_rate(&who, op)
        .inspect_err(|_| Counters::bump(&app.counters.rate_limited))?;
    app.faults
        .check_quota(&who, op)
        .inspect_err(|_| Counters::bump(&app.counters.quota_exceeded))?;
    Ok(who)
}

/// Answers `failure` after draining up to `cap` bytes of the body the request still carries.
async fn reject_unread(failure: Failure, body: Body, cap: u64) -> Response {
    let failure = if form::drain(body, cap).await {
        failure
    } else {
        failure.closing()
    };
    failure.into_response()
}

/// Drops the connection after the first chunk of the body arrived, without an answer: the
/// connection task owns the socket and closes it; this handler never finishes.
async fn drop_connection(app: &App, parts: &Parts, body: Body) -> Response {
    let Some(control) = parts.extensions.get::<ConnControl>() else {
        return Failure::internal("no connection to drop").into_response();
    };
    let _ = body.into_data_stream().next().await;
    Counters::bump(&app.counters.dropped_connections);
    control.drop_connection();
    std::future::pending().await
}

fn injected(app: &App, code: ErrorCode) -> Failure {
    Counters::bump(&app.counters.injected_errors);
    Failure::new(code, "injected fault")
}

/// The fields of a JSON body. No field of the spec is nullable, so `null` is as wrong as any
/// other value of the wrong type (1061002), not the same as absent.
struct JsonFields(serde_json::Map<String, Value>);

impl JsonFields {
    fn text(&self, name: &str) -> Result<Option<&str>, Failure> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(Failure::params(format!("`{name}` must be a string"))),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, Failure> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(_) => Err(Failure::params(format!("`{name}` must be an integer"))),
        }
    }
}

/// What every media request goes through: the gate, then an injected fault, then `read` of the
/// body (at most `cap` bytes). A retryable fault is answered only after the body was read, as a
/// real server that failed late would.
async fn admit<T, Fut>(
    app: &App,
    op: Operation,
    req: Request,
    cap: u64,
    read: impl FnOnce(HeaderMap, Body) -> Fut,
) -> Result<(Identity, T), Response>
where
    Fut: Future<Output = Result<T, Failure>>,
{
    let (parts, body) = req.into_parts();
    let who = match gate(app, &parts.headers, op).await {
        Ok(who) => who,
        Err(failure) => return Err(reject_unread(failure, body, cap).await),
    };
    let fault = app.faults.roll(op);
    if fault == Some(Fault::Drop) {
        return Err(drop_connection(app, &parts, body).await);
    }
    let read = read(parts.headers, body).await;
    if let Some(Fault::Retryable(code)) = fault {
        return Err(injected(app, code).into_response());
    }
    read.map(|value| (who, value))
        .map_err(IntoResponse::into_response)
}

/// A JSON endpoint's body, small and read whole.
async fn json_request(app: &App, op: Operation, req: Request) -> Result<(Identity, JsonFields), Response> {
    admit(app, op, req, TEXT_LIMIT, |_, body| async {
        form::read_json(body)
            .await
            .map(JsonFields)
            .map_err(Failure::params)
    })
    .await
}

/// A multipart endpoint's form, its file streamed to disk. A body over `cap` is answered with
/// `too_large`.
async fn form_request(
    app: &App,
    op: Operation,
    req: Request,
    cap: u64,
    too_large: ErrorCode,
) -> Result<(Identity, Form), Response> {
    admit(app, op, req, cap, |headers, body| async move {
        // Each body in flight holds a buffer and a temporary file: past the cap, the request is
        // refused unread (and its connection closed) rather than queued.
        let Ok(_permit) = app.upload_bodies.clone().try_acquire_owned() else {
            Counters::bump(&app.counters.uploads_refused);
            return Err(
                Failure::new(ErrorCode::CanRetry, "too many uploads in flight; try again later").closing(),
            );
        };
        form::read_form(&app.storage, &headers, body, cap)
            .await
            .map_err(|e| {
                let closes = e.leaves_body_unread();
                let failure = match e {
                    FormError::TooLarge(_) => Failure::new(too_large, e.to_string()),
                    FormError::Malformed(_) => Failure::params(e.to_string()),
                    FormError::Io(_) => Failure::internal(e),
                };
                if closes { failure.closing() } else { failure }
            })
    })
    .await
}

// ------------------------------------------------------------------------- field checks

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, Failure> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::params(format!("`{name}` is required")))
}

/// 1061008 for an empty name or one over 250 characters; a missing one is a params error.
fn file_name(value: Option<&str>) -> Result<String, Failure> {
    let name = value.ok_or_else(|| Failure::params("`file_name` is required"))?;
    let chars = name.chars().count();
    if chars == 0 || chars > FILE_NAME_MAX_CHARS {
        return Err(Failure::new(
            ErrorCode::InvalidFileName,
            format!("the file name has {chars} characters; 1 to {FILE_NAME_MAX_CHARS} are allowed"),
        ));
    }
    Ok(name.to_owned())
}

/// A non-negative decimal integer form field.
fn count(value: Option<&str>, name: &str) -> Result<u64, Failure> {
    required(value, name)?
        .parse()
        .map_err(|_| Failure::params(format!("`{name}` is not a non-negative integer")))
}

/// A non-negative JSON integer.
fn json_count(value: Option<i64>, name: &str) -> Result<u64, Failure> {
    let value = value.ok_or_else(|| Failure::params(format!("`{name}` is required")))?;
    u64::try_from(value).map_err(|_| Failure::params(format!("`{name}` must not be negative")))
}

/// `extra` is JSON text when given; an empty value means none (the Python SDK sends `""`).
fn extra(value: Option<&str>) -> Result<(), Failure> {
    match value {
        None | Some("") => Ok(()),
        Some(text) => serde_json::from_str::<serde_json::Value>(text)
            .map(drop)
            .map_err(|e| Failure::params(format!("`extra` is not JSON text: {e}"))),
    }
}

/// Checks the optional Adler-32 `checksum` (decimal) against the bytes' own. Empty means none,
/// as the Python SDK sends it; digits that cannot be an Adler-32 (over 2^32-1) never match.
fn checksum(value: Option<&str>, actual: u32) -> Result<(), Failure> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::params("`checksum` is not a decimal number"));
    }
    if text.parse::<u32>().ok() != Some(actual) {
        return Err(Failure::new(
            ErrorCode::ChecksumInvalid,
            format!("checksum {text} does not match the bytes' Adler-32 {actual}"),
        ));
    }
    Ok(())
}

/// The fields `upload_prepare` and `upload_all` share, checked in the same order.
fn upload_spec(
    app: &App,
    owner: Identity,
    name: Option<&str>,
    parent_type: Option<&str>,
    parent_node: Option<&str>,
    size: u64,
    extra_text: Option<&str>,
) -> Result<UploadSpec, Failure> {
    let file_name = file_name(name)?;
    let parent_type = required(parent_type, "parent_type")?;
    check_parent_type(parent_type)?;
    let parent_type = parent_type.to_owned();
    // Optional, and may be empty (the Node SDK and the official CLI's import flow send none).
    let parent_node = parent_node.unwrap_or_default().to_owned();
    extra(extra_text)?;
    if !parent_node.is_empty() && app.config.parent_is_missing(&parent_node) {
        return Err(Failure::new(
            ErrorCode::ParentNodeNotExist,
            format!("no parent node {parent_node:?}"),
        ));
    }
    Ok(UploadSpec {
        owner,
        file_name,
        parent_type,
        parent_node,
        size,
    })
}

/// The longest `parent_type` taken; documented values are at most 22 characters.
const PARENT_TYPE_MAX_CHARS: usize = 64;

/// A `parent_type` must be a lower-case identifier (`docx_image`, `sheet_file`): the list of
/// values grows, so any well-formed one is taken. A malformed one is 99992402 "field validation
/// failed" naming the field, as the official CLI met it.
fn check_parent_type(value: &str) -> Result<(), Failure> {
    let well_formed = value.len() <= PARENT_TYPE_MAX_CHARS
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(Failure::field_violation(
            "parent_type",
            value,
            format!(
                "must be a lower-case identifier of at most {PARENT_TYPE_MAX_CHARS} characters, such as docx_image"
            ),
        ))
    }
}

fn success() -> String {
    "success".to_owned()
}

fn file_token_response(file_token: String) -> Response {
    Json(types::FileTokenResponse {
        code: 0,
        msg: success(),
        data: Some(types::FileTokenData { file_token }),
        error: None,
    })
    .into_response()
}

// ---------------------------------------------------------------------------- endpoints

async fn tenant_access_token(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let fault = app.faults.roll(Operation::TenantAccessToken);
    if fault == Some(Fault::Drop) {
        return drop_connection(&app, &parts, body).await;
    }
    let parsed = form::read_json(body).await.map(JsonFields);
    if let Some(Fault::Retryable(code)) = fault {
        return injected(&app, code).into_response();
    }
    answer((|| {
        let request = parsed.map_err(Failure::params)?;
        let app_id = required(request.text("app_id")?, "app_id")?;
        let app_secret = required(request.text("app_secret")?, "app_secret")?;
        let (token, expire) = app
            .tokens
            .issue(app_id, app_secret)
            .ok_or_else(|| Failure::new(ErrorCode::AuthFailed, "unknown app_id or wrong app_secret"))?;
        Ok(Json(types::TenantAccessTokenResponse {
            code: 0,
            msg: "ok".to_owned(),
            tenant_access_token: Some(token),
            expire: Some(i64::try_from(expire).unwrap_or(i64::MAX)),
        })
        .into_response())
    })())
}

async fn upload_prepare(State(app): State<Arc<App>>, req: Request) -> Response {
    let (who, request) = match json_request(&app, Operation::UploadPrepare, req).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let size = json_count(request.integer("size")?, "size")?;
        // The official CLI found slides media taken by upload_all only: upload_prepare refuses
        // `slide_file` with 99992402 (so slides media are at most 20 MiB).
        if let Some(parent_type @ "slide_file") = request.text("parent_type")? {
            return Err(Failure::field_violation(
                "parent_type",
                parent_type,
                "slide_file is taken by upload_all only",
            ));
        }
        let spec = upload_spec(
            &app,
            who,
            request.text("file_name")?,
            request.text("parent_type")?,
            request.text("parent_node")?,
            size,
            request.text("extra")?,
        )?;
        let upload = app.prepare(spec).await?;
        let data = types::UploadPrepareData {
            upload_id: upload.id.parse().map_err(Failure::internal)?,
            block_size: std::num::NonZeroU64::new(upload.block_size)
                .ok_or_else(|| Failure::internal("block size 0"))?,
            block_num: i64::try_from(upload.block_num).map_err(Failure::internal)?,
        };
        Ok(Json(types::UploadPrepareResponse {
            code: 0,
            msg: success(),
            data: Some(data),
            error: None,
        })
        .into_response())
    };
    answer(result.await)
}

async fn upload_part(State(app): State<Arc<App>>, req: Request) -> Response {
    let cap = app.config.block_size.saturating_add(FORM_OVERHEAD);
    // A body over the cap cannot be one block.
    let (who, Form { fields, file }) =
        match form_request(&app, Operation::UploadPart, req, cap, ErrorCode::ParamsError).await {
            Ok(parsed) => parsed,
            Err(response) => return response,
        };
    let result = async {
        let upload_id = required(fields.text("upload_id"), "upload_id")?;
        let seq = count(fields.text("seq"), "seq")?;
        let size = count(fields.text("size"), "size")?;
        let checksum_text = fields.text("checksum");
        let block = file.ok_or_else(|| Failure::params("the `file` part is required"))?;
        let upload = app.upload(upload_id)?;
        if upload.spec.owner != who {
            return Err(Failure::new(
                ErrorCode::UploadUserNotMatch,
                format!("the upload belongs to {}, not {who}", upload.spec.owner),
            ));
        }
        if seq >= upload.block_num {
            return Err(Failure::new(
                ErrorCode::BlockNumOutOfBounds,
                format!("seq {seq} is not below block_num {}", upload.block_num),
            ));
        }
        if size != block.len {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!("`size` says {size} bytes, the file part has {}", block.len),
            ));
        }
        let expected = upload.block_len(seq);
        if block.len != expected {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!(
                    "block {seq} must hold {expected} bytes of the prepared size, not {}",
                    block.len
                ),
            ));
        }
        checksum(checksum_text, block.adler32)?;
        app.store_block(upload, seq, block).await?;
        Ok(Json(types::UploadPartResponse {
            code: 0,
            msg: success(),
            data: Some(types::UploadPartData(serde_json::Map::new())),
            error: None,
        })
        .into_response())
    };
    answer(result.await)
}

async fn upload_finish(State(app): State<Arc<App>>, req: Request) -> Response {
    let (who, request) = match json_request(&app, Operation::UploadFinish, req).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let upload_id = required(request.text("upload_id")?, "upload_id")?;
        let block_num = json_count(request.integer("block_num")?, "block_num")?;
        let upload = app.upload(upload_id)?;
        if upload.spec.owner != who {
            return Err(Failure::new(
                ErrorCode::UploadUserNotMatch,
                format!("the upload belongs to {}, not {who}", upload.spec.owner),
            ));
        }
        let file_token = app.finish(upload, block_num).await?;
        Ok(file_token_response(file_token))
    };
    answer(result.await)
}

async fn upload_all(State(app): State<Arc<App>>, req: Request) -> Response {
    let limit = app.config.upload_all_limit;
    let (who, Form { fields, file }) = match form_request(
        &app,
        Operation::UploadAll,
        req,
        limit.saturating_add(FORM_OVERHEAD),
        ErrorCode::FileSizeBeyondLimit,
    )
    .await
    {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let size = count(fields.text("size"), "size")?;
        if size > limit {
            return Err(Failure::new(
                ErrorCode::FileSizeBeyondLimit,
                format!("upload_all takes at most {limit} bytes; use upload_prepare for {size}"),
            ));
        }
        let spec = upload_spec(
            &app,
            who,
            fields.text("file_name"),
            fields.text("parent_type"),
            fields.text("parent_node"),
            size,
            fields.text("extra"),
        )?;
        let checksum_text = fields.text("checksum");
        let file = file.ok_or_else(|| Failure::params("the `file` part is required"))?;
        if file.len > limit {
            return Err(Failure::new(
                ErrorCode::FileSizeBeyondLimit,
                format!(
                    "upload_all takes at most {limit} bytes, the file part has {}",
                    file.len
                ),
            ));
        }
        if file.len != size {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!("`size` says {size} bytes, the file part has {}", file.len),
            ));
        }
        checksum(checksum_text, file.adler32)?;
        let file_token = app.store_file(spec, file).await?;
        Ok(file_token_response(file_token))
    };
    answer(result.await)
}

async fn download(State(app): State<Arc<App>>, Path(file_token): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let who = match gate(&app, &parts.headers, Operation::Download).await {
        Ok(who) => who,
        Err(failure) => return failure.into_response(),
    };
    match app.faults.roll(Operation::Download) {
        Some(Fault::Drop) => return drop_connection(&app, &parts, body).await,
        Some(Fault::Retryable(code)) => return injected(&app, code).into_response(),
        None => {}
    }
    let Some(meta) = app.file(&file_token) else {
        return Failure::new(ErrorCode::NotFound, format!("no file {file_token:?}")).into_response();
    };
    if let Some(owner) = &meta.owner
        && *owner != who
    {
        return Failure::new(
            ErrorCode::Forbidden,
            format!("the file belongs to {owner}, not {who}"),
        )
        .into_response();
    }
    let (status, start, end) = match byte_range(&parts.headers, meta.size) {
        Range::Whole => (StatusCode::OK, 0, meta.size.checked_sub(1)),
        Range::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, Some(end)),
        Range::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", meta.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let mut response = match end {
        // An empty file: nothing to read.
        None => Response::new(Body::empty()),
        Some(end) => {
            match storage::read_range(app.storage.file_dir(&meta.file_token), meta.blocks, start, end).await {
                Ok(stream) => match app.faults.link_bytes_per_second() {
                    Some(bps) => Response::new(Body::from_stream(crate::server::throttled(stream, bps))),
                    None => Response::new(Body::from_stream(stream)),
                },
                Err(e) => return Failure::internal(e).into_response(),
            }
        }
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    let len = end.map_or(0, |end| end - start + 1);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT
        && let Some(end) = end
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", meta.size))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&meta.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// No range, or one this server ignores (several ranges, another unit, malformed): the
    /// whole file, 200 — RFC 9110 lets a server ignore `Range`.
    Whole,
    /// Bytes `start..=end`, 206.
    Part(u64, u64),
    /// A range that starts past the end (or asks for the last 0 bytes), 416.
    Unsatisfiable,
}

/// Reads one `bytes=a-b`, `bytes=a-` or `bytes=-n` range.
fn byte_range(headers: &HeaderMap, size: u64) -> Range {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Whole;
    };
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse::<u64>().ok())
    };
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (None, Some(n)) if first.trim().is_empty() => match n {
            Some(0) => Range::Unsatisfiable,
            _ if size == 0 => Range::Unsatisfiable,
            Some(n) => Range::Part(size.saturating_sub(n), size - 1),
            None => Range::Part(0, size - 1),
        },
        (Some(Some(start)), None) if last.trim().is_empty() => {
            if start >= size {
                Range::Unsatisfiable
            } else {
                Range::Part(start, size - 1)
            }
        }
        (Some(Some(start)), Some(end)) => {
            let end = end.unwrap_or(u64::MAX);
            if end < start {
                Range::Whole
            } else if start >= size {
                Range::Unsatisfiable
            } else {
                Range::Part(start, end.min(size - 1))
            }
        }
        _ => Range::Whole,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback for old
/// clients, and the exact name percent-encoded, which the official SDKs prefer.
fn content_disposition(name: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 5987 attr-char: letters, digits and these may stand unencoded.
    const ATTR: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_any_name() {
        assert_eq!(
            content_disposition("a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            content_disposition("报告\"1\".pdf"),
            "attachment; filename=\"___1_.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%221%22.pdf"
        );
    }

    #[test]
    fn ranges() {
        let range = |value: &str, size: u64| {
            let mut headers = HeaderMap::new();
            headers.insert(header::RANGE, HeaderValue::from_str(value).expect("header"));
            byte_range(&headers, size)
        };
        assert_eq!(byte_range(&HeaderMap::new(), 10), Range::Whole);
        assert_eq!(range("bytes=0-4", 10), Range::Part(0, 4));
        assert_eq!(range("bytes=5-", 10), Range::Part(5, 9));
        assert_eq!(range("bytes=-3", 10), Range::Part(7, 9));
        assert_eq!(range("bytes=-30", 10), Range::Part(0, 9));
        assert_eq!(range("bytes=8-100", 10), Range::Part(8, 9));
        assert_eq!(range("bytes=9-99999999999999999999999", 10), Range::Part(9, 9));
        assert_eq!(range("bytes=10-", 10), Range::Unsatisfiable);
        assert_eq!(range("bytes=10-20", 10), Range::Unsatisfiable);
        assert_eq!(range("bytes=-0", 10), Range::Unsatisfiable);
        assert_eq!(range("bytes=0-", 0), Range::Unsatisfiable);
        assert_eq!(range("bytes=5-2", 10), Range::Whole);
        assert_eq!(range("bytes=0-1,3-4", 10), Range::Whole);
        assert_eq!(range("items=0-1", 10), Range::Whole);
        assert_eq!(range("bytes=a-b", 10), Range::Whole);
    }

    #[test]
    fn parent_types() {
        for ok in [
            "docx_image",
            "ccm_import_open",
            "a",
            "lark_ai_media_analysis",
            "x2",
        ] {
            assert!(check_parent_type(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Docx",
            "docx-image",
            "2doc",
            "docx image",
            "_x",
            &"a".repeat(65),
        ] {
            assert_eq!(
                check_parent_type(bad).map_err(|f| f.code().code()),
                Err(crate::error::FIELD_VALIDATION_FAILED),
                "{bad}"
            );
        }
    }

    #[test]
    fn log_ids_look_like_feishus() {
        let id = new_log_id();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.starts_with("20"), "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{id}"
        );
    }

    #[test]
    fn operations_from_paths() {
        let m = "/open-apis/drive/v1/medias/";
        assert_eq!(
            operation(&Method::POST, &format!("{m}upload_part")),
            Some(Operation::UploadPart)
        );
        assert_eq!(
            operation(&Method::GET, &format!("{m}boxcnX/download")),
            Some(Operation::Download)
        );
        assert_eq!(operation(&Method::GET, &format!("{m}/download")), None);
        assert_eq!(operation(&Method::GET, &format!("{m}upload_part")), None);
        assert_eq!(
            operation(&Method::POST, "/open-apis/auth/v3/tenant_access_token/internal"),
            Some(Operation::TenantAccessToken)
        );
    }

    #[test]
    fn checksums() {
        assert!(checksum(None, 5).is_ok());
        assert!(checksum(Some(""), 5).is_ok());
        assert!(checksum(Some("5"), 5).is_ok());
        assert!(checksum(Some("0005"), 5).is_ok());
        assert_eq!(
            checksum(Some("6"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ChecksumInvalid)
        );
        assert_eq!(
            checksum(Some("99999999999999999999999"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ChecksumInvalid)
        );
        assert_eq!(
            checksum(Some("-5"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ParamsError)
        );
    }

    #[test]
    fn file_names() {
        assert!(file_name(Some("a")).is_ok());
        assert!(file_name(Some(&"名".repeat(250))).is_ok());
        assert_eq!(
            file_name(Some(&"a".repeat(251))).map_err(|f| f.code()),
            Err(ErrorCode::InvalidFileName)
        );
        assert_eq!(
            file_name(Some("")).map_err(|f| f.code()),
            Err(ErrorCode::InvalidFileName)
        );
        assert_eq!(file_name(None).map_err(|f| f.code()), Err(ErrorCode::ParamsError));
    }
}
