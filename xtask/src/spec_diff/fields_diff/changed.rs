//! One field present on both sides: what changed about it, one function per aspect.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;
use serde_json::Value;

use super::bounds::{Bound, Dir, bound_direction, join, numeric_widening, push_bound, wire_for};
use super::{Repr, Scope, name_of, owner_type, show_type, subject, type_name};
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc::child;
use crate::spec_diff::fields::{BOUNDS, Direction, Field, FieldPath};

/// A field on both sides, and what the rules say about it.
pub(super) struct Pair<'a> {
    old: &'a Field,
    new: &'a Field,
    parent: Option<&'a Field>,
    /// Its name in Rust (a struct field, a setter).
    name: String,
    /// It in words (`field \`size\``).
    what: String,
    repr: Repr,
    direction: Direction,
    /// Where the field's schema is described in reports.
    at: String,
}

impl Pair<'_> {
    /// The head's node for `keyword` of the field's schema (the base's when the head lacks it).
    fn keyword(&self, keyword: &str, in_head: bool) -> (Side, Vec<String>) {
        if in_head {
            (Side::Head, child(&self.new.written, &[keyword]))
        } else {
            (Side::Base, child(&self.old.written, &[keyword]))
        }
    }
}

/// Compares one field present on both sides.
pub(super) fn changed(
    path: &FieldPath,
    old: &Field,
    new: &Field,
    parent: Option<&Field>,
    scope: &mut Scope<'_>,
) {
    let pair = Pair {
        old,
        new,
        parent,
        name: name_of(path, scope).to_owned(),
        what: subject(path, scope),
        repr: scope.repr(path),
        direction: scope.direction,
        at: new.schema_at.clone(),
    };
    required(&pair, scope);
    component(&pair, scope);
    // Bounds and enums of a different type are not comparable.
    if kind(&pair, scope) {
        return;
    }
    nullable(&pair, scope);
    bounds(&pair, scope);
    enums(&pair, scope);
    open_enum(&pair, scope);
    closed_object(&pair, scope);
    deprecation(&pair, scope);
}

/// Required-ness.
fn required(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair { old, new, parent, .. } = *p;
    let what = &p.what;
    if old.required != new.required {
        let owner = owner_type(parent);
        let (kind, summary) = if new.required {
            ("field-now-required", format!("{what} becomes required"))
        } else {
            ("field-now-optional", format!("{what} becomes optional"))
        };
        let (wire, rust) = required_effects(p, &owner, scope);
        let change = Change::new(kind, &new.slot, summary, wire, rust);
        scope.push(change.about("required").at(Side::Head, new.declared.clone()));
    }
}

/// The two effects of a field becoming required or optional.
fn required_effects(p: &Pair<'_>, owner: &str, scope: &Scope<'_>) -> (Effect, Effect) {
    let (name, repr) = (&p.name, p.repr);
    match (p.direction, p.new.required) {
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
    }
}

/// Which schema: renamed, extracted into a component, inlined.
fn component(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair { old, new, .. } = *p;
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
            (None, None) => return,
        };
        scope.push(change.at(Side::Head, new.declared.clone()));
    }
}

/// Type and format; `true` when the type itself changed.
fn kind(p: &Pair<'_>, scope: &mut Scope<'_>) -> bool {
    let Pair {
        old, new, direction, ..
    } = *p;
    let (name, at) = (&p.name, &p.at);
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
        let keyword = if old.kind != new.kind { "type" } else { "format" };
        let change = Change::new(
            "type-changed",
            at,
            format!("type `{}` → `{}`", show_type(old), show_type(new)),
            wire,
            rust,
        );
        let (side, node) = p.keyword(keyword, true);
        scope.push(change.at(side, node));
    }
    old.kind != new.kind
}

/// `nullable`.
fn nullable(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair {
        old, new, direction, ..
    } = *p;
    let (name, at) = (&p.name, &p.at);
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
        let change = Change::new(
            "nullable-changed",
            at,
            format!("`nullable` {} → {}", old.nullable, new.nullable),
            wire,
            rust,
        );
        let (side, node) = p.keyword("nullable", new.nullable);
        scope.push(change.at(side, node));
    }
}

/// Bounds and `pattern`.
fn bounds(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair { old, new, .. } = *p;
    // typify makes a string with a length or pattern bound a validating newtype
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
        let node = p.keyword(key, b.is_some());
        let bound = Bound {
            key,
            old: a,
            new: b,
            dir,
            validated,
            newtype_changed: shape,
        };
        push_bound(scope, &p.at, node, &bound);
    }
    if old.pattern != new.pattern {
        let dir = match (&old.pattern, &new.pattern) {
            (None, Some(_)) => Dir::Narrowed,
            (Some(_), None) => Dir::Widened,
            _ => Dir::Changed,
        };
        let a = old.pattern.clone().map(Value::String);
        let b = new.pattern.clone().map(Value::String);
        let bound = Bound {
            key: "pattern",
            old: a.as_ref(),
            new: b.as_ref(),
            dir,
            validated: true,
            newtype_changed: shape_changed,
        };
        push_bound(scope, &p.at, p.keyword("pattern", b.is_some()), &bound);
    }
}

/// Open enums (`x-extensible-enum`): documented values of an open string type.
fn open_enum(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair { old, new, .. } = *p;
    let at = &p.at;
    let (a, b) = (
        old.open_enum.clone().unwrap_or_default(),
        new.open_enum.clone().unwrap_or_default(),
    );
    let ty = type_name(new);
    let added: Vec<_> = b.difference(&a).cloned().collect();
    let gone: Vec<_> = a.difference(&b).cloned().collect();
    let node = p.keyword("x-extensible-enum", new.open_enum.is_some());
    if !added.is_empty() {
        scope.push(
            Change::new(
                "extensible-enum-value-added",
                at,
                format!("x-extensible-enum values added: {}", added.join(", ")),
                Effect::new(
                    Impact::Compatible,
                    "the set is open: any string was already accepted and passed through",
                ),
                Effect::new(
                    Impact::Compatible,
                    format!("{ty}'s `KNOWN` list grows; the type stays an open string, so no `match` breaks"),
                ),
            )
            .at(node.0, node.1.clone()),
        );
    }
    if !gone.is_empty() {
        scope.push(
            Change::new(
                "extensible-enum-value-removed",
                at,
                format!("x-extensible-enum values removed: {}", gone.join(", ")),
                Effect::new(
                    Impact::Behaviour,
                    "no longer documented: servers may stop accepting them",
                ),
                Effect::new(
                    Impact::Behaviour,
                    format!("{ty}'s `is_known()` returns false for them; they still compile and send"),
                ),
            )
            .at(node.0, node.1),
        );
    }
}

/// `additionalProperties: false` ↔ open.
fn closed_object(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair {
        old, new, direction, ..
    } = *p;
    let at = &p.at;
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
        let change = Change::new(
            "additional-properties-changed",
            at,
            format!(
                "`additionalProperties: false` {}",
                if new.closed_object { "added" } else { "removed" }
            ),
            wire,
            rust,
        );
        let (side, node) = p.keyword("additionalProperties", new.closed_object);
        scope.push(change.at(side, node));
    }
}

/// Closed enums: typify makes them exhaustive Rust enums.
fn enums(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair {
        old, new, direction, ..
    } = *p;
    let at = p.at.as_str();
    let ty = type_name(new);
    let (side, node) = p.keyword("enum", new.closed_enum.is_some());
    let mut push = |change: Change| scope.push(change.at(side, node.clone()));
    match (&old.closed_enum, &new.closed_enum) {
        (None, None) => {}
        (None, Some(values)) => push(Change::new(
            "enum-added",
            at,
            format!("restricted to the values {}", join(values)),
            wire_for(direction, Dir::Narrowed, true),
            Effect::new(Impact::Breaking, format!("{ty} becomes an exhaustive Rust enum")),
        )),
        (Some(values), None) => push(Change::new(
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
                push(Change::new(
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
                push(Change::new(
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

/// `deprecated: true` added or removed: information for the reader, nothing changes yet.
fn deprecation(p: &Pair<'_>, scope: &mut Scope<'_>) {
    let Pair { old, new, .. } = *p;
    if old.deprecated == new.deprecated {
        return;
    }
    let (kind, summary, wire, rust) = if new.deprecated {
        (
            "field-deprecated",
            format!("{} marked deprecated", p.what),
            "still accepted and sent; planned for removal, so stop relying on it",
            "documentation only: the generated code does not mark it",
        )
    } else {
        (
            "field-undeprecated",
            format!("{} no longer deprecated", p.what),
            "no longer planned for removal",
            "documentation only",
        )
    };
    let change = Change::new(
        kind,
        &new.slot,
        summary,
        Effect::new(Impact::Docs, wire),
        Effect::new(Impact::Docs, rust),
    );
    let (side, node) = p.keyword("deprecated", new.deprecated);
    scope.push(change.at(side, node));
}
