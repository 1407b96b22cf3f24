//! The review report and its renderings: terminal, markdown, JSON, GitHub Actions annotations.

mod github;
mod markdown;
mod terminal;

use chrono::NaiveDate;
use serde::Serialize;

use super::change::{Change, Impact, Severity};
use super::ignore::{Entry, IgnoreFile};
use super::rust_api::ApiChange;
use super::semver::{self, Bump, Decision};

/// The whole review of one spec change.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The spec's path, as given (repository-relative when read from git).
    pub spec: String,
    /// What the base is (`HEAD~1 (848f954)`).
    pub base: String,
    /// What the head is (`working tree`).
    pub head: String,
    /// The worst severity found: `breaking`, `behaviour`, `non-breaking`, `docs-only`, or
    /// `unchanged`. Ignored changes do not count.
    pub verdict: &'static str,
    /// The recommended semver bump of the generated client crate.
    pub semver: Bump,
    /// Why: the change that decides the bump.
    pub semver_decision: Decision,
    /// How many semantic changes of each class (ignored ones apart).
    pub counts: Counts,
    /// The semantic changes, worst first (ignored ones apart).
    pub changes: Vec<Change>,
    /// The diff of the generated public Rust API.
    pub generated_api: GeneratedApi,
    /// What the ignore file did, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore: Option<IgnoreOutcome>,
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
    /// Items added, removed or changed, worst first (ignored ones apart).
    pub changes: Vec<ApiChange>,
}

/// What an ignore file did to a review.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoreOutcome {
    /// The ignore file.
    pub file: String,
    /// The changes it suppressed.
    pub ignored: Vec<Ignored>,
    /// Entries past their `until` date: they suppress nothing.
    pub expired: Vec<EntryNote>,
    /// Entries that match no change of this review.
    pub unknown: Vec<EntryNote>,
}

/// A suppressed change.
#[derive(Debug, Clone, Serialize)]
pub struct Ignored {
    /// The change's fingerprint.
    pub fingerprint: String,
    /// Its rule (`generated-api` for an entry of the generated-API diff).
    pub rule: String,
    /// Its location (the item, for the generated API).
    pub location: String,
    /// Its class, had it not been ignored.
    pub severity: Severity,
    /// The change in words (`location: summary`, or the generated item).
    pub change: String,
    /// The entry's reason.
    pub reason: String,
    /// The entry's expiry, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// The entry's line in the ignore file.
    pub line: usize,
}

/// An ignore entry worth a reviewer's look, and the changes it names in this review.
#[derive(Debug, Clone, Serialize)]
pub struct EntryNote {
    /// The entry.
    pub entry: Entry,
    /// Fingerprints of the changes it names (none for an unknown entry).
    pub matches: Vec<String>,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal or a CI log.
    Terminal,
    /// GitHub-flavoured markdown, to paste into a review.
    Markdown,
    /// JSON, for tools.
    Json,
    /// GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` per change, on
    /// the spec's line (the markdown report goes to `$GITHUB_STEP_SUMMARY` when it is set).
    Github,
}

/// How many non-breaking changes of one class the terminal explains before going one per line.
const TERMINAL_COMPACT_AFTER: usize = 15;

/// How many generated-API entries the terminal shows before summarising the rest.
const TERMINAL_API_LIMIT: usize = 60;

impl Report {
    /// Assembles a report; the verdict, counts and semver follow from the changes.
    pub fn new(
        spec: String,
        base: String,
        head: String,
        changes: Vec<Change>,
        generated_api: GeneratedApi,
    ) -> Self {
        let mut report = Self {
            spec,
            base,
            head,
            verdict: "unchanged",
            semver: Bump::Patch,
            semver_decision: semver::decide(&[], &[]),
            counts: Counts::default(),
            changes,
            generated_api,
            ignore: None,
        };
        report.tally();
        report
    }

    /// Recomputes the verdict, counts and semver from the changes that count.
    fn tally(&mut self) {
        let mut counts = Counts::default();
        for change in &self.changes {
            match change.severity {
                Severity::Breaking => counts.breaking += 1,
                Severity::Behaviour => counts.behaviour += 1,
                Severity::NonBreaking => counts.non_breaking += 1,
                Severity::DocsOnly => counts.docs_only += 1,
            }
        }
        let worst = self
            .changes
            .iter()
            .map(|c| c.severity)
            .chain(self.generated_api.changes.iter().map(|c| c.severity))
            .min();
        self.verdict = match worst {
            None => "unchanged",
            Some(Severity::Breaking) => "breaking",
            Some(Severity::Behaviour) => "behaviour",
            Some(Severity::NonBreaking) => "non-breaking",
            Some(Severity::DocsOnly) => "docs-only",
        };
        self.counts = counts;
        self.semver_decision = semver::decide(&self.changes, &self.generated_api.changes);
        self.semver = self.semver_decision.bump;
    }

    /// Applies an ignore file as of `today`: matching changes move to [`IgnoreOutcome::ignored`]
    /// unless their entry has expired, and the verdict, counts and semver are recomputed.
    pub fn ignoring(mut self, file: &IgnoreFile, today: NaiveDate) -> Self {
        let mut outcome = IgnoreOutcome {
            file: file.file.clone(),
            ignored: Vec::new(),
            expired: Vec::new(),
            unknown: Vec::new(),
        };
        let semantic = |c: &Change| (c.kind.to_owned(), c.location.clone(), c.fingerprint.clone());
        let api = |c: &ApiChange| ("generated-api".to_owned(), c.item.clone(), c.fingerprint.clone());
        for entry in &file.entries {
            let named = |(rule, location, fingerprint): &(String, String, String)| {
                entry.matches(rule, location, fingerprint)
            };
            // A change an earlier entry already suppressed still counts as known.
            let already = outcome
                .ignored
                .iter()
                .map(|i| (i.rule.clone(), i.location.clone(), i.fingerprint.clone()));
            let matches: Vec<String> = self
                .changes
                .iter()
                .map(semantic)
                .chain(self.generated_api.changes.iter().map(api))
                .chain(already)
                .filter(named)
                .map(|(_, _, fingerprint)| fingerprint)
                .collect();
            let note = EntryNote {
                entry: entry.clone(),
                matches: matches.clone(),
            };
            if entry.expired(today) {
                outcome.expired.push(note);
                continue;
            }
            if matches.is_empty() {
                outcome.unknown.push(note);
                continue;
            }
            let ignored =
                |severity, (rule, location, fingerprint): (String, String, String), change| Ignored {
                    fingerprint,
                    rule,
                    location,
                    severity,
                    change,
                    reason: entry.reason.clone(),
                    until: entry.until,
                    line: entry.line,
                };
            let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.changes)
                .into_iter()
                .partition(|c| !named(&semantic(c)));
            self.changes = kept;
            outcome.ignored.extend(
                gone.into_iter()
                    .map(|c| ignored(c.severity, semantic(&c), format!("{}: {}", c.location, c.summary))),
            );
            let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.generated_api.changes)
                .into_iter()
                .partition(|c| !named(&api(c)));
            self.generated_api.changes = kept;
            outcome.ignored.extend(gone.into_iter().map(|c| {
                ignored(
                    c.severity,
                    api(&c),
                    format!("generated API: {} {}", c.change, c.item),
                )
            }));
        }
        self.ignore = Some(outcome);
        self.tally();
        self
    }

    /// Whether anything breaking was found (and not ignored), in the spec or in the generated API.
    pub fn is_breaking(&self) -> bool {
        self.verdict == "breaking"
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Terminal => self.terminal(),
            Format::Markdown => self.markdown(),
            Format::Github => self.github(),
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
            line.push_str(&format!(
                "; generated API: {} added, {} removed, {} changed",
                count("added"),
                count("removed"),
                count("changed")
            ));
        }
        if let Some(ignore) = &self.ignore
            && !ignore.ignored.is_empty()
        {
            line.push_str(&format!("; {} ignored", ignore.ignored.len()));
        }
        line
    }

    /// `semver: major (deciding change …)`, one line.
    fn semver_line(&self) -> String {
        let d = &self.semver_decision;
        match (&d.change, &d.fingerprint) {
            (Some(change), Some(fingerprint)) => format!(
                "{}: {} — decided by [{fingerprint}] {change}",
                d.bump.label(),
                d.why
            ),
            _ => format!("{}: {}", d.bump.label(), d.why),
        }
    }

    fn api_counts_by_severity(&self, severity: Severity) -> usize {
        self.generated_api
            .changes
            .iter()
            .filter(|c| c.severity == severity)
            .count()
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
