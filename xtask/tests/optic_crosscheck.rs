//! Cross-checks spec-diff's verdict on a few fixture pairs against an established OpenAPI diff
//! tool, `optic diff` (@useoptic/optic, pinned in tools/package.json, installed by
//! `bash tools/install.sh`).
//!
//! Each case records both tools' verdicts. Where they disagree, the README's "Spec review"
//! section explains why, and this test checks that it still names the case: a new disagreement
//! cannot land unexplained, and a change in either tool's behaviour fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::spec_diff::{Impact, Sides, review};

/// One cross-checked fixture.
struct Case {
    name: &'static str,
    /// Whether `optic diff` fails its breaking-change checks (exit status 1).
    optic_breaking: bool,
    /// Whether spec-diff's verdict is breaking (either axis).
    ours_breaking: bool,
    /// Whether spec-diff finds anything breaking on the wire axis alone: the axis optic judges.
    ours_wire_breaking: bool,
}

const CASES: [Case; 8] = [
    Case {
        name: "operation_removed",
        optic_breaking: true,
        ours_breaking: true,
        ours_wire_breaking: true,
    },
    Case {
        name: "request_field_required_added",
        optic_breaking: true,
        ours_breaking: true,
        ours_wire_breaking: true,
    },
    Case {
        name: "response_enum_value_added",
        optic_breaking: true,
        ours_breaking: true,
        ours_wire_breaking: true,
    },
    // Disagreements, each explained in README.md ("Spec review").
    Case {
        name: "request_field_optional_added_multipart",
        optic_breaking: false,
        ours_breaking: true,
        ours_wire_breaking: false,
    },
    Case {
        name: "request_field_optional_added_json",
        optic_breaking: false,
        ours_breaking: true,
        ours_wire_breaking: false,
    },
    Case {
        name: "request_max_length_narrowed",
        optic_breaking: false,
        ours_breaking: true,
        ours_wire_breaking: true,
    },
    Case {
        name: "error_code_removed",
        optic_breaking: false,
        ours_breaking: true,
        ours_wire_breaking: false,
    },
    Case {
        name: "security_scheme_changed",
        optic_breaking: false,
        ours_breaking: true,
        ours_wire_breaking: true,
    },
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec_diff")
}

fn optic() -> PathBuf {
    let bin = xtask::workspace_root().join("tools/node_modules/.bin/optic");
    assert!(
        bin.exists(),
        "{} is missing: install the pinned judge tools with `bash tools/install.sh` (CI does)",
        bin.display()
    );
    bin
}

/// Runs `optic diff old new`: whether its checks fail, and the rules that failed.
fn optic_verdict(bin: &Path, case: &str) -> (bool, Vec<String>) {
    let dir = fixtures().join(case);
    let output = Command::new(bin)
        .args(["diff", "old.yaml", "new.yaml", "--check"])
        .current_dir(&dir)
        // With CI set, optic writes ci-run-details.json into the working directory.
        .env_remove("CI")
        .env("OPTIC_TELEMETRY_LEVEL", "off")
        .env("NO_UPDATE_NOTIFIER", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("invalid openapi"),
        "optic rejects the fixture {case} as invalid OpenAPI:\n{text}"
    );
    let rules = text
        .lines()
        .filter_map(|line| {
            let rule = line.trim_start().strip_prefix("x [")?;
            Some(rule.split(']').next()?.to_owned())
        })
        .collect();
    match output.status.code() {
        Some(0) => (false, rules),
        Some(1) => (true, rules),
        other => panic!("optic exited with {other:?} on {case}:\n{text}"),
    }
}

fn our_verdict(case: &str) -> (bool, bool) {
    let read = |side: &str| {
        std::fs::read_to_string(fixtures().join(case).join(format!("{side}.yaml"))).expect("fixture")
    };
    let report = review(
        Some(&read("old")),
        &read("new"),
        Sides {
            spec: case,
            base: "old",
            head: "new",
        },
    )
    .expect("review");
    let wire = report.changes.iter().any(|c| c.wire.impact == Impact::Breaking);
    (report.is_breaking(), wire)
}

#[test]
fn verdicts_match_optic_or_are_explained() {
    let bin = optic();
    let readme = std::fs::read_to_string(xtask::workspace_root().join("README.md")).expect("README.md");
    let explained = readme
        .split_once("## Spec review")
        .map(|(_, section)| section.to_owned())
        .unwrap_or_default();

    // optic takes a few seconds per run, mostly start-up: run the cases side by side.
    let results: Vec<(bool, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = CASES
            .iter()
            .map(|case| scope.spawn(|| optic_verdict(&bin, case.name)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("optic thread"))
            .collect()
    });

    let mut problems = Vec::new();
    for (case, (optic_breaking, rules)) in CASES.iter().zip(results) {
        let (ours, ours_wire) = our_verdict(case.name);
        if optic_breaking != case.optic_breaking {
            problems.push(format!(
                "{}: optic now says breaking={optic_breaking} (rules: {rules:?}), recorded {}",
                case.name, case.optic_breaking
            ));
        }
        if (ours, ours_wire) != (case.ours_breaking, case.ours_wire_breaking) {
            problems.push(format!(
                "{}: spec-diff now says breaking={ours} (wire: {ours_wire}), recorded {} (wire: {})",
                case.name, case.ours_breaking, case.ours_wire_breaking
            ));
        }
        if case.optic_breaking != case.ours_breaking && !explained.contains(&format!("`{}`", case.name)) {
            problems.push(format!(
                "{}: the tools disagree, but README.md's \"Spec review\" section does not explain it",
                case.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
