//! spec-diff's newer rules on fixture pairs (multipart encoding, vendor extensions, deprecation),
//! the semver recommendation, and fingerprints: unique in a review, stable under unrelated edits.
//!
//! The fixtures are written by `tests/fixtures/spec_diff/make.py` from `base.yaml`.

use crate::support;

use std::collections::BTreeMap;

use support::{api_change, cases, change, classified, fixture, review_pair, reviewed};
use xtask::spec_diff::{Bump, Impact, Severity, Side, Sides, review};

/// A part's content type is on the wire; the generated client labels binary parts with it.
#[test]
fn multipart_part_content_type_changed() {
    let report = reviewed("multipart_part_content_type_changed");
    classified(
        &report,
        "breaking",
        "encoding-content-type-changed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Behaviour,
    );
    let c = change(&report, "encoding-content-type-changed");
    assert!(
        c.summary.contains("`application/octet-stream` → `image/png`"),
        "{c:#?}"
    );
    assert!(
        c.rust.why.contains("labels the `file` part `image/png`"),
        "{c:#?}"
    );
    assert!(
        report.changes.iter().all(|c| c.kind != "unmodelled-change"),
        "the encoding is modelled now: {:#?}",
        report.changes
    );
}

/// A required part header: old clients lack it, and the generated builder sends none.
#[test]
fn multipart_part_header_added() {
    let report = reviewed("multipart_part_header_added");
    classified(
        &report,
        "breaking",
        "encoding-header-added",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
}

/// OpenAPI's default content type of a non-binary part is `text/plain`: writing it out is no
/// change at all.
#[test]
fn multipart_default_content_type_made_explicit() {
    let report = reviewed("multipart_default_content_type_made_explicit");
    assert_eq!(report.verdict, "unchanged", "{:#?}", report.changes);
}

/// `x-feishu-rate-limit` is what the client's budget is generated from.
#[test]
fn rate_limit_lowered() {
    let report = reviewed("rate_limit_lowered");
    assert_eq!(report.verdict, "behaviour");
    let at = |location: &str| {
        let found: Vec<_> = report.changes.iter().filter(|c| c.location == location).collect();
        assert_eq!(found.len(), 1, "{location}: {:#?}", report.changes);
        found[0]
    };
    let document = at("x-feishu-rate-limit (document-wide)");
    let operation = at("x-feishu-rate-limit (operation `upload_part`)");
    for c in [document, operation] {
        assert_eq!((c.kind, c.severity), ("rate-limit-changed", Severity::Behaviour));
        assert_eq!(
            (c.wire.impact, c.rust.impact),
            (Impact::Behaviour, Impact::Behaviour)
        );
        assert_eq!(c.summary, "`requests_per_second` 5 → 3");
    }
    assert!(
        document
            .rust
            .why
            .contains("`limits::REQUESTS_PER_SECOND` is generated from it")
            && document
                .rust
                .why
                .contains("at 3 requests per second instead of 5"),
        "{document:#?}"
    );
    assert!(
        operation.rust.why.contains("returns 3 instead of 5"),
        "{operation:#?}"
    );
    assert_eq!(operation.operations, ["upload_part"]);
    assert_eq!(report.semver, Bump::Minor);
}

/// The retryable column drives the client's retries: the reason says which way they change.
#[test]
fn retryability_says_what_the_client_does() {
    let report = review_pair("error_code_retryability_changed");
    let c = change(&report, "error-code-retryability-changed");
    assert!(
        c.rust
            .why
            .contains("the uploader and downloader fail at once on 1062012 instead of retrying it"),
        "{c:#?}"
    );
}

/// `deprecated: true` added is information only.
#[test]
fn operation_deprecated() {
    let report = reviewed("operation_deprecated");
    classified(
        &report,
        "docs-only",
        "operation-deprecated",
        Severity::DocsOnly,
        Impact::Docs,
        Impact::Docs,
    );
    assert_eq!(report.semver, Bump::Patch);
}

#[test]
fn request_field_deprecated() {
    let report = reviewed("request_field_deprecated");
    classified(
        &report,
        "docs-only",
        "field-deprecated",
        Severity::DocsOnly,
        Impact::Docs,
        Impact::Docs,
    );
}

/// Removing a deprecated operation was announced: a behaviour change on the wire, where removing
/// one that never was deprecated breaks clients unannounced. Both break the Rust API.
#[test]
fn deprecated_operation_removed_weighs_less_than_an_unannounced_removal() {
    let announced = reviewed("deprecated_operation_removed");
    classified(
        &announced,
        "breaking",
        "deprecated-operation-removed",
        Severity::Breaking,
        Impact::Behaviour,
        Impact::Breaking,
    );
    let unannounced = review_pair("operation_removed");
    let removed = change(&unannounced, "operation-removed");
    assert_eq!(removed.wire.impact, Impact::Breaking);
    assert!(removed.wire.why.contains("never deprecated"), "{removed:#?}");
    assert!(removed.wire.impact > change(&announced, "deprecated-operation-removed").wire.impact);
}

#[test]
fn deprecated_request_field_removed_weighs_less_than_an_unannounced_removal() {
    let announced = reviewed("deprecated_request_field_removed");
    classified(
        &announced,
        "breaking",
        "deprecated-request-field-removed",
        Severity::Breaking,
        Impact::Compatible,
        Impact::Breaking,
    );
    let unannounced = reviewed("request_field_removed");
    classified(
        &unannounced,
        "breaking",
        "request-field-removed",
        Severity::Breaking,
        Impact::Behaviour,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(&unannounced, "field types::UploadPrepareRequest::extra").change,
        "removed"
    );
}

/// The semver bump for a breaking, an additive and a docs-only change, with the deciding change.
#[test]
fn semver_recommendation() {
    for (case, bump, decided_by) in [
        ("operation_removed", Bump::Major, "operation `download`"),
        ("operation_added", Bump::Minor, "operation `media_meta`"),
        ("error_code_added", Bump::Minor, "error code 1062051"),
        (
            "security_scheme_changed",
            Bump::Minor,
            "security scheme `tenant_access_token`",
        ),
        ("description_only", Bump::Patch, ""),
    ] {
        let report = review_pair(case);
        assert_eq!(report.semver, bump, "{case}: {:#?}", report.semver_decision);
        let decision = &report.semver_decision;
        let deciding = decision.change.as_deref().unwrap_or_default();
        assert!(deciding.starts_with(decided_by), "{case}: {decision:#?}");
        // The deciding change is one of the report's, named by its fingerprint.
        let fingerprint = decision.fingerprint.as_deref().unwrap_or_default();
        let named = report.changes.iter().any(|c| c.fingerprint == fingerprint)
            || report
                .generated_api
                .changes
                .iter()
                .any(|c| c.fingerprint == fingerprint);
        assert!(named, "{case}: {decision:#?}");
        let json: serde_json::Value =
            serde_json::from_str(&report.render(xtask::spec_diff::Format::Json)).expect("JSON");
        assert_eq!(json["semver"], bump.label(), "{case}");
    }
    let unchanged = review(
        Some(&fixture("description_only", "old")),
        &fixture("description_only", "old"),
        Sides {
            spec: "s",
            base: "a",
            head: "b",
        },
    )
    .expect("review");
    assert_eq!((unchanged.verdict, unchanged.semver), ("unchanged", Bump::Patch));
}

/// No two changes of one review share a fingerprint, in any fixture: an ignore entry names one
/// change. Every fingerprint is 12 lower-case hex digits, in every format.
#[test]
fn fingerprints_are_unique_and_in_every_format() {
    let mut reports: Vec<(String, xtask::spec_diff::Report)> = cases()
        .into_iter()
        .map(|case| (case.clone(), review_pair(&case)))
        .collect();
    reports.push(("many changes at one place".to_owned(), many_at_one_place()));
    for (case, report) in reports {
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        let all = report
            .changes
            .iter()
            .map(|c| (c.fingerprint.as_str(), format!("{} {}", c.kind, c.location)))
            .chain(
                report
                    .generated_api
                    .changes
                    .iter()
                    .map(|c| (c.fingerprint.as_str(), c.item.clone())),
            );
        for (fingerprint, what) in all {
            assert!(
                fingerprint.len() == 12 && fingerprint.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
                "{case}: {fingerprint}"
            );
            if let Some(other) = seen.insert(fingerprint, what.clone()) {
                panic!("{case}: {fingerprint} names both {other} and {what}");
            }
            for format in [
                xtask::spec_diff::Format::Terminal,
                xtask::spec_diff::Format::Markdown,
                xtask::spec_diff::Format::Json,
            ] {
                assert!(
                    report.render(format).contains(fingerprint),
                    "{case} {format:?}: {fingerprint}"
                );
            }
        }
        for change in &report.changes {
            assert!(
                report
                    .render(xtask::spec_diff::Format::Github)
                    .contains(&change.fingerprint),
                "{case} github: {}",
                change.fingerprint
            );
        }
    }
}

/// One rule firing several times at one location: two bounds of `FileName` narrowed (a component
/// used by a request), two texts of one error row. Only their subjects tell them apart.
fn many_at_one_place() -> xtask::spec_diff::Report {
    let old = fixture("description_only", "old");
    let new = old
        .replacen(
            "      minLength: 1\n      maxLength: 250\n",
            "      minLength: 2\n      maxLength: 200\n",
            1,
        )
        .replacen(
            "message: \"file copying.\", hint: \"The file is being copied. Retry later.\"",
            "message: \"file is copying.\", hint: \"The file is being copied. Retry in a minute.\"",
            1,
        );
    let sides = Sides {
        spec: "s",
        base: "a",
        head: "b",
    };
    let report = review(Some(&old), &new, sides).expect("review");
    let count = |kind: &str| report.changes.iter().filter(|c| c.kind == kind).count();
    assert_eq!(
        (count("bound-narrowed"), count("error-code-text-changed")),
        (2, 2),
        "{:#?}",
        report.changes
    );
    report
}

/// Lines shift and other parts of the spec change; the fingerprint of the change under review
/// does not, while its annotation moves with its line.
#[test]
fn fingerprints_survive_unrelated_edits() {
    let case = "request_max_length_narrowed";
    let (old, new) = (fixture(case, "old"), fixture(case, "new"));
    let sides = Sides {
        spec: case,
        base: "old",
        head: "new",
    };
    let before = review(Some(&old), &new, sides).expect("review");
    let narrowed = change(&before, "bound-narrowed");

    // Unrelated edits on both sides: ten comment lines at the top, a new error code at the head
    // of the table, a new server; and on the head only, a description elsewhere.
    let shift = |text: &str| {
        let comments = "# an unrelated comment\n".repeat(10);
        let row = "x-feishu-error-codes:\n  - { code: 1069999, name: Unrelated, source: table, http_status: 400, retryable: false, message: \"m.\", hint: \"h.\" }\n";
        let text = text.replacen("x-feishu-error-codes:\n", row, 1);
        let text = text.replacen("servers:\n", "servers:\n  - url: https://unrelated.example\n", 1);
        format!("{comments}{text}")
    };
    let new_edited = shift(&new).replacen(
        "Declares a file and returns the upload transaction.",
        "Declares a file; returns the upload transaction.",
        1,
    );
    let after = review(Some(&shift(&old)), &new_edited, sides).expect("review");
    let moved = change(&after, "bound-narrowed");
    assert_eq!(moved.fingerprint, narrowed.fingerprint);
    let (a, b) = (
        narrowed.node.as_ref().expect("node"),
        moved.node.as_ref().expect("node"),
    );
    assert_eq!(a.side, Side::Head);
    assert_eq!(b.line.zip(a.line).map(|(b, a)| b - a), Some(12), "{a:?} → {b:?}");
    // The edit on the head side is its own change; the one under review is unaffected by it.
    assert!(
        after.changes.iter().any(|c| c.kind == "docs-changed"),
        "{:#?}",
        after.changes
    );
}

/// The ignore file at the library level: an entry applies through its `until` day and not after,
/// and two entries naming one change are both known (neither reported as unknown).
#[test]
fn ignore_entries_apply_through_their_day() {
    let report = review_pair("multipart_part_content_type_changed");
    let fingerprint = change(&report, "encoding-content-type-changed")
        .fingerprint
        .clone();
    let text = format!(
        "ignore:\n  - fingerprint: {fingerprint}\n    reason: accepted\n    until: 2030-06-30\n  - rule: encoding-content-type-changed\n    location: upload_part request body part `file`\n    reason: the same change, by rule\n    until: 2030-06-30\n"
    );
    let file = xtask::spec_diff::IgnoreFile::parse(&text, "ignore.yaml").expect("valid");
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2030, 6, d).expect("date");
    let on_the_day = report.clone().ignoring(&file, day(30));
    let outcome = on_the_day.ignore.as_ref().expect("outcome");
    assert_eq!(on_the_day.verdict, "unchanged");
    assert_eq!(
        (outcome.ignored.len(), outcome.unknown.len()),
        (1, 0),
        "{outcome:#?}"
    );
    assert_eq!(outcome.ignored[0].rule, "encoding-content-type-changed");
    let after = report.ignoring(&file, day(30).succ_opt().expect("date"));
    let outcome = after.ignore.as_ref().expect("outcome");
    assert_eq!(after.verdict, "breaking");
    assert_eq!(
        (outcome.ignored.len(), outcome.expired.len()),
        (0, 2),
        "{outcome:#?}"
    );
}
