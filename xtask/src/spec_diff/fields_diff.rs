//! Comparing two flattened bodies (or parameters) field by field.
//!
//! Every rule states its effect on both axes (see [`super::change`]); the wording of the reasons
//! is what a reviewer reads, so each names the mechanism (deserialization, struct literal,
//! builder) that makes the change break or not.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use serde_json::Value;

use super::change::{Change, Effect, Impact};
use super::fields::{BOUNDS, Direction, Field, FieldPath, Narrower};

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

    fn push(&mut self, change: Change) {
        let operation = self.operation.clone();
        self.out.push(change.in_operations([operation]));
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
            Some(now) => changed(path, field, now, new_parent(new, path), scope),
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
    scope.push(change);
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
    let change = match scope.direction {
        Direction::Request => {
            let wire = if parent.is_some_and(|p| p.closed_object) {
                Effect::new(
                    Impact::Breaking,
                    "the new schema forbids unknown fields, so requests from old clients that send it are rejected",
                )
            } else {
                Effect::new(
                    Impact::Behaviour,
                    "old clients may still send it, and the server no longer reads it",
                )
            };
            Change::new("request-field-removed", &field.slot, summary, wire, rust)
        }
        Direction::Response => {
            let wire = if field.required {
                Effect::new(
                    Impact::Breaking,
                    "old clients require it: responses without it fail to deserialize",
                )
            } else {
                Effect::new(Impact::Compatible, "it was optional: old clients see `None`")
            };
            Change::new("response-field-removed", &field.slot, summary, wire, rust)
        }
    };
    scope.push(change);
}

fn changed(path: &FieldPath, old: &Field, new: &Field, parent: Option<&Field>, scope: &mut Scope<'_>) {
    let name = name_of(path, scope).to_owned();
    let what = subject(path, scope);
    let repr = scope.repr(path);
    let direction = scope.direction;

    // Required-ness.
    if old.required != new.required {
        let owner = owner_type(parent);
        let (kind, summary) = if new.required {
            ("field-now-required", format!("{what} becomes required"))
        } else {
            ("field-now-optional", format!("{what} becomes optional"))
        };
        let (wire, rust) = match (direction, new.required) {
            (Direction::Request, true) => (
                Effect::new(Impact::Breaking, "old clients may omit it"),
                match repr {
                    Repr::StructField => Effect::new(
                        Impact::Breaking,
                        format!("on {owner} the field's type loses its `Option`"),
                    ),
                    Repr::Setter => Effect::new(
                        Impact::Breaking,
                        format!("calls that never set `.{name}(…)` now fail in `send()`"),
                    ),
                    Repr::FormField => Effect::new(
                        Impact::Breaking,
                        format!(
                            "calls that never set `.{name}(…)` now fail in `send()`, and on {} the field's type loses its `Option`",
                            scope.form_type()
                        ),
                    ),
                },
            ),
            (Direction::Request, false) => (
                Effect::new(
                    Impact::Compatible,
                    "old clients always send it, which stays valid",
                ),
                match repr {
                    Repr::StructField => Effect::new(
                        Impact::Breaking,
                        format!("on {owner} the field's type becomes `Option<…>`"),
                    ),
                    Repr::Setter => Effect::new(
                        Impact::Compatible,
                        "the setter stays; leaving it unset becomes allowed",
                    ),
                    Repr::FormField => Effect::new(
                        Impact::Breaking,
                        format!(
                            "the setter stays, but on {} the field's type becomes `Option<…>`",
                            scope.form_type()
                        ),
                    ),
                },
            ),
            (Direction::Response, false) => (
                Effect::new(
                    Impact::Breaking,
                    "old clients require it: responses without it fail to deserialize",
                ),
                Effect::new(
                    Impact::Breaking,
                    format!("on {owner} the field's type becomes `Option<…>`: reads must handle `None`"),
                ),
            ),
            (Direction::Response, true) => (
                Effect::new(Impact::Compatible, "old clients accept it always being there"),
                Effect::new(
                    Impact::Breaking,
                    format!(
                        "on {owner} the field's type loses its `Option`: code matching `Some(…)` stops compiling"
                    ),
                ),
            ),
        };
        scope.push(Change::new(kind, &new.slot, summary, wire, rust));
    }

    // Which schema: renamed, extracted into a component, inlined.
    if old.component != new.component {
        let change = match (&old.component, &new.component) {
            (Some(a), Some(b)) => Change::new(
                "schema-renamed",
                &new.slot,
                format!("schema `{a}` → `{b}`"),
                Effect::new(Impact::None, "the same structure is sent"),
                Effect::new(
                    Impact::Breaking,
                    format!(
                        "the generated type `types::{}` becomes `types::{}`",
                        a.to_upper_camel_case(),
                        b.to_upper_camel_case()
                    ),
                ),
            ),
            (None, Some(b)) => Change::new(
                "schema-extracted",
                &new.slot,
                format!("inline schema moved into component `{b}`"),
                Effect::new(Impact::None, "the same structure is sent"),
                Effect::new(
                    Impact::Compatible,
                    "the generated type may be renamed: the generated-API diff below shows whether it is",
                ),
            ),
            (Some(a), None) => Change::new(
                "schema-inlined",
                &new.slot,
                format!("component `{a}` inlined"),
                Effect::new(Impact::None, "the same structure is sent"),
                Effect::new(
                    Impact::Compatible,
                    "the generated type may be renamed: the generated-API diff below shows whether it is",
                ),
            ),
            (None, None) => unreachable!("the components differ"),
        };
        scope.push(change);
    }

    let at = new.schema_at.clone();
    // Type and format.
    if old.kind != new.kind || old.format != new.format {
        let widens = numeric_widening(old, new);
        let narrows = numeric_widening(new, old);
        let wire = match direction {
            Direction::Request if widens => {
                Effect::new(Impact::Compatible, "every value old clients send stays valid")
            }
            Direction::Request => Effect::new(Impact::Breaking, "old clients send values of the old type"),
            Direction::Response if narrows => Effect::new(
                Impact::Compatible,
                "old clients accept every value of the new type",
            ),
            Direction::Response => Effect::new(
                Impact::Breaking,
                "old clients fail to deserialize values of the new type",
            ),
        };
        let rust = if old.kind != new.kind {
            Effect::new(Impact::Breaking, format!("the Rust type of `{name}` changes"))
        } else {
            Effect::new(
                Impact::Behaviour,
                format!(
                    "the Rust type of `{name}` may change with the format: the generated-API diff below shows whether it does"
                ),
            )
        };
        scope.push(Change::new(
            "type-changed",
            &at,
            format!("type `{}` → `{}`", show_type(old), show_type(new)),
            wire,
            rust,
        ));
        // Bounds and enums of a different type are not comparable.
        if old.kind != new.kind {
            return;
        }
    }

    // nullable.
    if old.nullable != new.nullable {
        let widened = new.nullable;
        let wire = wire_for(
            direction,
            if widened { Dir::Widened } else { Dir::Narrowed },
            true,
        );
        let rust = if new.required {
            Effect::new(
                Impact::Breaking,
                format!(
                    "the Rust type of `{name}` {} `Option`",
                    if widened { "gains" } else { "loses" }
                ),
            )
        } else {
            Effect::new(Impact::None, "the field is optional, so already an `Option`")
        };
        scope.push(Change::new(
            "nullable-changed",
            &at,
            format!("`nullable` {} → {}", old.nullable, new.nullable),
            wire,
            rust,
        ));
    }

    // Bounds. typify makes a string with a length or pattern bound a validating newtype
    // (`TryFrom<&str>`, `TryFrom<String>`), and one without any a plain newtype or `String`
    // (`From<String>`): losing the last bound, or gaining the first, changes the conversions
    // callers use (`.setter("literal")` stops compiling), whatever the wire says.
    let constrained = |f: &Field| {
        f.kind == "string"
            && (f.pattern.is_some()
                || f.bounds.contains_key("minLength")
                || f.bounds.contains_key("maxLength"))
    };
    let shape_changed = old.kind == "string" && new.kind == "string" && constrained(old) != constrained(new);
    for (key, narrower) in BOUNDS {
        let (a, b) = (old.bounds.get(key), new.bounds.get(key));
        if a == b {
            continue;
        }
        let dir = bound_direction(narrower, a, b);
        let validated = matches!(key, "minLength" | "maxLength");
        let shape = shape_changed && validated;
        push_bound(scope, &at, key, a, b, dir, validated, shape);
    }
    if old.pattern != new.pattern {
        let dir = match (&old.pattern, &new.pattern) {
            (None, Some(_)) => Dir::Narrowed,
            (Some(_), None) => Dir::Widened,
            _ => Dir::Changed,
        };
        let a = old.pattern.clone().map(Value::String);
        let b = new.pattern.clone().map(Value::String);
        push_bound(
            scope,
            &at,
            "pattern",
            a.as_ref(),
            b.as_ref(),
            dir,
            true,
            shape_changed,
        );
    }

    // Closed enums: typify makes them exhaustive Rust enums.
    enums(scope, &at, old, new);

    // Open enums (x-extensible-enum): documented values of an open string type.
    let (a, b) = (
        old.open_enum.clone().unwrap_or_default(),
        new.open_enum.clone().unwrap_or_default(),
    );
    let ty = type_name(new);
    let added: Vec<_> = b.difference(&a).cloned().collect();
    let gone: Vec<_> = a.difference(&b).cloned().collect();
    if !added.is_empty() {
        scope.push(Change::new(
            "extensible-enum-value-added",
            &at,
            format!("x-extensible-enum values added: {}", added.join(", ")),
            Effect::new(
                Impact::Compatible,
                "the set is open: any string was already accepted and passed through",
            ),
            Effect::new(
                Impact::Compatible,
                format!("{ty}'s `KNOWN` list grows; the type stays an open string, so no `match` breaks"),
            ),
        ));
    }
    if !gone.is_empty() {
        scope.push(Change::new(
            "extensible-enum-value-removed",
            &at,
            format!("x-extensible-enum values removed: {}", gone.join(", ")),
            Effect::new(
                Impact::Behaviour,
                "no longer documented: servers may stop accepting them",
            ),
            Effect::new(
                Impact::Behaviour,
                format!("{ty}'s `is_known()` returns false for them; they still compile and send"),
            ),
        ));
    }

    // additionalProperties: false ↔ open.
    if old.closed_object != new.closed_object {
        let (wire, rust) = if new.closed_object {
            (
                match direction {
                    Direction::Request => Effect::new(
                        Impact::Behaviour,
                        "servers may reject requests carrying undeclared fields (generated clients send none)",
                    ),
                    Direction::Response => {
                        Effect::new(Impact::Compatible, "old clients accept fewer fields as well")
                    }
                },
                Effect::new(
                    Impact::Behaviour,
                    format!("{} gains `#[serde(deny_unknown_fields)]`", type_name(new)),
                ),
            )
        } else {
            (
                match direction {
                    Direction::Request => Effect::new(Impact::Compatible, "more requests are accepted"),
                    Direction::Response => Effect::new(
                        Impact::Breaking,
                        "old clients deny unknown fields, so responses with new fields fail to deserialize",
                    ),
                },
                Effect::new(
                    Impact::Behaviour,
                    format!("{} drops `#[serde(deny_unknown_fields)]`", type_name(new)),
                ),
            )
        };
        scope.push(Change::new(
            "additional-properties-changed",
            &at,
            format!(
                "`additionalProperties: false` {}",
                if new.closed_object { "added" } else { "removed" }
            ),
            wire,
            rust,
        ));
    }
}

fn enums(scope: &mut Scope<'_>, at: &str, old: &Field, new: &Field) {
    let direction = scope.direction;
    let ty = type_name(new);
    match (&old.closed_enum, &new.closed_enum) {
        (None, None) => {}
        (None, Some(values)) => scope.push(Change::new(
            "enum-added",
            at,
            format!("restricted to the values {}", join(values)),
            wire_for(direction, Dir::Narrowed, true),
            Effect::new(Impact::Breaking, format!("{ty} becomes an exhaustive Rust enum")),
        )),
        (Some(values), None) => scope.push(Change::new(
            "enum-removed",
            at,
            format!("no longer restricted to {}", join(values)),
            wire_for(direction, Dir::Widened, true),
            Effect::new(Impact::Breaking, format!("{ty} stops being a Rust enum")),
        )),
        (Some(a), Some(b)) => {
            let added: BTreeSet<String> = b.difference(a).cloned().collect();
            let gone: BTreeSet<String> = a.difference(b).cloned().collect();
            if !added.is_empty() {
                let wire = match direction {
                    Direction::Request => Effect::new(Impact::Compatible, "old clients never send them"),
                    Direction::Response => Effect::new(
                        Impact::Breaking,
                        "old clients fail to deserialize responses carrying them",
                    ),
                };
                scope.push(Change::new(
                    "enum-value-added",
                    at,
                    format!("enum values added: {}", join(&added)),
                    wire,
                    Effect::new(
                        Impact::Breaking,
                        format!(
                            "new variants in {ty}, an exhaustive Rust enum: `match`es without a wildcard arm stop compiling"
                        ),
                    ),
                ));
            }
            if !gone.is_empty() {
                let wire = match direction {
                    Direction::Request => Effect::new(Impact::Breaking, "old clients may still send them"),
                    Direction::Response => Effect::new(Impact::Compatible, "old clients just never see them"),
                };
                scope.push(Change::new(
                    "enum-value-removed",
                    at,
                    format!("enum values removed: {}", join(&gone)),
                    wire,
                    Effect::new(Impact::Breaking, format!("variants removed from {ty}")),
                ));
            }
        }
    }
}

fn join(values: &BTreeSet<String>) -> String {
    values.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Whether a bound accepts fewer values, more, or different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Narrowed,
    Widened,
    Changed,
}

fn bound_direction(narrower: Narrower, old: Option<&Value>, new: Option<&Value>) -> Dir {
    let num = |v: Option<&Value>| v.and_then(Value::as_f64);
    let truthy = |v: Option<&Value>| v.and_then(Value::as_bool).unwrap_or(false);
    match narrower {
        Narrower::AnyChange => Dir::Changed,
        Narrower::True => match (truthy(old), truthy(new)) {
            (false, true) => Dir::Narrowed,
            (true, false) => Dir::Widened,
            _ => Dir::Changed,
        },
        Narrower::Larger | Narrower::Smaller => match (num(old), num(new)) {
            (None, Some(_)) => Dir::Narrowed,
            (Some(_), None) => Dir::Widened,
            (Some(a), Some(b)) => {
                let larger = b > a;
                match (narrower, larger) {
                    (Narrower::Larger, true) | (Narrower::Smaller, false) => Dir::Narrowed,
                    _ => Dir::Widened,
                }
            }
            (None, None) => Dir::Changed,
        },
    }
}

/// The wire effect of accepting fewer (`Narrowed`) or more (`Widened`) values. `validated`: old
/// generated clients check this bound when they deserialize (string lengths and patterns are
/// validating newtypes), so widening a response bound breaks them rather than only surprising.
fn wire_for(direction: Direction, dir: Dir, validated: bool) -> Effect {
    match (direction, dir) {
        (Direction::Request, Dir::Narrowed) => {
            Effect::new(Impact::Breaking, "values old clients may send are now rejected")
        }
        (Direction::Request, Dir::Widened) => {
            Effect::new(Impact::Compatible, "every value that was valid stays valid")
        }
        (Direction::Request, Dir::Changed) => {
            Effect::new(Impact::Breaking, "values old clients may send can be rejected")
        }
        (Direction::Response, Dir::Narrowed) => Effect::new(
            Impact::Compatible,
            "old clients accept every value the new spec allows",
        ),
        (Direction::Response, Dir::Widened | Dir::Changed) if validated => Effect::new(
            Impact::Breaking,
            "old clients validate the old bound when they deserialize, and reject the new values",
        ),
        (Direction::Response, Dir::Widened | Dir::Changed) => Effect::new(
            Impact::Behaviour,
            "old clients do not check this bound, but may rely on it",
        ),
    }
}

#[allow(clippy::too_many_arguments)] // one call site per bound kind, each passing its own facts
fn push_bound(
    scope: &mut Scope<'_>,
    at: &str,
    key: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    dir: Dir,
    validated: bool,
    newtype_changed: bool,
) {
    let show = |v: Option<&Value>| v.map(super::doc::show).unwrap_or_else(|| "none".to_owned());
    let (kind, word) = match dir {
        Dir::Narrowed => ("bound-narrowed", "narrowed"),
        Dir::Widened => ("bound-widened", "widened"),
        Dir::Changed => ("bound-changed", "changed"),
    };
    let wire = wire_for(scope.direction, dir, validated);
    let rust = if newtype_changed {
        Effect::new(
            Impact::Breaking,
            "the string is no longer (or now) a validating newtype: its `TryFrom<&str>` conversions give way to `From<String>` (or the reverse), so setters called with a `&str` (or a plain `String` where validation now applies) stop compiling",
        )
    } else {
        Effect::new(
            Impact::Behaviour,
            "client-side validation (string newtypes, multipart builder checks) follows the new bound; signatures do not change",
        )
    };
    scope.push(Change::new(
        kind,
        at,
        format!("`{key}` {} → {} ({word})", show(old), show(new)),
        wire,
        rust,
    ));
}

/// Whether every value of `old`'s type is a value of `new`'s: int32 → int64 → number.
fn numeric_widening(old: &Field, new: &Field) -> bool {
    let rank = |f: &Field| match (f.kind.as_str(), f.format.as_deref()) {
        ("integer", Some("int32")) => Some(1),
        ("integer", _) => Some(2),
        ("number", Some("float")) => Some(3),
        ("number", _) => Some(4),
        _ => None,
    };
    matches!((rank(old), rank(new)), (Some(a), Some(b)) if b > a)
}
