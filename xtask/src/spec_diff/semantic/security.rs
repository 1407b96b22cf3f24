//! Security: schemes, document-wide and per-operation requirements.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::spec_diff::change::{Change, Effect, Impact, Side, path};
use crate::spec_diff::doc::{self, Operation, child, resolve, str_of};

/// The alternatives of a security requirement list: `tenant_access_token`, `a + b`, or
/// `anonymous` for the empty requirement `{}`.
fn alternatives(requirements: &Value) -> BTreeSet<String> {
    requirements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|requirement| {
            if requirement.is_empty() {
                "anonymous".to_owned()
            } else {
                let mut schemes: Vec<&str> = requirement.keys().map(String::as_str).collect();
                schemes.sort_unstable();
                schemes.join(" + ")
            }
        })
        .collect()
}

/// Effective security of an operation; an absent or empty list means anonymous access.
fn effective(root: &Value, op: &Operation<'_>) -> BTreeSet<String> {
    let list = op.op.get("security").or_else(|| root.get("security"));
    let set = list.map(alternatives).unwrap_or_default();
    if set.is_empty() {
        BTreeSet::from(["anonymous".to_owned()])
    } else {
        set
    }
}

/// Changes of the accepted alternatives from `before` to `after`, at `location` (`node` in the
/// head), reaching `operations`.
fn security_changes(
    (location, node): (&str, Vec<String>),
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    operations: &[String],
    out: &mut Vec<Change>,
) {
    let rust = || {
        Effect::new(
            Impact::None,
            "credentials are attached by `ClientContext`, not by generated code",
        )
    };
    for gone in before.difference(after) {
        let (summary, why) = if gone == "anonymous" {
            (
                "authentication now required".to_owned(),
                "anonymous calls are rejected".to_owned(),
            )
        } else {
            (
                format!("`{gone}` no longer accepted"),
                format!("clients authenticating with `{gone}` are rejected"),
            )
        };
        out.push(
            Change::new(
                "security-requirement-removed",
                location,
                summary,
                Effect::new(Impact::Breaking, why),
                rust(),
            )
            .about(gone)
            .in_operations(operations.iter().cloned())
            .at(Side::Head, node.clone()),
        );
    }
    for added in after.difference(before) {
        let summary = if added == "anonymous" {
            "anonymous access allowed".to_owned()
        } else {
            format!("`{added}` accepted")
        };
        out.push(
            Change::new(
                "security-requirement-added",
                location,
                summary,
                Effect::new(
                    Impact::Compatible,
                    "one more way to authenticate; the old ones still work",
                ),
                rust(),
            )
            .about(added)
            .in_operations(operations.iter().cloned())
            .at(Side::Head, node.clone()),
        );
    }
}

/// An operation's own security requirements, where it has its own on either side.
pub(super) fn operation_security(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    // Operations following the document-wide list on both sides are covered by the global
    // comparison; reporting them here too would repeat one change per operation.
    if old.op.get("security").is_none() && new.op.get("security").is_none() {
        return;
    }
    let (before, after) = (effective(old_root, old), effective(new_root, new));
    let location = format!("operation `{}` security", new.id);
    security_changes(
        (&location, child(&new.site, &["security"])),
        &before,
        &after,
        std::slice::from_ref(&new.id),
        out,
    );
}

/// Security schemes added, removed or changed (descriptions aside).
pub(super) fn security_schemes(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let schemes = |root: &Value| -> BTreeMap<String, Value> {
        root.pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, scheme)| {
                // The description is documentation; the rest is what a client must send.
                let mut scheme = resolve(root, scheme)
                    .map(|r| r.value.clone())
                    .unwrap_or(Value::Null);
                if let Some(object) = scheme.as_object_mut() {
                    object.remove("description");
                }
                (name.clone(), scheme)
            })
            .collect()
    };
    let (before, after) = (schemes(old), schemes(new));
    let rust = || {
        Effect::new(
            Impact::None,
            "credentials are attached by `ClientContext`, not by generated code",
        )
    };
    let at = |name: &str| path(&["components", "securitySchemes", name]);
    for (name, scheme) in &after {
        match before.get(name) {
            None => out.push(
                Change::new(
                    "security-scheme-added",
                    format!("security scheme `{name}`"),
                    format!("added ({})", describe_scheme(scheme)),
                    Effect::new(Impact::Compatible, "usable only where an operation accepts it"),
                    rust(),
                )
                .at(Side::Head, at(name)),
            ),
            Some(previous) if previous != scheme => out.push(
                Change::new(
                    "security-scheme-changed",
                    format!("security scheme `{name}`"),
                    format!("{} → {}", describe_scheme(previous), describe_scheme(scheme)),
                    Effect::new(Impact::Breaking, "clients send credentials the old way"),
                    rust(),
                )
                .at(Side::Head, at(name)),
            ),
            Some(_) => {}
        }
    }
    for (name, scheme) in &before {
        if !after.contains_key(name) {
            out.push(
                Change::new(
                    "security-scheme-removed",
                    format!("security scheme `{name}`"),
                    format!("removed (was {})", describe_scheme(scheme)),
                    Effect::new(Impact::Breaking, "clients authenticating with it are rejected"),
                    rust(),
                )
                .at(Side::Base, at(name)),
            );
        }
    }
}

fn describe_scheme(scheme: &Value) -> String {
    let part = |key: &str| str_of(scheme, key).map(|v| format!("{key}: {v}"));
    let parts: Vec<String> = ["type", "scheme", "in", "name", "bearerFormat", "openIdConnectUrl"]
        .iter()
        .filter_map(|key| part(key))
        .collect();
    if parts.is_empty() {
        doc::show(scheme)
    } else {
        parts.join(", ")
    }
}

/// The document-wide security requirements, once for all operations following them.
pub(super) fn document_security(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let (before, after) = (
        old.get("security").map(alternatives).unwrap_or_default(),
        new.get("security").map(alternatives).unwrap_or_default(),
    );
    // Only operations present on both sides and following the document-wide list on both are
    // affected; new operations are reported as added, with whatever security they get.
    let own = |root: &Value| -> BTreeMap<String, bool> {
        doc::operations(root)
            .into_iter()
            .map(|op| (op.id, op.op.get("security").is_some()))
            .collect()
    };
    let (old_ops, new_ops) = (own(old), own(new));
    let following: Vec<String> = new_ops
        .iter()
        .filter(|(id, explicit)| !**explicit && old_ops.get(*id) == Some(&false))
        .map(|(id, _)| id.clone())
        .collect();
    if before != after && !following.is_empty() {
        let or_anonymous = |set: BTreeSet<String>| {
            if set.is_empty() {
                BTreeSet::from(["anonymous".to_owned()])
            } else {
                set
            }
        };
        security_changes(
            ("security (document-wide)", path(&["security"])),
            &or_anonymous(before),
            &or_anonymous(after),
            &following,
            out,
        );
    }
}
