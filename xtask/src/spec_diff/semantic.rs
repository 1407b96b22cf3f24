//! The semantic diff: operations, parameters, bodies, responses, error codes, servers, security.

use std::collections::{BTreeMap, BTreeSet};

use feishu_drive_codegen::ErrorRow;
use heck::ToUpperCamelCase;
use serde_json::Value;

use super::change::{Change, Effect, Impact};
use super::doc::{self, Operation, flag, resolve, str_of};
use super::fields::{self, Direction};
use super::fields_diff::{self, Scope, Shape};

/// What the generated code contains on each side, where the rules need it: the names of the
/// types in `types::`. `None` when that side could not be generated.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Type names under `types::` in the base's generated client.
    pub old_types: Option<BTreeSet<String>>,
    /// Type names under `types::` in the head's generated client.
    pub new_types: Option<BTreeSet<String>>,
}

/// Every semantic change from `old` to `new`, merged and sorted.
pub fn compare(old: &Value, new: &Value, generated: &Generated) -> Vec<Change> {
    let mut out = Vec::new();
    operations(old, new, &mut out);
    error_codes(old, new, &mut out);
    servers(old, new, &mut out);
    security_schemes(old, new, &mut out);
    components(old, new, generated, &mut out);
    version(old, new, &mut out);
    merge(out)
}

/// Folds changes that differ only in the operations they reach (a shared component changed
/// once, seen from six operations) into one, and sorts worst first.
pub fn merge(changes: Vec<Change>) -> Vec<Change> {
    let mut merged: Vec<Change> = Vec::new();
    let mut index: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    for change in changes {
        let key = (
            change.kind.to_owned(),
            change.location.clone(),
            change.summary.clone(),
            format!("{:?}{}", change.wire.impact, change.wire.why),
            format!("{:?}{}", change.rust.impact, change.rust.why),
        );
        match index.get(&key) {
            Some(&i) => {
                let target = &mut merged[i];
                target.operations.extend(change.operations);
                target.operations.sort();
                target.operations.dedup();
            }
            None => {
                index.insert(key, merged.len());
                merged.push(change);
            }
        }
    }
    merged.sort_by(|a, b| {
        (a.severity, &a.location, a.kind, &a.summary).cmp(&(b.severity, &b.location, b.kind, &b.summary))
    });
    merged
}

fn operations(old: &Value, new: &Value, out: &mut Vec<Change>) {
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
                    .in_operations([id.clone()]),
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
                .in_operations([now.id.clone()]),
            );
            operation(old, new, op, now, out);
        } else {
            out.push(
                Change::new(
                    "operation-removed",
                    format!("operation `{id}`"),
                    format!("{} {} removed", op.method.to_uppercase(), op.path),
                    Effect::new(Impact::Breaking, "calls to it fail"),
                    Effect::new(
                        Impact::Breaking,
                        format!("`Client::{id}()` and its builder are gone"),
                    ),
                )
                .in_operations([id.clone()]),
            );
        }
    }
    for (id, op) in &new_ops {
        if old_ops.contains_key(id) || renamed_to.contains(id.as_str()) {
            continue;
        }
        out.push(
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
            .in_operations([id.clone()]),
        );
    }
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
                Effect::new(Impact::Compatible, "still served; planned for removal"),
                Effect::new(Impact::Docs, "documentation only"),
            )
            .in_operations([id.clone()]),
        );
    }
    parameters(old_root, new_root, old, new, out);
    request_body(old_root, new_root, old, new, out);
    responses(old_root, new_root, old, new, out);
    operation_security(old_root, new_root, old, new, out);
    scopes(old, new, out);
}

/// The parameters of an operation by `(in, name)`, path-level ones overridden by its own.
fn parameter_map<'a>(root: &'a Value, op: &Operation<'a>) -> BTreeMap<(String, String), &'a Value> {
    let mut map = BTreeMap::new();
    for list in [op.path_parameters, op.op.get("parameters")]
        .into_iter()
        .flatten()
    {
        for parameter in list.as_array().into_iter().flatten() {
            let Some(parameter) = resolve(root, parameter).map(|r| r.value) else {
                continue;
            };
            if let (Some(location), Some(name)) = (str_of(parameter, "in"), str_of(parameter, "name")) {
                map.insert((location.to_owned(), name.to_owned()), parameter);
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
    for (key @ (location, name), parameter) in &after {
        let slot = format!("{id} {location} parameter `{name}`");
        let required = flag(parameter, "required") || location == "path";
        match before.get(key) {
            None => {
                let (summary, wire, rust) = if required {
                    (
                        format!("required {location} parameter `{name}` added"),
                        Effect::new(Impact::Breaking, "requests from old clients lack it"),
                        Effect::new(
                            Impact::Breaking,
                            format!(
                                "existing calls still compile, but `send()` fails until `.{name}(…)` is set"
                            ),
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
                out.push(
                    Change::new("parameter-added", slot, summary, wire, rust)
                        .in_operations([scope_name.clone()]),
                );
            }
            Some(previous) => {
                let old_required = flag(previous, "required") || location == "path";
                let empty = Value::Object(serde_json::Map::new());
                let old_fields = fields::flatten(
                    old_root,
                    previous.get("schema").unwrap_or(&empty),
                    old_required,
                    &slot,
                    Direction::Request,
                );
                let new_fields = fields::flatten(
                    new_root,
                    parameter.get("schema").unwrap_or(&empty),
                    required,
                    &slot,
                    Direction::Request,
                );
                let mut scope = Scope {
                    operation: scope_name.clone(),
                    direction: Direction::Request,
                    shape: Shape::Parameter,
                    root_name: name.clone(),
                    root_subject: format!("{location} parameter `{name}`"),
                    out,
                };
                fields_diff::compare(&old_fields, &new_fields, &mut scope);
            }
        }
    }
    for key @ (location, name) in before.keys() {
        if !after.contains_key(key) {
            out.push(
                Change::new(
                    "parameter-removed",
                    format!("{id} {location} parameter `{name}`"),
                    format!("{location} parameter `{name}` removed"),
                    Effect::new(
                        Impact::Behaviour,
                        "old clients may still send it, and the server no longer reads it",
                    ),
                    Effect::new(Impact::Breaking, format!("builder setter `.{name}(…)` removed")),
                )
                .in_operations([scope_name.clone()]),
            );
        }
    }
}

/// The request body of an operation, resolved through `components.requestBodies`.
fn body_of<'a>(root: &'a Value, op: &Operation<'a>) -> Option<&'a Value> {
    resolve(root, op.op.get("requestBody")?).map(|r| r.value)
}

fn content_types(body: &Value) -> BTreeSet<String> {
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

fn request_body(
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
        (None, Some(body)) => {
            let required = flag(body, "required");
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
            out.push(
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
                .in_operations([scope_name]),
            );
        }
        (Some(_), None) => out.push(
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
            .in_operations([scope_name]),
        ),
        (Some(before), Some(after)) => {
            let (old_types, new_types) = (content_types(before), content_types(after));
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
                    .in_operations([scope_name]),
                );
                return;
            }
            for media_type in &new_types {
                let empty = Value::Object(serde_json::Map::new());
                let schema_of = |body: &'_ Value| -> Value {
                    body.pointer(&format!("/content/{}/schema", escape(media_type)))
                        .cloned()
                        .unwrap_or_else(|| empty.clone())
                };
                let old_fields = fields::flatten(
                    old_root,
                    &schema_of(before),
                    flag(before, "required"),
                    &slot,
                    Direction::Request,
                );
                let new_fields = fields::flatten(
                    new_root,
                    &schema_of(after),
                    flag(after, "required"),
                    &slot,
                    Direction::Request,
                );
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

/// A JSON-pointer segment for a key (`application/json` → `application~1json`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn list(values: &BTreeSet<String>) -> String {
    if values.is_empty() {
        "none".to_owned()
    } else {
        values.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}

fn responses(
    old_root: &Value,
    new_root: &Value,
    old: &Operation<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let id = &new.id;
    let scope_name = format!("{id} (response)");
    let map = |root: &'_ Value, op: &Operation<'_>| -> BTreeMap<String, Value> {
        op.op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(status, response)| Some((status.clone(), resolve(root, response)?.value.clone())))
            .collect()
    };
    let (before, after) = (map(old_root, old), map(new_root, new));
    let success = |status: &str| status.starts_with('2');
    for (status, response) in &after {
        let slot = format!("{id} response {status}");
        let Some(previous) = before.get(status) else {
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
            out.push(
                Change::new(
                    "response-status-added",
                    slot,
                    format!("response {status} added"),
                    wire,
                    rust,
                )
                .in_operations([scope_name.clone()]),
            );
            continue;
        };
        let (old_types, new_types) = (content_types(previous), content_types(response));
        if old_types != new_types {
            out.push(
                Change::new(
                    "response-content-type-changed",
                    &slot,
                    format!("content type {} → {}", list(&old_types), list(&new_types)),
                    Effect::new(Impact::Breaking, "old clients expect the old encoding"),
                    Effect::new(Impact::Breaking, "the response type of `send()` changes"),
                )
                .in_operations([scope_name.clone()]),
            );
        } else {
            for media_type in &new_types {
                let pointer = format!("/content/{}/schema", escape(media_type));
                let (Some(a), Some(b)) = (previous.pointer(&pointer), response.pointer(&pointer)) else {
                    continue;
                };
                let old_fields = fields::flatten(old_root, a, true, &slot, Direction::Response);
                let new_fields = fields::flatten(new_root, b, true, &slot, Direction::Response);
                let mut scope = Scope {
                    operation: scope_name.clone(),
                    direction: Direction::Response,
                    shape: Shape::Json,
                    root_name: "body".to_owned(),
                    root_subject: format!("the response {status} body"),
                    out,
                };
                fields_diff::compare(&old_fields, &new_fields, &mut scope);
            }
        }
        let headers = |r: &Value| -> BTreeSet<String> {
            r.get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default()
        };
        let (old_headers, new_headers) = (headers(previous), headers(response));
        for header in new_headers.difference(&old_headers) {
            out.push(
                Change::new(
                    "response-header-added",
                    &slot,
                    format!("header `{header}` documented"),
                    Effect::new(Impact::Compatible, "old clients ignore it"),
                    Effect::new(
                        Impact::None,
                        "headers are read from `ResponseValue::headers()`, not generated",
                    ),
                )
                .in_operations([scope_name.clone()]),
            );
        }
        for header in old_headers.difference(&new_headers) {
            out.push(
                Change::new(
                    "response-header-removed",
                    &slot,
                    format!("header `{header}` no longer documented"),
                    Effect::new(Impact::Behaviour, "clients reading it may find it missing"),
                    Effect::new(
                        Impact::None,
                        "headers are read from `ResponseValue::headers()`, not generated",
                    ),
                )
                .in_operations([scope_name.clone()]),
            );
        }
    }
    for status in before.keys() {
        if after.contains_key(status) {
            continue;
        }
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
        out.push(
            Change::new(
                "response-status-removed",
                format!("{id} response {status}"),
                format!("response {status} no longer documented"),
                Effect::new(Impact::Compatible, "the server no longer sends it"),
                rust,
            )
            .in_operations([scope_name.clone()]),
        );
    }
}

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

fn security_changes(
    location: &str,
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
            .in_operations(operations.iter().cloned()),
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
            .in_operations(operations.iter().cloned()),
        );
    }
}

fn operation_security(
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
    security_changes(
        &format!("operation `{}` security", new.id),
        &before,
        &after,
        std::slice::from_ref(&new.id),
        out,
    );
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
            .in_operations([new.id.clone()]),
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
            .in_operations([new.id.clone()]),
        );
    }
}

/// The error table by code. Rows that do not parse are reported on the head side (the code
/// generator will reject them) and skipped.
fn error_rows(root: &Value, side: &str, out: &mut Vec<Change>) -> BTreeMap<i64, ErrorRow> {
    let mut rows = BTreeMap::new();
    let list = root
        .get(feishu_drive_codegen::error_codes::EXTENSION)
        .and_then(Value::as_array);
    for (index, row) in list.into_iter().flatten().enumerate() {
        match serde_json::from_value::<ErrorRow>(row.clone()) {
            Ok(row) => {
                rows.insert(row.code, row);
            }
            Err(e) if side == "head" => out.push(Change::new(
                "error-table-row-invalid",
                format!("x-feishu-error-codes row {index}"),
                format!("row does not parse: {e}"),
                Effect::none(),
                Effect::new(
                    Impact::Breaking,
                    "the code generator rejects the table, so no client can be generated",
                ),
            )),
            Err(_) => {}
        }
    }
    rows
}

fn error_codes(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let before = error_rows(old, "base", out);
    let after = error_rows(new, "head", out);
    let at = |code: i64| format!("error code {code}");
    for (code, row) in &after {
        let name = &row.name;
        let Some(previous) = before.get(code) else {
            out.push(Change::new(
                "error-code-added",
                at(*code),
                format!("`{name}` added (HTTP {}, {})", row.http_status, retry_word(row.retryable)),
                Effect::new(Impact::Compatible, "old clients see it as `ErrorCode::Unknown`, keeping its value"),
                Effect::new(
                    Impact::Compatible,
                    format!("new variant `ErrorCode::{name}`; `ErrorCode` is #[non_exhaustive], so no `match` breaks"),
                ),
            ));
            continue;
        };
        if previous.name != row.name {
            out.push(Change::new(
                "error-code-renamed",
                at(*code),
                format!("variant `{}` → `{name}`", previous.name),
                Effect::new(Impact::None, "the same code on the wire"),
                Effect::new(
                    Impact::Breaking,
                    format!("`ErrorCode::{}` is renamed to `ErrorCode::{name}`", previous.name),
                ),
            ));
        }
        if previous.retryable != row.retryable {
            out.push(Change::new(
                "error-code-retryability-changed",
                at(*code),
                format!(
                    "`{name}`: {} → {}",
                    retry_word(previous.retryable),
                    retry_word(row.retryable)
                ),
                Effect::new(
                    Impact::Behaviour,
                    if row.retryable {
                        "retrying the same request later is now documented to succeed"
                    } else {
                        "retrying the same request is now documented to fail again"
                    },
                ),
                Effect::new(
                    Impact::Behaviour,
                    format!(
                        "`ErrorCode::{name}.is_retryable()` now returns {}: retry loops built on it (the uploader's) {} it",
                        row.retryable,
                        if row.retryable { "start retrying" } else { "stop retrying" }
                    ),
                ),
            ));
        }
        if previous.http_status != row.http_status {
            out.push(Change::new(
                "error-code-status-changed",
                at(*code),
                format!("`{name}`: HTTP {} → {}", previous.http_status, row.http_status),
                Effect::new(
                    Impact::Behaviour,
                    "the code arrives with another HTTP status; clients branching on the status see the new one",
                ),
                Effect::new(
                    Impact::Behaviour,
                    format!("`ErrorCode::{name}.http_status()` returns Some({})", row.http_status),
                ),
            ));
        }
        let evidence = (
            previous.evidence.clone().unwrap_or_default(),
            row.evidence.clone().unwrap_or_default(),
        );
        let unverified = (previous.unverified.join(", "), row.unverified.join(", "));
        for (what, a, b) in [
            ("message", &previous.message, &row.message),
            ("hint", &previous.hint, &row.hint),
            ("provenance", &previous.provenance, &row.provenance),
            ("evidence", &evidence.0, &evidence.1),
            ("unverified", &unverified.0, &unverified.1),
        ] {
            if a != b {
                out.push(Change::new(
                    "error-code-text-changed",
                    at(*code),
                    format!("`{name}`: {what} {a:?} → {b:?}"),
                    Effect::new(Impact::Docs, "text only; nothing should match on it"),
                    Effect::new(
                        Impact::Docs,
                        format!("the variant's doc comment and `{what}`-derived text change"),
                    ),
                ));
            }
        }
    }
    for (code, row) in &before {
        if !after.contains_key(code) {
            out.push(Change::new(
                "error-code-removed",
                at(*code),
                format!("`{}` removed", row.name),
                Effect::new(
                    Impact::Behaviour,
                    "no longer documented; if it still arrives, clients see `ErrorCode::Unknown`",
                ),
                Effect::new(
                    Impact::Breaking,
                    format!(
                        "variant `ErrorCode::{}` is gone: code naming it stops compiling",
                        row.name
                    ),
                ),
            ));
        }
    }
}

fn retry_word(retryable: bool) -> &'static str {
    if retryable { "retryable" } else { "not retryable" }
}

fn servers(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let urls = |root: &Value| -> BTreeSet<String> {
        root.get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| str_of(s, "url").map(str::to_owned))
            .collect()
    };
    let (before, after) = (urls(old), urls(new));
    let rust = || {
        Effect::new(
            Impact::None,
            "`Client::new` takes the base URL; none is generated in",
        )
    };
    for url in after.difference(&before) {
        out.push(Change::new(
            "server-added",
            "servers",
            format!("`{url}` added"),
            Effect::new(Impact::Compatible, "one more documented base URL"),
            rust(),
        ));
    }
    for url in before.difference(&after) {
        out.push(Change::new(
            "server-removed",
            "servers",
            format!("`{url}` removed"),
            Effect::new(
                Impact::Breaking,
                "clients configured with it lose their documented endpoint",
            ),
            rust(),
        ));
    }

    // The document-wide security requirements, once for all operations following them.
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
            "security (document-wide)",
            &or_anonymous(before),
            &or_anonymous(after),
            &following,
            out,
        );
    }
}

fn security_schemes(old: &Value, new: &Value, out: &mut Vec<Change>) {
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
    for (name, scheme) in &after {
        match before.get(name) {
            None => out.push(Change::new(
                "security-scheme-added",
                format!("security scheme `{name}`"),
                format!("added ({})", describe_scheme(scheme)),
                Effect::new(Impact::Compatible, "usable only where an operation accepts it"),
                rust(),
            )),
            Some(previous) if previous != scheme => out.push(Change::new(
                "security-scheme-changed",
                format!("security scheme `{name}`"),
                format!("{} → {}", describe_scheme(previous), describe_scheme(scheme)),
                Effect::new(Impact::Breaking, "clients send credentials the old way"),
                rust(),
            )),
            Some(_) => {}
        }
    }
    for (name, scheme) in &before {
        if !after.contains_key(name) {
            out.push(Change::new(
                "security-scheme-removed",
                format!("security scheme `{name}`"),
                format!("removed (was {})", describe_scheme(scheme)),
                Effect::new(Impact::Breaking, "clients authenticating with it are rejected"),
                rust(),
            ));
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

fn components(old: &Value, new: &Value, generated: &Generated, out: &mut Vec<Change>) {
    let names = |root: &Value| -> BTreeSet<String> {
        root.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (before, after) = (names(old), names(new));
    // A component the code generator leaves out (a multipart body's schema) has no Rust effect.
    let in_types = |types: &Option<BTreeSet<String>>, name: &str| {
        types
            .as_ref()
            .is_none_or(|t| t.contains(&name.to_upper_camel_case()))
    };
    // A type can exist without its component: progenitor names inline bodies after their
    // operation (`UploadPrepareResponse`), so extracting one into a component keeps the type.
    let existed = |types: &Option<BTreeSet<String>>, name: &str| {
        types
            .as_ref()
            .is_some_and(|t| t.contains(&name.to_upper_camel_case()))
    };
    for name in after.difference(&before) {
        let ty = name.to_upper_camel_case();
        let rust = if existed(&generated.old_types, name) {
            Effect::new(
                Impact::None,
                format!("`types::{ty}` already existed (from an inline schema)"),
            )
        } else if in_types(&generated.new_types, name) {
            Effect::new(Impact::Compatible, format!("new type `types::{ty}`"))
        } else {
            Effect::new(Impact::None, "no type is generated for it")
        };
        out.push(Change::new(
            "schema-added",
            format!("components.schemas.{name}"),
            "schema added",
            Effect::new(
                Impact::None,
                "a definition; operations that use it are listed separately",
            ),
            rust,
        ));
    }
    for name in before.difference(&after) {
        let ty = name.to_upper_camel_case();
        let rust = if existed(&generated.new_types, name) {
            Effect::new(
                Impact::None,
                format!("`types::{ty}` stays (from an inline schema)"),
            )
        } else if in_types(&generated.old_types, name) {
            Effect::new(Impact::Breaking, format!("`types::{ty}` is no longer generated"))
        } else {
            Effect::new(Impact::None, "no type was generated for it")
        };
        out.push(Change::new(
            "schema-removed",
            format!("components.schemas.{name}"),
            "schema removed",
            Effect::new(
                Impact::None,
                "a definition; operations that used it are listed separately",
            ),
            rust,
        ));
    }
}

fn version(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let (a, b) = (
        old.pointer("/info/version").and_then(Value::as_str),
        new.pointer("/info/version").and_then(Value::as_str),
    );
    if a != b
        && let Some(b) = b
    {
        out.push(Change::new(
            "api-version-changed",
            "info.version",
            format!("{} → {b}", a.unwrap_or("none")),
            Effect::new(Impact::None, "a label"),
            Effect::new(
                Impact::Compatible,
                format!("`Client::api_version()` returns {b:?}"),
            ),
        ));
    }
}
