//! Request bodies and responses: presence, content types, and their schemas field by field.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{escape, list};
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc::{Operation, child, flag, resolve};
use crate::spec_diff::fields::{self, Direction, Root};
use crate::spec_diff::fields_diff::{self, Scope, Shape};

/// A body or response and where it is written (`$ref`s followed).
#[derive(Debug, Clone)]
pub(super) struct Sited<'a> {
    /// The object.
    pub value: &'a Value,
    /// Its path in the document.
    pub site: Vec<String>,
}

/// The request body of an operation, resolved through `components.requestBodies`.
pub(super) fn body_of<'a>(root: &'a Value, op: &Operation<'a>) -> Option<Sited<'a>> {
    let resolved = resolve(root, op.op.get("requestBody")?)?;
    Some(Sited {
        value: resolved.value,
        site: resolved.site(&child(&op.site, &["requestBody"])),
    })
}

/// The media types of a body or response's `content`.
pub(super) fn content_types(body: &Value) -> BTreeSet<String> {
    body.get("content")
        .and_then(Value::as_object)
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default()
}

fn shape_of(media_type: &str) -> Shape {
    if media_type == "multipart/form-data" {
        Shape::Form
    } else {
        Shape::Json
    }
}

/// Flattens the schema of `media_type` in `body`.
fn body_fields(
    root: &Value,
    body: &Sited<'_>,
    media_type: &str,
    (required, slot, direction): (bool, &str, Direction),
) -> BTreeMap<fields::FieldPath, fields::Field> {
    let empty = Value::Object(serde_json::Map::new());
    let schema = body
        .value
        .pointer(&format!("/content/{}/schema", escape(media_type)))
        .unwrap_or(&empty);
    let site = child(&body.site, &["content", media_type, "schema"]);
    let root_field = Root {
        schema,
        site: &site,
        required,
        slot,
    };
    fields::flatten(root, root_field, direction)
}

/// The request body: added, removed, its content types, its fields.
pub(super) fn request_body(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let id = &new.id;
    let scope_name = format!("{id} (request)");
    let slot = format!("{id} request body");
    match (body_of(old_root, old), body_of(new_root, new)) {
        (None, None) => {}
        (None, Some(body)) => out.push(added_body(&slot, &body).in_operations([scope_name])),
        (Some(body), None) => out.push(
            Change::new(
                "request-body-removed",
                slot,
                "request body removed",
                Effect::new(
                    Impact::Behaviour,
                    "old clients still send one, and the server no longer reads it",
                ),
                Effect::new(Impact::Breaking, "the builder's body setters are gone"),
            )
            .in_operations([scope_name])
            .at(Side::Base, body.site),
        ),
        (Some(before), Some(after)) => {
            let (old_types, new_types) = (content_types(before.value), content_types(after.value));
            if old_types != new_types {
                out.push(
                    Change::new(
                        "request-content-type-changed",
                        slot,
                        format!("content type {} → {}", list(&old_types), list(&new_types)),
                        Effect::new(Impact::Breaking, "old clients send the old encoding"),
                        Effect::new(
                            Impact::Breaking,
                            "the operation's builder is generated differently for each encoding",
                        ),
                    )
                    .in_operations([scope_name])
                    .at(Side::Head, child(&after.site, &["content"])),
                );
                return;
            }
            for media_type in &new_types {
                let side = |root, body: &Sited<'_>| {
                    let facts = (flag(body.value, "required"), slot.as_str(), Direction::Request);
                    body_fields(root, body, media_type, facts)
                };
                let (old_fields, new_fields) = (side(old_root, &before), side(new_root, &after));
                let mut scope = Scope {
                    operation: scope_name.clone(),
                    direction: Direction::Request,
                    shape: shape_of(media_type),
                    root_name: "body".to_owned(),
                    root_subject: "the request body".to_owned(),
                    out,
                };
                fields_diff::compare(&old_fields, &new_fields, &mut scope);
            }
        }
    }
}

fn added_body(slot: &str, body: &Sited<'_>) -> Change {
    let required = flag(body.value, "required");
    let (wire, rust) = if required {
        (
            Effect::new(Impact::Breaking, "requests from old clients have no body"),
            Effect::new(
                Impact::Breaking,
                "existing calls compile, but `send()` fails until the body is set",
            ),
        )
    } else {
        (
            Effect::new(Impact::Compatible, "old clients send none, which stays valid"),
            Effect::new(Impact::Compatible, "new builder setters for the body"),
        )
    };
    Change::new(
        "request-body-added",
        slot,
        format!(
            "{} request body added",
            if required { "required" } else { "optional" }
        ),
        wire,
        rust,
    )
    .at(Side::Head, body.site.clone())
}
