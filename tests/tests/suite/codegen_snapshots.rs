//! Snapshots of what the code generator writes: for the real spec (both files) and for small
//! fixture specs in `tests/fixtures/codegen/`, each exercising one feature.
//!
//! A change in the generator or the spec shows up here as a reviewable diff. Locally a changed
//! snapshot is written next to the old one as `.snap.new` (review with `cargo insta review`, or
//! rerun with `INSTA_UPDATE=always` to accept); with `CI=true` insta writes nothing and the test
//! fails, so a stale snapshot can never pass CI.

use std::path::{Path, PathBuf};

use feishu_drive_codegen::{GeneratedFile, Settings, generate};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Generates from a fixture spec, with no inner type (a stand-alone client).
fn generate_fixture(name: &str) -> Vec<GeneratedFile> {
    generate_fixture_named(name, &format!("tests/fixtures/codegen/{name}.yaml"))
}

/// Like [`generate_fixture`], with `spec_name` in the `@generated` header.
fn generate_fixture_named(name: &str, spec_name: &str) -> Vec<GeneratedFile> {
    let relative = format!("tests/fixtures/codegen/{name}.yaml");
    let settings = Settings {
        inner_type: None,
        spec_name: spec_name.to_owned(),
        ..Settings::default()
    };
    generate(&read(&relative), &settings).unwrap_or_else(|e| panic!("generating {relative}: {e}"))
}

/// Asserts a snapshot stored in `tests/tests/snapshots/`.
///
/// The folder is given as an absolute path: insta otherwise finds it by running `cargo metadata`
/// at test time and, when that fails, silently falls back to a wrong folder.
macro_rules! assert_snapshot {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/suite/snapshots"));
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

fn file<'a>(files: &'a [GeneratedFile], name: &str) -> &'a str {
    let names: Vec<_> = files.iter().map(|f| f.name).collect();
    // The client's settings add the operation table and the limits.
    assert!(
        names == ["api.rs", "error_codes.rs"]
            || names == ["api.rs", "error_codes.rs", "operations.rs", "limits.rs"],
        "the generator's file list changed: {names:?}"
    );
    &files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no generated {name}"))
        .contents
}

/// The text between `start` and the next line that equals `end`, both included.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not in the output"));
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` not after `{start}`"));
    &text[from..from + len + end.len()]
}

#[test]
fn real_spec_api() {
    let files =
        generate(&read("spec/feishu-drive.yaml"), &Settings::client()).expect("the real spec generates");
    assert_snapshot!("real_spec_api_rs", file(&files, "api.rs"));
}

#[test]
fn real_spec_operations_and_limits() {
    let files =
        generate(&read("spec/feishu-drive.yaml"), &Settings::client()).expect("the real spec generates");
    let operations = file(&files, "operations.rs");
    // The facts the hand-written layer used to restate, so an accepted snapshot still fails here.
    for fact in [
        "OperationId::UploadPart => \"/open-apis/drive/v1/medias/upload_part\"",
        "OperationId::Download => \"/open-apis/drive/v1/medias/{file_token}/download\"",
        "OperationId::TenantAccessTokenInternal => false",
        "OperationId::Download => true",
    ] {
        assert!(operations.contains(fact), "operations.rs lacks {fact}");
    }
    assert_snapshot!("real_spec_operations_rs", operations);
    let limits = file(&files, "limits.rs");
    for fact in [
        "pub const UPLOAD_ALL_REQUEST_SIZE_MAXIMUM: u64 = 20971520;",
        "pub const FILE_NAME_MAX_LENGTH: usize = 250;",
        "pub const REQUESTS_PER_SECOND: u32 = 5;",
        "pub const BLOCK_SIZE: u64 = 4194304;",
    ] {
        assert!(limits.contains(fact), "limits.rs lacks {fact}");
    }
    assert_snapshot!("real_spec_limits_rs", limits);
    assert!(
        !file(&files, "api.rs").contains("pub fn new(baseurl"),
        "the client's Client::new (15 s whole-request cap) must be left out"
    );
}

#[test]
fn real_spec_error_codes() {
    let files =
        generate(&read("spec/feishu-drive.yaml"), &Settings::client()).expect("the real spec generates");
    assert_snapshot!("real_spec_error_codes_rs", file(&files, "error_codes.rs"));
}

/// (a) A multipart operation: required and optional text, an inline string with length bounds, a
/// `$ref`'d string component, integers with bounds, required and optional binary parts.
#[test]
fn multipart_operation() {
    let files = generate_fixture("multipart");
    let api = file(&files, "api.rs");

    // The pieces the fixture exists for, so a snapshot accepted by mistake still fails here.
    let send = section(api, "pub async fn send(", "\n        }\n");
    for expected in [
        // Required fields are checked before anything is sent.
        "\"`name` is required but was not set\"",
        "\"`priority` is required but was not set\"",
        "\"`file` is required but was not set\"",
        // Inline string bounds, counted in characters.
        "\"`name` must be at least 1 characters, got {}\"",
        "\"`name` must be at most 64 characters, got {}\"",
        "\"`comment` must be at most 140 characters, got {}\"",
        // Integer bounds, the exclusive maximum 5 becoming an inclusive 4.
        "\"`priority` must be at least 1, got {}\"",
        "\"`priority` must be at most 10, got {}\"",
        "\"`retries` must be at most 4, got {}\"",
        // Binary parts with the default and the `encoding` content type.
        ".mime_str(\"application/octet-stream\")",
        ".mime_str(\"image/png\")",
    ] {
        assert!(send.contains(expected), "send() lacks {expected}:\n{send}");
    }
    // The `$ref`'d component keeps its generated newtype, which validates the pattern.
    assert!(api.contains("label: Result<Option<super::types::Label>, String>,"));
    assert!(api.contains("\"^[a-z]+$\""));
    // Form fields go on the wire in the spec's order.
    let order: Vec<usize> = [
        "\"name\"",
        "\"priority\"",
        "\"label\"",
        "\"comment\"",
        "\"retries\"",
        "\"file\"",
        "\"thumbnail\"",
    ]
    .iter()
    .map(|field| {
        let appends = &send[send.find("Form::new()").expect("the form is built")..];
        appends
            .find(field)
            .unwrap_or_else(|| panic!("{field} is never appended"))
    })
    .collect();
    assert!(
        order.is_sorted(),
        "fields are appended out of the spec's order: {order:?}"
    );
    // The multipart body schema is used by nothing else, so no unused type is generated for it.
    assert!(!api.contains("pub struct UploadFileRequest"));

    assert_snapshot!("multipart_api_rs", api);
    assert_compiled_copy_is_fresh("tests/fixtures/codegen/multipart.api.rs", api);
}

/// `codegen_fixture_builds` compiles a committed copy of a fixture's output; it must equal the
/// fresh output. Outside CI a stale copy is rewritten (and the test fails, so that you rerun and
/// review the diff), as insta does with a `.snap.new`; in CI it only fails.
fn assert_compiled_copy_is_fresh(relative: &str, fresh: &str) {
    let path = workspace_root().join(relative);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let in_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if committed != fresh && !in_ci {
        std::fs::write(&path, fresh).unwrap_or_else(|e| panic!("rewriting {relative}: {e}"));
        panic!("{relative} was stale and has been rewritten: review the diff and rerun the tests");
    }
    assert_eq!(
        committed, fresh,
        "{relative} is stale: run the tests outside CI to rewrite it"
    );
}

/// (b) The error table: the generated enum, and the difference one added row makes.
#[test]
fn error_table_added_row() {
    let base_spec = read("tests/fixtures/codegen/error_table.yaml");
    let added_spec = read("tests/fixtures/codegen/error_table_added.yaml");
    // The two fixtures differ by exactly one row (comments aside), so the diff below is the
    // effect of that row and nothing else.
    let rows = |spec: &str| -> Vec<String> {
        spec.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let (base_rows, added_rows) = (rows(&base_spec), rows(&added_spec));
    let extra: Vec<&String> = added_rows.iter().filter(|l| !base_rows.contains(l)).collect();
    assert_eq!(
        extra.len(),
        1,
        "error_table_added.yaml must add exactly one line: {extra:?}"
    );
    assert!(extra[0].contains("name: FileCopying"), "{extra:?}");
    assert_eq!(added_rows.len(), base_rows.len() + 1);

    // One header for both, so that the diff shows only what the row changes.
    let base = generate_fixture_named("error_table", "the error-table fixture");
    let added = generate_fixture_named("error_table_added", "the error-table fixture");
    let (base_codes, added_codes) = (file(&base, "error_codes.rs"), file(&added, "error_codes.rs"));
    // The row changes the enum and nothing in api.rs.
    assert_eq!(file(&base, "api.rs"), file(&added, "api.rs"));
    assert!(!base_codes.contains("FileCopying"));
    for expected in [
        "    FileCopying,\n",
        "pub const ALL: &'static [ErrorCode] = &[",
        "1062012i64 => ErrorCode::FileCopying,",
        "ErrorCode::FileCopying => 1062012i64,",
        "ErrorCode::FileCopying => Some(400u16),",
        "ErrorCode::FileCopying => Some(\"file copying.\"),",
        "ErrorCode::FileCopying => true,",
    ] {
        assert!(
            added_codes.contains(expected),
            "error_codes.rs lacks {expected:?}"
        );
    }

    assert_snapshot!("error_table_error_codes_rs", added_codes);
    let diff = similar::TextDiff::from_lines(base_codes, added_codes)
        .unified_diff()
        .context_radius(1)
        .header("error_table.yaml", "error_table_added.yaml")
        .to_string();
    assert_snapshot!("error_table_added_row_diff", diff);
}

/// (c) A JSON operation, generated by progenitor, plus the envelope impls added to it.
#[test]
fn json_operation() {
    let files = generate_fixture("json");
    let api = file(&files, "api.rs");
    for expected in [
        "pub fn create_file(&self) -> builder::CreateFile<'_>",
        "\"{}/folders/{}/files\", client.baseurl, encode_path(&",
        ".json(&body)",
        "impl Envelope for types::CreateFileResponse {",
        "impl EnvelopeData for types::CreateFileResponse {",
        "type Data = types::CreateFileData;",
        "impl Envelope for types::Error {",
    ] {
        assert!(api.contains(expected), "api.rs lacks {expected:?}");
    }
    // No multipart operation, so no multipart `impl Client` block.
    assert!(!api.contains("Operations with `multipart/form-data` bodies"));
    assert_snapshot!("json_api_rs", api);
    // No error table: an enum with only `Unknown`.
    let codes = file(&files, "error_codes.rs");
    assert!(codes.contains("pub const ALL: &'static [ErrorCode] = &[];"));
    assert_snapshot!("json_error_codes_rs", codes);
}

#[test]
fn lenient_operations() {
    // Outside strict mode, shapes of real specs that strict generation refuses (see the
    // fixture's header); none of its operations is left out.
    let relative = "tests/fixtures/codegen/lenient.yaml";
    let settings = Settings {
        inner_type: None,
        spec_name: relative.to_owned(),
        strict: false,
        ..Settings::default()
    };
    let output = feishu_drive_codegen::generate_output(&read(relative), &settings)
        .unwrap_or_else(|e| panic!("generating {relative}: {e}"));
    assert!(output.left_out.is_empty(), "left out: {:?}", output.left_out);
    let counts = output.counts;
    assert_eq!((counts.operations, counts.generated, counts.multipart), (7, 7, 6));
    assert_eq!(
        (counts.multipart_generated, counts.multipart_sent_otherwise),
        (5, 1)
    );
    let api = file(&output.files, "api.rs");
    // The `$ref`'d allOf form with a sibling `required`: both real fields required, the name
    // that is no field ignored; its component response and its two identical errors typed.
    let attach_send = section(api, "ResponseValue<super::types::Stored>", "\n        }\n");
    for piece in [
        "\"`title` is required but was not set\"",
        "\"`file` is required but was not set\"",
        "400u16 => {",
        "403u16 => {",
        "read_json::<_, super::types::AttachErrorResponse>",
    ] {
        assert!(attach_send.contains(piece), "attach lacks {piece}");
    }
    assert!(!api.contains("`name` is required"));
    assert!(!api.contains("AttachErrorResponse2"));
    // 2xx of different schemas are bytes; errors of different schemas keep theirs.
    let import = section(
        api,
        "ResponseValue<::progenitor_client::ByteStream>",
        "\n        }\n",
    );
    for piece in [
        "409u16 => Err(Error::UnexpectedResponse(response))",
        "400u16 => Err(Error::UnexpectedResponse(response))",
    ] {
        assert!(import.contains(piece), "import lacks {piece}");
    }
    // `default` alone is the success; the array body is sent as JSON, and says why.
    assert!(api.contains("200u16..=299u16 => read_json(response).await"));
    assert!(api.contains("ResponseValue<super::types::Imported>"));
    assert!(api.contains(
        "is no form (it does not say which parts to send), so this client sends `application/json`"
    ));
    assert!(api.contains("pub fn delete_images(&self) -> builder::DeleteImages<'_>"));
    // Renamed setters, the first of the listed part types, the schema-less JSON error.
    for piece in [
        "pub fn id_field<V>",
        "pub fn body_field<V>",
        "Sent as a file part with `Content-Type: image/png`.",
        "::progenitor_client::Error<super::types::UpdateThingErrorResponse>",
        "pub struct UpdateThingErrorResponse(pub ::serde_json::Value);",
    ] {
        assert!(api.contains(piece), "update_thing lacks {piece}");
    }

    // Properties and parameters whose Rust names collide get apart, the wire names kept; the
    // component typify would name `Ok` is `OkSchema`.
    for piece in [
        "pub id_2: ::std::option::Option<::std::string::String>,",
        "rename = \"@id\",",
        "pub x_axis_2: ::std::option::Option<Axis>,",
        "#[serde(rename = \"Name\")]\n        pub name_2: ::serde_json::Value,",
        "QueryParam::new(\"status[]\", &status_2)",
        "pub meta: ::std::option::Option<OkSchema>,",
        "pub owner: ::std::option::Option<RecordOwner2>,",
        "pub role: ::std::option::Option<RecordOwner>,",
        "pub kind: ::std::option::Option<RecordKind>,",
        "pub copy_kind: ::std::option::Option<RecordKind>,",
    ] {
        assert!(api.contains(piece), "get_record lacks {piece}");
    }
    assert!(!api.contains("~~"), "a placeholder name is left");
    assert!(!api.contains("pub struct Ok("));
    assert_eq!(api.matches("pub enum RecordKind {").count(), 1);
    assert_snapshot!("lenient_api_rs", api);
    assert_compiled_copy_is_fresh("tests/fixtures/codegen/lenient.api.rs", api);
}
