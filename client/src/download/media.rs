//! What a response's headers say about the media: its type and the range it carries.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderMap};

use super::request::DownloadError;

/// Where a body starts in the media, how long it is (if announced), and the media's size (if
/// known).
pub(super) struct Span {
    pub(super) start: u64,
    pub(super) length: Option<u64>,
    pub(super) total: Option<u64>,
}

/// The span of a body asked for from `offset`, from its status and headers; `None` for a
/// status that carries no media (neither 206 nor 200).
pub(super) fn body_span(
    status: StatusCode,
    headers: &HeaderMap,
    offset: u64,
) -> Result<Option<Span>, DownloadError> {
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let value = headers
                .get(CONTENT_RANGE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            let bad = |reason: String| DownloadError::BadContentRange {
                value: value.clone(),
                reason,
            };
            let (first, last, size) = parse_content_range(&value).map_err(bad)?;
            if first != offset {
                return Err(bad(format!("asked for bytes from {offset}, got from {first}")));
            }
            Ok(Some(Span {
                start: first,
                length: Some(last - first + 1),
                total: size,
            }))
        }
        StatusCode::OK => {
            let length = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            Ok(Some(Span {
                start: 0,
                length,
                total: length,
            }))
        }
        _ => Ok(None),
    }
}

/// The `type/subtype` of a media type, lower-case, without parameters.
pub(super) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn is_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    essence == "application/json" || essence == "text/json"
}

/// `bytes <first>-<last>/<size>` (RFC 9110 14.4); the size may be `*` (unknown).
pub(super) fn parse_content_range(value: &str) -> Result<(u64, u64, Option<u64>), String> {
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
