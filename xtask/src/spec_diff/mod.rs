//! `cargo xtask spec-diff`: review a change of the spec by what it does to users of the generated
//! Rust client.
//!
//! Two comparisons make one report:
//!
//! 1. A **semantic diff** of the two specs ([`semantic`], [`generic`]): operations, parameters,
//!    request and response fields (with `$ref`s resolved, so refactoring is not churn), enums,
//!    the error table, servers and security. Each change is judged on two axes, the wire and the
//!    Rust API (see [`change`]), and filed as breaking, behaviour change, non-breaking or
//!    docs-only.
//! 2. A **generated-API diff** ([`rust_api`]): the project's own code generator runs on both
//!    sides, and the public items of its output are compared. This is the ground truth for the
//!    Rust axis: whatever the rules miss about typify or progenitor shows up here.
//!
//! Every change carries a fingerprint (12 hex digits from its rule and location), its place in
//! the YAML (line and column, for `--format github` annotations), and the report recommends the
//! generated crate's semver bump ([`semver`]). An ignore file ([`ignore`]) suppresses accepted
//! changes, each with a reason and maybe an expiry date.
//!
//! ```text
//! cargo xtask spec-diff                       # uncommitted changes, or the last commit when clean
//! cargo xtask spec-diff --base main --format markdown
//! cargo xtask spec-diff --base HEAD~3 --fail-on-breaking
//! cargo xtask spec-diff --format github       # annotations; the markdown to $GITHUB_STEP_SUMMARY
//! ```
//!
//! Exit status: 0 when the report was made (whatever it found), 1 with `--fail-on-breaking` when
//! something breaking is left after the ignore file, 2 when no report could be made (no such
//! revision, invalid YAML, an invalid ignore file).

pub mod change;
pub mod doc;
pub mod fields;
pub mod fields_diff;
pub mod generic;
pub mod git;
pub mod ignore;
pub mod positions;
pub mod report;
pub mod rust_api;
pub mod semantic;
pub mod semver;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use feishu_drive_codegen::Settings;
use serde_json::Value;

pub use change::{Change, Effect, Impact, Severity, Side};
pub use ignore::IgnoreFile;
pub use report::{Format, GeneratedApi, Report};
pub use semver::Bump;

use self::git::{AtRevision, Repo};
use self::positions::Positions;

/// The ignore file read when `--ignore` is not given, relative to the repository root, if it
/// exists.
pub const DEFAULT_IGNORE: &str = "spec/spec-diff-ignore.yaml";

/// `cargo xtask spec-diff` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The git revision to compare with [default: HEAD when the spec has uncommitted changes,
    /// otherwise HEAD~1, so a clean tree reviews the last commit].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Compare the spec at this revision instead of the working tree.
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// The spec file [default: spec/feishu-drive.yaml of this workspace].
    #[arg(long, value_name = "PATH")]
    pub spec: Option<PathBuf>,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Exit with status 1 when anything breaking is found and not ignored (errors exit with 2).
    #[arg(long)]
    pub fail_on_breaking: bool,
    /// Accepted changes, with reasons [default: spec/spec-diff-ignore.yaml of the repository,
    /// if it exists].
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
}

/// Names of the two sides, as the report shows them.
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    /// The spec's path.
    pub spec: &'a str,
    /// The base (`HEAD~1 (848f954)`).
    pub base: &'a str,
    /// The head (`working tree`).
    pub head: &'a str,
}

/// Reviews the change from `old` (`None`: the spec did not exist) to `new`.
pub fn review(old: Option<&str>, new: &str, sides: Sides<'_>) -> anyhow::Result<Report> {
    let old_doc = match old {
        Some(text) => doc::parse(text, "base")?,
        None => Value::Object(serde_json::Map::new()),
    };
    let new_doc = doc::parse(new, "head")?;

    let (mut changes, generated_api, generated) = generated(old, new);
    changes.extend(semantic::compare(&old_doc, &new_doc, &generated));
    // Without a base, every key is new: the semantic changes (operations, schemas, error codes
    // added) say all there is to say.
    if old.is_some() {
        changes.extend(generic::compare(&old_doc, &new_doc));
    }
    let mut changes = semantic::merge(changes);
    let positions = [
        (Side::Base, Positions::index(old.unwrap_or_default())),
        (Side::Head, Positions::index(new)),
    ];
    for node in changes.iter_mut().filter_map(|c| c.node.as_mut()) {
        let side = &positions
            .iter()
            .find(|(side, _)| *side == node.side)
            .map(|(_, p)| p);
        if let Some(at) = side.and_then(|p| p.find(&node.path)) {
            node.line = Some(at.line);
            node.col = Some(at.col);
        }
    }
    Ok(Report::new(
        sides.spec.to_owned(),
        sides.base.to_owned(),
        sides.head.to_owned(),
        changes,
        generated_api,
    ))
}

/// Runs the code generator on both sides: the generated-API diff, what the rules need to know
/// of the generated types, and a change when the head does not generate at all.
fn generated(old: Option<&str>, new: &str) -> (Vec<Change>, GeneratedApi, semantic::Generated) {
    let settings = Settings::client();
    let api_of = |text: &str| {
        feishu_drive_codegen::generate(text, &settings)
            .map_err(|e| e.to_string())
            .and_then(|files| rust_api::extract(&files).map_err(|e| e.to_string()))
    };
    let new_api = api_of(new);
    let old_api = old.map(api_of);
    let generated = semantic::Generated {
        old_types: match &old_api {
            Some(Ok(api)) => Some(rust_api::type_names(api)),
            None => Some(Default::default()),
            Some(Err(_)) => None,
        },
        new_types: new_api.as_ref().ok().map(rust_api::type_names),
    };
    let mut changes = Vec::new();
    let generated_api = match (&old_api, &new_api) {
        (_, Err(e)) => {
            changes.push(Change::new(
                "codegen-failed",
                "generated client",
                "the code generator rejects the head spec",
                Effect::none(),
                Effect::new(Impact::Breaking, format!("no client can be generated: {e}")),
            ));
            GeneratedApi {
                compared: false,
                note: Some(format!(
                    "Not compared: the code generator rejects the head spec: {e}"
                )),
                changes: Vec::new(),
            }
        }
        (Some(Err(e)), Ok(_)) => GeneratedApi {
            compared: false,
            note: Some(format!("Not compared: the base spec did not generate: {e}")),
            changes: Vec::new(),
        },
        (None, Ok(api)) => GeneratedApi {
            compared: true,
            note: Some("No base spec: every item is new.".to_owned()),
            changes: rust_api::diff(&Default::default(), api),
        },
        (Some(Ok(before)), Ok(after)) => GeneratedApi {
            compared: true,
            note: None,
            changes: rust_api::diff(before, after),
        },
    };
    (changes, generated_api, generated)
}

/// Runs `cargo xtask spec-diff`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace_root();
    let spec_path = match &args.spec {
        Some(path) => absolute(path)?,
        None => root.join(crate::codegen::SPEC),
    };
    let dir = spec_path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.clone());
    let repo = Repo::containing(&dir)?;
    let relative = repo.relative(&spec_path)?;
    // The ignore file is checked before anything else: a broken one is an error, not a review
    // that silently suppresses nothing.
    let ignore = ignore_file(args, &repo)?;

    let (head_text, head_label) = match &args.head {
        Some(rev) => match repo.file_at(rev, &relative)? {
            AtRevision::Text { commit, text } => (text, label(rev, &commit)),
            AtRevision::Absent { commit } => bail!("{relative} does not exist at {}", label(rev, &commit)),
            AtRevision::NoSuchRevision => bail!("no such revision: {rev}"),
        },
        None => (
            std::fs::read_to_string(&spec_path)
                .with_context(|| format!("reading {}", spec_path.display()))?,
            "working tree".to_owned(),
        ),
    };
    let base_rev = default_base(args, &repo, &relative, &head_text)?;
    let (base_text, base_label) = match repo.file_at(&base_rev, &relative)? {
        // A base relative to HEAD (implied, or `--base HEAD~1` as CI passes it) may be missing
        // for want of history; any other name the caller gave must exist.
        AtRevision::NoSuchRevision
            if (args.base.is_none() || base_rev.starts_with("HEAD")) && repo.history_is_short()? =>
        {
            println!(
                "spec-diff: the base revision `{base_rev}` does not exist: this is a shallow or single-commit clone, so there is nothing to compare {relative} with."
            );
            return Ok(ExitCode::SUCCESS);
        }
        AtRevision::NoSuchRevision => bail!("no such revision: {base_rev}"),
        AtRevision::Absent { commit } => (None, format!("{}, without the spec", label(&base_rev, &commit))),
        AtRevision::Text { commit, text } => (Some(text), label(&base_rev, &commit)),
    };

    let sides = Sides {
        spec: &relative,
        base: &base_label,
        head: &head_label,
    };
    let mut report = review(base_text.as_deref(), &head_text, sides)?;
    if let Some(ignore) = &ignore {
        report = report.ignoring(ignore, chrono::Local::now().date_naive());
    }
    print!("{}", report.render(args.format));
    if args.format == Format::Github {
        write_step_summary(&report)?;
    }
    if args.fail_on_breaking && report.is_breaking() {
        eprintln!("spec-diff: breaking changes found (--fail-on-breaking)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_relative() {
        std::env::current_dir()
            .context("reading the current directory")?
            .join(path)
    } else {
        path.to_owned()
    })
}

/// The base revision: `--base`, else the head's parent with `--head`, else `HEAD` when the spec
/// has uncommitted changes (what a reviewer wants to see first) and `HEAD~1` when it has none
/// (the last commit).
fn default_base(args: &Args, repo: &Repo, relative: &str, head_text: &str) -> anyhow::Result<String> {
    Ok(match (&args.base, &args.head) {
        (Some(rev), _) => rev.clone(),
        (None, Some(head)) => format!("{head}~1"),
        (None, None) => match repo.file_at("HEAD", relative)? {
            AtRevision::Text { text, .. } if text == head_text => "HEAD~1".to_owned(),
            _ => "HEAD".to_owned(),
        },
    })
}

/// `--ignore FILE`, or [`DEFAULT_IGNORE`] in the repository when it exists.
fn ignore_file(args: &Args, repo: &Repo) -> anyhow::Result<Option<IgnoreFile>> {
    let path = match &args.ignore {
        Some(path) => absolute(path)?,
        None => {
            let path = repo.root.join(DEFAULT_IGNORE);
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    // Annotations need the path as the repository names it.
    let name = repo
        .relative(&path)
        .unwrap_or_else(|_| path.display().to_string());
    Ok(Some(IgnoreFile::parse(&text, &name)?))
}

/// Appends the markdown report to the GitHub Actions job summary, when the runner gives one.
fn write_step_summary(report: &Report) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening $GITHUB_STEP_SUMMARY ({})", Path::new(&path).display()))?;
    file.write_all(report.render(Format::Markdown).as_bytes())
        .context("writing $GITHUB_STEP_SUMMARY")
}

/// `HEAD~1 (848f954)`, or just `848f954` when the revision is already a commit id.
fn label(rev: &str, commit: &str) -> String {
    if commit.starts_with(rev) || rev.starts_with(commit) {
        commit.to_owned()
    } else {
        format!("{rev} ({commit})")
    }
}
