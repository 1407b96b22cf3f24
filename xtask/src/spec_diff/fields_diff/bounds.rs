//! Bounds (`maxLength`, `minimum`, `pattern`…): which way a change goes, and what that does on
//! each axis.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Scope;
use crate::spec_diff::change::{Change, Effect, Impact, Side};
use crate::spec_diff::doc;
use crate::spec_diff::fields::{Direction, Field, Narrower};

/// Values joined for a summary: `a, b`.
pub(super) fn join(values: &BTreeSet<String>) -> String {
    values.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Whether a bound accepts fewer values, more, or different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    /// Accepts fewer values.
    Narrowed,
    /// Accepts more values.
    Widened,
    /// Accepts other values.
    Changed,
}

/// Which way `old` → `new` moves a bound keyword.
pub(super) fn bound_direction(narrower: Narrower, old: Option<&Value>, new: Option<&Value>) -> Dir {
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
pub(super) fn wire_for(direction: Direction, dir: Dir, validated: bool) -> Effect {
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

/// One bound keyword that differs.
pub(super) struct Bound<'a> {
    /// The keyword.
    pub key: &'a str,
    /// Its value on the base side.
    pub old: Option<&'a Value>,
    /// Its value on the head side.
    pub new: Option<&'a Value>,
    /// Which way it moved.
    pub dir: Dir,
    /// Whether old generated clients check it when they deserialize (string lengths, patterns).
    pub validated: bool,
    /// Whether the string stops (or starts) being a validating newtype.
    pub newtype_changed: bool,
}

/// Reports one bound change at `at`, pointing at `node`.
pub(super) fn push_bound(scope: &mut Scope<'_>, at: &str, node: (Side, Vec<String>), bound: &Bound<'_>) {
    let show = |v: Option<&Value>| v.map(doc::show).unwrap_or_else(|| "none".to_owned());
    let (kind, word) = match bound.dir {
        Dir::Narrowed => ("bound-narrowed", "narrowed"),
        Dir::Widened => ("bound-widened", "widened"),
        Dir::Changed => ("bound-changed", "changed"),
    };
    let wire = wire_for(scope.direction, bound.dir, bound.validated);
    let rust = if bound.newtype_changed {
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
    let key = bound.key;
    let change = Change::new(
        kind,
        at,
        format!("`{key}` {} → {} ({word})", show(bound.old), show(bound.new)),
        wire,
        rust,
    );
    scope.push(change.about(key).at(node.0, node.1));
}

/// Whether every value of `old`'s type is a value of `new`'s: int32 → int64 → number.
pub(super) fn numeric_widening(old: &Field, new: &Field) -> bool {
    let rank = |f: &Field| match (f.kind.as_str(), f.format.as_deref()) {
        ("integer", Some("int32")) => Some(1),
        ("integer", _) => Some(2),
        ("number", Some("float")) => Some(3),
        ("number", _) => Some(4),
        _ => None,
    };
    matches!((rank(old), rank(new)), (Some(a), Some(b)) if b > a)
}
