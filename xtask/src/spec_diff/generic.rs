//! A plain structural walk of both documents, for what the semantic rules do not cover.
//!
//! It finds every difference and sorts it into three bins:
//! - documentation keywords (`description`, `summary`, `example`, …): reported as docs-only;
//! - keywords the semantic rules read (`type`, `required`, `properties`, …): already reported
//!   there, skipped here;
//! - anything else (`encoding`, `style`, a new extension, `x-feishu-rate-limit` numbers…): reported
//!   as "not modelled, review by hand", so that no change is ever silently dropped.

use serde_json::Value;

use super::change::{Change, Effect, Impact, Side};
use super::doc::{self, show};

/// Keywords that only document.
const DOCS: [&str; 8] = [
    "description",
    "summary",
    "example",
    "examples",
    "externalDocs",
    "title",
    "contact",
    "license",
];

/// Keywords whose changes the semantic rules report (in schemas, parameters, bodies, responses,
/// operations, servers, security).
const MODELLED: [&str; 43] = [
    "type",
    "format",
    "nullable",
    "properties",
    "required",
    "items",
    "enum",
    "x-extensible-enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "pattern",
    "additionalProperties",
    "allOf",
    "oneOf",
    "anyOf",
    "$ref",
    "readOnly",
    "writeOnly",
    "in",
    "name",
    "schema",
    "content",
    "requestBody",
    "responses",
    "parameters",
    "headers",
    "operationId",
    "security",
    "securitySchemes",
    "deprecated",
    "x-feishu-scopes",
    "servers",
    "url",
    "version",
    "scheme",
];

/// Keys whose children are names chosen by the author, not keywords.
const CONTAINERS: [&str; 14] = [
    "paths",
    "properties",
    "schemas",
    "responses",
    "content",
    "headers",
    "securitySchemes",
    "parameters",
    "requestBodies",
    "examples",
    "encoding",
    "variables",
    "scopes",
    "links",
];

/// Docs-only and unmodelled changes between the two documents.
pub fn compare(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(old, new, &mut path, new, &mut out);
    out
}

fn walk(old: &Value, new: &Value, path: &mut Vec<String>, root: &Value, out: &mut Vec<Change>) {
    // The error table is compared row by row by the semantic rules.
    if path.len() == 1 && path[0] == feishu_drive_codegen::error_codes::EXTENSION {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.push(key.clone());
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(x, y, path, root, out),
                    (x, y) => report(path, x, y, root, out),
                }
                path.pop();
            }
        }
        // Lists of the same length are compared item by item; otherwise the list as a whole
        // (an inserted server would make every later item look changed).
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(i.to_string());
                walk(x, y, path, root, out);
                path.pop();
            }
        }
        (a, b) if a == b => {}
        (a, b) => report(path, Some(a), Some(b), root, out),
    }
}

/// What a difference at `path` is about.
#[derive(Debug, PartialEq, Eq)]
enum Bin {
    Docs,
    Modelled,
    Unmodelled,
}

fn bin(path: &[String]) -> Bin {
    // The keywords on the path: segments that are neither list indexes nor names under a
    // container.
    let mut keywords: Vec<&str> = Vec::new();
    let mut after_container = false;
    let mut last_is_name = false;
    for segment in path {
        let is_index = segment.parse::<usize>().is_ok();
        if after_container {
            after_container = false;
            last_is_name = true;
            continue;
        }
        last_is_name = false;
        if is_index {
            continue;
        }
        // `paths` → path template → HTTP method: the method is a keyword, not a name.
        keywords.push(segment);
        after_container = CONTAINERS.contains(&segment.as_str());
    }
    if keywords.iter().any(|k| DOCS.contains(k)) {
        return Bin::Docs;
    }
    // Tags only group operations in documentation; the document-wide scope list describes scopes
    // (the operations' own `x-feishu-scopes` lists are compared semantically).
    let top = path.first().map(String::as_str);
    if matches!(top, Some("tags" | "x-feishu-scopes")) {
        return Bin::Docs;
    }
    if keywords
        .iter()
        .any(|k| matches!(*k, "security" | "securitySchemes" | "x-feishu-rate-limit"))
    {
        return Bin::Modelled;
    }
    // A multipart part's `contentType` and `headers` are compared by the encoding rules; `style`,
    // `explode` and `allowReserved` apply to urlencoded bodies only and stay unmodelled.
    if let Some(at) = keywords.iter().position(|k| *k == "encoding") {
        return match keywords.get(at + 1) {
            None => Bin::Modelled,
            Some(&("contentType" | "headers")) => Bin::Modelled,
            Some(_) => Bin::Unmodelled,
        };
    }
    let Some(last) = keywords.last() else {
        return Bin::Unmodelled;
    };
    // A whole named entry appearing or disappearing (a property, a path, a response) is the
    // semantic rules' business when its container is.
    if last_is_name && MODELLED.iter().chain(CONTAINERS.iter()).any(|k| k == last) {
        return if matches!(*last, "variables" | "links" | "examples") {
            Bin::Unmodelled
        } else {
            Bin::Modelled
        };
    }
    if doc::METHODS.contains(last) || *last == "paths" {
        return Bin::Modelled;
    }
    // The `servers` list (not its variables, which are not modelled).
    if top == Some("servers") && !keywords.contains(&"variables") {
        return Bin::Modelled;
    }
    if MODELLED.contains(last) {
        return Bin::Modelled;
    }
    // Operation tags only group methods in docs.
    if *last == "tags" {
        return Bin::Docs;
    }
    Bin::Unmodelled
}

fn report(path: &[String], old: Option<&Value>, new: Option<&Value>, root: &Value, out: &mut Vec<Change>) {
    let location = locate(path, root);
    let shown = |v: Option<&Value>| v.map(show).unwrap_or_else(|| "absent".to_owned());
    let summary = match (old, new) {
        (None, Some(v)) if is_text(v) => "added".to_owned(),
        (Some(v), None) if is_text(v) => "removed".to_owned(),
        (Some(a), Some(b)) if is_text(a) && is_text(b) => "changed".to_owned(),
        _ => format!("{} → {}", shown(old), shown(new)),
    };
    let side = if new.is_some() { Side::Head } else { Side::Base };
    let change = match bin(path) {
        Bin::Modelled => return,
        Bin::Docs => Change::new(
            "docs-changed",
            location,
            summary,
            Effect::new(Impact::Docs, "documentation only"),
            Effect::new(Impact::Docs, "doc comments of the generated code, at most"),
        ),
        Bin::Unmodelled => Change::new(
            "unmodelled-change",
            location,
            summary,
            Effect::new(
                Impact::Behaviour,
                "not modelled by spec-diff: review it in the YAML diff",
            ),
            Effect::new(Impact::None, "check the generated-API diff below"),
        ),
    };
    out.push(change.at(side, path.to_vec()));
}

/// Long prose is summarised as "changed"; short values are shown.
fn is_text(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.len() > 40 || s.contains('\n'))
        || matches!(value, Value::Object(_) | Value::Array(_))
}

/// A readable location: `upload_prepare.summary` for a path under an operation,
/// `components.schemas.FileName.description` elsewhere.
fn locate(path: &[String], root: &Value) -> String {
    if path.len() >= 3 && path[0] == "paths" {
        let op_id = root
            .get("paths")
            .and_then(|p| p.get(&path[1]))
            .and_then(|item| item.get(&path[2]))
            .and_then(|op| op.get("operationId"))
            .and_then(Value::as_str);
        if let Some(id) = op_id {
            let rest = &path[3..];
            return if rest.is_empty() {
                format!("operation `{id}`")
            } else {
                format!("operation `{id}`: {}", rest.join("."))
            };
        }
    }
    if path.is_empty() {
        "document".to_owned()
    } else {
        path.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> Vec<String> {
        path.split('|').map(str::to_owned).collect()
    }

    #[test]
    fn sorts_differences_into_bins() {
        assert_eq!(bin(&p("components|schemas|FileName|description")), Bin::Docs);
        assert_eq!(bin(&p("components|schemas|FileName|maxLength")), Bin::Modelled);
        assert_eq!(
            bin(&p("components|schemas|X|properties|description")),
            Bin::Modelled
        );
        assert_eq!(
            bin(&p("components|schemas|X|properties|description|description")),
            Bin::Docs
        );
        assert_eq!(bin(&p("paths|/a|post")), Bin::Modelled);
        assert_eq!(bin(&p("paths|/b")), Bin::Modelled);
        assert_eq!(bin(&p("paths|/a|post|summary")), Bin::Docs);
        assert_eq!(
            bin(&p("paths|/a|post|security|0|tenant_access_token")),
            Bin::Modelled
        );
        assert_eq!(
            bin(&p("paths|/a|post|parameters|0|schema|maxLength")),
            Bin::Modelled
        );
        assert_eq!(bin(&p("paths|/a|post|parameters|0|style")), Bin::Unmodelled);
        assert_eq!(
            bin(&p(
                "paths|/a|post|requestBody|content|multipart/form-data|encoding|file|contentType"
            )),
            Bin::Modelled
        );
        assert_eq!(
            bin(&p(
                "paths|/a|post|requestBody|content|multipart/form-data|encoding|file|style"
            )),
            Bin::Unmodelled
        );
        assert_eq!(bin(&p("x-feishu-rate-limit|requests_per_second")), Bin::Modelled);
        assert_eq!(bin(&p("x-feishu-rate-limit|description")), Bin::Docs);
        assert_eq!(bin(&p("x-feishu-scopes|scopes|drive:drive")), Bin::Docs);
        assert_eq!(bin(&p("servers")), Bin::Modelled);
        assert_eq!(bin(&p("servers|0|description")), Bin::Docs);
        assert_eq!(bin(&p("servers|0|variables|region|default")), Bin::Unmodelled);
        assert_eq!(bin(&p("info|version")), Bin::Modelled);
        assert_eq!(bin(&p("tags|0|name")), Bin::Docs);
        assert_eq!(bin(&p("components|schemas|X|default")), Bin::Unmodelled);
    }
}
