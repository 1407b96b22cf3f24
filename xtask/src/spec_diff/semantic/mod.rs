//! The semantic diff: operations, parameters, bodies, responses, error codes, servers, security,
//! vendor extensions. One module per part of the document.

mod bodies;
mod document;
mod encoding;
mod error_codes;
mod extensions;
mod operations;
mod responses;
mod security;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::change::Change;

/// What the generated code contains on each side, where the rules need it: the names of the
/// types in `types::`. `None` when that side could not be generated.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Type names under `types::` in the base's generated client.
    pub old_types: Option<BTreeSet<String>>,
    /// Type names under `types::` in the head's generated client.
    pub new_types: Option<BTreeSet<String>>,
}

/// Every semantic change from `old` to `new`, merged and sorted.
pub fn compare(old: &Value, new: &Value, generated: &Generated) -> Vec<Change> {
    let mut out = Vec::new();
    operations::operations(old, new, &mut out);
    error_codes::error_codes(old, new, &mut out);
    document::servers(old, new, &mut out);
    security::document_security(old, new, &mut out);
    security::security_schemes(old, new, &mut out);
    document::components(old, new, generated, &mut out);
    document::version(old, new, &mut out);
    extensions::rate_limits(old, new, &mut out);
    merge(out)
}

/// Folds changes that differ only in the operations they reach (a shared component changed
/// once, seen from six operations) into one, and sorts worst first.
pub fn merge(changes: Vec<Change>) -> Vec<Change> {
    let mut merged: Vec<Change> = Vec::new();
    let mut index: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    for change in changes {
        let key = (
            change.kind.to_owned(),
            change.location.clone(),
            change.summary.clone(),
            format!("{:?}{}", change.wire.impact, change.wire.why),
            format!("{:?}{}", change.rust.impact, change.rust.why),
        );
        match index.get(&key) {
            Some(&i) => {
                let target = &mut merged[i];
                target.operations.extend(change.operations);
                target.operations.sort();
                target.operations.dedup();
            }
            None => {
                index.insert(key, merged.len());
                merged.push(change);
            }
        }
    }
    merged.sort_by(|a, b| {
        (a.severity, &a.location, a.kind, &a.summary).cmp(&(b.severity, &b.location, b.kind, &b.summary))
    });
    merged
}

/// A JSON-pointer segment for a key (`application/json` → `application~1json`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Values joined for a summary, or `none`.
fn list(values: &BTreeSet<String>) -> String {
    if values.is_empty() {
        "none".to_owned()
    } else {
        values.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}
