//! The markdown report, to paste into a review (and GitHub's job summary).

use std::fmt::Write as _;

use super::{Report, capitalise, cell, code, effect_cell, mark, members};
use crate::spec_diff::change::{Change, Severity};

impl Report {
    pub(super) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## Spec review: `{}`\n", self.spec);
        let _ = writeln!(out, "Base `{}` → head `{}`\n", self.base, self.head);
        let _ = writeln!(out, "**Verdict: {}** — {}\n", self.verdict, self.summary_line());
        let _ = writeln!(out, "**Semver: {}**\n", cell(&self.semver_line()));
        if self.changes.is_empty() {
            let _ = writeln!(out, "No semantic changes.\n");
        }
        for severity in Severity::ALL {
            let group: Vec<&Change> = self.changes.iter().filter(|c| c.severity == severity).collect();
            if !group.is_empty() {
                markdown_group(&mut out, severity, &group);
            }
        }
        self.markdown_ignore(&mut out);
        self.markdown_api(&mut out);
        out
    }

    fn markdown_ignore(&self, out: &mut String) {
        let Some(ignore) = &self.ignore else { return };
        if ignore.ignored.is_empty() && ignore.expired.is_empty() && ignore.unknown.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Ignored (`{}`)\n", ignore.file);
        for ignored in &ignore.ignored {
            let until = ignored.until.map(|d| format!(", until {d}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "- `{}` {} ({}{until}): {}",
                ignored.fingerprint,
                cell(&ignored.change),
                ignored.severity.label(),
                cell(&ignored.reason)
            );
        }
        for note in &ignore.expired {
            let until = note.entry.until.map(|d| d.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "- **expired** (line {}, until {until}): {} no longer suppresses {} change(s)",
                note.entry.line,
                cell(&note.entry.describe()),
                note.matches.len()
            );
        }
        for note in &ignore.unknown {
            let _ = writeln!(
                out,
                "- **unknown** (line {}): {} matches no change of this review",
                note.entry.line,
                cell(&note.entry.describe())
            );
        }
        out.push('\n');
    }

    fn markdown_api(&self, out: &mut String) {
        let _ = writeln!(out, "### Generated Rust API\n");
        if let Some(note) = &self.generated_api.note {
            let _ = writeln!(out, "{}\n", note);
        }
        if !self.generated_api.compared {
            return;
        }
        if self.generated_api.changes.is_empty() {
            let _ = writeln!(out, "No public item added, removed or changed.");
            return;
        }
        let breaking = self.api_counts_by_severity(Severity::Breaking);
        let _ = writeln!(
            out,
            "<details><summary>{} item(s): {} breaking, {} non-breaking</summary>\n",
            self.generated_api.changes.len(),
            breaking,
            self.generated_api.changes.len() - breaking
        );
        let _ = writeln!(out, "| | Item | Signature | Effect |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for change in &self.generated_api.changes {
            let signature = match (&change.old, &change.new) {
                (Some(old), Some(new)) => format!("`{}` →<br>`{}`", cell(old), cell(new)),
                (None, Some(sig)) | (Some(sig), None) => format!("`{}`", cell(sig)),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} {} | `{}`{} <br>`{}` | {} | {} |",
                mark(change.severity),
                change.change,
                cell(&change.item),
                members(change.members),
                change.fingerprint,
                signature,
                effect_cell(&change.rust)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
}

fn markdown_group(out: &mut String, severity: Severity, group: &[&Change]) {
    let _ = writeln!(
        out,
        "### {} {} ({})\n",
        mark(severity),
        capitalise(severity.label()),
        group.len()
    );
    if severity == Severity::DocsOnly {
        for change in group {
            let _ = writeln!(
                out,
                "- {}: {} `{}`",
                code(&change.location),
                cell(&change.summary),
                change.fingerprint
            );
        }
        out.push('\n');
        return;
    }
    let _ = writeln!(out, "| Where | Change | Wire | Rust client | Operations |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for change in group {
        let _ = writeln!(
            out,
            "| {} | {} <br>`{}` `{}` | {} | {} | {} |",
            code(&change.location),
            cell(&change.summary),
            change.kind,
            change.fingerprint,
            effect_cell(&change.wire),
            effect_cell(&change.rust),
            cell(&change.operations.join(", "))
        );
    }
    out.push('\n');
}
