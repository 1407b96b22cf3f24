//! Comparing two flattened bodies (or parameters) field by field.
//!
//! Every rule states its effect on both axes (see [`super::change`]); the wording of the reasons
//! is what a reviewer reads, so each names the mechanism (deserialization, struct literal,
//! builder) that makes the change break or not.

mod bounds;
mod changed;

use std::collections::BTreeMap;

use heck::ToUpperCamelCase;

use super::change::{Change, Effect, Impact, Side};
use super::fields::{Direction, Field, FieldPath};

/// How a body is represented in the generated client, which decides the Rust effect of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A JSON body or response: a typify struct with `pub` fields (and a builder).
    Json,
    /// A `multipart/form-data` body: one builder setter per top-level field, and a `pub` field
    /// of the operation's request-body type (`types::{Operation}Form`).
    Form,
    /// A path, query or header parameter: one builder setter.
    Parameter,
}

/// How one field appears in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    /// A `pub` field of a generated struct.
    StructField,
    /// A setter on an operation's builder.
    Setter,
    /// A multipart form field: a setter, and a `pub` field of the request-body type.
    FormField,
}

/// What a comparison is about: the operation and direction, for reports and rules.
#[derive(Debug)]
pub struct Scope<'a> {
    /// The operation, as listed in reports (`upload_prepare (request)`).
    pub operation: String,
    /// Request or response.
    pub direction: Direction,
    /// How the compared body is generated.
    pub shape: Shape,
    /// The name of the root in Rust (`body`, or the parameter's name): its setter's name.
    pub root_name: String,
    /// The root in words (`the request body`, `parameter \`extra\``).
    pub root_subject: String,
    /// Where new changes go.
    pub out: &'a mut Vec<Change>,
}

impl Scope<'_> {
    fn repr(&self, path: &FieldPath) -> Repr {
        match self.shape {
            Shape::Json => Repr::StructField,
            Shape::Form if path.len() <= 1 => Repr::FormField,
            Shape::Parameter if path.is_empty() => Repr::Setter,
            Shape::Form | Shape::Parameter => Repr::StructField,
        }
    }

    /// The operation's multipart request-body type, as the code generator names it.
    fn form_type(&self) -> String {
        let id = self.operation.split(' ').next().unwrap_or_default();
        format!("`types::{}Form`", id.to_upper_camel_case())
    }

    /// Files a change of this scope. The direction is part of its subject: a component used in
    /// requests and responses changes once but is judged twice, and the two are told apart.
    fn push(&mut self, change: Change) {
        let operation = self.operation.clone();
        let subject = format!("{} {}", self.direction.label(), change.subject);
        self.out
            .push(change.about(subject.trim_end()).in_operations([operation]));
    }
}

/// The Rust name of the struct a field belongs to, for reasons.
fn owner_type(parent: Option<&Field>) -> String {
    match parent.and_then(|p| p.component.as_deref()) {
        Some(name) => format!("`types::{}`", name.to_upper_camel_case()),
        None => match parent {
            Some(p) => format!("the struct generated for `{}`", p.schema_at),
            None => "the generated struct".to_owned(),
        },
    }
}

fn type_name(field: &Field) -> String {
    match &field.component {
        Some(name) => format!("`types::{}`", name.to_upper_camel_case()),
        None => format!("the type generated for `{}`", field.schema_at),
    }
}

fn parent_of(path: &FieldPath) -> Option<FieldPath> {
    path.split_last().map(|(_, parent)| parent.to_vec())
}

fn name_of<'a>(path: &'a FieldPath, scope: &'a Scope<'_>) -> &'a str {
    path.last().map(String::as_str).unwrap_or(&scope.root_name)
}

fn subject(path: &FieldPath, scope: &Scope<'_>) -> String {
    match path.last() {
        Some(name) => format!("field `{name}`"),
        None => scope.root_subject.clone(),
    }
}

fn show_type(field: &Field) -> String {
    match &field.format {
        Some(format) => format!("{} ({format})", field.kind),
        None => field.kind.clone(),
    }
}

/// Compares the fields of one body, parameter or response.
pub fn compare(old: &BTreeMap<FieldPath, Field>, new: &BTreeMap<FieldPath, Field>, scope: &mut Scope<'_>) {
    // A field added or removed is reported once, at the top: its sub-fields come with it. The
    // same when a parent's type changed (string → object): the type change says it all.
    let reported_at_parent = |path: &FieldPath| {
        parent_of(path).is_some_and(|parent| match (old.get(&parent), new.get(&parent)) {
            (Some(o), Some(n)) => o.kind != n.kind,
            _ => true,
        })
    };
    for (path, field) in new {
        if !old.contains_key(path) && !reported_at_parent(path) {
            let parent = parent_of(path).and_then(|p| old.get(&p));
            added(path, field, parent, new_parent(new, path), scope);
        }
    }
    for (path, field) in old {
        match new.get(path) {
            None if !reported_at_parent(path) => {
                removed(path, field, new_parent(new, path), scope);
            }
            None => {}
            Some(now) => changed::changed(path, field, now, new_parent(new, path), scope),
        }
    }
}

fn new_parent<'a>(map: &'a BTreeMap<FieldPath, Field>, path: &FieldPath) -> Option<&'a Field> {
    parent_of(path).and_then(|p| map.get(&p))
}

fn added(
    path: &FieldPath,
    field: &Field,
    old_parent: Option<&Field>,
    parent: Option<&Field>,
    scope: &mut Scope<'_>,
) {
    let name = name_of(path, scope).to_owned();
    let owner = owner_type(parent);
    let repr = scope.repr(path);
    let presence = if field.required { "required" } else { "optional" };
    let summary = format!("{presence} field `{name}` added");
    let change = match scope.direction {
        Direction::Request => {
            let wire = if field.required {
                Effect::new(
                    Impact::Breaking,
                    "requests from clients built from the old spec lack it",
                )
            } else {
                Effect::new(Impact::Compatible, "old clients omit it, which stays valid")
            };
            let rust = match (repr, field.required) {
                (Repr::StructField, true) => Effect::new(
                    Impact::Breaking,
                    format!(
                        "new required pub field on {owner}: struct literals stop compiling, and builders fail at run time until it is set"
                    ),
                ),
                (Repr::StructField, false) => Effect::new(
                    Impact::Breaking,
                    format!(
                        "new pub field on {owner}, which is not #[non_exhaustive]: struct literals stop compiling (builder users are unaffected)"
                    ),
                ),
                (Repr::Setter, true) => Effect::new(
                    Impact::Breaking,
                    format!("existing calls still compile, but `send()` fails until `.{name}(…)` is set"),
                ),
                (Repr::Setter, false) => Effect::new(
                    Impact::Compatible,
                    format!("a new optional builder setter `.{name}(…)`"),
                ),
                (Repr::FormField, true) => Effect::new(
                    Impact::Breaking,
                    format!(
                        "new required pub field on {}: struct literals stop compiling, and `send()` fails until `.{name}(…)` is set",
                        scope.form_type()
                    ),
                ),
                (Repr::FormField, false) => Effect::new(
                    Impact::Breaking,
                    format!(
                        "a new optional builder setter `.{name}(…)`, and a new pub field on {}, which is not #[non_exhaustive]: struct literals stop compiling (setter users are unaffected)",
                        scope.form_type()
                    ),
                ),
            };
            Change::new("request-field-added", &field.slot, summary, wire, rust)
        }
        Direction::Response => {
            let wire = if old_parent.is_some_and(|p| p.closed_object) {
                Effect::new(
                    Impact::Breaking,
                    "the old schema forbids unknown fields (additionalProperties: false), so old clients reject responses that carry it",
                )
            } else {
                Effect::new(Impact::Compatible, "old clients ignore fields they do not know")
            };
            let rust = Effect::new(
                Impact::Breaking,
                format!(
                    "new pub field on {owner}, which is not #[non_exhaustive]: struct literals (mocks, tests) and exhaustive destructuring stop compiling"
                ),
            );
            Change::new("response-field-added", &field.slot, summary, wire, rust)
        }
    };
    scope.push(change.at(Side::Head, field.declared.clone()));
}

fn removed(path: &FieldPath, field: &Field, parent: Option<&Field>, scope: &mut Scope<'_>) {
    let name = name_of(path, scope).to_owned();
    let owner = owner_type(parent);
    let rust = match scope.repr(path) {
        Repr::StructField => Effect::new(
            Impact::Breaking,
            format!("pub field `{name}` removed from {owner}"),
        ),
        Repr::Setter => Effect::new(Impact::Breaking, format!("builder setter `.{name}(…)` removed")),
        Repr::FormField => Effect::new(
            Impact::Breaking,
            format!(
                "builder setter `.{name}(…)` and pub field `{name}` of {} removed",
                scope.form_type()
            ),
        ),
    };
    let summary = format!("{} removed", subject(path, scope));
    let (wire, kind) = match scope.direction {
        Direction::Request => (
            request_removal(field, parent),
            if field.deprecated {
                "deprecated-request-field-removed"
            } else {
                "request-field-removed"
            },
        ),
        Direction::Response => (
            response_removal(field),
            if field.deprecated {
                "deprecated-response-field-removed"
            } else {
                "response-field-removed"
            },
        ),
    };
    let change = Change::new(kind, &field.slot, summary, wire, rust);
    scope.push(change.at(Side::Base, field.declared.clone()));
}

/// The wire effect of removing a request field. A deprecated field's removal was announced, so
/// it weighs a step less than removing one nothing warned about.
fn request_removal(field: &Field, parent: Option<&Field>) -> Effect {
    let closed = parent.is_some_and(|p| p.closed_object);
    match (closed, field.deprecated) {
        (true, false) => Effect::new(
            Impact::Breaking,
            "the new schema forbids unknown fields, so requests from old clients that send it are rejected; it was never deprecated",
        ),
        (true, true) => Effect::new(
            Impact::Behaviour,
            "it was deprecated, so clients were told to stop sending it; those that still do are rejected (the new schema forbids unknown fields)",
        ),
        (false, false) => Effect::new(
            Impact::Behaviour,
            "old clients may still send it, and the server no longer reads it; it was never deprecated, so nothing announced that",
        ),
        (false, true) => Effect::new(
            Impact::Compatible,
            "it was deprecated: clients were told to stop sending it, and the server no longer reads it",
        ),
    }
}

/// The wire effect of removing a response field: deprecated or not, old generated clients that
/// require it fail to deserialize, so deprecation only changes the wording.
fn response_removal(field: &Field) -> Effect {
    let history = if field.deprecated {
        "it was deprecated"
    } else {
        "it was never deprecated"
    };
    if field.required {
        Effect::new(
            Impact::Breaking,
            format!("old clients require it: responses without it fail to deserialize ({history})"),
        )
    } else {
        Effect::new(
            Impact::Compatible,
            format!("it was optional: old clients see `None` ({history})"),
        )
    }
}
