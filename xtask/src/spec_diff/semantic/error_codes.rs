//! The error table (`x-feishu-error-codes`), row by row: codes added, removed, renamed, and rows
//! whose retryability, HTTP status or text changed.

use std::collections::BTreeMap;

use feishu_drive_codegen::ErrorRow;
use feishu_drive_codegen::error_codes::EXTENSION;
use serde_json::Value;

use crate::spec_diff::change::{Change, Effect, Impact, Side, path};

/// A row of the table and its index there (for the annotation; the code identifies it).
struct Row {
    index: usize,
    row: ErrorRow,
}

fn site(index: usize) -> Vec<String> {
    path(&[EXTENSION, &index.to_string()])
}

/// The error table by code. Rows that do not parse are reported on the head side (the code
/// generator will reject them) and skipped.
fn error_rows(root: &Value, side: Side, out: &mut Vec<Change>) -> BTreeMap<i64, Row> {
    let mut rows = BTreeMap::new();
    let list = root.get(EXTENSION).and_then(Value::as_array);
    for (index, row) in list.into_iter().flatten().enumerate() {
        match serde_json::from_value::<ErrorRow>(row.clone()) {
            Ok(row) => {
                rows.insert(row.code, Row { index, row });
            }
            Err(e) if side == Side::Head => out.push(
                Change::new(
                    "error-table-row-invalid",
                    format!("{EXTENSION} row {index}"),
                    format!("row does not parse: {e}"),
                    Effect::none(),
                    Effect::new(
                        Impact::Breaking,
                        "the code generator rejects the table, so no client can be generated",
                    ),
                )
                .at(Side::Head, site(index)),
            ),
            Err(_) => {}
        }
    }
    rows
}

fn at(code: i64) -> String {
    format!("error code {code}")
}

/// Every change of the error table.
pub(super) fn error_codes(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let before = error_rows(old, Side::Base, out);
    let after = error_rows(new, Side::Head, out);
    for (code, now) in &after {
        let Some(previous) = before.get(code) else {
            out.push(added(now));
            continue;
        };
        let (a, b) = (&previous.row, &now.row);
        let node = site(now.index);
        if a.name != b.name {
            out.push(
                Change::new(
                    "error-code-renamed",
                    at(*code),
                    format!("variant `{}` → `{}`", a.name, b.name),
                    Effect::new(Impact::None, "the same code on the wire"),
                    Effect::new(
                        Impact::Breaking,
                        format!("`ErrorCode::{}` is renamed to `ErrorCode::{}`", a.name, b.name),
                    ),
                )
                .at(Side::Head, node.clone()),
            );
        }
        if a.retryable != b.retryable {
            out.push(retryability(b).at(Side::Head, node.clone()));
        }
        if a.http_status != b.http_status {
            out.push(status(a, b).at(Side::Head, node.clone()));
        }
        if a.class != b.class {
            out.push(class(a, b).at(Side::Head, node.clone()));
        }
        texts(a, b, &node, out);
    }
    for (code, gone) in &before {
        if !after.contains_key(code) {
            out.push(removed(gone));
        }
    }
}

fn added(now: &Row) -> Change {
    let row = &now.row;
    let name = &row.name;
    Change::new(
        "error-code-added",
        at(row.code),
        format!(
            "`{name}` added (HTTP {}, {})",
            row.http_status,
            retry_word(row.retryable)
        ),
        Effect::new(
            Impact::Compatible,
            "old clients see it as `ErrorCode::Unknown`, keeping its value",
        ),
        Effect::new(
            Impact::Compatible,
            format!(
                "new variant `ErrorCode::{name}`; `ErrorCode` is #[non_exhaustive], so no `match` breaks"
            ),
        ),
    )
    .at(Side::Head, site(now.index))
}

fn removed(gone: &Row) -> Change {
    let row = &gone.row;
    Change::new(
        "error-code-removed",
        at(row.code),
        format!("`{}` removed", row.name),
        Effect::new(
            Impact::Behaviour,
            "no longer documented; if it still arrives, clients see `ErrorCode::Unknown`",
        ),
        Effect::new(
            Impact::Breaking,
            format!(
                "variant `ErrorCode::{}` is gone: code naming it stops compiling",
                row.name
            ),
        ),
    )
    .at(Side::Base, site(gone.index))
}

/// `retryable` flipped: the client's retry loops read this column alone for a known code
/// (`ApiError::is_retryable` → `ErrorCode::is_retryable`), whatever the HTTP status, so the
/// change is exactly what the uploader and downloader will do differently.
fn retryability(row: &ErrorRow) -> Change {
    let (name, code) = (&row.name, row.code);
    let client = if row.retryable {
        format!(
            "`ErrorCode::{name}.is_retryable()` now returns true: the uploader and downloader retry a request answered with {code} (with backoff, each attempt taking a budget permit, up to `RetryPolicy::max_retries` retries) instead of failing at once"
        )
    } else {
        format!(
            "`ErrorCode::{name}.is_retryable()` now returns false: the uploader and downloader fail at once on {code} instead of retrying it with backoff (up to `RetryPolicy::max_retries` retries)"
        )
    };
    Change::new(
        "error-code-retryability-changed",
        at(code),
        format!(
            "`{name}`: {} → {}",
            retry_word(!row.retryable),
            retry_word(row.retryable)
        ),
        Effect::new(
            Impact::Behaviour,
            if row.retryable {
                "retrying the same request later is now documented to succeed"
            } else {
                "retrying the same request is now documented to fail again"
            },
        ),
        Effect::new(Impact::Behaviour, client),
    )
}

fn status(a: &ErrorRow, b: &ErrorRow) -> Change {
    let name = &b.name;
    Change::new(
        "error-code-status-changed",
        at(b.code),
        format!("`{name}`: HTTP {} → {}", a.http_status, b.http_status),
        Effect::new(
            Impact::Behaviour,
            "the code arrives with another HTTP status; clients branching on the status see the new one",
        ),
        Effect::new(
            Impact::Behaviour,
            format!(
                "`ErrorCode::{name}.http_status()` returns Some({})",
                b.http_status
            ),
        ),
    )
}

/// The `class` column: what the code tells the client about its budget or token.
fn class(a: &ErrorRow, b: &ErrorRow) -> Change {
    let name = &b.name;
    let show = |class: &Option<String>| class.clone().unwrap_or_else(|| "none".to_owned());
    let meaning = |class: &Option<String>| match class.as_deref() {
        Some("throttled") => "`is_throttled()`: the budget slows every caller of the app",
        Some("quota") => "`is_quota_exhausted()`: the budget stops the group for the day",
        Some("token") => "`is_token_rejected()`: the client fetches a new token and sends once more",
        _ => "none of `is_throttled()`, `is_quota_exhausted()`, `is_token_rejected()`",
    };
    Change::new(
        "error-code-class-changed",
        at(b.code),
        format!("`{name}`: class {} → {}", show(&a.class), show(&b.class)),
        Effect::new(Impact::None, "the same code on the wire"),
        Effect::new(
            Impact::Behaviour,
            format!(
                "`ErrorCode::{name}` was {}; now {}",
                meaning(&a.class),
                meaning(&b.class)
            ),
        ),
    )
}

/// Message, hint and provenance: documentation of the row.
fn texts(a: &ErrorRow, b: &ErrorRow, node: &[String], out: &mut Vec<Change>) {
    let evidence = (
        a.evidence.clone().unwrap_or_default(),
        b.evidence.clone().unwrap_or_default(),
    );
    let unverified = (a.unverified.join(", "), b.unverified.join(", "));
    for (what, x, y) in [
        ("message", &a.message, &b.message),
        ("hint", &a.hint, &b.hint),
        ("provenance", &a.provenance, &b.provenance),
        ("evidence", &evidence.0, &evidence.1),
        ("unverified", &unverified.0, &unverified.1),
    ] {
        if x != y {
            out.push(
                Change::new(
                    "error-code-text-changed",
                    at(b.code),
                    format!("`{}`: {what} {x:?} → {y:?}", b.name),
                    Effect::new(Impact::Docs, "text only; nothing should match on it"),
                    Effect::new(
                        Impact::Docs,
                        format!("the variant's doc comment and `{what}`-derived text change"),
                    ),
                )
                .about(what)
                .at(Side::Head, node.to_vec()),
            );
        }
    }
}

fn retry_word(retryable: bool) -> &'static str {
    if retryable { "retryable" } else { "not retryable" }
}
