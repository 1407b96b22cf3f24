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
    rename_prelude_components(&mut doc);
    hoist_shadowing_inline_types(&mut doc);
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

/// Type names that, given to a type of the generated `types` module, shadow the prelude names
/// typify's and progenitor's code there uses unqualified (`Ok(Self::Open)`, `Default::default()`):
/// a component `OK` (mist's hoisted response) made every `FromStr` impl beside it call its
/// constructor.
const PRELUDE: [&str; 5] = ["Ok", "Err", "Some", "None", "Default"];

/// The name typify gives a component (its `sanitize` in Pascal case, on ASCII).
fn type_name(component: &str) -> String {
    let cleaned: String = component
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    heck::ToUpperCamelCase::to_upper_camel_case(cleaned.as_str())
}

/// `base`, or `{base}Schema` when typify would name it like a prelude item.
fn not_prelude(base: String) -> String {
    if PRELUDE.contains(&type_name(&base).as_str()) {
        format!("{base}Schema")
    } else {
        base
    }
}

/// Component schemas typify would name like a prelude item get a name that is not.
fn rename_prelude_components(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let clashing: Vec<String> = schemas
        .keys()
        .filter(|k| PRELUDE.contains(&type_name(k).as_str()))
        .cloned()
        .collect();
    let mut renames = Vec::new();
    for old in clashing {
        let new = free_name(schemas, &format!("{old}Schema"));
        if let Some(schema) = schemas.remove(&old) {
            schemas.insert(new.clone(), schema);
        }
        let pointer = |name: &str| {
            format!(
                "#/components/schemas/{}",
                name.replace('~', "~0").replace('/', "~1")
            )
        };
        renames.push((pointer(&old), pointer(&new)));
    }
    if !renames.is_empty() {
        rewrite_refs(doc, &renames);
    }
}

/// Whether typify gives this inline schema a type of its own named after where it is (an object
/// or an enum; an `allOf` around one `$ref`, say, is that type).
fn is_named_inline(schema: &Value) -> bool {
    schema.get("$ref").is_none() && (schema.get("properties").is_some() || schema.get("enum").is_some())
}

/// typify names the type of a component `User`'s inline property `role` `UserRole`, and writes
/// a second `UserRole` when a component has that name (peertube). Such an inline schema becomes
/// a component of a free name (`UserRole2`), which it then points to.
fn hoist_shadowing_inline_types(doc: &mut Value) {
    let Some(components) = doc.pointer("/components/schemas").and_then(Value::as_object) else {
        return;
    };
    let mut types: std::collections::BTreeSet<String> = components.keys().map(|k| type_name(k)).collect();
    let mut taken = components.clone();
    let mut found: Vec<(String, String)> = Vec::new();
    for (component, schema) in components {
        let pointer = format!(
            "/components/schemas/{}",
            component.replace('~', "~0").replace('/', "~1")
        );
        shadowing(schema, &type_name(component), &pointer, &types, &mut found);
    }
    let mut hoisted = Vec::new();
    for (pointer, name) in found {
        let Some(place) = doc.pointer_mut(&pointer) else {
            continue;
        };
        let component = free_name(&taken, &name);
        taken.insert(component.clone(), Value::Null);
        types.insert(type_name(&component));
        hoisted.push((component.clone(), std::mem::replace(place, reference(&component))));
    }
    if !hoisted.is_empty()
        && let Some(schemas) = schemas(doc)
    {
        schemas.extend(hoisted);
    }
}

/// The pointers (deepest first) of the inline property schemas under `schema` (named `name`,
/// at `pointer`) whose typify name is one of `types`, each with that name.
fn shadowing(
    schema: &Value,
    name: &str,
    pointer: &str,
    types: &std::collections::BTreeSet<String>,
    found: &mut Vec<(String, String)>,
) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (property, child) in properties {
        if !is_named_inline(child) {
            continue;
        }
        let child_name = format!("{name}{}", type_name(property));
        let child_pointer = format!(
            "{pointer}/properties/{}",
            property.replace('~', "~0").replace('/', "~1")
        );
        shadowing(child, &child_name, &child_pointer, types, found);
        if types.contains(&child_name) {
            found.push((child_pointer, child_name));
        }
    }
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
    // Deepest first: a target inside another is hoisted before its container points to it.
    targets.sort_by(|a, b| b.cmp(a));
    targets.dedup();
    let mut renames: Vec<(String, String)> = Vec::new();
    for target in targets {
        let Some(schema) = target.strip_prefix('#').and_then(|p| doc.pointer(p)).cloned() else {
            continue;
        };
        let Some(schemas) = schemas(doc) else { break };
        let name = free_name(schemas, &hoisted_name(&target));
        schemas.insert(name.clone(), schema);
        let to = format!("#/components/schemas/{name}");
        // Inside a component, the place itself points to the new component too: typify would
        // otherwise give that inline schema a type of the same name (`CreateImageRequestSize`
        // for openai's `size`, which `CreateImageEditRequest` `$ref`s; peertube's bounded
        // `VideoName`), a second definition. A place that is a `$ref`, or an `allOf`
        // around one, gets no type of its own.
        if target.starts_with("#/components/schemas/")
            && let Some(place) = target.strip_prefix('#').and_then(|p| doc.pointer_mut(p))
            && place.get("$ref").is_none()
            && place.get("allOf").is_none()
        {
            *place = serde_json::json!({ "$ref": to.clone() });
        }
        renames.push((target, to));
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

/// Whether an operation's request body (inline or a `$ref` into `#/components/requestBodies`)
/// offers `multipart/form-data`.
fn is_multipart(doc: &Value, op: &Value) -> bool {
    let body = match op.pointer("/requestBody/$ref").and_then(Value::as_str) {
        Some(reference) => reference.strip_prefix('#').and_then(|p| doc.pointer(p)),
        None => op.get("requestBody"),
    };
    body.and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| c.contains_key(MULTIPART))
}

/// The JSON schema of a response, when it is inline (not a `$ref`).
fn inline_json_schema(response: &mut Value) -> Option<&mut Value> {
    let schema = response.pointer_mut("/content/application~1json/schema")?;
    schema.get("$ref").is_none().then_some(schema)
}

/// An inline JSON response schema of a multipart operation becomes the component
/// `{Operation}Response` (the name progenitor gives inline response types), or
/// `{Operation}ErrorResponse` for an error; identical error schemas of one operation share one.
/// A `#/components/responses/{Name}` such an operation uses has its inline schema hoisted
/// once, as the component `{Name}`.
fn hoist_multipart_responses(doc: &mut Value) {
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    let mut taken = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut shared: Vec<String> = Vec::new();
    let multipart: Vec<(String, String)> = multipart_operations(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, method) in multipart {
        let Some(op) = paths.get_mut(&path).and_then(|item| item.get_mut(&method)) else {
            continue;
        };
        let Some(id) = op.get("operationId").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        // The schemas hoisted for this operation's errors, to reuse for an identical one.
        let mut errors: Vec<(Value, String)> = Vec::new();
        for (status, response) in responses.iter_mut() {
            if let Some(name) = response
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/responses/"))
            {
                shared.push(name.to_owned());
                continue;
            }
            let Some(schema) = inline_json_schema(response) else {
                continue;
            };
            let error = !status.starts_with('2');
            if let Some((_, name)) = errors.iter().find(|(s, _)| error && s == &*schema) {
                *schema = reference(name);
                continue;
            }
            let suffix = if error { "ErrorResponse" } else { "Response" };
            let base = format!(
                "{}{suffix}",
                heck::ToUpperCamelCase::to_upper_camel_case(id.as_str())
            );
            let name = free_name(&taken, &base);
            taken.insert(name.clone(), Value::Null);
            let inline = std::mem::replace(schema, reference(&name));
            if error {
                errors.push((inline.clone(), name.clone()));
            }
            hoisted.push((name, inline));
        }
    }
    shared.sort();
    shared.dedup();
    for name in shared {
        let pointer = format!(
            "/components/responses/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        let Some(schema) = doc.pointer_mut(&pointer).and_then(inline_json_schema) else {
            continue;
        };
        let component = free_name(
            &taken,
            &not_prelude(heck::ToUpperCamelCase::to_upper_camel_case(name.as_str())),
        );
        taken.insert(component.clone(), Value::Null);
        let inline = std::mem::replace(schema, reference(&component));
        hoisted.push((component, inline));
    }
    if !hoisted.is_empty()
        && let Some(schemas) = schemas(doc)
    {
        schemas.extend(hoisted);
    }
}

fn reference(component: &str) -> Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{component}") })
}

/// The (path, method) of every operation whose request body offers multipart.
fn multipart_operations(doc: &Value) -> Vec<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some_and(|op| is_multipart(doc, op)))
                .map(move |m| (path.clone(), (*m).to_owned()))
        })
        .collect()
}
