//! GitHub Actions workflow commands: one annotation per change, on the spec's line.
//!
//! `::error` for breaking changes, `::warning` for behaviour changes, `::notice` for the rest,
//! each with `file=`, `line=` and `col=` of the changed node: in the head spec, or in the base
//! spec for something removed. Breaking entries of the generated-API diff (which have no place in
//! the spec) and ignore entries that expired or match nothing are annotated too, and a last
//! notice gives the verdict and the semver bump. The markdown report is the job summary: see
//! [`crate::spec_diff::run`].

use std::fmt::Write as _;

use super::Report;
use crate::spec_diff::change::{Change, Effect, Impact, Severity};

impl Report {
    pub(super) fn github(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let _ = writeln!(out, "{}", self.annotation(change));
        }
        for change in &self.generated_api.changes {
            if change.severity != Severity::Breaking {
                continue;
            }
            let title = format!("spec-diff breaking: generated API [{}]", change.fingerprint);
            let message = format!("{} {}: {}", change.change, change.item, change.rust.why);
            let _ = writeln!(out, "::error title={}::{}", property(&title), data(&message));
        }
        if let Some(ignore) = &self.ignore {
            let notes = [("expired", &ignore.expired), ("unknown", &ignore.unknown)];
            for (what, list) in notes {
                for note in list {
                    let message = if what == "expired" {
                        format!(
                            "{} expired on {}: it no longer suppresses {} change(s); renew it with a reason or remove it",
                            note.entry.describe(),
                            note.entry.until.map(|d| d.to_string()).unwrap_or_default(),
                            note.matches.len()
                        )
                    } else {
                        format!(
                            "{} matches no change of this review: remove it if the change is gone",
                            note.entry.describe()
                        )
                    };
                    let _ = writeln!(
                        out,
                        "::warning file={},line={},title={}::{}",
                        property(&ignore.file),
                        note.entry.line,
                        property(&format!("spec-diff ignore entry {what}")),
                        data(&message)
                    );
                }
            }
        }
        let verdict = format!(
            "{} ({}); semver {}",
            self.verdict.to_uppercase(),
            self.summary_line(),
            self.semver_line()
        );
        let _ = writeln!(out, "::notice title=spec-diff verdict::{}", data(&verdict));
        out
    }

    fn annotation(&self, change: &Change) -> String {
        let level = match change.severity {
            Severity::Breaking => "error",
            Severity::Behaviour => "warning",
            Severity::NonBreaking | Severity::DocsOnly => "notice",
        };
        let mut properties = format!("file={}", property(&self.spec));
        if let Some(node) = &change.node
            && let (Some(line), Some(col)) = (node.line, node.col)
        {
            let _ = write!(properties, ",line={line},col={col}");
        }
        let title = format!(
            "spec-diff {}: {} [{}]",
            change.severity.label(),
            change.kind,
            change.fingerprint
        );
        let mut message = format!("{}: {}", change.location, change.summary);
        for (axis, effect) in [("Wire", &change.wire), ("Rust", &change.rust)] {
            if let Some(text) = effect_text(effect) {
                let _ = write!(message, "\n{axis}: {text}");
            }
        }
        if !change.operations.is_empty() {
            let _ = write!(message, "\nOperations: {}", change.operations.join(", "));
        }
        format!(
            "::{level} {properties},title={}::{}",
            property(&title),
            data(&message)
        )
    }
}

fn effect_text(effect: &Effect) -> Option<String> {
    (effect.impact != Impact::None || !effect.why.is_empty())
        .then(|| format!("{}: {}", effect.impact.label(), effect.why))
}

/// A workflow command's message, escaped as the runner expects.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: the message escapes, and `:` and `,` too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(data("50% a\nb\r"), "50%25 a%0Ab%0D");
        assert_eq!(property("a: b, c"), "a%3A b%2C c");
    }
}
