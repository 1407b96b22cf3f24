//! Architecture Invariant: every spec fact is generated. No hand-written file in `client/src` or
//! `server/src` names an operation id, an API path, a documented limit or an error code as a
//! literal; they use `feishu_drive::operations`, `feishu_drive::limits` and `ErrorCode`, which
//! `cargo xtask codegen` writes from `spec/feishu-drive.yaml`. A new endpoint or a changed limit
//! is then one edit of the spec.
//!
//! What counts, read from the spec itself (so a new operation or limit is covered with no edit
//! here): a string literal equal to an `operationId`, or equal to (or a prefix of) a path
//! template (`{param}` matching any `{…}`); an integer literal, or a product of literals
//! (`20 * 1024 * 1024`), equal to a documented limit (every `maximum`, `maxLength`, `maxItems`,
//! `x-feishu-limits` value and `calls_per_day`) or to a code of `x-feishu-error-codes`. Limits
//! under 10 000 (the 250-character file name) are so common as numbers that they count only on
//! a line that has a word of the limit's generated name (`file`, `name`). Not counted: comments and doc comments, items under
//! `#[cfg(test)]`, `generated/`, and `requests_per_second` (5 is everywhere).

use serde_yaml_ng::Value;

use super::lexer::{Tok, Token, lex, without_test_items};
use super::source::{Allowed, Finding, assert_clean, is_generated, read, relative, root, rust_files};

/// Known offenders, each named with who removes it. Delete an entry once its file is clean (the
/// check fails on entries that match nothing, so the list can only shrink).
const ALLOWED: &[Allowed] = &[
    // client/src: the lead, on main (one request path names operations by `OperationId`; codes by `ErrorCode`).
    Allowed {
        file: "client/src/download.rs",
        what: "operation id \"download\"",
        note: "lead: not the operation but the file name used when the server gives none; a named constant, or keep this entry",
    },
    Allowed {
        file: "client/src/upload/mod.rs",
        what: "limit 4194304 (BLOCK_SIZE)",
        note: "lead: bench_support's block size is limits::BLOCK_SIZE",
    },
    Allowed {
        file: "client/src/budget/config.rs",
        what: "limit 86400 (UPLOAD_ID_LIFETIME)",
        note: "stays: SECS_PER_DAY, a quota day's seconds, not the upload-id lifetime (named once, in one const)",
    },
    // server/src: what i17 (the server on the generated operation table) left: days, not the lifetime.
    Allowed {
        file: "server/src/routes/front.rs",
        what: "limit 86400 (UPLOAD_ID_LIFETIME)",
        note: "a day's seconds in the date formatting, not the upload-id lifetime: keep",
    },
    Allowed {
        file: "server/src/config.rs",
        what: "limit 86400 (UPLOAD_ID_LIFETIME)",
        note: "the quota day (24 * 60 * 60), not the upload-id lifetime: keep",
    },
    Allowed {
        file: "server/src/cli.rs",
        what: "limit 86400 (UPLOAD_ID_LIFETIME)",
        note: "--quota-day-secs' default, a day: keep",
    },
];

/// The facts a hand-written file must not restate.
struct Facts {
    operation_ids: Vec<String>,
    paths: Vec<String>,
    /// Value and name (the generated constant's name where there is one).
    limits: Vec<(u128, String)>,
    codes: Vec<(u128, String)>,
}

fn facts() -> Facts {
    let text = read(&root().join("spec/feishu-drive.yaml"));
    let spec: Value = serde_yaml_ng::from_str(&text).expect("the spec is YAML");
    let mut facts = Facts {
        operation_ids: Vec::new(),
        paths: Vec::new(),
        limits: Vec::new(),
        codes: Vec::new(),
    };
    if let Some(paths) = spec["paths"].as_mapping() {
        for (path, item) in paths {
            facts.paths.extend(path.as_str().map(str::to_owned));
            for operation in item.as_mapping().into_iter().flat_map(|m| m.values()) {
                facts
                    .operation_ids
                    .extend(operation["operationId"].as_str().map(str::to_owned));
            }
        }
    }
    for row in spec["x-feishu-error-codes"].as_sequence().into_iter().flatten() {
        if let Some(code) = row["code"].as_u64() {
            facts
                .codes
                .push((code.into(), row["name"].as_str().unwrap_or("?").to_owned()));
        }
    }
    for (name, limit) in spec["x-feishu-limits"].as_mapping().into_iter().flatten() {
        if let (Some(name), Some(value)) = (name.as_str(), limit["value"].as_u64()) {
            facts.limits.push((value.into(), name.to_uppercase()));
        }
    }
    schema_limits(&spec, "", &mut facts.limits);
    facts.limits.sort();
    facts.limits.dedup_by_key(|(value, _)| *value);
    assert!(
        facts.operation_ids.len() >= 6 && facts.codes.len() >= 40,
        "the spec was read"
    );
    facts
}

/// Every `maximum`, `maxLength`, `maxItems` and `calls_per_day` in the spec, named after the
/// schema holding it (as `limits.rs` names them).
fn schema_limits(value: &Value, at: &str, out: &mut Vec<(u128, String)>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or_default();
                let named = ["maximum", "maxLength", "maxItems", "calls_per_day"].contains(&key);
                match child.as_u64() {
                    Some(v) if named => out.push((v.into(), format!("{at}.{key}"))),
                    _ => schema_limits(child, key, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| schema_limits(item, at, out)),
        _ => {}
    }
}

/// Paths compared with every `{param}` as `{}`.
fn normalise_path(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The name `limits.rs` gives the constant of `value` (`raw`, the spec's name, if none): what a
/// report tells to use instead.
fn limit_name(value: u128, raw: &str) -> String {
    let text = read(&root().join("client/src/generated/limits.rs"));
    for constant in text.split("pub const ").skip(1) {
        let name = constant.split(':').next().unwrap_or_default().trim();
        let definition = constant.split(';').next().unwrap_or_default();
        let after_equals = definition.split_once('=').map(|(_, v)| v).unwrap_or_default();
        let digits: String = after_equals.chars().filter(char::is_ascii_digit).collect();
        if digits == value.to_string() {
            return name.to_owned();
        }
    }
    raw.to_owned()
}

/// Limits from this value on count wherever they appear; below it (250 characters, 200 items a
/// page, 1500 children) they are common numbers, and count only on a line that speaks of the
/// limit: one that has a word of its generated name (`FILE_NAME_MAX_LENGTH`: file, name).
const ALWAYS_A_LIMIT: u128 = 10_000;

/// Whether `line` (lower case) has one of the words of a limit's `name`, generic ones left out.
fn speaks_of(line: &str, name: &str) -> bool {
    name.to_lowercase()
        .split('_')
        .filter(|word| word.len() >= 4 && !["maximum", "minimum", "length", "items"].contains(word))
        .any(|word| line.contains(word))
}

/// The findings in one file's tokens.
fn scan(file: &str, src: &str, facts: &Facts) -> Vec<Finding> {
    let tokens = without_test_items(&lex(src));
    let lines: Vec<&str> = src.lines().collect();
    let normalised: Vec<String> = facts.paths.iter().map(|p| normalise_path(p)).collect();
    let mut out = Vec::new();
    let mut push = |line: usize, what: String, fix: &str| {
        out.push(Finding {
            file: file.to_owned(),
            line,
            what,
            fix: fix.to_owned(),
        });
    };
    let mut i = 0;
    while i < tokens.len() {
        let Token { tok, line } = &tokens[i];
        match tok {
            Tok::Str(s) if facts.operation_ids.contains(s) => {
                push(
                    *line,
                    format!("operation id {s:?}"),
                    "use operations::OperationId",
                );
            }
            Tok::Str(s) if s.starts_with('/') && s.len() >= 8 => {
                let n = normalise_path(s);
                if normalised.iter().any(|p| p.starts_with(&n)) {
                    push(*line, format!("API path {s:?}"), "use OperationId::path");
                }
            }
            Tok::Int(_) => {
                let (value, end) = product(&tokens, i);
                // The line without its trailing comment.
                let code = lines.get(line - 1).copied().unwrap_or_default();
                let context = code.split("//").next().unwrap_or_default().to_lowercase();
                let limit = facts.limits.iter().find(|(v, _)| *v == value);
                if let Some((v, raw)) = limit
                    && (*v >= ALWAYS_A_LIMIT || speaks_of(&context, &limit_name(*v, raw)))
                {
                    push(
                        *line,
                        format!("limit {v} ({})", limit_name(*v, raw)),
                        "use feishu_drive::limits",
                    );
                } else if let Some((v, name)) = facts.codes.iter().find(|(v, _)| *v == value) {
                    push(*line, format!("error code {v} ({name})"), "use ErrorCode");
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The value of the product `a * b * …` of integer literals starting at `i`, and the index
/// after it.
fn product(tokens: &[Token], i: usize) -> (u128, usize) {
    let Tok::Int(mut value) = tokens[i].tok else {
        return (0, i + 1);
    };
    let mut j = i + 1;
    while let (Some(Tok::Punct('*')), Some(Tok::Int(next))) =
        (tokens.get(j).map(|t| &t.tok), tokens.get(j + 1).map(|t| &t.tok))
    {
        value = value.saturating_mul(*next);
        j += 2;
    }
    (value, j)
}

fn findings(facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    for dir in ["client/src", "server/src"] {
        for path in rust_files(dir) {
            let src = read(&path);
            if !is_generated(&path, &src) {
                out.extend(scan(&relative(&path), &src, facts));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_hand_written_file_restates_a_spec_fact() {
    assert_clean("spec facts restated by hand", &findings(&facts()), ALLOWED);
}

/// The check can fail: each kind of fact, planted in a hand-written file, is reported with its
/// line; the same in a comment or a test module is not.
#[test]
fn the_spec_fact_check_finds_planted_offenders() {
    let facts = facts();
    let src = "fn a() {\n    client.call(\"upload_part\");\n    let p = \"/open-apis/drive/v1/medias/{token}/download\";\n    const MAX: u64 = 20 * 1024 * 1024;\n    let day = Duration::from_secs(24 * 60 * 60);\n    if code == 99991400 {}\n    let name_len = 250;\n    let retries = 250; // not a length\n}\n// \"upload_all\" 4194304\n#[cfg(test)]\nmod tests { const C: i64 = 1061045; }\n";
    let found: Vec<(usize, String)> = scan("planted.rs", src, &facts)
        .into_iter()
        .map(|f| (f.line, f.what))
        .collect();
    let expect = [
        (2, "operation id \"upload_part\"".to_owned()),
        (
            3,
            "API path \"/open-apis/drive/v1/medias/{token}/download\"".to_owned(),
        ),
        (4, "limit 20971520 (UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)".to_owned()),
        (5, "limit 86400 (UPLOAD_ID_LIFETIME)".to_owned()),
        (6, "error code 99991400 (RateLimited)".to_owned()),
        (7, "limit 250 (FILE_NAME_MAX_LENGTH)".to_owned()),
    ];
    assert_eq!(found, expect);
}
