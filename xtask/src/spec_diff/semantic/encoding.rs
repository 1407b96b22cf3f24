//! The multipart Encoding Object: each part's `contentType` and `headers`.
//!
//! A part's content type is on the wire: a server that checks it rejects parts labelled the old
//! way. The code generator labels binary parts with their `encoding.contentType` (by default
//! `application/octet-stream`) and sends other parts as text whatever the encoding says; it sends
//! no per-part headers. The rules say which of those a change reaches.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::bodies::{Sited, body_of};
use super::escape;
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc::{Operation, child, flag, resolve};
use crate::spec_diff::fields::{self, Direction, Field, Root};

const MULTIPART: &str = "multipart/form-data";

/// One side's multipart body: its encoding entries and its top-level fields.
struct Form<'a> {
    encoding: BTreeMap<String, &'a Value>,
    fields: BTreeMap<fields::FieldPath, Field>,
    site: Vec<String>,
}

fn form<'a>(root: &'a Value, body: &Sited<'a>) -> Option<Form<'a>> {
    let media = body.value.pointer(&format!("/content/{}", escape(MULTIPART)))?;
    let encoding = media
        .get("encoding")
        .and_then(Value::as_object)
        .map(|map| map.iter().map(|(k, v)| (k.clone(), v)).collect())
        .unwrap_or_default();
    let site = child(&body.site, &["content", MULTIPART]);
    let empty = Value::Object(serde_json::Map::new());
    let schema_site = child(&site, &["schema"]);
    let root_field = Root {
        schema: media.get("schema").unwrap_or(&empty),
        site: &schema_site,
        required: true,
        slot: "",
    };
    let fields = fields::flatten(root, root_field, Direction::Request);
    Some(Form {
        encoding,
        fields,
        site,
    })
}

impl Form<'_> {
    /// The part's content type: its `encoding.contentType`, else OpenAPI's default for the
    /// field's schema.
    fn content_type(&self, root: &Value, part: &str) -> Option<String> {
        let explicit = self
            .encoding
            .get(part)
            .and_then(|e| resolve(root, e))
            .and_then(|e| e.value.get("contentType"))
            .and_then(Value::as_str);
        if let Some(explicit) = explicit {
            return Some(explicit.to_owned());
        }
        let field = self.fields.get(&vec![part.to_owned()])?;
        let field = match field.kind.as_str() {
            "array" => self.fields.get(&vec![part.to_owned(), "[]".to_owned()])?,
            _ => field,
        };
        Some(default_content_type(field).to_owned())
    }

    fn is_binary(&self, part: &str) -> bool {
        self.fields
            .get(&vec![part.to_owned()])
            .is_some_and(|f| f.kind == "string" && f.format.as_deref() == Some("binary"))
    }

    /// The part's headers by lower-case name, with the header object.
    fn headers<'v>(&'v self, root: &'v Value, part: &str) -> BTreeMap<String, (&'v str, &'v Value)> {
        let headers = self
            .encoding
            .get(part)
            .and_then(|e| resolve(root, e))
            .and_then(|e| e.value.get("headers"))
            .and_then(Value::as_object);
        headers
            .into_iter()
            .flatten()
            .filter_map(|(name, header)| {
                let header = resolve(root, header)?.value;
                Some((name.to_ascii_lowercase(), (name.as_str(), header)))
            })
            .collect()
    }

    fn part_site(&self, part: &str, more: &[&str]) -> Vec<String> {
        let mut site = child(&self.site, &["encoding", part]);
        site.extend(more.iter().map(|s| (*s).to_owned()));
        site
    }
}

/// A header object without its documentation keywords (the generic walk reports those).
fn substance(header: &Value) -> Value {
    let mut header = header.clone();
    if let Some(object) = header.as_object_mut() {
        for key in ["description", "example", "examples"] {
            object.remove(key);
        }
    }
    header
}

/// OpenAPI 3.0's default part content type for a field of this schema.
fn default_content_type(field: &Field) -> &'static str {
    match (field.kind.as_str(), field.format.as_deref()) {
        ("string", Some("binary" | "byte")) => "application/octet-stream",
        ("string" | "integer" | "number" | "boolean", _) => "text/plain",
        _ => "application/json",
    }
}

/// The multipart encoding of an operation's request body on both sides.
pub(super) fn request_encoding(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let (Some(old_body), Some(new_body)) = (body_of(old_root, old), body_of(new_root, new)) else {
        return;
    };
    let (Some(before), Some(after)) = (form(old_root, &old_body), form(new_root, &new_body)) else {
        return;
    };
    let scope_name = format!("{} (request)", new.id);
    // Parts on both sides: added and removed fields are reported by the field rules.
    let parts: BTreeSet<String> = after
        .fields
        .keys()
        .filter(|path| path.len() == 1 && before.fields.contains_key(*path))
        .map(|path| path[0].clone())
        .collect();
    for part in &parts {
        let location = format!("{} request body part `{part}`", new.id);
        let sides = Sides {
            old_root,
            new_root,
            before: &before,
            after: &after,
        };
        let mut changes: Vec<Change> = content_type(&sides, part, &location).into_iter().collect();
        changes.extend(headers(&sides, part, &location));
        out.extend(changes.into_iter().map(|c| c.in_operations([scope_name.clone()])));
    }
}

/// Both sides of one operation's form.
struct Sides<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    before: &'a Form<'a>,
    after: &'a Form<'a>,
}

fn content_type(sides: &Sides<'_>, part: &str, location: &str) -> Option<Change> {
    let a = sides.before.content_type(sides.old_root, part)?;
    let b = sides.after.content_type(sides.new_root, part)?;
    if a == b {
        return None;
    }
    let rust = if sides.after.is_binary(part) {
        Effect::new(
            Impact::Behaviour,
            format!(
                "the generated `send()` now labels the `{part}` part `{b}` instead of `{a}`; signatures do not change"
            ),
        )
    } else {
        Effect::new(
            Impact::None,
            format!(
                "the generated client sends `{part}` as text whatever its encoding says, so it does not follow `{b}`"
            ),
        )
    };
    let explicit = sides.after.encoding.contains_key(part);
    let node = if explicit {
        (Side::Head, sides.after.part_site(part, &["contentType"]))
    } else {
        (Side::Base, sides.before.part_site(part, &["contentType"]))
    };
    Some(
        Change::new(
            "encoding-content-type-changed",
            location,
            format!("part `{part}` content type `{a}` → `{b}`"),
            Effect::new(
                Impact::Breaking,
                format!(
                    "old clients label the part `{a}`: servers that check the part's Content-Type reject it"
                ),
            ),
            rust,
        )
        .about("contentType")
        .at(node.0, node.1),
    )
}

fn headers(sides: &Sides<'_>, part: &str, location: &str) -> Vec<Change> {
    let before = sides.before.headers(sides.old_root, part);
    let after = sides.after.headers(sides.new_root, part);
    let mut out = Vec::new();
    let not_generated = "the generated multipart builder sends no per-part headers";
    for (key, (name, header)) in &after {
        let node = sides.after.part_site(part, &["headers", name]);
        let required = flag(header, "required");
        let change = match before.get(key) {
            None if required => Change::new(
                "encoding-header-added",
                location,
                format!("required header `{name}` on part `{part}`"),
                Effect::new(Impact::Breaking, "parts from old clients lack it"),
                Effect::new(
                    Impact::Breaking,
                    format!(
                        "{not_generated}: every generated `send()` lacks it, so the server may reject it"
                    ),
                ),
            ),
            None => Change::new(
                "encoding-header-added",
                location,
                format!("optional header `{name}` on part `{part}`"),
                Effect::new(Impact::Compatible, "old clients omit it, which stays valid"),
                Effect::new(
                    Impact::None,
                    format!("{not_generated}; leaving it out stays valid"),
                ),
            ),
            Some((_, previous)) if substance(previous) != substance(header) => {
                let became_required = required && !flag(previous, "required");
                let wire = if became_required {
                    Effect::new(Impact::Breaking, "old clients may omit it")
                } else {
                    Effect::new(
                        Impact::Behaviour,
                        "its schema or description changed: values old clients send may no longer fit",
                    )
                };
                Change::new(
                    "encoding-header-changed",
                    location,
                    format!("header `{name}` on part `{part}` changed"),
                    wire,
                    Effect::new(Impact::None, not_generated),
                )
            }
            Some(_) => continue,
        };
        out.push(change.about(format!("header {key}")).at(Side::Head, node));
    }
    for (key, (name, _)) in before.iter().filter(|(key, _)| !after.contains_key(*key)) {
        let node = sides.before.part_site(part, &["headers", name]);
        let change = Change::new(
            "encoding-header-removed",
            location,
            format!("header `{name}` on part `{part}` no longer documented"),
            Effect::new(
                Impact::Behaviour,
                "old clients may still send it, and the server no longer reads it",
            ),
            Effect::new(Impact::None, not_generated),
        );
        out.push(change.about(format!("header {key}")).at(Side::Base, node));
    }
    out
}
