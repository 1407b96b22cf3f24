//! Rewrites a document into an equivalent one the generators can read.
//!
//! Real specs use shapes that mean the same as ones the generators handle: an inline response
//! schema of a multipart operation (whose type needs a name), or a `$ref` into `#/paths/…` or
//! into a component (`#/components/schemas/Video/properties/uuid`: typify resolves only whole
//! components, `#/components/schemas/…`). Each becomes a named component;
//! the document means the same afterwards. Everything else is left to the checks, which refuse
//! with the operation and field named. A document with none of these shapes (the project's own
//! spec) comes out unchanged.

use serde_json::{Map, Value};

use crate::error::CodegenError;

const MULTIPART: &str = "multipart/form-data";

/// The rewritten document.
pub(crate) fn normalize(mut doc: Value) -> Result<Value, CodegenError> {
    // A hoisted schema may itself point inside another component: repeat until none does (each
    // round hoists at least one target, and a document has finitely many).
    while hoist_inner_references(&mut doc) {}
    hoist_multipart_responses(&mut doc);
    Ok(doc)
}

/// The component schemas, created when missing.
fn schemas(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = doc.as_object_mut()?;
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// `base`, or `base2`, `base3`… whichever no component schema has yet.
fn free_name(taken: &Map<String, Value>, base: &str) -> String {
    if !taken.contains_key(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|name| !taken.contains_key(name))
        .unwrap_or_else(|| base.to_owned())
}

/// Whether a schema `$ref` points somewhere typify cannot resolve but the document holds a
/// schema: into `#/paths/…`, or inside a component schema.
fn is_inner(reference: &str) -> bool {
    reference.starts_with("#/paths/")
        || reference
            .strip_prefix("#/components/schemas/")
            .is_some_and(|rest| rest.contains('/'))
}

/// The name of the component a `$ref` target is copied into: `Path{Last}` for `#/paths/…`,
/// `{Component}{Last}` for a place inside a component (`VideoUuid`).
fn hoisted_name(reference: &str) -> String {
    let last = reference
        .rsplit('/')
        .find(|s| !s.is_empty() && *s != "schema" && *s != "items")
        .unwrap_or("Schema");
    let last = heck::ToUpperCamelCase::to_upper_camel_case(last.replace("~1", "_").as_str());
    match reference.strip_prefix("#/components/schemas/") {
        Some(rest) => {
            let owner = rest.split('/').next().unwrap_or_default().replace("~1", "_");
            format!(
                "{}{last}",
                heck::ToUpperCamelCase::to_upper_camel_case(owner.as_str())
            )
        }
        None => format!("Path{last}"),
    }
}

/// Schema `$ref`s into `#/paths/…` or inside a component become references to a new
/// component holding the same schema. Returns whether anything was hoisted.
fn hoist_inner_references(doc: &mut Value) -> bool {
    let mut targets: Vec<String> = Vec::new();
    collect_refs(doc, &mut targets);
    targets.retain(|r| is_inner(r));
    targets.sort();
    targets.dedup();
    let mut renames: Vec<(String, String)> = Vec::new();
    for target in targets {
        let Some(schema) = target.strip_prefix('#').and_then(|p| doc.pointer(p)).cloned() else {
            continue;
        };
        let Some(schemas) = schemas(doc) else { break };
        let name = free_name(schemas, &hoisted_name(&target));
        schemas.insert(name.clone(), schema);
        renames.push((target, format!("#/components/schemas/{name}")));
    }
    if renames.is_empty() {
        return false;
    }
    rewrite_refs(doc, &renames);
    true
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn rewrite_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some((_, to)) = renames.iter().find(|(from, _)| from == r)
            {
                *r = to.clone();
            }
            map.values_mut().for_each(|v| rewrite_refs(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

/// An inline JSON response schema of a multipart operation becomes the component
/// `{Operation}Response` (the name progenitor gives inline response types).
fn hoist_multipart_responses(doc: &mut Value) {
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    let mut taken = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if ![
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str())
            {
                continue;
            }
            let is_multipart = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .is_some_and(|c| c.contains_key(MULTIPART));
            let Some(id) = op.get("operationId").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            if !is_multipart {
                continue;
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                let Some(schema) = response.pointer_mut(&format!("/content/{}/schema", "application~1json"))
                else {
                    continue;
                };
                if schema.get("$ref").is_some() {
                    continue;
                }
                let suffix = if status.starts_with('2') {
                    "Response"
                } else {
                    "ErrorResponse"
                };
                let base = format!(
                    "{}{suffix}",
                    heck::ToUpperCamelCase::to_upper_camel_case(id.as_str())
                );
                let name = free_name(&taken, &base);
                taken.insert(name.clone(), Value::Null);
                let inline = std::mem::replace(
                    schema,
                    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") }),
                );
                hoisted.push((name, inline));
            }
        }
    }
    if !hoisted.is_empty()
        && let Some(schemas) = schemas(doc)
    {
        schemas.extend(hoisted);
    }
}
