//! The semver bump a spec change calls for in the generated client crate.
//!
//! The crate's version speaks about its Rust API and what it does:
//!
//! - **major**: code written against the old crate stops compiling or fails where it used to work
//!   (the Rust axis is breaking, or the generated-API diff has a breaking entry);
//! - **minor**: something is added, or the crate acts differently (new items, a behaviour change
//!   on the Rust axis), or the wire changes while the Rust API does not (a server or security
//!   scheme: the new crate is the one that matches the new server, and upgrading to it needs no
//!   code change);
//! - **patch**: documentation only, or nothing.
//!
//! For a `0.y.z` crate Cargo reads a change of `y` as major, so "major" means bumping `y` there.

use serde::Serialize;

use super::change::{Change, Impact, Severity};
use super::rust_api::ApiChange;

/// A semver level, ordered: `max` is the bigger bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Documentation only, or nothing.
    Patch,
    /// Additions and behaviour changes.
    Minor,
    /// Breaking changes.
    Major,
}

impl Bump {
    /// `major`, `minor` or `patch`.
    pub fn label(self) -> &'static str {
        match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }

    /// The bump one semantic change calls for, and why.
    pub fn of_change(change: &Change) -> (Self, &'static str) {
        match (change.rust.impact, change.wire.impact) {
            (Impact::Breaking, _) => (Bump::Major, "it breaks code using the generated client"),
            (Impact::Behaviour, _) => (Bump::Minor, "the generated client acts differently"),
            (Impact::Compatible, _) => (Bump::Minor, "the generated client gains something"),
            (_, Impact::Compatible | Impact::Behaviour | Impact::Breaking) => (
                Bump::Minor,
                "the wire changes while the Rust API does not: the new crate matches the new server",
            ),
            _ => (Bump::Patch, "documentation only"),
        }
    }

    /// The bump one generated-API entry calls for, and why.
    pub fn of_api_change(change: &ApiChange) -> (Self, &'static str) {
        if change.severity == Severity::Breaking {
            (Bump::Major, "a breaking change of the generated public API")
        } else {
            (Bump::Minor, "a compatible change of the generated public API")
        }
    }
}

/// The recommended bump and the change that decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The bump.
    pub bump: Bump,
    /// Why this change calls for it.
    pub why: String,
    /// The deciding change's fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The deciding change, in words (`location: summary`, or the generated item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The bump for these changes: the biggest any of them calls for, decided by the first change
/// (semantic changes before generated-API entries, each list worst first) that calls for it.
pub fn decide(changes: &[Change], api: &[ApiChange]) -> Decision {
    let semantic = changes.iter().map(|c| {
        let (bump, why) = Bump::of_change(c);
        (
            bump,
            why,
            c.fingerprint.clone(),
            format!("{}: {}", c.location, c.summary),
        )
    });
    let generated = api.iter().map(|c| {
        let (bump, why) = Bump::of_api_change(c);
        (
            bump,
            why,
            c.fingerprint.clone(),
            format!("generated API: {} {}", c.change, c.item),
        )
    });
    let mut best: Option<(Bump, &'static str, String, String)> = None;
    for candidate in semantic.chain(generated) {
        if best.as_ref().is_none_or(|b| candidate.0 > b.0) {
            best = Some(candidate);
        }
    }
    match best {
        Some((bump, why, fingerprint, change)) => Decision {
            bump,
            why: why.to_owned(),
            fingerprint: Some(fingerprint),
            change: Some(change),
        },
        None => Decision {
            bump: Bump::Patch,
            why: "nothing changed".to_owned(),
            fingerprint: None,
            change: None,
        },
    }
}
