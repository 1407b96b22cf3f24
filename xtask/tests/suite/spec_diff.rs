//! `cargo xtask spec-diff` on fixture pairs: one kind of change per pair, a snapshot of the
//! markdown report, and assertions on the classification.
//!
//! The fixtures are written by `tests/fixtures/spec_diff/make.py` from `base.yaml`.

use crate::support;

use support::{api_change, classified, fixture, reviewed};
use xtask::spec_diff::{Impact, Severity, Sides, review};

#[test]
fn operation_added() {
    let report = reviewed("operation_added");
    classified(
        &report,
        "non-breaking",
        "operation-added",
        Severity::NonBreaking,
        Impact::Compatible,
        Impact::Compatible,
    );
    assert_eq!(api_change(&report, "fn Client::media_meta").change, "added");
}

#[test]
fn operation_removed() {
    let report = reviewed("operation_removed");
    classified(
        &report,
        "breaking",
        "operation-removed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(&report, "fn Client::download").severity,
        Severity::Breaking
    );
}

#[test]
fn request_field_required_added() {
    let report = reviewed("request_field_required_added");
    classified(
        &report,
        "breaking",
        "request-field-added",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
}

/// Wire-compatible, but the generated struct gains a pub field: struct literals break.
#[test]
fn request_field_optional_added_json() {
    let report = reviewed("request_field_optional_added_json");
    classified(
        &report,
        "breaking",
        "request-field-added",
        Severity::Breaking,
        Impact::Compatible,
        Impact::Breaking,
    );
    let field = api_change(&report, "field types::UploadPrepareRequest::checksum");
    assert_eq!((field.change, field.severity), ("added", Severity::Breaking));
    let setter = api_change(&report, "fn types::builder::UploadPrepareRequest::checksum");
    assert_eq!(setter.severity, Severity::NonBreaking);
}

/// The same addition on a multipart body adds a builder setter (compatible) and a pub field of
/// the request-body type `types::UploadPartForm` (struct literals break), as for JSON bodies.
#[test]
fn request_field_optional_added_multipart() {
    let report = reviewed("request_field_optional_added_multipart");
    classified(
        &report,
        "breaking",
        "request-field-added",
        Severity::Breaking,
        Impact::Compatible,
        Impact::Breaking,
    );
    let setter = api_change(&report, "fn builder::UploadPart::checksum");
    assert_eq!((setter.change, setter.severity), ("added", Severity::NonBreaking));
    let field = api_change(&report, "field types::UploadPartForm::checksum");
    assert_eq!((field.change, field.severity), ("added", Severity::Breaking));
}

#[test]
fn query_parameter_optional_added() {
    let report = reviewed("query_parameter_optional_added");
    classified(
        &report,
        "non-breaking",
        "parameter-added",
        Severity::NonBreaking,
        Impact::Compatible,
        Impact::Compatible,
    );
}

#[test]
fn request_field_type_changed() {
    let report = reviewed("request_field_type_changed");
    classified(
        &report,
        "breaking",
        "type-changed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
    let field = api_change(&report, "field types::UploadPrepareRequest::size");
    assert_eq!(field.change, "changed");
}

#[test]
fn request_max_length_narrowed() {
    let report = reviewed("request_max_length_narrowed");
    classified(
        &report,
        "breaking",
        "bound-narrowed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Behaviour,
    );
    assert!(
        report.generated_api.changes.is_empty(),
        "validation only: no signature changes"
    );
}

#[test]
fn request_min_length_removed() {
    // Widened on the wire, but the validating newtype becomes a plain one: `&str` conversions go.
    let report = reviewed("request_min_length_removed");
    classified(
        &report,
        "breaking",
        "bound-widened",
        Severity::Breaking,
        Impact::Compatible,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(
            &report,
            "impl ::std::convert::TryFrom<&str> for ParentType (in types)"
        )
        .change,
        "removed"
    );
}

#[test]
fn response_field_removed() {
    let report = reviewed("response_field_removed");
    classified(
        &report,
        "breaking",
        "response-field-removed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(&report, "field types::UploadPrepareData::block_num").change,
        "removed"
    );
}

#[test]
fn response_field_now_optional() {
    let report = reviewed("response_field_now_optional");
    classified(
        &report,
        "breaking",
        "field-now-optional",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(&report, "field types::UploadPrepareData::upload_id").change,
        "changed"
    );
}

/// A closed `enum:` in a response becomes an exhaustive Rust enum: a new value breaks old
/// clients (deserialization) and `match`es (a new variant).
#[test]
fn response_enum_value_added() {
    let report = reviewed("response_enum_value_added");
    classified(
        &report,
        "breaking",
        "enum-value-added",
        Severity::Breaking,
        Impact::Breaking,
        Impact::Breaking,
    );
    assert_eq!(
        api_change(&report, "variant types::UploadStatus::Expired").severity,
        Severity::Breaking
    );
}

/// `x-extensible-enum` is an open set: a new documented value breaks nothing.
#[test]
fn extensible_enum_value_added() {
    let report = reviewed("extensible_enum_value_added");
    classified(
        &report,
        "non-breaking",
        "extensible-enum-value-added",
        Severity::NonBreaking,
        Impact::Compatible,
        Impact::Compatible,
    );
}

/// Refactoring an inline schema into a component is not reported as removed + added fields.
#[test]
fn schema_moved_into_ref() {
    let report = reviewed("schema_moved_into_ref");
    assert!(
        report.changes.iter().all(|c| !c.kind.contains("field")),
        "{:#?}",
        report.changes
    );
    classified(
        &report,
        "non-breaking",
        "schema-extracted",
        Severity::NonBreaking,
        Impact::None,
        Impact::Compatible,
    );
}

/// `ErrorCode` is #[non_exhaustive]: a new code (a new variant) breaks no `match`.
#[test]
fn error_code_added() {
    let report = reviewed("error_code_added");
    classified(
        &report,
        "non-breaking",
        "error-code-added",
        Severity::NonBreaking,
        Impact::Compatible,
        Impact::Compatible,
    );
    assert_eq!(
        api_change(&report, "variant ErrorCode::ClientConnectClose").severity,
        Severity::NonBreaking
    );
    // `ALL` is a slice: its type does not change when a row is added, so it is not reported.
    assert!(
        report
            .generated_api
            .changes
            .iter()
            .all(|c| !c.item.contains("ErrorCode::ALL"))
    );
}

#[test]
fn error_code_removed() {
    let report = reviewed("error_code_removed");
    classified(
        &report,
        "breaking",
        "error-code-removed",
        Severity::Breaking,
        Impact::Behaviour,
        Impact::Breaking,
    );
}

/// A retryability change compiles the same but changes what retry loops do.
#[test]
fn error_code_retryability_changed() {
    let report = reviewed("error_code_retryability_changed");
    classified(
        &report,
        "behaviour",
        "error-code-retryability-changed",
        Severity::Behaviour,
        Impact::Behaviour,
        Impact::Behaviour,
    );
    assert!(!report.is_breaking());
}

#[test]
fn server_added() {
    let report = reviewed("server_added");
    classified(
        &report,
        "non-breaking",
        "server-added",
        Severity::NonBreaking,
        Impact::Compatible,
        Impact::None,
    );
}

#[test]
fn security_scheme_changed() {
    let report = reviewed("security_scheme_changed");
    classified(
        &report,
        "breaking",
        "security-scheme-changed",
        Severity::Breaking,
        Impact::Breaking,
        Impact::None,
    );
}

#[test]
fn description_only() {
    let report = reviewed("description_only");
    assert_eq!(report.verdict, "docs-only");
    assert!(report.changes.iter().all(|c| c.severity == Severity::DocsOnly));
    assert_eq!(report.changes.len(), 2, "{:#?}", report.changes);
    assert!(report.generated_api.changes.is_empty());
}

/// The real spec against itself: nothing to report, and both sides generate.
#[test]
fn real_spec_is_unchanged_against_itself() {
    let root = xtask::workspace_root();
    let spec = std::fs::read_to_string(root.join(xtask::codegen::SPEC)).expect("reading the spec");
    let report = review(
        Some(&spec),
        &spec,
        Sides {
            spec: "spec/feishu-drive.yaml",
            base: "a",
            head: "b",
        },
    )
    .expect("review");
    assert_eq!(report.verdict, "unchanged", "{report:#?}");
    assert!(report.generated_api.compared);
}

/// A spec that did not exist at the base: everything is new, nothing breaks.
#[test]
fn no_base_spec_means_everything_is_added() {
    let new = fixture("description_only", "old");
    let report = review(
        None,
        &new,
        Sides {
            spec: "spec.yaml",
            base: "none",
            head: "new",
        },
    )
    .expect("review");
    assert!(!report.is_breaking(), "{report:#?}");
    assert_eq!(report.verdict, "non-breaking");
    let added: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.kind == "operation-added")
        .collect();
    assert_eq!(added.len(), 3, "one per operation: {added:#?}");
}

/// Input that is not a spec is an error, not a panic.
#[test]
fn invalid_yaml_is_an_error() {
    let sides = Sides {
        spec: "x",
        base: "a",
        head: "b",
    };
    let error = review(Some("openapi: 3.0.3\n"), "openapi: [", sides).expect_err("invalid YAML");
    assert!(
        error.to_string().contains("head spec is not valid YAML"),
        "{error}"
    );
    // Valid YAML the code generator rejects still gets a semantic review.
    let report = review(Some("openapi: 3.0.3\n"), "openapi: 3.0.3\npaths: {}\n", sides).expect("review");
    assert!(!report.generated_api.compared);
}

/// Odd but parseable documents: reference cycles, dangling references, wrong types where objects
/// are expected. The review must report what it can and never panic.
#[test]
fn odd_documents_do_not_panic() {
    let documents = [
        "{}",
        "openapi: 3.0.3\npaths: 5\ncomponents: []\nservers: {}\nsecurity: 3\n",
        "openapi: 3.0.3\npaths:\n  /a:\n    get: 7\n    post: {operationId: a, requestBody: {$ref: '#/nowhere'}, responses: 3}\n",
        concat!(
            "openapi: 3.0.3\n",
            "paths:\n  /a:\n    post:\n      operationId: a\n      parameters: [{$ref: '#/x'}, 4, {in: query}]\n",
            "      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}\n",
            "      responses: {'200': {$ref: '#/components/responses/R'}}\n",
            "components:\n  schemas:\n",
            "    A: {type: object, properties: {self: {$ref: '#/components/schemas/A'}, b: {$ref: '#/components/schemas/B'}}, required: 5}\n",
            "    B: {$ref: '#/components/schemas/C'}\n    C: {$ref: '#/components/schemas/B'}\n",
            "    D: {allOf: [{$ref: '#/components/schemas/D'}, 3, {properties: 4}]}\n",
            "  responses:\n    R: {$ref: '#/components/responses/R'}\n",
        ),
        "openapi: 3.0.3\nx-feishu-error-codes: [{code: 1}, 5, {code: 2, name: X, source: table, http_status: 200, retryable: true, message: m, hint: h}]\n",
        "openapi: 3.0.3\nx-feishu-error-codes: {not: a list}\ncomponents: {securitySchemes: {a: 5, b: {type: http}}}\n",
        "- a list\n- at the top\n",
    ];
    let sides = Sides {
        spec: "odd.yaml",
        base: "a",
        head: "b",
    };
    for old in &documents {
        for new in &documents {
            // Errors (not a mapping at the top) are fine; panics are not.
            if let Ok(report) = review(Some(old), new, sides) {
                for format in [
                    xtask::spec_diff::Format::Terminal,
                    xtask::spec_diff::Format::Markdown,
                    xtask::spec_diff::Format::Json,
                ] {
                    assert!(!report.render(format).is_empty());
                }
            }
        }
    }
}
