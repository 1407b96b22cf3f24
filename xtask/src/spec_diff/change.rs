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

/// Which document a [`Node`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The base (old) spec: where removed things were.
    Base,
    /// The head (new) spec: where added and changed things are.
    Head,
}

/// The node of the spec a change is about: its path from the document root (map keys and list
/// indexes, `$ref`s followed to where the node is written), and, once looked up, its line and
/// column in that side's YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The document the node is in: the head, or the base for things that were removed.
    pub side: Side,
    /// The path from the root: `["components", "schemas", "FileName", "maxLength"]`.
    pub path: Vec<String>,
    /// The 1-based line of the node (of its key, for a map entry), when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based column of the node, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<usize>,
}

/// One semantic change between the two specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The worse of `wire` and `rust`.
    pub severity: Severity,
    /// A stable identifier of the kind of change (the rule), e.g. `request-field-added`.
    pub kind: &'static str,
    /// Where in the spec: a schema field (`UploadPrepareRequest.size`), an operation, a server…
    pub location: String,
    /// What changed, in words.
    pub summary: String,
    /// 12 hex digits naming this change for ignore entries and review comments: derived from the
    /// rule, the location and the subject (see [`fingerprint`]), never from line numbers, so it
    /// survives edits elsewhere in the spec.
    pub fingerprint: String,
    /// The operations the change reaches (empty for document-wide changes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Effect on programs talking to the API.
    pub wire: Effect,
    /// Effect on code using the generated Rust client.
    pub rust: Effect,
    /// The changed node, for annotations on the spec's lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    /// What, at this location, the change is about when one rule can fire more than once there
    /// (a bound keyword, a header, a part): part of the fingerprint, not shown.
    #[serde(skip)]
    pub subject: String,
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
        let location = location.into();
        Self {
            severity: Severity::of(wire.impact, rust.impact),
            fingerprint: fingerprint(&[kind, &location, ""]),
            kind,
            location,
            summary: summary.into(),
            operations: Vec::new(),
            wire,
            rust,
            node: None,
            subject: String::new(),
        }
    }

    /// The same change, reaching these operations.
    pub fn in_operations(mut self, operations: impl IntoIterator<Item = String>) -> Self {
        self.operations.extend(operations);
        self.operations.sort();
        self.operations.dedup();
        self
    }

    /// The same change, about `subject` at its location (a keyword, a name): tells apart the
    /// changes one rule makes at one location, and so their fingerprints.
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self.fingerprint = fingerprint(&[self.kind, &self.location, &self.subject]);
        self
    }

    /// The same change, pointing at the node at `path` in the `side` document.
    pub fn at(mut self, side: Side, path: Vec<String>) -> Self {
        self.node = Some(Node {
            side,
            path,
            line: None,
            col: None,
        });
        self
    }

    /// The same change, pointing at the node in the head when it is there, else in the base.
    pub fn at_either(self, base: Option<Vec<String>>, head: Option<Vec<String>>) -> Self {
        match (head, base) {
            (Some(path), _) => self.at(Side::Head, path),
            (None, Some(path)) => self.at(Side::Base, path),
            (None, None) => self,
        }
    }
}

/// 12 hex digits of the SHA-256 of `parts`, each ended by a NUL so that `["ab", "c"]` and
/// `["a", "bc"]` differ. 48 bits: a collision among the few hundred changes of one review is
/// about as likely as one in 10^9.
pub fn fingerprint(parts: &[&str]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A path from segments: `path(&["components", "schemas", name])`.
pub fn path(segments: &[&str]) -> Vec<String> {
    segments.iter().map(|s| (*s).to_owned()).collect()
}
