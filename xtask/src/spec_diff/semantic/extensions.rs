//! Vendor extensions with a meaning for the client: `x-feishu-rate-limit`.
//!
//! The client's budget is written by hand from these numbers (`feishu_drive::limits`, the
//! defaults of `BudgetConfig`, `Uploader` and `Downloader`), so a change here is a change of what
//! the client *should* do, and of what it *will* do once the constants follow. Either way it is a
//! behaviour change, with the direction spelled out. (`x-feishu-error-codes` is the error
//! table: see [`super::error_codes`].)

use serde_json::Value;

use crate::spec_diff::change::{Change, Effect, Impact, Side, path};
use crate::spec_diff::doc::{Operation, child};

/// The extension's name.
pub const RATE_LIMIT: &str = "x-feishu-rate-limit";

/// The numbers of a rate-limit object, with what each means to the client.
const LIMITS: [(&str, &str, &str); 2] = [
    (
        "requests_per_second",
        "requests per second",
        "the budget's rate (`limits::REQUESTS_PER_SECOND`, the default of `BudgetConfig::new`, `Uploader` and `Downloader`)",
    ),
    (
        "calls_per_day",
        "calls per day",
        "the budget's daily quota (`limits::CALLS_PER_DAY`, which `Budget::check_fits` counts against)",
    ),
];

/// The document-wide limits, and the operations they apply to.
pub(super) fn rate_limits(old: &Value, new: &Value, out: &mut Vec<Change>) {
    // A spec that did not exist had no limits to change: its operations are reported as added.
    if old.as_object().is_some_and(|o| o.is_empty()) {
        return;
    }
    let (a, b) = (old.get(RATE_LIMIT), new.get(RATE_LIMIT));
    let site = path(&[RATE_LIMIT]);
    limits("document-wide", a, b, &site, out);
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
                "the budget paces it only if its group (`budget::Group`) is added: until then it is sent unpaced",
            )
        } else {
            (
                format!("`{op}` no longer has the documented limits"),
                "it is no longer documented as limited",
                "the budget still paces it while its group exists: remove the group to stop pacing it",
            )
        };
        let side = if added { Side::Head } else { Side::Base };
        out.push(
            Change::new(
                "rate-limit-operations-changed",
                format!("{RATE_LIMIT}.operations"),
                summary,
                Effect::new(Impact::Behaviour, wire),
                Effect::new(Impact::Behaviour, rust),
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
    limits(&format!("operation `{}`", new.id), a, b, &site, &mut changes);
    out.extend(changes.into_iter().map(|c| c.in_operations([new.id.clone()])));
}

/// The numbers of one rate-limit object (`whose`: `document-wide`, or the operation).
fn limits(whose: &str, a: Option<&Value>, b: Option<&Value>, site: &[String], out: &mut Vec<Change>) {
    let location = format!("{RATE_LIMIT} ({whose})");
    for (key, what, budget) in LIMITS {
        let number = |v: Option<&Value>| v.and_then(|v| v.get(key)).and_then(Value::as_f64);
        let (x, y) = (number(a), number(b));
        if x == y {
            continue;
        }
        let show = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_else(|| "none".to_owned());
        let (wire_impact, wire, rust) = match (x, y) {
            (Some(x), Some(y)) if y < x => (
                Impact::Behaviour,
                format!("clients sending {x} {what} are now refused past {y} (99991400, HTTP 429)"),
                format!(
                    "{budget} must drop to {y}: until it does, the client sends faster than allowed and each refusal pauses every participant until the gateway's reset"
                ),
            ),
            (Some(x), Some(y)) => (
                Impact::Compatible,
                format!("the limit rises from {x} to {y} {what}; old clients stay within it"),
                format!(
                    "{budget} may rise to {y}: until it does, the client keeps to {x} and leaves the difference unused"
                ),
            ),
            (None, Some(y)) => (
                Impact::Behaviour,
                format!("now limited to {y} {what}"),
                format!("{budget} must be set for it: until then it is not paced to {y}"),
            ),
            (Some(x), None) => (
                Impact::Compatible,
                format!("no longer documented as limited (was {x} {what})"),
                format!("{budget} still keeps to {x}: drop it to stop pacing"),
            ),
            (None, None) => continue,
        };
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
                Effect::new(wire_impact, wire),
                Effect::new(Impact::Behaviour, rust),
            )
            .about(key)
            .at(node.0, node.1),
        );
    }
}
