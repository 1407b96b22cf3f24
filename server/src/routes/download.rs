//! Reading files back: `download` (media) and `file_download` (Drive files), whole or a byte
//! range, with the name in `Content-Disposition`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use feishu_drive::ErrorCode;

use super::gate::{drop_connection, gate, injected};
use crate::config::Operation;
use crate::conn::throttled;
use crate::error::Failure;
use crate::faults::Fault;
use crate::state::App;
use crate::storage::{self, Family, FileMeta};

/// `download` / `file_download`: the file's bytes, whole or a range. A media is found by its
/// token; a Drive file by its token and, with the `version` query, one of its versions.
pub(super) async fn download(
    app: Arc<App>,
    op: Operation,
    family: Family,
    file_token: String,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let who = match gate(&app, &parts.headers, op).await {
        Ok(who) => who,
        Err(failure) => return failure.into_response(),
    };
    match app.faults.roll(op) {
        Some(Fault::Drop) => return drop_connection(&app, &parts, body).await,
        Some(Fault::Retryable(code)) => return injected(&app, code).into_response(),
        None => {}
    }
    let found = match family {
        Family::Media => app.file(&file_token),
        Family::File => match version(parts.uri.query()) {
            Ok(version) => app.drive.file(&file_token, version.as_deref()),
            Err(failure) => return failure.into_response(),
        },
    };
    let Some(meta) = found else {
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
    serve(&app, &parts.headers, &meta).await
}

/// The `version` query parameter, percent-decoded (`None` when absent or empty).
fn version(query: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(query) = query else {
        return Ok(None);
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "version" {
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| Failure::params("`version` is not UTF-8"))?;
            return Ok(Some(value.into_owned()).filter(|v| !v.is_empty()));
        }
    }
    Ok(None)
}

/// Answers with the bytes of `meta` the `Range` header asks for.
async fn serve(app: &App, request_headers: &HeaderMap, meta: &FileMeta) -> Response {
    let (status, start, end) = match byte_range(request_headers, meta.size) {
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
            match storage::read_range(app.storage.file_dir(meta.dir_name()), meta.blocks, start, end).await {
                Ok(stream) => match app.faults.link_bytes_per_second() {
                    Some(bps) => Response::new(Body::from_stream(throttled(stream, bps))),
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
    fn versions_from_queries() {
        assert_eq!(version(None).ok(), Some(None));
        assert_eq!(
            version(Some("a=1&version=7%2A2")).ok(),
            Some(Some("7*2".to_owned()))
        );
        assert_eq!(version(Some("version=")).ok(), Some(None));
        assert_eq!(version(Some("other=1")).ok(), Some(None));
    }
}
