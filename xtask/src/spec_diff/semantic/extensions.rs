//! Vendor extensions with a meaning for the client: `x-feishu-rate-limit`.
//!
//! The code generator turns these numbers into the client's budget: the document-wide limit into
//! `limits::REQUESTS_PER_SECOND` and `limits::CALLS_PER_DAY` (the rate and quota every
//! `BudgetConfig`, `Uploader` and `Downloader` starts from), each operation's own limit into
//! `OperationId::rate_limit()` and a `RateGroup` (a group the budget counts apart). So a change
//! here changes what the regenerated client does, and the reasons say which way.
//! (`x-feishu-error-codes` is the error table: see [`super::error_codes`].)

use serde_json::Value;

use crate::spec_diff::change::{Change, Effect, Impact, Side, path};
use crate::spec_diff::doc::{Operation, child};

/// The extension's name.
pub const RATE_LIMIT: &str = "x-feishu-rate-limit";

/// The numbers of a rate-limit object: key, words, and the generated constant of the
/// document-wide one.
const LIMITS: [(&str, &str, &str); 2] = [
    (
        "requests_per_second",
        "requests per second",
        "limits::REQUESTS_PER_SECOND",
    ),
    ("calls_per_day", "calls per day", "limits::CALLS_PER_DAY"),
];

/// Whose limit: the document's, or one operation's.
#[derive(Clone, Copy)]
enum Whose<'a> {
    Document,
    Operation(&'a str),
}

/// The document-wide limits, and the operations they apply to.
pub(super) fn rate_limits(old: &Value, new: &Value, out: &mut Vec<Change>) {
    // A spec that did not exist had no limits to change: its operations are reported as added.
    if old.as_object().is_some_and(|o| o.is_empty()) {
        return;
    }
    let (a, b) = (old.get(RATE_LIMIT), new.get(RATE_LIMIT));
    let site = path(&[RATE_LIMIT]);
    limits(Whose::Document, a, b, &site, out);
    let operations = |v: Option<&Value>| -> Vec<String> {
        v.and_then(|v| v.get("operations"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let (before, after) = (operations(a), operations(b));
    let node = child(&site, &["operations"]);
    for (op, added) in after
        .iter()
        .filter(|op| !before.contains(op))
        .map(|op| (op, true))
        .chain(
            before
                .iter()
                .filter(|op| !after.contains(op))
                .map(|op| (op, false)),
        )
    {
        let (summary, wire, rust) = if added {
            (
                format!("`{op}` now has the documented limits"),
                "clients that call it faster than the limit are refused (99991400, HTTP 429)",
                "nothing is generated from this list: the budget paces an operation by its own `x-feishu-rate-limit` (its `RateGroup`)",
            )
        } else {
            (
                format!("`{op}` no longer has the documented limits"),
                "it is no longer documented as limited",
                "nothing is generated from this list: the budget paces an operation by its own `x-feishu-rate-limit` (its `RateGroup`)",
            )
        };
        let side = if added { Side::Head } else { Side::Base };
        out.push(
            Change::new(
                "rate-limit-operations-changed",
                format!("{RATE_LIMIT}.operations"),
                summary,
                Effect::new(Impact::Behaviour, wire),
                Effect::new(Impact::None, rust),
            )
            .about(op)
            .in_operations([op.clone()])
            .at(side, node.clone()),
        );
    }
}

/// An operation's own limits.
pub(super) fn operation_rate_limit(old: &Operation<'_>, new: &Operation<'_>, out: &mut Vec<Change>) {
    let (a, b) = (old.op.get(RATE_LIMIT), new.op.get(RATE_LIMIT));
    let site = child(&new.site, &[RATE_LIMIT]);
    let mut changes = Vec::new();
    limits(Whose::Operation(&new.id), a, b, &site, &mut changes);
    out.extend(changes.into_iter().map(|c| c.in_operations([new.id.clone()])));
}

/// The numbers of one rate-limit object.
fn limits(whose: Whose<'_>, a: Option<&Value>, b: Option<&Value>, site: &[String], out: &mut Vec<Change>) {
    let location = match whose {
        Whose::Document => format!("{RATE_LIMIT} (document-wide)"),
        Whose::Operation(id) => format!("{RATE_LIMIT} (operation `{id}`)"),
    };
    for (key, what, constant) in LIMITS {
        let number = |v: Option<&Value>| v.and_then(|v| v.get(key)).and_then(Value::as_f64);
        let (x, y) = (number(a), number(b));
        if x == y {
            continue;
        }
        let show = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_else(|| "none".to_owned());
        let wire = match (x, y) {
            (Some(x), Some(y)) if y < x => Effect::new(
                Impact::Behaviour,
                format!("clients sending {x} {what} are now refused past {y} (99991400, HTTP 429)"),
            ),
            (Some(x), Some(y)) => Effect::new(
                Impact::Compatible,
                format!("the limit rises from {x} to {y} {what}; old clients stay within it"),
            ),
            (None, _) => Effect::new(Impact::Behaviour, format!("now limited to {} {what}", show(y))),
            (Some(x), None) => Effect::new(
                Impact::Compatible,
                format!("no longer documented as limited (was {x} {what})"),
            ),
        };
        let rust = Effect::new(Impact::Behaviour, client_effect(whose, constant, (x, y)));
        let node = if y.is_some() {
            (Side::Head, child(site, &[key]))
        } else {
            (Side::Base, child(site, &[key]))
        };
        out.push(
            Change::new(
                "rate-limit-changed",
                &location,
                format!("`{key}` {} → {}", show(x), show(y)),
                wire,
                rust,
            )
            .about(key)
            .at(node.0, node.1),
        );
    }
}

/// What the regenerated client does differently.
fn client_effect(whose: Whose<'_>, constant: &str, (x, y): (Option<f64>, Option<f64>)) -> String {
    let show = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_else(|| "none".to_owned());
    let (x, y) = (show(x), show(y));
    match whose {
        Whose::Document if constant.ends_with("PER_SECOND") => format!(
            "`{constant}` is generated from it: every budget (`BudgetConfig::new`, `Uploader`, `Downloader`) paces each group at {y} requests per second instead of {x}"
        ),
        Whose::Document => format!(
            "`{constant}` is generated from it: `Budget::check_fits` and the daily count allow {y} calls per group instead of {x}"
        ),
        Whose::Operation(id) => format!(
            "`OperationId::rate_limit()` of `{id}` returns {y} instead of {x}; the budget paces groups at the document-wide `{constant}`, so it follows only if that changes too (and the operation's `RateGroup` comes or goes with its own limit)"
        ),
    }
}
