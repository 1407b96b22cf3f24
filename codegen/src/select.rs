//! Which operations are generated: outside strict mode, an operation the generator cannot
//! express is left out (with its reason) and the rest of the spec is generated.
//!
//! Three kinds of trouble leave operations out: a problem the checks find in the operation
//! itself ([`crate::spec::problems`]); a `$ref` to nothing, or a component schema typify cannot
//! convert, which leaves out every component and operation that reaches it through `$ref`s
//! ([`exclude`]); and an operation progenitor refuses or panics on, found by bisection
//! ([`culprit`]). The document is handled as a JSON value here, so that removing an operation
//! or a component is removing a key.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// An operation the generated client does not have, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The operation's `operationId` (after naming: see the crate docs), or `*` for a whole
    /// path item.
    pub operation: String,
    /// The HTTP method, upper case (`*` for a whole path item).
    pub method: String,
    /// The path template.
    pub path: String,
    /// Why, as the generator's error message puts it.
    pub reason: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` ({} {}): {}",
            self.operation, self.method, self.path, self.reason
        )
    }
}

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document as `(path, method)`, in document order.
pub(crate) fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in METHODS {
            if item.get(method).is_some_and(Value::is_object) {
                out.push((path.clone(), method.to_owned()));
            }
        }
    }
    out
}

/// The operations whose request body offers `multipart/form-data` (a body behind a `$ref`
/// resolved), as `(path, method)`.
pub(crate) fn multipart_operations(doc: &Value) -> Vec<(String, String)> {
    operations(doc)
        .into_iter()
        .filter(|(path, method)| {
            let Some(mut body) = doc.pointer(&format!("/paths/{}/{method}/requestBody", escape(path))) else {
                return false;
            };
            if let Some(target) = body
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| doc.pointer(p))
            {
                body = target;
            }
            body.get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| c.keys().any(|t| t.starts_with("multipart/form-data")))
        })
        .collect()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The operation's `operationId`, or `<none>`.
pub(crate) fn operation_id(doc: &Value, path: &str, method: &str) -> String {
    doc.pointer(&format!("/paths/{}/{method}/operationId", escape(path)))
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_owned()
}

/// Removes one operation (or the whole path item, `method: None`), and a path item left with no
/// operation.
pub(crate) fn remove(doc: &mut Value, path: &str, method: Option<&str>) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let empty = match (method, paths.get_mut(path).and_then(Value::as_object_mut)) {
        (Some(method), Some(item)) => {
            item.remove(method);
            !METHODS.iter().any(|m| item.contains_key(*m))
        }
        _ => true,
    };
    if empty {
        paths.shift_remove(path);
    }
}

/// Leaves an operation out: records why and removes it.
pub(crate) fn leave_out(
    doc: &mut Value,
    path: &str,
    method: Option<&str>,
    reason: String,
    out: &mut Vec<LeftOut>,
) {
    out.push(LeftOut {
        operation: method.map_or_else(|| "*".to_owned(), |m| operation_id(doc, path, m)),
        method: method.map_or_else(|| "*".to_owned(), str::to_uppercase),
        path: path.to_owned(),
        reason,
    });
    remove(doc, path, method);
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Every component as its `$ref` (`#/components/schemas/Name`), with the references inside it.
fn components(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (kind, entries) in doc
        .get("components")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (name, value) in entries.as_object().into_iter().flatten() {
            let mut refs = BTreeSet::new();
            collect_refs(value, &mut refs);
            out.insert(format!("#/components/{kind}/{}", escape(name)), refs);
        }
    }
    out
}

/// The `$ref`s that point to nothing in the document, each with what is wrong with it.
pub(crate) fn dangling(doc: &Value) -> Vec<(String, String)> {
    let mut refs = BTreeSet::new();
    // Only what the generators read, as `spec::check_all_references`: leaving out operations
    // cannot remove a `$ref` inside a top-level extension (velopayments' `x-webhooks`), so it
    // would be found again every round.
    for key in ["paths", "components"] {
        if let Some(part) = doc.get(key) {
            collect_refs(part, &mut refs);
        }
    }
    refs.into_iter()
        .filter(|r| r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_none())
        .map(|r| {
            let why = "points to nothing in this document (only local references such as `#/components/schemas/Name` are supported)".to_owned();
            (r, why)
        })
        .collect()
}

/// Removes what reaches a bad target (a `$ref` and what is wrong with it) through `$ref`s: the
/// components, and the operations, which are left out naming the target and its problem.
pub(crate) fn exclude(doc: &mut Value, bad: &[(String, String)], out: &mut Vec<LeftOut>) {
    // Each bad reference → the reason an operation reaching it is left out.
    let mut reasons: BTreeMap<String, String> = bad
        .iter()
        .map(|(target, why)| (target.clone(), format!("uses `{target}`, which {why}")))
        .collect();
    let graph = components(doc);
    loop {
        let mut grew = false;
        for (component, refs) in &graph {
            if reasons.contains_key(component) {
                continue;
            }
            if let Some(reason) = refs.iter().find_map(|r| reasons.get(r)).cloned() {
                reasons.insert(component.clone(), reason);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    for (path, method) in operations(doc) {
        let mut refs = BTreeSet::new();
        if let Some(op) = doc.pointer(&format!("/paths/{}/{method}", escape(&path))) {
            collect_refs(op, &mut refs);
        }
        if let Some(item) = doc.pointer(&format!("/paths/{}/parameters", escape(&path))) {
            collect_refs(item, &mut refs);
        }
        if let Some(reason) = refs.iter().find_map(|r| reasons.get(r)).cloned() {
            leave_out(doc, &path, Some(&method), reason, out);
        }
    }
    for component in reasons.keys() {
        if let Some(rest) = component.strip_prefix("#/components/")
            && let Some((kind, name)) = rest.split_once('/')
            && let Some(entries) = doc
                .pointer_mut(&format!("/components/{kind}"))
                .and_then(Value::as_object_mut)
        {
            entries.shift_remove(&name.replace("~1", "/").replace("~0", "~"));
        }
    }
}

/// The one item of `items` whose presence makes `fails` true, given that `fails(items)` is:
/// halves first (one bisection step per halving), then, when only both halves together fail,
/// the shortest failing prefix. `None` when `fails(items)` turns out false.
pub(crate) fn culprit<T: Clone>(items: &[T], fails: &mut dyn FnMut(&[T]) -> bool) -> Option<T> {
    let mut candidates = items.to_vec();
    if !fails(&candidates) {
        return None;
    }
    while candidates.len() > 1 {
        let (a, b) = candidates.split_at(candidates.len() / 2);
        if fails(a) {
            candidates = a.to_vec();
        } else if fails(b) {
            candidates = b.to_vec();
        } else {
            // Only together: the item that completes the shortest failing prefix.
            return (1..=candidates.len())
                .find(|&n| fails(&candidates[..n]))
                .map(|n| candidates[n - 1].clone());
        }
    }
    candidates.pop()
}
