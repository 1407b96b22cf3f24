//! Operations: added, removed, renamed, moved, deprecated; their parameters and scopes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{bodies, encoding, extensions, responses, security};
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc::{self, Operation, child, flag, resolve, str_of};
use crate::spec_diff::fields::{self, Direction, Root};
use crate::spec_diff::fields_diff::{self, Scope, Shape};

/// Operations matched by operationId (or by method and path, for a rename), then compared.
pub(super) fn operations(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let old_ops: BTreeMap<String, Operation<'_>> = doc::operations(old)
        .into_iter()
        .map(|op| (op.id.clone(), op))
        .collect();
    let new_ops: BTreeMap<String, Operation<'_>> = doc::operations(new)
        .into_iter()
        .map(|op| (op.id.clone(), op))
        .collect();
    let mut renamed_to: BTreeSet<&str> = BTreeSet::new();

    for (id, op) in &old_ops {
        if let Some(now) = new_ops.get(id) {
            if (op.method, op.path) != (now.method, now.path) {
                out.push(
                    Change::new(
                        "operation-moved",
                        format!("operation `{id}`"),
                        format!(
                            "{} {} → {} {}",
                            op.method.to_uppercase(),
                            op.path,
                            now.method.to_uppercase(),
                            now.path
                        ),
                        Effect::new(Impact::Breaking, "old clients call the old method and path"),
                        Effect::new(Impact::None, "the method keeps its name"),
                    )
                    .in_operations([id.clone()])
                    .at(Side::Head, now.site.clone()),
                );
            }
            operation(old, new, op, now, out);
            continue;
        }
        // Same method and path under a new operationId: a rename, not a removal.
        let twin = new_ops.values().find(|candidate| {
            !old_ops.contains_key(&candidate.id) && (candidate.method, candidate.path) == (op.method, op.path)
        });
        if let Some(now) = twin {
            renamed_to.insert(&now.id);
            out.push(
                Change::new(
                    "operation-renamed",
                    format!("operation `{id}`"),
                    format!("operationId `{id}` → `{}`", now.id),
                    Effect::new(Impact::None, "the same method and path"),
                    Effect::new(
                        Impact::Breaking,
                        format!(
                            "`Client::{id}()` becomes `Client::{}()`, its builder type too",
                            now.id
                        ),
                    ),
                )
                .in_operations([now.id.clone()])
                .at(Side::Head, child(&now.site, &["operationId"])),
            );
            operation(old, new, op, now, out);
        } else {
            out.push(removed_operation(id, op));
        }
    }
    let added = new_ops
        .iter()
        .filter(|(id, _)| !old_ops.contains_key(*id) && !renamed_to.contains(id.as_str()));
    out.extend(added.map(|(id, op)| added_operation(id, op)));
}

fn added_operation(id: &str, op: &Operation<'_>) -> Change {
    Change::new(
        "operation-added",
        format!("operation `{id}`"),
        format!("{} {} added", op.method.to_uppercase(), op.path),
        Effect::new(Impact::Compatible, "a new endpoint"),
        Effect::new(
            Impact::Compatible,
            format!("new method `Client::{id}()` and its builder"),
        ),
    )
    .in_operations([id.to_owned()])
    .at(Side::Head, op.site.clone())
}

/// An operation that is gone. One that was deprecated had its removal announced: on the wire
/// that is a behaviour change clients were warned of; one that never was breaks them unannounced.
fn removed_operation(id: &str, op: &Operation<'_>) -> Change {
    let deprecated = flag(op.op, "deprecated");
    let (kind, wire) = if deprecated {
        (
            "deprecated-operation-removed",
            Effect::new(
                Impact::Behaviour,
                "it was deprecated, so the removal was announced; clients still calling it now fail",
            ),
        )
    } else {
        (
            "operation-removed",
            Effect::new(
                Impact::Breaking,
                "calls to it fail, and it was never deprecated: nothing announced the removal",
            ),
        )
    };
    Change::new(
        kind,
        format!("operation `{id}`"),
        format!("{} {} removed", op.method.to_uppercase(), op.path),
        wire,
        Effect::new(
            Impact::Breaking,
            format!("`Client::{id}()` and its builder are gone"),
        ),
    )
    .in_operations([id.to_owned()])
    .at(Side::Base, op.site.clone())
}

fn operation(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let id = &new.id;
    if !flag(old.op, "deprecated") && flag(new.op, "deprecated") {
        out.push(
            Change::new(
                "operation-deprecated",
                format!("operation `{id}`"),
                "marked deprecated",
                Effect::new(Impact::Docs, "still served; planned for removal"),
                Effect::new(
                    Impact::Docs,
                    "documentation only: the generated method is not marked #[deprecated]",
                ),
            )
            .in_operations([id.clone()])
            .at(Side::Head, child(&new.site, &["deprecated"])),
        );
    }
    parameters(old_root, new_root, old, new, out);
    bodies::request_body(old_root, new_root, old, new, out);
    encoding::request_encoding(old_root, new_root, old, new, out);
    responses::responses(old_root, new_root, old, new, out);
    security::operation_security(old_root, new_root, old, new, out);
    scopes(old, new, out);
    extensions::operation_rate_limit(old, new, out);
}

/// A parameter and where it is written (its place in the operation's or the path item's list).
struct Parameter<'a> {
    value: &'a Value,
    site: Vec<String>,
}

/// The parameters of an operation by `(in, name)`, path-level ones overridden by its own.
fn parameter_map<'a>(root: &'a Value, op: &Operation<'a>) -> BTreeMap<(String, String), Parameter<'a>> {
    let mut map = BTreeMap::new();
    let path_item = &op.site[..op.site.len().saturating_sub(1)];
    let lists = [
        (op.path_parameters, child(path_item, &["parameters"])),
        (op.op.get("parameters"), child(&op.site, &["parameters"])),
    ];
    for (list, list_site) in lists {
        let Some(list) = list.and_then(Value::as_array) else {
            continue;
        };
        for (i, parameter) in list.iter().enumerate() {
            let Some(value) = resolve(root, parameter).map(|r| r.value) else {
                continue;
            };
            if let (Some(location), Some(name)) = (str_of(value, "in"), str_of(value, "name")) {
                let site = child(&list_site, &[&i.to_string()]);
                map.insert((location.to_owned(), name.to_owned()), Parameter { value, site });
            }
        }
    }
    map
}

fn parameters(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let id = &new.id;
    let before = parameter_map(old_root, old);
    let after = parameter_map(new_root, new);
    let scope_name = format!("{id} (request)");
    for (key, parameter) in &after {
        match before.get(key) {
            None => out.push(added_parameter(id, key, parameter).in_operations([scope_name.clone()])),
            Some(previous) => {
                let roots = [(old_root, previous), (new_root, parameter)];
                changed_parameter(id, key, roots, &scope_name, out);
            }
        }
    }
    for (key, parameter) in &before {
        if !after.contains_key(key) {
            out.push(removed_parameter(id, key, parameter).in_operations([scope_name.clone()]));
        }
    }
}

fn added_parameter(id: &str, (location, name): &(String, String), parameter: &Parameter<'_>) -> Change {
    let slot = format!("{id} {location} parameter `{name}`");
    let (summary, wire, rust) = if flag(parameter.value, "required") || location == "path" {
        (
            format!("required {location} parameter `{name}` added"),
            Effect::new(Impact::Breaking, "requests from old clients lack it"),
            Effect::new(
                Impact::Breaking,
                format!("existing calls still compile, but `send()` fails until `.{name}(…)` is set"),
            ),
        )
    } else {
        (
            format!("optional {location} parameter `{name}` added"),
            Effect::new(Impact::Compatible, "old clients omit it, which stays valid"),
            Effect::new(
                Impact::Compatible,
                format!("a new optional builder setter `.{name}(…)`"),
            ),
        )
    };
    Change::new("parameter-added", slot, summary, wire, rust).at(Side::Head, parameter.site.clone())
}

/// A parameter that is gone; as for operations, a deprecated one's removal was announced.
fn removed_parameter(id: &str, (location, name): &(String, String), parameter: &Parameter<'_>) -> Change {
    let (kind, wire) = if flag(parameter.value, "deprecated") {
        (
            "deprecated-parameter-removed",
            Effect::new(
                Impact::Compatible,
                "it was deprecated: clients were told to stop sending it, and the server no longer reads it",
            ),
        )
    } else {
        (
            "parameter-removed",
            Effect::new(
                Impact::Behaviour,
                "old clients may still send it, and the server no longer reads it; it was never deprecated, so nothing announced that",
            ),
        )
    };
    Change::new(
        kind,
        format!("{id} {location} parameter `{name}`"),
        format!("{location} parameter `{name}` removed"),
        wire,
        Effect::new(Impact::Breaking, format!("builder setter `.{name}(…)` removed")),
    )
    .at(Side::Base, parameter.site.clone())
}

/// A parameter on both sides: its schema compared field by field, and its deprecation.
fn changed_parameter(
    id: &str,
    (location, name): &(String, String),
    [(old_root, old), (new_root, new)]: [(&Value, &Parameter<'_>); 2],
    scope_name: &str,
    out: &mut Vec<Change>,
) {
    let slot = format!("{id} {location} parameter `{name}`");
    let empty = Value::Object(serde_json::Map::new());
    let flatten = |root: &Value, parameter: &Parameter<'_>| {
        let site = child(&parameter.site, &["schema"]);
        let root_field = Root {
            schema: parameter.value.get("schema").unwrap_or(&empty),
            site: &site,
            required: flag(parameter.value, "required") || location == "path",
            slot: &slot,
        };
        fields::flatten(root, root_field, Direction::Request)
    };
    let (old_fields, new_fields) = (flatten(old_root, old), flatten(new_root, new));
    if !flag(old.value, "deprecated") && flag(new.value, "deprecated") {
        out.push(
            Change::new(
                "parameter-deprecated",
                &slot,
                format!("{location} parameter `{name}` marked deprecated"),
                Effect::new(Impact::Docs, "still read; planned for removal"),
                Effect::new(
                    Impact::Docs,
                    "documentation only: the generated setter is not marked #[deprecated]",
                ),
            )
            .in_operations([scope_name.to_owned()])
            .at(Side::Head, child(&new.site, &["deprecated"])),
        );
    }
    let mut scope = Scope {
        operation: scope_name.to_owned(),
        direction: Direction::Request,
        shape: Shape::Parameter,
        root_name: name.clone(),
        root_subject: format!("{location} parameter `{name}`"),
        out,
    };
    fields_diff::compare(&old_fields, &new_fields, &mut scope);
}

fn scopes(old: &Operation<'_>, new: &Operation<'_>, out: &mut Vec<Change>) {
    let set = |op: &Operation<'_>| -> BTreeSet<String> {
        op.op
            .get("x-feishu-scopes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let (before, after) = (set(old), set(new));
    let location = format!("operation `{}` x-feishu-scopes", new.id);
    let rust = || {
        Effect::new(
            Impact::None,
            "scopes are granted to the app, not handled by generated code",
        )
    };
    for scope in before.difference(&after) {
        out.push(
            Change::new(
                "scope-removed",
                &location,
                format!("scope `{scope}` no longer grants access"),
                Effect::new(Impact::Breaking, "apps holding only this scope lose access"),
                rust(),
            )
            .about(scope)
            .in_operations([new.id.clone()])
            .at(Side::Base, child(&old.site, &["x-feishu-scopes"])),
        );
    }
    for scope in after.difference(&before) {
        out.push(
            Change::new(
                "scope-added",
                &location,
                format!("scope `{scope}` grants access"),
                Effect::new(Impact::Compatible, "apps holding it may now call the operation"),
                rust(),
            )
            .about(scope)
            .in_operations([new.id.clone()])
            .at(Side::Head, child(&new.site, &["x-feishu-scopes"])),
        );
    }
}
