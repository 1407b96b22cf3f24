//! The review report and its three renderings: terminal, markdown, JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::change::{Change, Impact, Severity};
use super::rust_api::ApiChange;

/// The whole review of one spec change.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The spec's path, as given.
    pub spec: String,
    /// What the base is (`HEAD~1 (848f954)`).
    pub base: String,
    /// What the head is (`working tree`).
    pub head: String,
    /// The worst severity found: `breaking`, `behaviour`, `non-breaking`, `docs-only`, or
    /// `unchanged`.
    pub verdict: &'static str,
    /// How many semantic changes of each class.
    pub counts: Counts,
    /// The semantic changes, worst first.
    pub changes: Vec<Change>,
    /// The diff of the generated public Rust API.
    pub generated_api: GeneratedApi,
}

/// Semantic changes per class.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Breaking changes.
    pub breaking: usize,
    /// Behaviour changes.
    pub behaviour: usize,
    /// Non-breaking changes.
    pub non_breaking: usize,
    /// Docs-only changes.
    pub docs_only: usize,
}

/// The generated public API compared.
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedApi {
    /// Whether both sides were generated and compared.
    pub compared: bool,
    /// Why not, or anything else worth knowing about the comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Items added, removed or changed, worst first.
    pub changes: Vec<ApiChange>,
}

/// The three output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal or a CI log.
    Terminal,
    /// GitHub-flavoured markdown, to paste into a review.
    Markdown,
    /// JSON, for tools.
    Json,
}

/// How many non-breaking changes of one class the terminal explains before going one per line.
const TERMINAL_COMPACT_AFTER: usize = 15;

/// How many generated-API entries the terminal shows before summarising the rest.
const TERMINAL_API_LIMIT: usize = 60;

impl Report {
    /// Assembles a report; the verdict and counts follow from the changes.
    pub fn new(
        spec: String,
        base: String,
        head: String,
        changes: Vec<Change>,
        generated_api: GeneratedApi,
    ) -> Self {
        let mut counts = Counts::default();
        for change in &changes {
            match change.severity {
                Severity::Breaking => counts.breaking += 1,
                Severity::Behaviour => counts.behaviour += 1,
                Severity::NonBreaking => counts.non_breaking += 1,
                Severity::DocsOnly => counts.docs_only += 1,
            }
        }
        let worst = changes
            .iter()
            .map(|c| c.severity)
            .chain(generated_api.changes.iter().map(|c| c.severity))
            .min();
        let verdict = match worst {
            None => "unchanged",
            Some(Severity::Breaking) => "breaking",
            Some(Severity::Behaviour) => "behaviour",
            Some(Severity::NonBreaking) => "non-breaking",
            Some(Severity::DocsOnly) => "docs-only",
        };
        Self {
            spec,
            base,
            head,
            verdict,
            counts,
            changes,
            generated_api,
        }
    }

    /// Whether anything breaking was found, in the spec or in the generated API.
    pub fn is_breaking(&self) -> bool {
        self.verdict == "breaking"
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Terminal => self.terminal(),
            Format::Markdown => self.markdown(),
            Format::Json => {
                // Serializing plain data with string keys cannot fail.
                let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
                text.push('\n');
                text
            }
        }
    }

    fn summary_line(&self) -> String {
        let c = &self.counts;
        let api = &self.generated_api.changes;
        let count = |what: &str| api.iter().filter(|a| a.change == what).count();
        let mut line = format!(
            "{} breaking, {} behaviour change{}, {} non-breaking, {} docs-only",
            c.breaking,
            c.behaviour,
            if c.behaviour == 1 { "" } else { "s" },
            c.non_breaking,
            c.docs_only
        );
        if self.generated_api.compared {
            let _ = write!(
                line,
                "; generated API: {} added, {} removed, {} changed",
                count("added"),
                count("removed"),
                count("changed")
            );
        }
        line
    }

    fn api_counts_by_severity(&self, severity: Severity) -> usize {
        self.generated_api
            .changes
            .iter()
            .filter(|c| c.severity == severity)
            .count()
    }

    fn terminal(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "spec-diff {}: {} → {}", self.spec, self.base, self.head);
        let _ = writeln!(
            out,
            "verdict: {} ({})",
            self.verdict.to_uppercase(),
            self.summary_line()
        );
        if self.changes.is_empty() {
            let _ = writeln!(out, "\nNo semantic changes.");
        }
        for severity in Severity::ALL {
            let group: Vec<&Change> = self.changes.iter().filter(|c| c.severity == severity).collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n== {} ({}) ==", severity.label(), group.len());
            // A long list (a new spec, a big refactor) is easier to scan one line per change;
            // breaking changes always get their reasons.
            let compact = severity == Severity::DocsOnly
                || (severity != Severity::Breaking && group.len() > TERMINAL_COMPACT_AFTER);
            for change in group {
                if compact {
                    let _ = writeln!(out, "{} {}: {}", mark(severity), change.location, change.summary);
                    continue;
                }
                let _ = writeln!(out, "{} {}: {}", mark(severity), change.location, change.summary);
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
                "{} {:<8} {}{}",
                mark(change.severity),
                change.change,
                change.item,
                members(change.members)
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
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## Spec review: `{}`\n", self.spec);
        let _ = writeln!(out, "Base `{}` → head `{}`\n", self.base, self.head);
        let _ = writeln!(out, "**Verdict: {}** — {}\n", self.verdict, self.summary_line());
        if self.changes.is_empty() {
            let _ = writeln!(out, "No semantic changes.\n");
        }
        for severity in Severity::ALL {
            let group: Vec<&Change> = self.changes.iter().filter(|c| c.severity == severity).collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "### {} {} ({})\n",
                mark(severity),
                capitalise(severity.label()),
                group.len()
            );
            if severity == Severity::DocsOnly {
                for change in group {
                    let _ = writeln!(out, "- {}: {}", code(&change.location), cell(&change.summary));
                }
                out.push('\n');
                continue;
            }
            let _ = writeln!(out, "| Where | Change | Wire | Rust client | Operations |");
            let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
            for change in group {
                let _ = writeln!(
                    out,
                    "| {} | {} <br>`{}` | {} | {} | {} |",
                    code(&change.location),
                    cell(&change.summary),
                    change.kind,
                    effect_cell(&change.wire),
                    effect_cell(&change.rust),
                    cell(&change.operations.join(", "))
                );
            }
            out.push('\n');
        }
        let _ = writeln!(out, "### Generated Rust API\n");
        if let Some(note) = &self.generated_api.note {
            let _ = writeln!(out, "{}\n", note);
        }
        if !self.generated_api.compared {
            return out;
        }
        if self.generated_api.changes.is_empty() {
            let _ = writeln!(out, "No public item added, removed or changed.");
            return out;
        }
        let _ = writeln!(
            out,
            "<details><summary>{} item(s): {} breaking, {} non-breaking</summary>\n",
            self.generated_api.changes.len(),
            self.api_counts_by_severity(Severity::Breaking),
            self.generated_api.changes.len() - self.api_counts_by_severity(Severity::Breaking)
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
                "| {} {} | `{}`{} | {} | {} |",
                mark(change.severity),
                change.change,
                cell(&change.item),
                members(change.members),
                signature,
                effect_cell(&change.rust)
            );
        }
        let _ = writeln!(out, "\n</details>");
        out
    }
}

fn members(count: usize) -> String {
    match count {
        0 => String::new(),
        1 => " and 1 member".to_owned(),
        n => format!(" and {n} members"),
    }
}

fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Breaking => "✗",
        Severity::Behaviour => "!",
        Severity::NonBreaking => "+",
        Severity::DocsOnly => "·",
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text as inline code, unless it already quotes code itself.
fn code(text: &str) -> String {
    if text.contains('`') {
        cell(text)
    } else {
        format!("`{}`", cell(text))
    }
}

/// Text safe inside a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn effect_cell(effect: &super::change::Effect) -> String {
    match effect.impact {
        Impact::None if effect.why.is_empty() => "—".to_owned(),
        Impact::Breaking => format!("**breaking**: {}", cell(&effect.why)),
        impact => format!("{}: {}", impact.label(), cell(&effect.why)),
    }
}
