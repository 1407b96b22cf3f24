//! The ignore file: changes a reviewer has accepted, each with a reason and maybe an expiry.
//!
//! ```yaml
//! ignore:
//!   - fingerprint: 3f2a9c0d1b7e          # from any report format
//!     reason: the only caller builds it with the builder; agreed in review 123
//!     until: 2026-12-31                  # optional: from 2027-01-01 on it counts again
//!   - rule: request-field-added          # or by rule and location, as the report names them
//!     location: UploadPrepareRequest.checksum
//!     reason: ...
//! ```
//!
//! An entry suppresses the changes it matches: they leave the verdict, the counts, the semver
//! recommendation and `--fail-on-breaking`, and are listed apart with the reason. An entry past
//! its `until` date suppresses nothing and is reported as expired; an entry that matches nothing
//! in this review is reported as unknown, so stale entries get noticed and removed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::positions::Positions;

/// Why an ignore file cannot be used. Each names the file and, where it can, the entry's line.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// Not YAML, or not the expected shape (`ignore:` a list of entries with known keys).
    #[error("{file}: not a spec-diff ignore file: {message}")]
    Shape {
        /// The file, as given.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An entry breaks a rule of the format.
    #[error("{file}:{line}: ignore entry {index}: {problem}")]
    Entry {
        /// The file, as given.
        file: String,
        /// The entry's 1-based line (0 when unknown).
        line: usize,
        /// The entry's 0-based index in `ignore:`.
        index: usize,
        /// What is wrong with it.
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    ignore: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    fingerprint: Option<String>,
    rule: Option<String>,
    location: Option<String>,
    reason: Option<String>,
    until: Option<String>,
}

/// What an entry names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", untagged)]
pub enum Target {
    /// A change's fingerprint.
    Fingerprint {
        /// 12 lower-case hex digits.
        fingerprint: String,
    },
    /// A rule at a location, as reports name them.
    RuleAt {
        /// The rule (`kind`), or `generated-api` for an entry of the generated-API diff.
        rule: String,
        /// The change's location (the item, for the generated API).
        location: String,
    },
}

/// One entry of the ignore file, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// What it suppresses.
    #[serde(flatten)]
    pub target: Target,
    /// Why the change is accepted.
    pub reason: String,
    /// The last day the entry applies, if it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Its 1-based line in the ignore file (0 when unknown).
    pub line: usize,
}

impl Entry {
    /// Whether the entry has expired on `today` (it applies through its `until` day).
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.until.is_some_and(|until| today > until)
    }

    /// Whether the entry names a change with this rule, location and fingerprint.
    pub fn matches(&self, rule: &str, location: &str, fingerprint: &str) -> bool {
        match &self.target {
            Target::Fingerprint { fingerprint: f } => f == fingerprint,
            Target::RuleAt { rule: r, location: l } => r == rule && l == location,
        }
    }

    /// The entry in words: its fingerprint, or its rule and location.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Fingerprint { fingerprint } => format!("fingerprint {fingerprint}"),
            Target::RuleAt { rule, location } => format!("{rule} at {location}"),
        }
    }
}

/// A checked ignore file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IgnoreFile {
    /// The file, as the reports name it (repository-relative where possible).
    pub file: String,
    /// Its entries, in order.
    pub entries: Vec<Entry>,
}

impl IgnoreFile {
    /// Parses and checks an ignore file's text; `file` names it in errors and reports.
    pub fn parse(text: &str, file: &str) -> Result<Self, IgnoreError> {
        let raw: RawFile = if text.trim().is_empty() {
            RawFile { ignore: Vec::new() }
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| IgnoreError::Shape {
                file: file.to_owned(),
                message: e.to_string(),
            })?
        };
        let positions = Positions::index(text);
        let entries = raw
            .ignore
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let at = ["ignore".to_owned(), index.to_string()];
                let line = positions.exact(&at).map_or(0, |p| p.line);
                check(entry, line).map_err(|problem| IgnoreError::Entry {
                    file: file.to_owned(),
                    line,
                    index,
                    problem,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            file: file.to_owned(),
            entries,
        })
    }
}

fn check(entry: RawEntry, line: usize) -> Result<Entry, String> {
    let reason = entry
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .ok_or("`reason` is required: say why the change is accepted")?;
    let target = match (entry.fingerprint, entry.rule, entry.location) {
        (Some(fingerprint), None, None) => {
            let valid = fingerprint.len() == 12
                && fingerprint
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            if !valid {
                return Err(format!(
                    "fingerprint `{fingerprint}` is not 12 lower-case hex digits, as reports print them"
                ));
            }
            Target::Fingerprint { fingerprint }
        }
        (None, Some(rule), Some(location)) => Target::RuleAt { rule, location },
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err("`rule` and `location` go together".to_owned());
        }
        (None, None, None) => {
            return Err("name the change: `fingerprint`, or `rule` and `location`".to_owned());
        }
        (Some(_), _, _) => {
            return Err("give `fingerprint` or `rule` and `location`, not both".to_owned());
        }
    };
    let until = entry
        .until
        .map(|text| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|e| format!("`until: {text}` is not a date (YYYY-MM-DD): {e}"))
        })
        .transpose()?;
    Ok(Entry {
        target,
        reason,
        until,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_entries() {
        let text = "ignore:\n  - fingerprint: 0123456789ab\n    reason: ok\n    until: 2030-01-02\n  - rule: r\n    location: l\n    reason: fine\n";
        let file = IgnoreFile::parse(text, "i.yaml").expect("valid");
        assert_eq!(file.entries.len(), 2);
        assert_eq!(file.entries[0].line, 2);
        assert_eq!(file.entries[1].line, 5);
        let until = NaiveDate::from_ymd_opt(2030, 1, 2).expect("date");
        assert_eq!(file.entries[0].until, Some(until));
        assert!(!file.entries[0].expired(until));
        assert!(file.entries[0].expired(until.succ_opt().expect("date")));
        assert!(file.entries[1].matches("r", "l", "whatever"));

        for (bad, needle) in [
            ("ignore:\n  - fingerprint: 0123456789ab\n", "`reason` is required"),
            (
                "ignore:\n  - fingerprint: 0123456789ab\n    reason: '  '\n",
                "`reason` is required",
            ),
            (
                "ignore:\n  - fingerprint: 0123\n    reason: x\n",
                "not 12 lower-case hex",
            ),
            ("ignore:\n  - rule: r\n    reason: x\n", "go together"),
            ("ignore:\n  - reason: x\n", "name the change"),
            (
                "ignore:\n  - fingerprint: 0123456789ab\n    reason: x\n    until: soon\n",
                "not a date",
            ),
            (
                "ignore:\n  - fingerprint: 0123456789ab\n    reason: x\n    why: y\n",
                "unknown field",
            ),
            ("ignore: 5\n", "not a spec-diff ignore file"),
        ] {
            let error = IgnoreFile::parse(bad, "i.yaml").expect_err(bad).to_string();
            assert!(error.contains(needle), "{bad:?}: {error}");
        }
        let error = IgnoreFile::parse("ignore:\n  - reason: x\n", "i.yaml").expect_err("no target");
        assert!(
            error.to_string().starts_with("i.yaml:2: ignore entry 0"),
            "{error}"
        );
    }
}
