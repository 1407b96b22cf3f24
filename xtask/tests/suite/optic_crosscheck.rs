//! Cross-checks spec-diff against an established OpenAPI diff tool, `optic diff`
//! (@useoptic/optic, pinned in tools/package.json, installed by `bash tools/install.sh`), on every
//! fixture pair.
//!
//! optic's verdict is read from *which rules fired*, not from its exit status: each case records
//! the rules that fail (`x [rule]` lines of its report), the exit status must agree with them
//! (1 exactly when one fired), and its `Checks: passed/total` line must count the same failures,
//! so a crash or a usage error that also exits 1 cannot pass for "breaking". Where the verdicts
//! differ (overall, or on the wire axis alone, which is all optic judges),
//! `fixtures/spec_diff/optic-disagreements.md` must explain the case: a new disagreement cannot
//! land unexplained, and a change in either tool's behaviour fails here.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xtask::spec_diff::{Impact, Sides, review};

/// One cross-checked fixture.
struct Case {
    name: &'static str,
    /// The optic rules that fail on it (none: optic passes it).
    optic_rules: &'static [&'static str],
    /// Whether spec-diff's verdict is breaking (either axis).
    ours_breaking: bool,
    /// Whether spec-diff finds anything breaking on the wire axis alone.
    ours_wire_breaking: bool,
}

const REMOVAL: &[&str] = &[
    "prevent operation removal",
    "prevent removing response property",
    "prevent response status code removal",
];

const fn case(name: &'static str, optic_rules: &'static [&'static str], ours: (bool, bool)) -> Case {
    Case {
        name,
        optic_rules,
        ours_breaking: ours.0,
        ours_wire_breaking: ours.1,
    }
}

/// `(breaking, wire breaking)` of spec-diff.
const BREAKS_BOTH: (bool, bool) = (true, true);
const BREAKS_RUST: (bool, bool) = (true, false);
const BREAKS_NONE: (bool, bool) = (false, false);

const CASES: [Case; 29] = [
    case("deprecated_operation_removed", REMOVAL, BREAKS_RUST),
    case("deprecated_request_field_removed", &[], BREAKS_RUST),
    case("description_only", &[], BREAKS_NONE),
    case("error_code_added", &[], BREAKS_NONE),
    case("error_code_removed", &[], BREAKS_RUST),
    case("error_code_retryability_changed", &[], BREAKS_NONE),
    case("extensible_enum_value_added", &[], BREAKS_NONE),
    case("multipart_default_content_type_made_explicit", &[], BREAKS_NONE),
    case("multipart_part_content_type_changed", &[], BREAKS_BOTH),
    case("multipart_part_header_added", &[], BREAKS_BOTH),
    case("operation_added", &[], BREAKS_NONE),
    case("operation_deprecated", &[], BREAKS_NONE),
    case("operation_removed", REMOVAL, BREAKS_BOTH),
    case("query_parameter_optional_added", &[], BREAKS_NONE),
    case("rate_limit_lowered", &[], BREAKS_NONE),
    case("request_field_deprecated", &[], BREAKS_NONE),
    case("request_field_optional_added_json", &[], BREAKS_RUST),
    case("request_field_optional_added_multipart", &[], BREAKS_RUST),
    case("request_field_removed", &[], BREAKS_RUST),
    case(
        "request_field_required_added",
        &["prevent changing request property to required"],
        BREAKS_BOTH,
    ),
    case(
        "request_field_type_changed",
        &["prevent request property type changes"],
        BREAKS_BOTH,
    ),
    case("request_max_length_narrowed", &[], BREAKS_BOTH),
    case("request_min_length_removed", &[], BREAKS_RUST),
    case(
        "response_enum_value_added",
        &["request and response property enums"],
        BREAKS_BOTH,
    ),
    case(
        "response_field_now_optional",
        &["prevent making response property optional"],
        BREAKS_BOTH,
    ),
    case(
        "response_field_removed",
        &["prevent removing response property"],
        BREAKS_BOTH,
    ),
    case("schema_moved_into_ref", &[], BREAKS_NONE),
    case("security_scheme_changed", &[], BREAKS_BOTH),
    case("server_added", &[], BREAKS_NONE),
];

/// How long one `optic diff` may take: a few seconds normally, start-up mostly.
const OPTIC_LIMIT: Duration = Duration::from_secs(300);

/// How many `optic diff` run at once (each is a Node process).
const PARALLEL: usize = 4;

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

/// What `optic diff old new --check` said about one case.
#[derive(Debug)]
struct Optic {
    /// The distinct rules that failed.
    rules: BTreeSet<String>,
    /// Its report, for failure messages.
    text: String,
}

/// Runs `optic diff old.yaml new.yaml --check` in the case's folder, within [`OPTIC_LIMIT`], and
/// reads its verdict from the rules that fired, checking the exit status and the checks count
/// agree with them.
fn run_optic(bin: &Path, case: &str) -> Result<Optic, String> {
    let mut child = Command::new(bin)
        .args(["diff", "old.yaml", "new.yaml", "--check"])
        .current_dir(fixtures().join(case))
        // With CI set, optic writes ci-run-details.json into the working directory.
        .env_remove("CI")
        .env("OPTIC_TELEMETRY_LEVEL", "off")
        .env("NO_UPDATE_NOTIFIER", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let deadline = Instant::now() + OPTIC_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{case}: optic did not finish within {OPTIC_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    if text.contains("invalid openapi") {
        return Err(format!(
            "optic rejects the fixture {case} as invalid OpenAPI:\n{text}"
        ));
    }
    let failed: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let rule = line.trim_start().strip_prefix("x [")?;
            Some(rule.split(']').next()?.to_owned())
        })
        .collect();
    check_consistency(case, status.code(), &failed, &text)?;
    Ok(Optic {
        rules: failed.into_iter().collect(),
        text,
    })
}

/// The exit status says "failed" exactly when a rule failed, and `Checks: P/T passed` (when
/// printed) counts as many failures as the report lists.
fn check_consistency(case: &str, code: Option<i32>, failed: &[String], text: &str) -> Result<(), String> {
    match (code, failed.is_empty()) {
        (Some(0), true) | (Some(1), false) => {}
        (other, _) => {
            return Err(format!(
                "{case}: optic exited with {other:?} with {} failed rule(s): not a check result:\n{text}",
                failed.len()
            ));
        }
    }
    let checks = text.lines().find_map(|line| {
        let counts = line.split("Checks: ").nth(1)?.split_whitespace().next()?;
        let (passed, total) = counts.split_once('/')?;
        Some((passed.parse::<usize>().ok()?, total.parse::<usize>().ok()?))
    });
    if let Some((passed, total)) = checks
        && total.checked_sub(passed) != Some(failed.len())
    {
        return Err(format!(
            "{case}: optic counts {passed}/{total} checks passed but lists {} failures:\n{text}",
            failed.len()
        ));
    }
    Ok(())
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

/// Every fixture pair is a case: a new fixture must be cross-checked too.
#[test]
fn every_fixture_is_cross_checked() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("new.yaml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.name.to_owned()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn verdicts_match_optic_or_are_explained() {
    let bin = optic();
    let explained =
        std::fs::read_to_string(fixtures().join("optic-disagreements.md")).expect("optic-disagreements.md");

    let results: Vec<Result<Optic, String>> = CASES
        .chunks(PARALLEL)
        .flat_map(|chunk| {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|case| scope.spawn(|| run_optic(&bin, case.name)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err("optic thread panicked".to_owned()))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    let mut problems = Vec::new();
    for (case, result) in CASES.iter().zip(results) {
        let optic = match result {
            Ok(optic) => optic,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let recorded: BTreeSet<String> = case.optic_rules.iter().map(|r| (*r).to_owned()).collect();
        if optic.rules != recorded {
            problems.push(format!(
                "{}: optic's failing rules are now {:?}, recorded {recorded:?}:\n{}",
                case.name, optic.rules, optic.text
            ));
        }
        let (ours, ours_wire) = our_verdict(case.name);
        if (ours, ours_wire) != (case.ours_breaking, case.ours_wire_breaking) {
            problems.push(format!(
                "{}: spec-diff now says breaking={ours} (wire: {ours_wire}), recorded {} (wire: {})",
                case.name, case.ours_breaking, case.ours_wire_breaking
            ));
        }
        let optic_breaking = !recorded.is_empty();
        let disagree = optic_breaking != case.ours_breaking || optic_breaking != case.ours_wire_breaking;
        if disagree && !explained.contains(&format!("`{}`", case.name)) {
            problems.push(format!(
                "{}: the tools disagree, but fixtures/spec_diff/optic-disagreements.md does not explain it",
                case.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The consistency check refuses an exit 1 without a failed rule, and a miscount.
#[test]
fn an_exit_status_without_rules_is_not_a_verdict() {
    assert!(check_consistency("c", Some(1), &[], "Error: boom").is_err());
    assert!(check_consistency("c", Some(2), &[], "").is_err());
    assert!(check_consistency("c", Some(0), &["r".to_owned()], "").is_err());
    let one = ["r".to_owned()];
    assert!(check_consistency("c", Some(1), &one, "x  Checks: 0/1 passed").is_ok());
    assert!(check_consistency("c", Some(1), &one, "x  Checks: 0/2 passed").is_err());
    assert!(check_consistency("c", Some(0), &[], "Checks: 3/3 passed").is_ok());
}
