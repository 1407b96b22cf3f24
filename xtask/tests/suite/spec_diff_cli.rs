//! `cargo xtask spec-diff` as CI runs it: the built binary on a scratch git repository. Exit codes
//! (`--fail-on-breaking`, errors), the default base, GitHub annotations on the right lines, the
//! job summary, and the ignore file (the default one, expiry, unknown entries).

use crate::support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::fixture;

/// Every child gets this long; the slowest (codegen on both sides) takes a few seconds.
const LIMIT: Duration = Duration::from_secs(180);

/// Runs `command` to completion within [`LIMIT`], killing it past that.
fn bounded(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = reader(
        pipes
            .0
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = reader(
        pipes
            .1
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// A scratch repository with the spec at `spec/feishu-drive.yaml`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let repo = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        std::fs::create_dir(repo.path().join("spec")).expect("spec dir");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        let output = bounded(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .current_dir(self.path()),
        );
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path().join(relative), text).expect("writing a file");
    }

    fn write_spec(&self, text: &str) {
        self.write("spec/feishu-drive.yaml", text);
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "spec/feishu-drive.yaml"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// Runs `xtask spec-diff --spec spec/feishu-drive.yaml ARGS` in the repository.
    fn spec_diff(&self, args: &[&str]) -> Run {
        self.spec_diff_with(args, &[])
    }

    fn spec_diff_with(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["spec-diff", "--spec", "spec/feishu-drive.yaml"])
            .args(args)
            .current_dir(self.path())
            .env_remove("GITHUB_STEP_SUMMARY");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = bounded(&mut command);
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `--format json`, parsed, with the exit code.
    fn json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let run = self.spec_diff(&all);
        let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:#?}"));
        (run.code, json)
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A repository whose last commit is the base fixture, and whose working tree holds `case`'s new
/// side (so the default base is `HEAD`).
fn dirty(case: &str) -> Repo {
    let repo = Repo::new();
    repo.write_spec(&fixture(case, "old"));
    repo.commit("base");
    repo.write_spec(&fixture(case, "new"));
    repo
}

/// The 1-based line of the only line of `text` equal to `line` (trimmed).
fn line_of(text: &str, line: &str) -> usize {
    let found: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == line)
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(found.len(), 1, "`{line}` should be on one line: {found:?}");
    found[0]
}

/// The `key=value` properties of the workflow command whose title names `kind`.
fn annotation<'a>(stdout: &'a str, kind: &str) -> (&'a str, Vec<(&'a str, &'a str)>) {
    let line = stdout
        .lines()
        .find(|l| l.contains(&format!("%3A {kind} [")))
        .unwrap_or_else(|| panic!("no annotation for {kind}:\n{stdout}"));
    let (command, _) = line
        .split_once("::")
        .map(|(_, rest)| rest.split_once("::").unwrap_or((rest, "")))
        .unwrap_or_default();
    let (level, properties) = command.split_once(' ').unwrap_or((command, ""));
    let properties = properties.split(',').filter_map(|p| p.split_once('=')).collect();
    (level, properties)
}

fn property<'a>(properties: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    properties.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Annotations sit on the YAML lines of the changed nodes: the head's for a change, the base's
/// for a removal; the markdown report goes to the job summary.
#[test]
fn github_annotations_point_at_the_changed_lines() {
    let repo = Repo::new();
    let old = fixture("request_max_length_narrowed", "old");
    repo.write_spec(&old);
    repo.commit("base");
    // Two edits: a bound narrowed (annotated in the head) and a parameter removed (in the base).
    let extra = "        - name: extra\n          in: query\n          required: false\n          description: Extra authentication data, as JSON text.\n          schema:\n            type: string\n";
    assert!(old.contains(extra));
    let new = fixture("request_max_length_narrowed", "new").replacen(extra, "", 1);
    repo.write_spec(&new);
    let summary = repo.path().join("summary.md");
    let run = repo.spec_diff_with(&["--format", "github"], &[("GITHUB_STEP_SUMMARY", &summary)]);
    assert_eq!(run.code, Some(0), "{run:#?}");

    let (level, at) = annotation(&run.stdout, "bound-narrowed");
    assert_eq!(level, "error");
    assert_eq!(property(&at, "file"), Some("spec/feishu-drive.yaml"));
    let line = line_of(&new, "maxLength: 200");
    assert_eq!(
        property(&at, "line"),
        Some(line.to_string().as_str()),
        "{}",
        run.stdout
    );
    let col = new
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find("maxLength"))
        .map(|c| c + 1);
    assert_eq!(property(&at, "col"), col.map(|c| c.to_string()).as_deref());

    let (level, at) = annotation(&run.stdout, "parameter-removed");
    assert_eq!(level, "error", "its builder setter is gone");
    let line = line_of(&old, "- name: extra");
    assert_eq!(
        property(&at, "line"),
        Some(line.to_string().as_str()),
        "{}",
        run.stdout
    );

    assert!(
        run.stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("::notice title=spec-diff verdict::BREAKING"))
    );
    let summary = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(
        summary.starts_with("## Spec review: `spec/feishu-drive.yaml`"),
        "{summary}"
    );
    assert!(summary.contains("**Semver: major"), "{summary}");
}

/// 0 whatever the report says; 1 with `--fail-on-breaking` and something breaking; 2 when no
/// report can be made.
#[test]
fn exit_codes() {
    let repo = dirty("request_max_length_narrowed");
    assert_eq!(repo.spec_diff(&[]).code, Some(0));
    let run = repo.spec_diff(&["--fail-on-breaking"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("breaking changes found"), "{run:#?}");
    assert!(run.stdout.contains("verdict: BREAKING"), "{run:#?}");

    let docs = dirty("description_only");
    assert_eq!(docs.spec_diff(&["--fail-on-breaking"]).code, Some(0));
    let behaviour = dirty("error_code_retryability_changed");
    assert_eq!(behaviour.spec_diff(&["--fail-on-breaking"]).code, Some(0));

    let run = repo.spec_diff(&["--base", "no-such-rev", "--fail-on-breaking"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("no such revision: no-such-rev"), "{run:#?}");
    repo.write_spec("openapi: [");
    let run = repo.spec_diff(&["--fail-on-breaking"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("head spec is not valid YAML"), "{run:#?}");
}

/// Uncommitted changes are reviewed against `HEAD`; a clean tree reviews the last commit;
/// `--head REV` reviews that commit against its parent; a single commit has nothing to compare.
#[test]
fn default_base() {
    let repo = Repo::new();
    repo.write_spec(&fixture("request_max_length_narrowed", "old"));
    repo.commit("base");
    // One commit: nothing to compare, implied or as CI asks (`--base HEAD~1`); a named base
    // that does not exist is an error all the same.
    for args in [
        &["--fail-on-breaking"][..],
        &["--base", "HEAD~1", "--fail-on-breaking"],
    ] {
        let run = repo.spec_diff(args);
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert!(run.stdout.contains("nothing to compare"), "{run:#?}");
    }
    assert_eq!(repo.spec_diff(&["--base", "main~1"]).code, Some(2));

    repo.write_spec(&fixture("request_max_length_narrowed", "new"));
    repo.commit("narrow maxLength");
    let kinds = |json: &serde_json::Value| -> Vec<String> {
        let changes = json["changes"].as_array().cloned().unwrap_or_default();
        changes
            .iter()
            .filter_map(|c| c["kind"].as_str().map(str::to_owned))
            .collect()
    };
    let (code, json) = repo.json(&[]);
    assert_eq!(code, Some(0));
    assert!(
        json["base"].as_str().is_some_and(|b| b.starts_with("HEAD~1 (")),
        "{json:#}"
    );
    assert_eq!(json["head"], "working tree");
    assert_eq!(kinds(&json), ["bound-narrowed"]);

    // An uncommitted edit on top: only it is reviewed.
    let edited = fixture("request_max_length_narrowed", "new").replacen(
        "      summary: Start a chunked upload\n",
        "      summary: Start a chunked (multi-part) upload\n",
        1,
    );
    repo.write_spec(&edited);
    let (_, json) = repo.json(&[]);
    assert!(
        json["base"].as_str().is_some_and(|b| b.starts_with("HEAD (")),
        "{json:#}"
    );
    assert_eq!(kinds(&json), ["docs-changed"]);
    assert_eq!(json["semver"], "patch");

    // `--head HEAD` reviews the last commit, whatever the working tree holds.
    let (code, json) = repo.json(&["--head", "HEAD", "--fail-on-breaking"]);
    assert_eq!(code, Some(1));
    assert!(
        json["base"].as_str().is_some_and(|b| b.starts_with("HEAD~1 (")),
        "{json:#}"
    );
    assert_eq!(kinds(&json), ["bound-narrowed"]);
}

/// The fingerprint of the only semantic change of a dirty repository.
fn fingerprint_of(repo: &Repo, kind: &str) -> String {
    let (_, json) = repo.json(&[]);
    let changes = json["changes"].as_array().cloned().unwrap_or_default();
    let change = changes
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}: {json:#}"));
    change["fingerprint"].as_str().expect("fingerprint").to_owned()
}

/// `spec/spec-diff-ignore.yaml` is read when present: an entry suppresses its change until its
/// `until` day; an expired entry suppresses nothing and is reported; unknown entries are reported.
#[test]
fn ignore_file() {
    // A multipart content type: breaking on the wire, with no generated-API entry to ignore too.
    let repo = dirty("multipart_part_content_type_changed");
    let fp = fingerprint_of(&repo, "encoding-content-type-changed");
    let ignore = |entries: &str| repo.write("spec/spec-diff-ignore.yaml", &format!("ignore:\n{entries}"));

    ignore(&format!(
        "  - fingerprint: {fp}\n    reason: every server we use accepts any part type\n"
    ));
    let (code, json) = repo.json(&["--fail-on-breaking"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["verdict"], "unchanged");
    assert_eq!(json["ignore"]["file"], "spec/spec-diff-ignore.yaml");
    assert_eq!(json["ignore"]["ignored"][0]["fingerprint"], fp.as_str());
    assert_eq!(json["ignore"]["ignored"][0]["severity"], "breaking");

    ignore(&format!(
        "  - fingerprint: {fp}\n    reason: accepted\n    until: 2999-12-31\n"
    ));
    assert_eq!(repo.json(&["--fail-on-breaking"]).0, Some(0));

    ignore(&format!(
        "  - fingerprint: {fp}\n    reason: accepted for a while\n    until: 2000-01-01\n"
    ));
    let (code, json) = repo.json(&["--fail-on-breaking"]);
    assert_eq!(code, Some(1), "an expired entry suppresses nothing: {json:#}");
    assert_eq!(json["verdict"], "breaking");
    assert_eq!(json["ignore"]["expired"][0]["matches"][0], fp.as_str());
    let run = repo.spec_diff(&["--format", "github"]);
    assert!(
        run.stdout.contains(
            "::warning file=spec/spec-diff-ignore.yaml,line=2,title=spec-diff ignore entry expired::"
        ),
        "{}",
        run.stdout
    );

    ignore("  - fingerprint: 0123456789ab\n    reason: an old change\n");
    let (code, json) = repo.json(&["--fail-on-breaking"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        json["ignore"]["unknown"][0]["entry"]["fingerprint"],
        "0123456789ab"
    );
    let text = repo.spec_diff(&[]).stdout;
    assert!(
        text.contains("unknown: line 2: fingerprint 0123456789ab matches no change"),
        "{text}"
    );

    ignore(
        "  - rule: encoding-content-type-changed\n    location: upload_part request body part `file`\n    reason: by rule\n",
    );
    assert_eq!(repo.json(&["--fail-on-breaking"]).0, Some(0));

    // An explicit file wins over the default one; a broken one is an error.
    repo.write("other.yaml", "ignore:\n  - fingerprint: 0123456789ab\n");
    let run = repo.spec_diff(&["--ignore", "other.yaml"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("other.yaml:2: ignore entry 0: `reason` is required"),
        "{run:#?}"
    );
    std::fs::remove_file(repo.path().join("spec/spec-diff-ignore.yaml")).expect("removing");
    assert_eq!(
        repo.spec_diff(&["--fail-on-breaking"]).code,
        Some(1),
        "no ignore file, no suppression"
    );
}
