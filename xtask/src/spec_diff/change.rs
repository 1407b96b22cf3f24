//! One classified change, and the scales it is classified on.
//!
//! A change is judged on two axes, because the generated client makes them differ:
//!
//! - **wire**: does a program built from the *old* spec still work against a server that follows
//!   the *new* one (and the other way round for requests)? This is what generic OpenAPI diff
//!   tools judge.
//! - **Rust**: does code written against the old *generated client* still compile and behave the
//!   same after regenerating? Generated structs are not `#[non_exhaustive]` and generated enums
//!   are exhaustive, so changes that are harmless on the wire (a new optional field, a new enum
//!   value in a request) still break struct literals and `match`es.
//!
//! The change's [`Severity`] is the worse of the two.

use serde::Serialize;

/// How much a change affects one axis, from nothing to breaking. Ordered: `max` is the worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// No effect on this axis.
    None,
    /// Only documentation (descriptions, examples, doc comments) changes.
    Docs,
    /// Something is added or relaxed; existing users are unaffected.
    Compatible,
    /// Existing code keeps compiling and requests keep their shape, but something acts
    /// differently (a retry policy, a validation bound). Not breaking, but worth a careful look.
    Behaviour,
    /// Existing users break: requests are rejected, responses fail to parse, code stops compiling
    /// or fails at run time where it used to work.
    Breaking,
}

/// The class a change is filed under; the worse of its two [`Impact`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Breaks existing users on the wire or in Rust. `--fail-on-breaking` fails on these only.
    Breaking,
    /// Non-breaking in shape, but the client or server acts differently: read it carefully.
    Behaviour,
    /// Additive or relaxing.
    NonBreaking,
    /// Documentation only.
    DocsOnly,
}

impl Severity {
    /// The class of a change with these two impacts.
    pub fn of(wire: Impact, rust: Impact) -> Self {
        match wire.max(rust) {
            Impact::Breaking => Severity::Breaking,
            Impact::Behaviour => Severity::Behaviour,
            Impact::Compatible => Severity::NonBreaking,
            Impact::Docs | Impact::None => Severity::DocsOnly,
        }
    }

    /// The human label, as the reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Behaviour => "behaviour change",
            Severity::NonBreaking => "non-breaking",
            Severity::DocsOnly => "docs-only",
        }
    }

    /// Every class, worst first: the order reports group by.
    pub const ALL: [Severity; 4] = [
        Severity::Breaking,
        Severity::Behaviour,
        Severity::NonBreaking,
        Severity::DocsOnly,
    ];
}

impl Impact {
    /// The human label, as the reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Impact::None => "no effect",
            Impact::Docs => "docs only",
            Impact::Compatible => "compatible",
            Impact::Behaviour => "behaviour change",
            Impact::Breaking => "breaking",
        }
    }
}

/// One axis of a change: how much, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effect {
    /// How much the change affects this axis.
    pub impact: Impact,
    /// Why, in one sentence a reviewer can check.
    pub why: String,
}

impl Effect {
    /// An effect with its reason.
    pub fn new(impact: Impact, why: impl Into<String>) -> Self {
        Self {
            impact,
            why: why.into(),
        }
    }

    /// No effect on this axis (the reason is left empty and not printed).
    pub fn none() -> Self {
        Self::new(Impact::None, "")
    }
}

/// One semantic change between the two specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The worse of `wire` and `rust`.
    pub severity: Severity,
    /// A stable identifier of the kind of change, e.g. `request-field-added`.
    pub kind: &'static str,
    /// Where in the spec: a schema field (`UploadPrepareRequest.size`), an operation, a server…
    pub location: String,
    /// What changed, in words.
    pub summary: String,
    /// The operations the change reaches (empty for document-wide changes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Effect on programs talking to the API.
    pub wire: Effect,
    /// Effect on code using the generated Rust client.
    pub rust: Effect,
}

impl Change {
    /// A change; its severity follows from the two effects.
    pub fn new(
        kind: &'static str,
        location: impl Into<String>,
        summary: impl Into<String>,
        wire: Effect,
        rust: Effect,
    ) -> Self {
        Self {
            severity: Severity::of(wire.impact, rust.impact),
            kind,
            location: location.into(),
            summary: summary.into(),
            operations: Vec::new(),
            wire,
            rust,
        }
    }

    /// The same change, reaching these operations.
    pub fn in_operations(mut self, operations: impl IntoIterator<Item = String>) -> Self {
        self.operations.extend(operations);
        self.operations.sort();
        self.operations.dedup();
        self
    }
}
