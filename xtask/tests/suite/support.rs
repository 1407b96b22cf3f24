//! Helpers shared by the spec-diff test modules: fixture pairs, reviewed and snapshotted.
#![allow(dead_code)] // each test module uses its own subset

use std::path::PathBuf;

use xtask::spec_diff::{Change, Impact, Report, Severity, Sides, review};

pub fn fixture(case: &str, side: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spec_diff")
        .join(case)
        .join(format!("{side}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Reviews a fixture pair and snapshots its markdown report.
pub fn reviewed(case: &str) -> Report {
    let old = fixture(case, "old");
    let new = fixture(case, "new");
    let spec = format!("{case}/new.yaml");
    let report = review(
        Some(&old),
        &new,
        Sides {
            spec: &spec,
            base: "old.yaml",
            head: "new.yaml",
        },
    )
    .unwrap_or_else(|e| panic!("{case}: {e:#}"));
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(case, report.render(xtask::spec_diff::Format::Markdown));
    });
    report
}

/// The one change of `kind`, which must exist.
pub fn change<'a>(report: &'a Report, kind: &str) -> &'a Change {
    let found: Vec<_> = report.changes.iter().filter(|c| c.kind == kind).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one `{kind}` change, got {}: {:#?}",
        found.len(),
        report.changes
    );
    found[0]
}

/// Asserts the report's verdict, and the severity and two axes of its change of `kind`.
pub fn classified(
    report: &Report,
    verdict: &str,
    kind: &str,
    severity: Severity,
    wire: Impact,
    rust: Impact,
) {
    assert_eq!(report.verdict, verdict, "verdict of {report:#?}");
    let change = change(report, kind);
    assert_eq!(
        (change.severity, change.wire.impact, change.rust.impact),
        (severity, wire, rust),
        "{change:#?}"
    );
}

pub fn api_change<'a>(report: &'a Report, item: &str) -> &'a xtask::spec_diff::rust_api::ApiChange {
    report
        .generated_api
        .changes
        .iter()
        .find(|c| c.item == item)
        .unwrap_or_else(|| panic!("no generated-API change of `{item}`: {:#?}", report.generated_api))
}

/// Reviews a fixture pair without a snapshot.
pub fn review_pair(case: &str) -> Report {
    let sides = Sides {
        spec: case,
        base: "old.yaml",
        head: "new.yaml",
    };
    review(Some(&fixture(case, "old")), &fixture(case, "new"), sides)
        .unwrap_or_else(|e| panic!("{case}: {e:#}"))
}

/// Every fixture pair, by folder name.
pub fn cases() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec_diff");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            entry
                .path()
                .join("new.yaml")
                .exists()
                .then(|| entry.file_name().to_string_lossy().into_owned())
        })
        .collect();
    cases.sort();
    cases
}
