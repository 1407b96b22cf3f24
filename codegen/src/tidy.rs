//! Rewrites of shapes real specs use that the generators cannot take as written, into ones they
//! can, each keeping what the document means to a client (or saying in the docs what it drops):
//!
//! - a path item that is a `$ref` into this document is replaced by its target;
//! - an operation without `operationId` gets one from its method and path (`GET /users/{id}`
//!   → `get_users_by_id`), stable as long as the path is;
//! - outside strict mode, an `operationId` that makes no Rust method name, a second one of the
//!   same name, or one that would shadow a `Client` method is renamed (`2fa` → `op_2fa`, the
//!   second `list` → `list_2`, `new` → `new_op`);
//! - descriptions, summaries and titles lose bare carriage returns (rustc refuses a doc comment
//!   with one);
//! - a request body offering several content types keeps the one the generated method sends
//!   (multipart, then JSON, then form-urlencoded, octet-stream, text) and the operation's
//!   description says which others the server also takes; a multipart body whose schema is no
//!   form (an array, a string, an empty schema: which parts it means is unsaid) yields to the
//!   next one;
//! - a response offering the same schema as JSON and in other encodings (`application/xml`)
//!   keeps the JSON one, which the client reads;
//! - outside strict mode, a JSON response without a schema gets `{}` (any value), and a
//!   multipart `encoding` content type listing several media types keeps the first.
//!
//! A document with none of these shapes (the project's own spec) comes out unchanged.

use std::collections::HashSet;

use serde_json::{Map, Value};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The preference among a request body's content types: what the generated method sends.
const BODY_PREFERENCE: [&str; 7] = [
    "multipart/form-data",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "text/plain",
    "text/x-markdown",
    // `application/*+json` ranks after plain JSON (see `rank`).
    "+json",
];

/// The `Client` methods progenitor generates itself (see `spec::CLIENT_METHODS`).
const CLIENT_METHODS: [&str; 6] = [
    "new",
    "new_with_client",
    "baseurl",
    "client",
    "api_version",
    "inner",
];

/// Applies every rewrite of the module documentation; returns the operations (path, method)
/// whose multipart body yielded to another content type.
pub(crate) fn tidy(doc: &mut Value, strict: bool) -> Vec<(String, String)> {
    inline_path_item_refs(doc);
    strip_carriage_returns(doc);
    name_operations(doc, strict);
    let not_multipart = choose_request_types(doc);
    drop_alternative_encodings(doc);
    if !strict {
        first_of_listed_part_types(doc);
        any_json_where_no_schema(doc);
    }
    not_multipart
}

/// An `encoding` content type listing several media types (OAS 3.0 allows a list, a part has
/// one) keeps the first: the default the part is sent with (the streaming setters take any).
fn first_of_listed_part_types(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(encoding)) =
                map.get_mut(MULTIPART).and_then(|media| media.get_mut("encoding"))
            {
                for part in encoding.values_mut() {
                    if let Some(Value::String(types)) = part.get_mut("contentType")
                        && let Some((first, _)) = types.split_once(',')
                    {
                        *types = first.trim().to_owned();
                    }
                }
            }
            map.values_mut().for_each(first_of_listed_part_types);
        }
        Value::Array(items) => items.iter_mut().for_each(first_of_listed_part_types),
        _ => {}
    }
}

/// A JSON response media type without a schema (progenitor panics on one: "media type
/// encoding, no schema") says only that the body is JSON: it gets the schema `{}`, any value.
fn any_json_where_no_schema(doc: &mut Value) {
    if let Some(Value::Object(shared)) = doc.pointer_mut("/components/responses") {
        shared.values_mut().for_each(any_json_body);
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, op) in item.iter_mut() {
                if METHODS.contains(&method.as_str())
                    && let Some(Value::Object(listed)) = op.get_mut("responses")
                {
                    listed.values_mut().for_each(any_json_body);
                }
            }
        }
    }
}

fn any_json_body(response: &mut Value) {
    if let Some(Value::Object(content)) = response.get_mut("content") {
        for (media_type, media) in content.iter_mut() {
            if crate::raw_success::is_json(media_type)
                && let Some(media) = media.as_object_mut()
                && !media.contains_key("schema")
            {
                media.insert("schema".to_owned(), Value::Object(Map::new()));
            }
        }
    }
}

fn inline_path_item_refs(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    let mut targets = Vec::new();
    for (path, item) in paths {
        if let Some(reference) = item.get("$ref").and_then(Value::as_str)
            && let Some(target) = reference.strip_prefix('#').and_then(|p| doc.pointer(p))
            && target.get("$ref").is_none()
        {
            targets.push((path.clone(), target.clone()));
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, target) in targets {
            paths.insert(path, target);
        }
    }
}

fn strip_carriage_returns(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text)
                        if matches!(key.as_str(), "description" | "summary" | "title")
                            && text.contains('\r') =>
                    {
                        *text = text.replace("\r\n", "\n").replace('\r', "\n");
                    }
                    _ => strip_carriage_returns(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_carriage_returns),
        _ => {}
    }
}

/// Each operation as `(path, method)`, in document order.
fn operation_slots(doc: &Value) -> Vec<(String, String)> {
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

fn operation_mut<'a>(doc: &'a mut Value, path: &str, method: &str) -> Option<&'a mut Map<String, Value>> {
    doc.get_mut("paths")?
        .get_mut(path)?
        .get_mut(method)?
        .as_object_mut()
}

/// `GET /users/{id}/posts` → `get_users_by_id_posts`; `GET /` → `get_root`.
pub(crate) fn name_from_path(method: &str, path: &str) -> String {
    let mut words = vec![method.to_owned()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(parameter) => words.push(format!("by_{parameter}")),
            None => words.push(segment.to_owned()),
        }
    }
    if words.len() == 1 {
        words.push("root".to_owned());
    }
    method_name(&words.join("_"))
}

/// Any text as a snake_case method name that is not a keyword and starts with a letter.
fn method_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut name = heck::ToSnakeCase::to_snake_case(cleaned.as_str());
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("op_{name}");
    }
    if name == "gen" || syn::parse_str::<syn::Ident>(&name).is_err() {
        name.push_str("_op");
    }
    name
}

fn name_operations(doc: &mut Value, strict: bool) {
    let mut taken: HashSet<String> = HashSet::new();
    // The names written in the spec go first: a synthesised or renamed one never takes theirs.
    for (path, method) in operation_slots(doc) {
        if let Some(id) = doc
            .pointer(&format!("/paths/{}/{method}/operationId", escape(&path)))
            .and_then(Value::as_str)
        {
            taken.insert(heck::ToSnakeCase::to_snake_case(id));
        }
    }
    let mut used: HashSet<String> = HashSet::new();
    for (path, method) in operation_slots(doc) {
        let Some(op) = operation_mut(doc, &path, &method) else {
            continue;
        };
        let written = op.get("operationId").and_then(Value::as_str).map(str::to_owned);
        let own = written.as_deref().map(heck::ToSnakeCase::to_snake_case);
        let name = match (&written, &own) {
            (Some(_), Some(own)) if strict => {
                used.insert(own.clone());
                continue;
            }
            (Some(id), Some(own)) => {
                let mut name = method_name(id);
                if CLIENT_METHODS.contains(&name.as_str()) {
                    name.push_str("_op");
                }
                if name == *own && !used.contains(&name) {
                    used.insert(name);
                    continue;
                }
                name
            }
            _ => name_from_path(&method, &path),
        };
        let mut unique = name.clone();
        let mut n = 2;
        while used.contains(&unique)
            || (taken.contains(&unique) && own.as_ref() != Some(&unique))
            || CLIENT_METHODS.contains(&unique.as_str())
        {
            unique = format!("{name}_{n}");
            n += 1;
        }
        used.insert(unique.clone());
        op.insert("operationId".to_owned(), Value::String(unique));
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The position of a content type in [`BODY_PREFERENCE`]; `None` for one nothing can send.
fn rank(content_type: &str) -> Option<usize> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    BODY_PREFERENCE.iter().position(|t| *t == essence).or_else(|| {
        (essence.starts_with("application/") && essence.ends_with("+json"))
            .then_some(BODY_PREFERENCE.len() - 1)
    })
}

/// Keeps the preferred content type of each request body with several; the others are named in
/// the operation's description (a body behind a `$ref` is rewritten where it is defined).
/// Returns the operations whose multipart body yielded to another content type.
fn choose_request_types(doc: &mut Value) -> Vec<(String, String)> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
    let mut shared: Vec<(String, String, String)> = Vec::new();
    let mut not_multipart = Vec::new();
    for (path, method) in operation_slots(doc) {
        let Some(op) = operation_mut(doc, &path, &method) else {
            continue;
        };
        let dropped = match op.get_mut("requestBody") {
            Some(body) if body.get("$ref").is_some() => {
                if let Some(r) = body.get("$ref").and_then(Value::as_str) {
                    shared.push((r.to_owned(), path.clone(), method.clone()));
                }
                None
            }
            Some(body) => keep_preferred(body, &schemas),
            None => None,
        };
        if let Some((kept, dropped)) = dropped {
            note(op, &dropped);
            if dropped.iter().any(|t| t == MULTIPART) {
                not_multipart.push((path.clone(), method.clone()));
                note_not_a_form(op, &kept);
            }
        }
    }
    shared.sort();
    let mut done: HashSet<String> = HashSet::new();
    let mut yielded: HashSet<String> = HashSet::new();
    for (reference, path, method) in shared {
        if done.insert(reference.clone())
            && let Some(body) = reference.strip_prefix('#').and_then(|p| doc.pointer_mut(p))
            && keep_preferred(body, &schemas).is_some_and(|(_, d)| d.iter().any(|t| t == MULTIPART))
        {
            yielded.insert(reference.clone());
        }
        if yielded.contains(&reference) {
            not_multipart.push((path, method));
        }
    }
    not_multipart
}

const MULTIPART: &str = "multipart/form-data";

/// Whether a multipart schema describes a form: an object (its properties the parts), by
/// `$ref` or `allOf`; not an array, a string or an empty schema, which say no part names.
fn is_form(schema: Option<&Value>, schemas: &Value) -> bool {
    let mut schema = schema;
    for _ in 0..8 {
        match schema
            .and_then(|s| s.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            Some(name) => schema = schemas.get(name),
            None => break,
        }
    }
    let Some(schema) = schema.and_then(Value::as_object) else {
        return false;
    };
    let typed_otherwise = schema
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "object");
    !typed_otherwise
        && ["properties", "allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| schema.contains_key(*k))
}

/// Keeps the best content type of a request body with several; returns it and the ones
/// dropped.
fn keep_preferred(body: &mut Value, schemas: &Value) -> Option<(String, Vec<String>)> {
    let content = body.get_mut("content")?.as_object_mut()?;
    if content.len() < 2 {
        return None;
    }
    let best = content
        .iter()
        .filter(|(t, media)| *t != MULTIPART || is_form(media.get("schema"), schemas))
        .filter_map(|(t, _)| rank(t).map(|r| (r, t.clone())))
        .min()?
        .1;
    let dropped: Vec<String> = content.keys().filter(|t| **t != best).cloned().collect();
    content.retain(|t, _| *t == best);
    Some((best, dropped))
}

/// Says why an operation does not send the multipart body it offers.
fn note_not_a_form(op: &mut Map<String, Value>, kept: &str) {
    let line = format!(
        "Its `{MULTIPART}` schema is no form (it does not say which parts to send), so this client sends `{kept}`."
    );
    if let Some(Value::String(description)) = op.get_mut("description") {
        description.push(' ');
        description.push_str(&line);
    }
}

fn note(op: &mut Map<String, Value>, dropped: &[String]) {
    let list = dropped
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let line =
        format!("The server also accepts the request body as {list}; this client sends the one above.");
    let description = match op.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{}\n\n{line}", d.trim_end()),
        _ => line,
    };
    op.insert("description".to_owned(), Value::String(description));
}

/// A response listing JSON and other encodings of the same schema keeps the JSON one.
fn drop_alternative_encodings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(content)) = map.get_mut("content")
                && content.len() > 1
                && let Some(json) = content
                    .iter()
                    .find(|(t, _)| crate::raw_success::is_json(t))
                    .map(|(_, media)| media.get("schema").cloned())
            {
                let json = json.unwrap_or(Value::Null);
                content.retain(|t, media| {
                    crate::raw_success::is_json(t)
                        || media.get("schema").cloned().unwrap_or(Value::Null) != json
                });
                // Several JSON flavours of one schema: the plain one.
                if content.len() > 1 && content.contains_key("application/json") {
                    let json_schema = content
                        .get("application/json")
                        .and_then(|m| m.get("schema"))
                        .cloned();
                    content.retain(|t, media| {
                        t == "application/json" || media.get("schema").cloned() != json_schema
                    });
                }
            }
            map.values_mut().for_each(drop_alternative_encodings);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_alternative_encodings),
        _ => {}
    }
}
