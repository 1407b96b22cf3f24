//! The plain-text report, for a terminal or a CI log.

use std::fmt::Write as _;

use super::{Report, TERMINAL_API_LIMIT, TERMINAL_COMPACT_AFTER, mark, members};
use crate::spec_diff::change::{Change, Impact, Severity};

impl Report {
    pub(super) fn terminal(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "spec-diff {}: {} → {}", self.spec, self.base, self.head);
        let _ = writeln!(
            out,
            "verdict: {} ({})",
            self.verdict.to_uppercase(),
            self.summary_line()
        );
        let _ = writeln!(out, "semver: {}", self.semver_line());
        if self.changes.is_empty() {
            let _ = writeln!(out, "\nNo semantic changes.");
        }
        for severity in Severity::ALL {
            let group: Vec<&Change> = self.changes.iter().filter(|c| c.severity == severity).collect();
            if !group.is_empty() {
                terminal_group(&mut out, severity, &group);
            }
        }
        self.terminal_ignore(&mut out);
        self.terminal_api(&mut out);
        out
    }

    fn terminal_ignore(&self, out: &mut String) {
        let Some(ignore) = &self.ignore else { return };
        if ignore.ignored.is_empty() && ignore.expired.is_empty() && ignore.unknown.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n== ignored by {} ==", ignore.file);
        for ignored in &ignore.ignored {
            let until = ignored.until.map(|d| format!(", until {d}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "- [{}] {} ({}{until}): {}",
                ignored.fingerprint,
                ignored.change,
                ignored.severity.label(),
                ignored.reason
            );
        }
        for note in &ignore.expired {
            let until = note.entry.until.map(|d| d.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "expired: line {}: {} (until {until}) no longer suppresses {} change(s)",
                note.entry.line,
                note.entry.describe(),
                note.matches.len()
            );
        }
        for note in &ignore.unknown {
            let _ = writeln!(
                out,
                "unknown: line {}: {} matches no change of this review",
                note.entry.line,
                note.entry.describe()
            );
        }
    }

    fn terminal_api(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n== generated Rust API (feishu-drive-codegen on both sides) =="
        );
        if let Some(note) = &self.generated_api.note {
            let _ = writeln!(out, "{note}");
        }
        if self.generated_api.compared && self.generated_api.changes.is_empty() {
            let _ = writeln!(out, "No public item added, removed or changed.");
        }
        for (i, change) in self.generated_api.changes.iter().enumerate() {
            if i == TERMINAL_API_LIMIT {
                let _ = writeln!(
                    out,
                    "… and {} more ({} of them breaking); `--format json` or `--format markdown` lists all",
                    self.generated_api.changes.len() - i,
                    self.generated_api.changes[i..]
                        .iter()
                        .filter(|c| c.severity == Severity::Breaking)
                        .count()
                );
                break;
            }
            let _ = writeln!(
                out,
                "{} {:<8} {}{} [{}]",
                mark(change.severity),
                change.change,
                change.item,
                members(change.members),
                change.fingerprint
            );
            match (&change.old, &change.new) {
                (Some(old), Some(new)) => {
                    let _ = writeln!(out, "      - {old}\n      + {new}");
                }
                (None, Some(sig)) | (Some(sig), None) => {
                    let _ = writeln!(out, "      {sig}");
                }
                (None, None) => {}
            }
            if change.severity == Severity::Breaking {
                let _ = writeln!(out, "      breaking: {}", change.rust.why);
            }
        }
    }
}

/// One class of changes. A long list (a new spec, a big refactor) is easier to scan one line per
/// change; breaking changes always get their reasons.
fn terminal_group(out: &mut String, severity: Severity, group: &[&Change]) {
    let _ = writeln!(out, "\n== {} ({}) ==", severity.label(), group.len());
    let compact = severity == Severity::DocsOnly
        || (severity != Severity::Breaking && group.len() > TERMINAL_COMPACT_AFTER);
    for change in group {
        let _ = writeln!(
            out,
            "{} {}: {} [{}]",
            mark(severity),
            change.location,
            change.summary,
            change.fingerprint
        );
        if compact {
            continue;
        }
        let _ = writeln!(out, "    kind: {}", change.kind);
        if !change.operations.is_empty() {
            let _ = writeln!(out, "    operations: {}", change.operations.join(", "));
        }
        for (axis, effect) in [("wire", &change.wire), ("Rust", &change.rust)] {
            if effect.impact != Impact::None || !effect.why.is_empty() {
                let _ = writeln!(out, "    {axis}: {}: {}", effect.impact.label(), effect.why);
            }
        }
    }
}
