//! What a response's headers say about the media: its type and the range it carries.

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
