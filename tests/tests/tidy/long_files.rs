//! No hand-written `.rs` file over 600 lines unless it says why: a file that long usually mixes
//! jobs a newcomer has to tell apart. A file that must be long says so in a line starting
//! `// Why this file is long:` within its first 20 lines. Generated files and
//! `tests/fixtures/` (other projects' generated clients) are exempt.

use super::source::{Allowed, Finding, assert_clean, is_generated, read, relative, rust_files};

/// Most lines a hand-written file may have without saying why.
const MAX_LINES: usize = 600;
const WHY: &str = "// Why this file is long:";

/// Known long files, each with who splits it (or adds the `Why` line). Delete an entry once its
/// file is short or explains itself.
const ALLOWED: &[Allowed] = &[
    Allowed {
        file: "server/tests/suite/files.rs",
        what: "long file",
        note: "i17 / tests helper: the files family's server tests, split by operation",
    },
    Allowed {
        file: "tests/tests/suite/codegen_malformed.rs",
        what: "long file",
        note: "tests helper: one test binary with modules",
    },
    Allowed {
        file: "tests/tests/suite/upload_faults.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/client_loopback.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/generated_builds/codegen_corpus_builds.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/upload_soak.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/e2e_upload.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/upload_flows.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/e2e_download.rs",
        what: "long file",
        note: "tests helper",
    },
    Allowed {
        file: "tests/tests/suite/spec_official_sources.rs",
        what: "long file",
        note: "tests helper",
    },
];

/// The crates' directories (a new crate's directory is added here).
const CRATES: &[&str] = &["client", "codegen", "server", "tests", "xtask", "cli"];

fn too_long(file: &str, text: &str) -> Option<Finding> {
    let lines = text.lines().count();
    let explained = text
        .lines()
        .take(20)
        .any(|line| line.trim_start().starts_with(WHY));
    (lines > MAX_LINES && !explained).then(|| Finding {
        file: file.to_owned(),
        line: lines,
        what: "long file".to_owned(),
        fix: format!("{lines} lines: split it by job, or say `{WHY} …` in its first 20 lines"),
    })
}

#[test]
fn no_hand_written_file_is_over_600_lines_without_saying_why() {
    let mut findings = Vec::new();
    for dir in CRATES {
        for path in rust_files(dir) {
            let file = relative(&path);
            let text = read(&path);
            if file.starts_with("tests/fixtures/") || is_generated(&path, &text) {
                continue;
            }
            findings.extend(too_long(&file, &text));
        }
    }
    assert_clean("long files", &findings, ALLOWED);
}

/// The check can fail: a 601-line file is reported; with the `Why` line it is not.
#[test]
fn the_long_file_check_finds_a_planted_long_file() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let found = too_long("planted.rs", &long).expect("reported");
    assert_eq!((found.line, found.what.as_str()), (MAX_LINES + 1, "long file"));
    let explained = format!("//! A module.\n{WHY} one table, one row per line.\n{long}");
    assert_eq!(too_long("planted.rs", &explained), None);
    assert_eq!(too_long("planted.rs", &"fn f() {}\n".repeat(MAX_LINES)), None);
}
