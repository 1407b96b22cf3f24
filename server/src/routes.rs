//! The endpoints, with the real API's paths and envelopes.
//!
//! Every media request passes the same gate, in the gateway's order: added latency, the bearer
//! token (99991661/99991663/99991668), then the rate limit. Then an injected fault may replace
//! it, and only then is it read and checked. Bodies are always read (or drained, up to the cap)
//! before an error is answered, so a client still sending a block reads the answer rather than a
//! reset connection.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use feishu_drive::{ErrorCode, types};
use futures::StreamExt;
use serde_json::Value;

use crate::auth::Identity;
use crate::config::Operation;
use crate::error::Failure;
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
        .with_state(app)
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
    let parent_type = required(parent_type, "parent_type")?.to_owned();
    let parent_node = required(parent_node, "parent_node")?.to_owned();
    extra(extra_text)?;
    if app.config.parent_is_missing(&parent_node) {
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
    let cap = app.config.block_size + FORM_OVERHEAD;
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
        limit + FORM_OVERHEAD,
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
    if let Err(failure) = gate(&app, &parts.headers, Operation::Download).await {
        return failure.into_response();
    }
    match app.faults.roll(Operation::Download) {
        Some(Fault::Drop) => return drop_connection(&app, &parts, body).await,
        Some(Fault::Retryable(code)) => return injected(&app, code).into_response(),
        None => {}
    }
    let Some(meta) = app.file(&file_token) else {
        return Failure::new(ErrorCode::NotFound, format!("no file {file_token:?}")).into_response();
    };
    let stream = storage::read_blocks(app.storage.file_dir(&meta.file_token), meta.blocks);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&meta.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
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
