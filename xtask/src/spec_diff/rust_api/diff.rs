//! The diff of two generated APIs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::extract::parent_key;
use super::{Api, ApiItem};
use crate::spec_diff::change::{Effect, Impact, Severity, fingerprint};

/// One entry of the generated-API diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiChange {
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The item, e.g. `field types::UploadPrepareRequest::size`.
    pub item: String,
    /// 12 hex digits naming this entry, from what happened to which item (see
    /// [`fingerprint`]): ignore entries can name it like a semantic change's.
    pub fingerprint: String,
    /// Its signature on the base side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// Its signature on the head side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// The effect on code using the client, and why.
    pub rust: Effect,
    /// The class of the change.
    pub severity: Severity,
    /// How many members (fields, variants, methods, derives, impls) of an added or removed type
    /// were added or removed with it; they are not listed one by one.
    #[serde(skip_serializing_if = "is_zero")]
    pub members: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The changed items between two APIs, sorted worst first, then by item. Members of a type that
/// is added or removed as a whole are counted in its entry instead of listed.
pub fn diff(old: &Api, new: &Api) -> Vec<ApiChange> {
    let mut out = Vec::new();
    let mut folded: BTreeMap<String, usize> = BTreeMap::new();
    let entry = |change, item: &str, old: Option<&ApiItem>, new: Option<&ApiItem>, rust: Effect| ApiChange {
        change,
        item: item.to_owned(),
        fingerprint: fingerprint(&["generated-api", change, item]),
        old: old.map(|i| i.signature.clone()),
        new: new.map(|i| i.signature.clone()),
        severity: Severity::of(Impact::None, rust.impact),
        rust,
        members: 0,
    };
    for (key, item) in new {
        match old.get(key) {
            None => {
                let parent = parent_key(new, item);
                let parent_existed = parent.as_ref().is_some_and(|p| old.contains_key(p));
                if let Some(parent) = parent.filter(|_| !parent_existed) {
                    *folded.entry(parent).or_default() += 1;
                    continue;
                }
                let rust = match &item.breaks_when_added {
                    Some(why) if parent_existed => Effect::new(Impact::Breaking, why.clone()),
                    _ => Effect::new(Impact::Compatible, "a new item"),
                };
                out.push(entry("added", key, None, Some(item), rust));
            }
            Some(before) if before.signature != item.signature => {
                let rust = if only_array_lengths_differ(&before.signature, &item.signature) {
                    Effect::new(
                        Impact::Compatible,
                        "only an array length changes (one entry per row of the spec); iterating code is unaffected",
                    )
                } else {
                    Effect::new(Impact::Breaking, "the signature changes")
                };
                out.push(entry("changed", key, Some(before), Some(item), rust));
            }
            Some(_) => {}
        }
    }
    for (key, item) in old {
        if new.contains_key(key) {
            continue;
        }
        if let Some(parent) = parent_key(old, item).filter(|p| !new.contains_key(p)) {
            *folded.entry(parent).or_default() += 1;
            continue;
        }
        let rust = if key.starts_with("attr ") {
            Effect::new(Impact::Compatible, "removing #[non_exhaustive] only allows more")
        } else {
            Effect::new(Impact::Breaking, "code using it stops compiling")
        };
        out.push(entry("removed", key, Some(item), None, rust));
    }
    for change in &mut out {
        change.members = folded.get(&change.item).copied().unwrap_or(0);
    }
    out.sort_by(|a, b| (a.severity, &a.item, a.change).cmp(&(b.severity, &b.item, b.change)));
    out
}

/// `[ErrorCode; 35]` vs `[ErrorCode; 36]`: the same signature but for array lengths.
fn only_array_lengths_differ(a: &str, b: &str) -> bool {
    fn blank(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(pos) = rest.find("; ") {
            out.push_str(&rest[..pos + 2]);
            rest = &rest[pos + 2..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let after = rest[digits..].strip_prefix("usize").unwrap_or(&rest[digits..]);
            if digits > 0 && after.starts_with(']') {
                out.push('N');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
    a != b && blank(a) == blank(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lengths() {
        assert!(only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 35]",
            "pub const ALL: [ErrorCode; 36]"
        ));
        assert!(only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 39usize]",
            "pub const ALL: [ErrorCode; 40usize]"
        ));
        assert!(!only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 35]",
            "pub const ALL: [Code; 36]"
        ));
    }
}
