//! The file name in a `Content-Disposition` header (RFC 6266), with `filename*` (RFC 8187, which
//! replaced RFC 5987) decoded.
//!
//! No well-kept Rust crate parses this header's extended parameters (the `headers` crate keeps
//! the value opaque), so this is a small parser of the grammar the RFCs give, tested on their
//! own examples.

/// The file name a `Content-Disposition` value carries: `filename*` (percent-decoded, UTF-8 or
/// ISO-8859-1) when present and decodable, else `filename` (a token or a quoted string).
///
/// The value may hold raw non-ASCII bytes (some servers send UTF-8 in `filename`); they are read
/// as UTF-8, or as ISO-8859-1 when they are not UTF-8. Returns `None` when neither parameter is
/// there, or the name is empty. The name is returned as sent: see [`safe_file_name`] before
/// using it as a path.
///
/// ```
/// use feishu_drive::download::file_name_from_content_disposition;
///
/// let value = b"attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates";
/// assert_eq!(file_name_from_content_disposition(value).as_deref(), Some("€ rates"));
/// ```
pub fn file_name_from_content_disposition(value: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(value) {
        Ok(text) => text.to_owned(),
        Err(_) => value.iter().map(|&b| char::from(b)).collect(),
    };
    let params = parse_params(&text);
    let extended = params
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("filename*"))
        .and_then(|(_, value)| decode_ext_value(value));
    let plain = || {
        params
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("filename"))
            .map(|(_, value)| value.clone())
    };
    extended.or_else(plain).filter(|name| !name.is_empty())
}

/// A file name that is safe to create in a directory: the last path component of `name`
/// (`/` and `\` both separate), without control characters, and not `.`, `..` or empty.
///
/// ```
/// use feishu_drive::download::safe_file_name;
///
/// assert_eq!(safe_file_name("../../etc/passwd").as_deref(), Some("passwd"));
/// assert_eq!(safe_file_name("报告.pdf").as_deref(), Some("报告.pdf"));
/// assert_eq!(safe_file_name(".."), None);
/// ```
pub fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return None;
    }
    Some(cleaned.to_owned())
}

/// The `name=value` parameters after the disposition type, values unquoted.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = match text.find(';') {
        Some(i) => &text[i + 1..],
        None => return out,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return out;
        }
        let Some(eq) = rest.find(['=', ';']).filter(|&i| rest.as_bytes()[i] == b'=') else {
            // A parameter without a value: skip to the next one.
            match rest.find(';') {
                Some(i) => {
                    rest = &rest[i..];
                    continue;
                }
                None => return out,
            }
        };
        let name = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start_matches([' ', '\t']);
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut unquoted = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            unquoted.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => unquoted.push(c),
                }
            }
            value = unquoted;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((name, value));
    }
}

/// Decodes an RFC 8187 `ext-value`: `charset'[language]'percent-encoded`.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.trim();
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &str) -> Option<String> {
        file_name_from_content_disposition(value.as_bytes())
    }

    /// The examples of RFC 6266 section 5 and RFC 8187 section 3.2.3, with the names the RFCs
    /// say they carry.
    #[test]
    fn rfc_examples() {
        assert_eq!(
            name("Attachment; filename=example.html").as_deref(),
            Some("example.html")
        );
        assert_eq!(
            name("INLINE; FILENAME= \"an example.html\"").as_deref(),
            Some("an example.html")
        );
        assert_eq!(
            name("attachment; filename*= UTF-8''%e2%82%ac%20rates").as_deref(),
            Some("€ rates")
        );
        assert_eq!(
            name("attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates").as_deref(),
            Some("€ rates")
        );
        // RFC 8187 3.2.3: ISO-8859-1 with a language tag.
        assert_eq!(
            name("attachment; filename*=iso-8859-1'en'%A3%20rates").as_deref(),
            Some("£ rates")
        );
    }

    #[test]
    fn filename_star_wins_in_either_order() {
        assert_eq!(
            name("attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf; filename=\"__.pdf\"").as_deref(),
            Some("报告.pdf")
        );
    }

    #[test]
    fn quoted_strings_unescape_and_keep_semicolons() {
        assert_eq!(
            name(r#"attachment; filename="a \"b\"; c.txt""#).as_deref(),
            Some(r#"a "b"; c.txt"#)
        );
    }

    #[test]
    fn an_undecodable_filename_star_falls_back_to_filename() {
        // Not UTF-8 after decoding, and an unknown charset.
        assert_eq!(
            name("attachment; filename=\"x.bin\"; filename*=UTF-8''%FF%FE").as_deref(),
            Some("x.bin")
        );
        assert_eq!(
            name("attachment; filename=\"x.bin\"; filename*=koi8-r''%C1").as_deref(),
            Some("x.bin")
        );
    }

    #[test]
    fn raw_bytes_in_filename_are_read_as_utf8_or_latin1() {
        assert_eq!(
            file_name_from_content_disposition("attachment; filename=\"报告.pdf\"".as_bytes()).as_deref(),
            Some("报告.pdf")
        );
        assert_eq!(
            file_name_from_content_disposition(b"attachment; filename=\"\xA3.txt\"").as_deref(),
            Some("£.txt")
        );
    }

    #[test]
    fn no_name_is_none() {
        assert_eq!(name("attachment"), None);
        assert_eq!(name("attachment; size=3"), None);
        assert_eq!(name("attachment; filename=\"\""), None);
        assert_eq!(name(""), None);
        assert_eq!(name("attachment; filename"), None);
        assert_eq!(name("attachment; filename*=UTF-8"), None);
    }

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(safe_file_name("a/b/c.txt").as_deref(), Some("c.txt"));
        assert_eq!(safe_file_name("C:\\x\\y.doc").as_deref(), Some("y.doc"));
        assert_eq!(safe_file_name("a\u{0}b\n.txt").as_deref(), Some("ab.txt"));
        assert_eq!(safe_file_name("dir/"), None);
        assert_eq!(safe_file_name("."), None);
        assert_eq!(safe_file_name("  "), None);
    }
}
