//! Responses: statuses added and removed, content types, fields, documented headers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::bodies::{Sited, content_types};
use super::{escape, list};
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc::{Operation, child, resolve};
use crate::spec_diff::fields::{self, Direction, Root};
use crate::spec_diff::fields_diff::{self, Scope, Shape};

/// The responses of an operation by status, `$ref`s followed.
fn response_map<'a>(root: &'a Value, op: &Operation<'a>) -> BTreeMap<String, Sited<'a>> {
    let responses = op.op.get("responses").and_then(Value::as_object);
    responses
        .into_iter()
        .flatten()
        .filter_map(|(status, response)| {
            let resolved = resolve(root, response)?;
            let site = resolved.site(&child(&op.site, &["responses", status]));
            Some((
                status.clone(),
                Sited {
                    value: resolved.value,
                    site,
                },
            ))
        })
        .collect()
}

fn success(status: &str) -> bool {
    status.starts_with('2')
}

/// The responses of an operation on both sides.
pub(super) fn responses(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let id = &new.id;
    let scope_name = format!("{id} (response)");
    let (before, after) = (response_map(old_root, old), response_map(new_root, new));
    for (status, response) in &after {
        let slot = format!("{id} response {status}");
        let Some(previous) = before.get(status) else {
            out.push(added_status(&slot, status, response).in_operations([scope_name.clone()]));
            continue;
        };
        let mut scope = Scope {
            operation: scope_name.clone(),
            direction: Direction::Response,
            shape: Shape::Json,
            root_name: "body".to_owned(),
            root_subject: format!("the response {status} body"),
            out,
        };
        compared(&slot, [(old_root, previous), (new_root, response)], &mut scope);
        headers(&slot, previous, response, &scope_name, out);
    }
    for (status, response) in &before {
        if !after.contains_key(status) {
            out.push(removed_status(id, status, response).in_operations([scope_name.clone()]));
        }
    }
}

fn added_status(slot: &str, status: &str, response: &Sited<'_>) -> Change {
    let (wire, rust) = if success(status) {
        (
            Effect::new(
                Impact::Breaking,
                "old clients treat the new success status as an unexpected response",
            ),
            Effect::new(
                Impact::Behaviour,
                "`send()`'s success type may change: the generated-API diff below shows whether it does",
            ),
        )
    } else {
        (
            Effect::new(
                Impact::Compatible,
                "old clients already fail on it, as an undocumented status",
            ),
            Effect::new(
                Impact::Behaviour,
                "it now surfaces as `Error::ErrorResponse` rather than `Error::UnexpectedResponse`",
            ),
        )
    };
    Change::new(
        "response-status-added",
        slot,
        format!("response {status} added"),
        wire,
        rust,
    )
    .at(Side::Head, response.site.clone())
}

fn removed_status(id: &str, status: &str, response: &Sited<'_>) -> Change {
    let rust = if success(status) {
        Effect::new(
            Impact::Behaviour,
            "`send()`'s success type may change: the generated-API diff below shows whether it does",
        )
    } else {
        Effect::new(
            Impact::Behaviour,
            "it now surfaces as `Error::UnexpectedResponse` rather than `Error::ErrorResponse`",
        )
    };
    Change::new(
        "response-status-removed",
        format!("{id} response {status}"),
        format!("response {status} no longer documented"),
        Effect::new(Impact::Compatible, "the server no longer sends it"),
        rust,
    )
    .at(Side::Base, response.site.clone())
}

/// One status on both sides: its content types, and each one's fields.
fn compared(slot: &str, sides: [(&Value, &Sited<'_>); 2], scope: &mut Scope<'_>) {
    let [(old_root, previous), (new_root, response)] = sides;
    let (old_types, new_types) = (content_types(previous.value), content_types(response.value));
    if old_types != new_types {
        let change = Change::new(
            "response-content-type-changed",
            slot,
            format!("content type {} → {}", list(&old_types), list(&new_types)),
            Effect::new(Impact::Breaking, "old clients expect the old encoding"),
            Effect::new(Impact::Breaking, "the response type of `send()` changes"),
        );
        let operation = scope.operation.clone();
        scope.out.push(
            change
                .in_operations([operation])
                .at(Side::Head, child(&response.site, &["content"])),
        );
        return;
    }
    for media_type in &new_types {
        let pointer = format!("/content/{}/schema", escape(media_type));
        let (Some(a), Some(b)) = (previous.value.pointer(&pointer), response.value.pointer(&pointer)) else {
            continue;
        };
        let flatten = |root: &Value, schema: &Value, at: &Sited<'_>| {
            let site = child(&at.site, &["content", media_type, "schema"]);
            let root_field = Root {
                schema,
                site: &site,
                required: true,
                slot,
            };
            fields::flatten(root, root_field, Direction::Response)
        };
        let old_fields = flatten(old_root, a, previous);
        let new_fields = flatten(new_root, b, response);
        fields_diff::compare(&old_fields, &new_fields, scope);
    }
}

/// The documented headers of one status, by lower-case name, with where each is written.
fn header_names(response: &Sited<'_>) -> BTreeMap<String, Vec<String>> {
    let headers = response.value.get("headers").and_then(Value::as_object);
    headers
        .into_iter()
        .flatten()
        .map(|(name, _)| {
            let site = child(&response.site, &["headers", name]);
            (name.to_ascii_lowercase(), site)
        })
        .collect()
}

fn headers(slot: &str, previous: &Sited<'_>, response: &Sited<'_>, scope_name: &str, out: &mut Vec<Change>) {
    let (old_headers, new_headers) = (header_names(previous), header_names(response));
    let rust = || {
        Effect::new(
            Impact::None,
            "headers are read from `ResponseValue::headers()`, not generated",
        )
    };
    let names = |map: &BTreeMap<String, Vec<String>>| map.keys().cloned().collect::<BTreeSet<_>>();
    let (old_names, new_names) = (names(&old_headers), names(&new_headers));
    for header in new_names.difference(&old_names) {
        out.push(
            Change::new(
                "response-header-added",
                slot,
                format!("header `{header}` documented"),
                Effect::new(Impact::Compatible, "old clients ignore it"),
                rust(),
            )
            .about(header)
            .in_operations([scope_name.to_owned()])
            .at(Side::Head, new_headers[header].clone()),
        );
    }
    for header in old_names.difference(&new_names) {
        out.push(
            Change::new(
                "response-header-removed",
                slot,
                format!("header `{header}` no longer documented"),
                Effect::new(Impact::Behaviour, "clients reading it may find it missing"),
                rust(),
            )
            .about(header)
            .in_operations([scope_name.to_owned()])
            .at(Side::Base, old_headers[header].clone()),
        );
    }
}
