//! Specs the generator must refuse: each gives the specific `CodegenError` variant, a message that
//! names the place (operation and path, path, or error-table row) and the problem, and no panic.
//!
//! Most cases are a valid base spec with one change, so each test exercises exactly one problem;
//! `the_base_spec_is_valid` checks that the base itself generates.
//!
//! Why this file is long: a catalogue of 61 refusals, one short spec and assertion each, built from the spec fragments defined at the top; split by error kind they would scatter those builders.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use feishu_drive_codegen::{CodegenError, Settings, generate};
use serde_json::{Value, json};

thread_local! {
    /// Panics on this thread since the last reset, including ones caught inside the generator.
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Counts every panic, caught or not, per thread: "no panic" means no panic at all, not one
/// that the generator's own `catch_unwind` around progenitor turned into an error.
fn install_panic_counter() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
}

/// Generates from `text`, which must fail without any panic; returns the error.
fn error_of(text: &str) -> CodegenError {
    install_panic_counter();
    PANICS.with(|p| p.set(0));
    let result = catch_unwind(AssertUnwindSafe(|| generate(text, &Settings::client())));
    let panics = PANICS.with(Cell::get);
    let result = result.unwrap_or_else(|_| panic!("the generator panicked on:\n{text}"));
    assert_eq!(panics, 0, "the generator panicked (and caught it) on:\n{text}");
    match result {
        Ok(_) => panic!("the generator accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Generates from `text`, which must succeed without any panic (caught or not); returns `api.rs`.
fn api_of(text: &str) -> String {
    install_panic_counter();
    PANICS.with(|p| p.set(0));
    let result = catch_unwind(AssertUnwindSafe(|| generate(text, &Settings::client())));
    let panics = PANICS.with(Cell::get);
    let result = result.unwrap_or_else(|_| panic!("the generator panicked on:\n{text}"));
    assert_eq!(panics, 0, "the generator panicked (and caught it) on:\n{text}");
    let files = result.unwrap_or_else(|e| panic!("the generator refused ({e}):\n{text}"));
    files
        .into_iter()
        .find(|f| f.name == "api.rs")
        .expect("an api.rs")
        .contents
}

/// A valid spec: one JSON operation, one multipart operation, a two-row error table.
fn base() -> Value {
    let envelope = json!({
        "type": "object",
        "required": ["code", "msg"],
        "properties": {
            "code": {"type": "integer", "format": "int64"},
            "msg": {"type": "string"}
        }
    });
    let responses = json!({
        "200": {
            "description": "Done.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}
        },
        "400": {
            "description": "Rejected.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        }
    });
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Malformed-spec base", "version": "1"},
        "x-feishu-error-codes": [
            {"code": 1061002, "name": "ParamsError", "source": "table", "http_status": 400,
             "retryable": false, "message": "params error.", "hint": "Check the parameters."},
            {"code": 1061045, "name": "CanRetry", "source": "table", "http_status": 200,
             "retryable": true, "message": "can retry.", "hint": "Retry later."}
        ],
        "paths": {
            "/prepare": {
                "post": {
                    "operationId": "prepare",
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PrepareRequest"}}}
                    },
                    "responses": responses.clone()
                }
            },
            "/upload": {
                "post": {
                    "operationId": "upload",
                    "requestBody": {
                        "required": true,
                        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/UploadRequest"}}}
                    },
                    "responses": responses
                }
            }
        },
        "components": {
            "schemas": {
                "Envelope": envelope.clone(),
                "Error": envelope,
                "PrepareRequest": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}}
                },
                "UploadRequest": {
                    "type": "object",
                    "required": ["upload_id", "seq", "file"],
                    "properties": {
                        "upload_id": {"type": "string", "minLength": 1},
                        "seq": {"type": "integer", "format": "int64", "minimum": 0},
                        "file": {"type": "string", "format": "binary"}
                    }
                }
            }
        }
    })
}

/// The base spec with one change, as YAML text.
fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut spec = base();
    change(&mut spec);
    serde_yaml_ng::to_string(&spec).expect("a JSON value serialises as YAML")
}

/// The value at a JSON pointer, which must exist.
fn at<'a>(spec: &'a mut Value, pointer: &str) -> &'a mut Value {
    spec.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the base spec has no {pointer}"))
}

/// Adds `value` as `key` of the object at `pointer`.
fn insert(spec: &mut Value, pointer: &str, key: &str, value: Value) {
    at(spec, pointer)
        .as_object_mut()
        .unwrap_or_else(|| panic!("{pointer} is not an object"))
        .insert(key.to_owned(), value);
}

/// Removes `key` from the object at `pointer`; it must have been there.
fn remove(spec: &mut Value, pointer: &str, key: &str) {
    let removed = at(spec, pointer)
        .as_object_mut()
        .unwrap_or_else(|| panic!("{pointer} is not an object"))
        .remove(key);
    assert!(removed.is_some(), "{pointer} has no {key}");
}

/// Asserts an `Operation` error for `operation` at `method path` whose problem contains every
/// one of `problem`, and that the message shows all of it.
#[track_caller]
fn assert_operation_error(error: &CodegenError, operation: &str, method: &str, path: &str, problem: &[&str]) {
    let CodegenError::Operation {
        operation: op,
        method: m,
        path: p,
        problem: pr,
    } = error
    else {
        panic!("expected CodegenError::Operation, got {error:?}");
    };
    assert_eq!(
        (op.as_str(), m.as_str(), p.as_str()),
        (operation, method, path),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("operation `{operation}` ({method} {path}): ")),
        "the message does not name the operation and path: {message}"
    );
    for needle in problem {
        assert!(pr.contains(needle), "the problem lacks {needle:?}: {message}");
    }
}

/// Asserts an `ErrorTable` error for row `index` whose problem contains every one of `problem`.
#[track_caller]
fn assert_row_error(error: &CodegenError, index: usize, problem: &[&str]) {
    let CodegenError::ErrorTable {
        index: i,
        problem: pr,
    } = error
    else {
        panic!("expected CodegenError::ErrorTable, got {error:?}");
    };
    assert_eq!(*i, index, "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("x-feishu-error-codes, row {index}: ")),
        "the message does not name the row: {message}"
    );
    for needle in problem {
        assert!(pr.contains(needle), "the problem lacks {needle:?}: {message}");
    }
}

fn error_row(code: i64, name: &str) -> Value {
    json!({"code": code, "name": name, "source": "table", "http_status": 400, "retryable": false,
           "message": "a message.", "hint": "A hint."})
}

#[test]
fn the_base_spec_is_valid() {
    install_panic_counter();
    PANICS.with(|p| p.set(0));
    let files = generate(&with(|_| {}), &Settings::client()).expect("the base spec generates");
    assert_eq!(PANICS.with(Cell::get), 0);
    assert!(
        files[0]
            .contents
            .contains("pub fn upload(&self) -> builder::Upload<'_>")
    );
    assert!(
        files[0]
            .contents
            .contains("pub fn prepare(&self) -> builder::Prepare<'_>")
    );
    assert!(files[1].contents.contains("CanRetry,"));
}

// ---- The document as a whole ----

#[test]
fn openapi_3_1_is_refused_with_the_version() {
    let error = error_of(&with(|s| s["openapi"] = json!("3.1.0")));
    assert!(
        matches!(&error, CodegenError::Version { found } if found == "3.1.0"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("\"3.1.0\"") && message.contains("3.0"),
        "{message}"
    );
}

#[test]
fn swagger_2_is_refused() {
    let error = error_of("swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\npaths: {}\n");
    assert!(matches!(&error, CodegenError::Parse(_)), "{error:?}");
    assert!(
        error.to_string().contains("missing the `openapi: 3.0.x` field"),
        "{error}"
    );
}

#[test]
fn an_unquoted_version_number_is_not_called_missing() {
    // `openapi: 3.0` is the YAML number 3.0, not the string "3.0": the field is there, but wrong.
    let text = "openapi: 3.0\ninfo: {title: t, version: \"1\"}\npaths: {}\n";
    let error = error_of(text);
    assert!(matches!(&error, CodegenError::Parse(_)), "{error:?}");
    let message = error.to_string();
    assert!(!message.contains("missing"), "{message}");
    assert!(
        message.contains("`openapi`") && message.contains("string"),
        "{message}"
    );
}

#[test]
fn text_that_is_not_yaml_is_a_parse_error_with_its_position() {
    let error = error_of("openapi: 3.0.3\ninfo: {title: t, version: \"1\"\npaths: [\n");
    let CodegenError::Parse(problem) = &error else {
        panic!("expected CodegenError::Parse, got {error:?}");
    };
    assert!(
        problem.contains("line "),
        "the problem does not say where: {problem}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the spec is not a valid OpenAPI 3.0 document: ")
    );
}

#[test]
fn a_document_of_the_wrong_shape_is_a_parse_error() {
    // Valid YAML and `openapi: 3.0.x`, but `paths` is a list.
    let error = error_of(&with(|s| s["paths"] = json!(["/upload"])));
    assert!(matches!(&error, CodegenError::Parse(_)), "{error:?}");
}

// ---- Operations ----

#[test]
fn missing_operation_id() {
    let api = api_of(&with(|s| remove(s, "/paths/~1prepare/post", "operationId")));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn operation_id_that_makes_no_method_name() {
    // camelCase ids are fine (progenitor and the multipart generator both snake_case them);
    // an id whose snake_case form is not an identifier is refused, naming both.
    let camel = with(|s| s["paths"]["/upload"]["post"]["operationId"] = json!("uploadFile"));
    let files = generate(&camel, &Settings::client()).expect("a camelCase operationId generates");
    assert!(files[0].contents.contains("pub fn upload_file(&self)"));
    let error = error_of(&with(|s| {
        s["paths"]["/prepare"]["post"]["operationId"] = json!("3rd-prepare")
    }));
    assert_operation_error(
        &error,
        "3rd-prepare",
        "POST",
        "/prepare",
        &["`3rd-prepare`", "`3rd_prepare`", "Rust method name"],
    );
}

#[test]
fn operation_named_like_a_client_method() {
    // `Client::new` exists already: an operation `new` would be a second one (E0592).
    for id in ["new", "baseurl", "newWithClient"] {
        let error = error_of(&with(|s| {
            s["paths"]["/upload"]["post"]["operationId"] = json!(id)
        }));
        assert_operation_error(
            &error,
            id,
            "POST",
            "/upload",
            &["second `Client::", "rename the operation"],
        );
        let error = error_of(&with(|s| {
            s["paths"]["/prepare"]["post"]["operationId"] = json!(id)
        }));
        assert_operation_error(&error, id, "POST", "/prepare", &["second `Client::"]);
    }
}

#[test]
fn request_body_type_named_like_a_schema() {
    // The multipart operation `upload` gets a request-body type `types::UploadForm`; a component
    // of that name would be a second type.
    let error = error_of(&with(|s| {
        insert(s, "/components/schemas", "UploadForm", json!({"type": "string"}));
        s["paths"]["/prepare"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/UploadForm"});
    }));
    assert_operation_error(&error, "upload", "POST", "/upload", &["`UploadForm`", "rename"]);
}

#[test]
fn duplicate_operation_id() {
    let error = error_of(&with(|s| {
        s["paths"]["/upload"]["post"]["operationId"] = json!("prepare")
    }));
    // The second use is reported, and the message names the first.
    assert_operation_error(
        &error,
        "prepare",
        "POST",
        "/upload",
        &["duplicate operationId", "also used by POST /prepare"],
    );
}

#[test]
fn two_content_types_on_one_request_body() {
    // progenitor 0.15 panics on this; the generator must refuse it first.
    let api = api_of(&with(|s| {
        insert(
            s,
            "/paths/~1prepare/post/requestBody/content",
            "application/x-www-form-urlencoded",
            json!({"schema": {"$ref": "#/components/schemas/PrepareRequest"}}),
        )
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn text_plain_request_body() {
    let api = api_of(&with(|s| {
        s["paths"]["/prepare"]["post"]["requestBody"]["content"] =
            json!({"text/plain": {"schema": {"type": "string"}}})
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn request_body_without_content_type() {
    let error = error_of(&with(|s| {
        s["paths"]["/prepare"]["post"]["requestBody"]["content"] = json!({})
    }));
    assert_operation_error(&error, "prepare", "POST", "/prepare", &["no content type"]);
}

#[test]
fn operation_without_responses() {
    let error = error_of(&with(|s| s["paths"]["/prepare"]["post"]["responses"] = json!({})));
    assert_operation_error(&error, "prepare", "POST", "/prepare", &["no responses"]);
}

#[test]
fn response_with_two_content_types() {
    let api = api_of(&with(|s| {
        insert(
            s,
            "/paths/~1prepare/post/responses/200/content",
            "application/problem+json",
            json!({"schema": {"type": "object"}}),
        )
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn referenced_response_with_two_content_types() {
    // The same problem behind a `$ref` to components/responses.
    let api = api_of(&with(|s| {
        insert(
            s,
            "/components",
            "responses",
            json!({"Two": {
                "description": "Two media types.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}},
                    "application/problem+json": {"schema": {"type": "object"}}
                }
            }}),
        );
        s["paths"]["/prepare"]["post"]["responses"]["200"] = json!({"$ref": "#/components/responses/Two"});
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

/// The one pairing that is allowed: a 2xx that is either the JSON envelope or a media of any
/// type (download). progenitor gets a raw body for it, so the method returns the byte stream.
#[test]
fn a_success_that_is_an_envelope_or_a_media_is_generated_raw() {
    let text = with(|s| {
        insert(
            s,
            "/paths/~1prepare/post/responses/200/content",
            "*/*",
            json!({"schema": {"type": "string", "format": "binary"}}),
        )
    });
    let files =
        generate(&text, &Settings::client()).expect("one JSON and one media type are accepted on a 2xx");
    let api = &files
        .iter()
        .find(|f| f.name == "api.rs")
        .expect("api.rs")
        .contents;
    assert!(
        api.contains("ResponseValue<ByteStream>"),
        "the success is raw bytes"
    );
}

#[test]
fn response_reference_that_points_to_nothing() {
    let error = error_of(&with(|s| {
        s["paths"]["/prepare"]["post"]["responses"]["400"] = json!({"$ref": "#/components/responses/Missing"})
    }));
    assert_operation_error(
        &error,
        "prepare",
        "POST",
        "/prepare",
        &["response 400", "#/components/responses/Missing", "does not exist"],
    );
}

#[test]
fn path_item_reference() {
    let error = error_of(&with(|s| {
        insert(
            s,
            "/paths",
            "/elsewhere",
            json!({"$ref": "#/components/pathItems/Elsewhere"}),
        )
    }));
    let CodegenError::Path { path, problem } = &error else {
        panic!("expected CodegenError::Path, got {error:?}");
    };
    assert_eq!(path, "/elsewhere");
    assert!(
        problem.contains("#/components/pathItems/Elsewhere") && problem.contains("inline"),
        "{error}"
    );
    assert!(error.to_string().starts_with("path `/elsewhere`: "), "{error}");
}

// ---- Multipart operations ----

#[test]
fn multipart_field_that_is_a_nested_object() {
    let api = api_of(&with(|s| {
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "meta",
            json!({"type": "object", "properties": {"author": {"type": "string"}}}),
        )
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn multipart_field_that_is_an_array_of_arrays() {
    let error = error_of(&with(|s| {
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "tags",
            json!({"type": "array", "items": {"type": "array", "items": {"type": "string"}}}),
        )
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["form field `tags` is an array of arrays"],
    );
}

#[test]
fn multipart_field_with_an_inline_pattern() {
    let api = api_of(&with(|s| {
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "checksum",
            json!({"type": "string", "pattern": "^[0-9]+$"}),
        )
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn multipart_encoding_for_a_field_that_does_not_exist() {
    let error = error_of(&with(|s| {
        s["paths"]["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["encoding"] =
            json!({"fiel": {"contentType": "image/png"}})
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["`encoding` names `fiel`", "not a field"],
    );
}

#[test]
fn multipart_integer_with_an_unknown_format() {
    let error = error_of(&with(|s| {
        s["components"]["schemas"]["UploadRequest"]["properties"]["seq"]["format"] = json!("uint8")
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["form field `seq`", "`uint8`"],
    );
}

#[test]
fn multipart_integer_whose_exclusive_bound_allows_nothing() {
    let error = error_of(&with(|s| {
        s["components"]["schemas"]["UploadRequest"]["properties"]["seq"] =
            json!({"type": "integer", "maximum": i64::MIN, "exclusiveMaximum": true})
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["form field `seq`", "allows no value"],
    );
}

#[test]
fn multipart_required_field_that_is_not_a_property() {
    let error = error_of(&with(|s| {
        s["components"]["schemas"]["UploadRequest"]["required"] = json!(["upload_id", "seq", "file", "size"])
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["field `size` is listed as required but is not a property"],
    );
}

#[test]
fn multipart_field_names_that_become_the_same_method() {
    // `Upload-Token` alone becomes `upload_token` (the wire name is kept); beside a field of that
    // name it becomes `upload_token_2` (as typify names a JSON struct's colliding property), the
    // field whose name already is `upload_token` keeping it.
    let alone = with(|s| {
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "Upload-Token",
            json!({"type": "string"}),
        )
    });
    let files =
        generate(&alone, &Settings::client()).expect("a field name that is not an identifier is renamed");
    assert!(files[0].contents.contains("pub fn upload_token<V>"));
    assert!(files[0].contents.contains("form.text(\"Upload-Token\""));
    let both = api_of(&with(|s| {
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "Upload-Token",
            json!({"type": "string"}),
        );
        insert(
            s,
            "/components/schemas/UploadRequest/properties",
            "upload_token",
            json!({"type": "string"}),
        );
    }));
    for piece in [
        "pub fn upload_token<V>",
        "pub fn upload_token_2<V>",
        "form.text(\"Upload-Token\"",
        "form.text(\"upload_token\"",
    ] {
        assert!(both.contains(piece), "lacks {piece}");
    }
    assert!(!both.contains("~~"), "a placeholder name is left");
}

#[test]
fn multipart_field_name_that_the_builder_uses_itself() {
    // A field named `client` would become a second `client` field of the builder struct, and
    // `send`/`new` second methods of that name: code that does not compile.
    for name in ["client", "send", "new"] {
        let error = error_of(&with(|s| {
            insert(
                s,
                "/components/schemas/UploadRequest/properties",
                name,
                json!({"type": "string"}),
            )
        }));
        assert_operation_error(
            &error,
            "upload",
            "POST",
            "/upload",
            &[&format!("form field `{name}`"), "rename"],
        );
    }
}

#[test]
fn multipart_fields_named_like_the_locals_of_send() {
    // `send` binds fields to prefixed locals, so names it uses itself are fine.
    for name in ["len", "form", "url", "request", "response"] {
        let spec = with(|s| {
            insert(
                s,
                "/components/schemas/UploadRequest/properties",
                name,
                json!({"type": "string", "format": "binary"}),
            )
        });
        generate(&spec, &Settings::client())
            .unwrap_or_else(|e| panic!("a field named `{name}` is fine: {e}"));
    }
}

/// The base spec with the multipart operation moved to `/files/{file_token}/upload`.
fn with_path_template(change: impl FnOnce(&mut Value)) -> String {
    with(|s| {
        let op = s["paths"]["/upload"].take();
        let paths = s["paths"].as_object_mut().expect("paths is an object");
        paths.remove("/upload");
        paths.insert("/files/{file_token}/upload".to_owned(), op);
        change(s);
    })
}

const TEMPLATED: &str = "/files/{file_token}/upload";

#[test]
fn multipart_operation_with_an_undeclared_path_template() {
    // Without a declared parameter the `{file_token}` would be sent as written.
    let error = error_of(&with_path_template(|_| {}));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        TEMPLATED,
        &["`{file_token}` has no path parameter"],
    );
}

#[test]
fn multipart_operation_parameters_become_setters() {
    let token = json!({"name": "file_token", "in": "path", "required": true, "schema": {"type": "string"}});
    // Declared on the operation, or on the path item for all its operations.
    for on_item in [false, true] {
        let api = api_of(&with_path_template(|s| {
            let params = json!([
                token.clone(),
                {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}},
                {"name": "X-Request-Id", "in": "header", "required": true, "schema": {"type": "string", "maxLength": 64}}
            ]);
            if on_item {
                s["paths"][TEMPLATED]["parameters"] = params;
            } else {
                s["paths"][TEMPLATED]["post"]["parameters"] = params;
            }
        }));
        for expected in [
            "pub fn file_token<V>",
            "pub fn dry_run<V>",
            "pub fn x_request_id<V>",
            ".replace(\"{file_token}\"",
            "encode_path(&text)",
            "query.push((\"dry_run\", text))",
            "HeaderName::from_static(\"x-request-id\")",
            "`X-Request-Id` must be at most 64 characters",
        ] {
            assert!(
                api.contains(expected),
                "no `{expected}` (parameters on the item: {on_item})"
            );
        }
    }
}

#[test]
fn multipart_parameters_that_cannot_be_sent_are_refused() {
    let cases = [
        (
            json!({"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "object"}}}),
            "parameter `ids` is an array of items that are not scalars",
        ),
        (
            json!({"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}}),
            "parameter `ids` is an array of items that are not scalars",
        ),
        (
            json!({"name": "ids", "in": "query", "style": "deepObject", "schema": {"type": "array", "items": {"type": "string"}}}),
            "parameter `ids` is an array in the `DeepObject` style",
        ),
        (
            json!({"name": "ids", "in": "query", "schema": {"type": "object"}}),
            "only string, number, integer and boolean parameters",
        ),
        (
            json!({"name": "session", "in": "cookie", "schema": {"type": "string"}}),
            "cookie parameter `session`",
        ),
        (
            json!({"name": "bad header", "in": "header", "schema": {"type": "string"}}),
            "not a valid header name",
        ),
        (
            json!({"name": "q", "in": "query", "content": {"application/json": {"schema": {"type": "string"}}}}),
            "give it a `schema`",
        ),
        (
            json!({"name": "body", "in": "query", "schema": {"type": "string"}}),
            "builder's own `body`",
        ),
        (
            json!({"name": "seq", "in": "query", "schema": {"type": "integer"}}),
            "both become the builder method `seq`",
        ),
        (
            json!({"name": "other", "in": "path", "required": true, "schema": {"type": "string"}}),
            "does not appear in the path",
        ),
    ];
    for (parameter, problem) in cases {
        let error = error_of(&with(|s| {
            s["paths"]["/upload"]["post"]["parameters"] = json!([parameter])
        }));
        assert_operation_error(&error, "upload", "POST", "/upload", &[problem]);
    }
    let error = error_of(&with_path_template(|s| {
        s["paths"][TEMPLATED]["post"]["parameters"] =
            json!([{"name": "file_token", "in": "path", "required": false, "schema": {"type": "string"}}]);
    }));
    assert_operation_error(&error, "upload", "POST", TEMPLATED, &["must be required"]);
}

#[test]
fn multipart_responses_without_a_body() {
    // A 204 success is `()`; a body-less 403 beside a JSON 400 stays an UnexpectedResponse.
    let api = api_of(&with(|s| {
        let responses = &mut s["paths"]["/upload"]["post"]["responses"];
        responses.as_object_mut().expect("responses").remove("200");
        responses["204"] = json!({"description": "Stored."});
        responses["403"] = json!({"description": "Forbidden."});
    }));
    assert!(api.contains("204u16 => Ok(empty(response))"), "{api}");
    assert!(
        api.contains("403u16 => Err(Error::UnexpectedResponse(response))"),
        "{api}"
    );
    assert!(api.contains("ResponseValue<()>"), "{api}");
    // With no error body at all, a body-less error is an ErrorResponse of `()`.
    let api = api_of(&with(|s| {
        s["paths"]["/upload"]["post"]["responses"]["400"] = json!({"description": "Rejected."});
    }));
    assert!(
        api.contains("400u16 => Err(::progenitor_client::Error::ErrorResponse(empty(response)))"),
        "{api}"
    );
    // 2xx responses with and without a body cannot share one type.
    let error = error_of(&with(|s| {
        s["paths"]["/upload"]["post"]["responses"]["204"] = json!({"description": "Stored."});
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["2xx responses must share one schema"],
    );
}

#[test]
fn references_inside_components_and_paths_are_hoisted() {
    // typify resolves only whole components; a `$ref` to a place inside one (PeerTube's
    // `#/components/schemas/Video/properties/uuid`) or into `#/paths/…` becomes a reference to
    // a new component with the same schema.
    let api = api_of(&with(|s| {
        s["components"]["schemas"]["PrepareRequest"]["properties"]["name"] =
            json!({"$ref": "#/components/schemas/UploadRequest/properties/upload_id"});
        s["components"]["schemas"]["PrepareRequest"]["properties"]["copy"] = json!({
            "$ref": "#/paths/~1upload/post/requestBody/content/multipart~1form-data/schema"
        });
    }));
    assert!(
        api.contains("pub struct UploadRequestUploadId("),
        "no hoisted UploadRequestUploadId"
    );
    assert!(
        api.contains("pub name: UploadRequestUploadId"),
        "the field does not use it"
    );
    // Its bound came along: the hoisted newtype still checks `minLength: 1`.
    assert!(api.contains("shorter than 1 characters"), "the bound was lost");
    assert!(
        api.contains("copy: ::std::option::Option<"),
        "the path reference was not hoisted"
    );
}

#[test]
fn multipart_operation_id_that_is_a_keyword() {
    // `gen` is reserved since edition 2024, the client's edition.
    for id in ["match", "type", "gen"] {
        let error = error_of(&with(|s| {
            s["paths"]["/upload"]["post"]["operationId"] = json!(id)
        }));
        assert_operation_error(&error, id, "POST", "/upload", &[&format!("`{id}`"), "keyword"]);
    }
}

#[test]
fn multipart_field_name_that_is_a_keyword() {
    // Renamed with a trailing `_`, as typify names such struct fields; the wire name is kept.
    for name in ["type", "gen"] {
        let spec = with(|s| {
            insert(
                s,
                "/components/schemas/UploadRequest/properties",
                name,
                json!({"type": "string"}),
            )
        });
        let files = generate(&spec, &Settings::client()).expect("a keyword field name is renamed");
        assert!(
            files[0].contents.contains(&format!("pub fn {name}_<V>")),
            "no `{name}_` setter"
        );
        assert!(files[0].contents.contains(&format!("form.text(\"{name}\"")));
    }
}

#[test]
fn multipart_without_a_2xx_response() {
    let error = error_of(&with(|s| remove(s, "/paths/~1upload/post/responses", "200")));
    assert_operation_error(&error, "upload", "POST", "/upload", &["no 2xx response"]);
}

#[test]
fn multipart_with_a_default_response() {
    let api = api_of(&with(|s| {
        insert(
            s,
            "/paths/~1upload/post/responses",
            "default",
            json!({"description": "Anything else.",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        )
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn multipart_response_without_a_json_schema() {
    let api = api_of(&with(|s| {
        s["paths"]["/upload"]["post"]["responses"]["200"]["content"] =
            json!({"text/plain": {"schema": {"type": "string"}}})
    }));
    // Now generated (issue 16): the operation is expressed, not refused.
    assert!(api.contains("pub fn "), "{api}");
}

#[test]
fn multipart_responses_of_one_class_with_different_schemas() {
    let error = error_of(&with(|s| {
        insert(
            s,
            "/paths/~1upload/post/responses",
            "500",
            json!({"description": "Broken.",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}}),
        )
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["500", "`Envelope`", "`Error`"],
    );
}

#[test]
fn multipart_binary_field_with_two_encoding_content_types() {
    let error = error_of(&with(|s| {
        insert(
            s,
            "/paths/~1upload/post/requestBody/content/multipart~1form-data",
            "encoding",
            json!({"file": {"contentType": "image/png, image/jpeg"}}),
        )
    }));
    assert_operation_error(
        &error,
        "upload",
        "POST",
        "/upload",
        &["form field `file`", "not one media type"],
    );
}

#[test]
fn multipart_body_reference_that_points_to_nothing() {
    let error = error_of(&with(|s| remove(s, "/components/schemas", "UploadRequest")));
    assert_operation_error(&error, "upload", "POST", "/upload", &["points to nothing"]);
}

#[test]
fn a_component_whose_name_is_not_an_identifier() {
    // `3dResp` used to panic the generator (`format_ident!` on a name it recomputed). The name is
    // now typify's, and the multipart code names the type progenitor defines.
    let api = api_of(&with(|s| {
        let envelope = s["components"]["schemas"]["Envelope"].clone();
        insert(s, "/components/schemas", "3dResp", envelope);
        s["paths"]["/upload"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/3dResp"});
    }));
    assert!(api.contains("pub struct X3dResp"), "typify's name for `3dResp`");
    assert!(
        api.contains("ResponseValue<super::types::X3dResp>"),
        "the multipart `send` returns it"
    );
    assert!(api.contains("impl Envelope for types::X3dResp"));
}

#[test]
fn an_inline_multipart_response_schema_becomes_a_component() {
    let api = api_of(&with(|s| {
        let envelope = s["components"]["schemas"]["Envelope"].clone();
        s["paths"]["/upload"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = envelope;
    }));
    assert!(api.contains("pub struct UploadResponse"));
    assert!(api.contains("::progenitor_client::ResponseValue<super::types::UploadResponse>"));
}

#[test]
fn a_reference_that_points_to_nothing_is_refused_not_a_panic() {
    let error = error_of(&with(|s| {
        s["components"]["schemas"]["PrepareRequest"]["properties"]["name"] =
            json!({"$ref": "#/components/schemas/Nope"})
    }));
    assert!(error.to_string().contains("#/components/schemas/Nope"), "{error}");
    assert!(error.to_string().contains("points to nothing"), "{error}");
}

// ---- The error table ----

#[test]
fn error_row_with_a_duplicate_code() {
    let error = error_of(&with(|s| {
        at(s, "/x-feishu-error-codes")
            .as_array_mut()
            .expect("a list")
            .push(error_row(1061002, "ParamsErrorAgain"))
    }));
    assert_row_error(&error, 2, &["code 1061002", "already listed in row 0"]);
}

#[test]
fn error_row_with_a_duplicate_name() {
    let error = error_of(&with(|s| {
        at(s, "/x-feishu-error-codes")
            .as_array_mut()
            .expect("a list")
            .push(error_row(1069999, "CanRetry"))
    }));
    assert_row_error(&error, 2, &["name `CanRetry`", "already used by row 1"]);
}

#[test]
fn error_row_with_a_bad_name() {
    for (name, problem) in [
        ("params_error", "UpperCamelCase"),
        ("Params Error", "UpperCamelCase"),
        ("Unknown", "other than `Unknown`"),
        ("Self", "keyword"),
    ] {
        let error = error_of(&with(|s| s["x-feishu-error-codes"][1]["name"] = json!(name)));
        assert_row_error(&error, 1, &[&format!("name `{name}`"), problem]);
    }
}

#[test]
fn error_row_missing_a_field() {
    let error = error_of(&with(|s| remove(s, "/x-feishu-error-codes/1", "hint")));
    assert_row_error(&error, 1, &["missing field `hint`"]);
}

#[test]
fn error_row_with_an_unknown_field() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][0]["retriable"] = json!(true)));
    assert_row_error(&error, 0, &["unknown field `retriable`"]);
}

#[test]
fn error_row_with_a_code_that_is_not_positive() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][1]["code"] = json!(0)));
    assert_row_error(&error, 1, &["code 0 must be positive"]);
}

#[test]
fn error_row_with_a_code_that_is_text() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][0]["code"] = json!("1061002")));
    assert_row_error(&error, 0, &["invalid type: string"]);
}

#[test]
fn error_row_with_a_status_that_is_not_http() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][1]["http_status"] = json!(99)));
    assert_row_error(&error, 1, &["http_status 99 is not an HTTP status"]);
}

#[test]
fn error_row_with_an_unknown_source() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][1]["source"] = json!("docs")));
    assert_row_error(&error, 1, &["provenance `docs`"]);
}

#[test]
fn error_row_with_an_empty_hint() {
    let error = error_of(&with(|s| s["x-feishu-error-codes"][0]["hint"] = json!("  ")));
    assert_row_error(&error, 0, &["code 1061002", "must not be empty"]);
}

#[test]
fn error_table_that_is_not_a_list() {
    let error = error_of(&with(|s| {
        s["x-feishu-error-codes"] = json!({"1061002": "ParamsError"})
    }));
    assert_row_error(&error, 0, &["must be a list of rows"]);
}

// ---- Inputs only progenitor checks ----

/// Some malformed inputs are caught only inside progenitor, which panics on them; the generator
/// contains the panic and reports it as `CodegenError::Progenitor`. These tests pin that the
/// panic never escapes (`cargo xtask codegen` prints an error rather than crashing).
#[test]
fn progenitor_panics_are_contained() {
    // A dangling `$ref` (typify and progenitor panic on one) is now refused before progenitor
    // runs, naming it; an undeclared path parameter still reaches progenitor, whose panic is
    // turned into an error.
    let dangling_schema = with(|s| {
        s["paths"]["/prepare"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/Missing"})
    });
    let error = error_of(&dangling_schema);
    assert!(matches!(error, CodegenError::Parse(_)), "{error:?}");
    assert!(
        error.to_string().contains("#/components/schemas/Missing"),
        "{error}"
    );
    let undeclared_path_parameter = with(|s| {
        let op = s["paths"]["/prepare"].take();
        let paths = s["paths"].as_object_mut().expect("paths is an object");
        paths.remove("/prepare");
        paths.insert("/prepare/{id}".to_owned(), op);
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        generate(&undeclared_path_parameter, &Settings::client())
    }))
    .unwrap_or_else(|_| panic!("a panic escaped the generator on:\n{undeclared_path_parameter}"));
    match result {
        Err(CodegenError::Progenitor(message)) => assert!(message.contains("id"), "{message}"),
        other => panic!("expected CodegenError::Progenitor, got {other:?}"),
    }
}

#[test]
fn cookie_parameters_are_refused_by_progenitor() {
    let error = error_of(&with(|s| {
        s["paths"]["/prepare"]["post"]["parameters"] = json!([
            {"name": "session", "in": "cookie", "schema": {"type": "string"}}
        ])
    }));
    let CodegenError::Progenitor(message) = &error else {
        panic!("expected CodegenError::Progenitor, got {error:?}");
    };
    assert!(
        message.contains("cookie parameters are not supported"),
        "{message}"
    );
}

#[test]
fn array_path_parameters_of_json_operations_are_refused() {
    // progenitor would format the list with `Display` (daniweb's `/apps/{ID}`): code that does
    // not compile. A scalar one is fine.
    let spec = |schema: Value| {
        with(|s| {
            let paths = s["paths"].as_object_mut().expect("paths");
            let op = paths.remove("/prepare").expect("the /prepare path");
            paths.insert("/prepare/{ids}".to_owned(), op);
            s["paths"]["/prepare/{ids}"]["post"]["parameters"] =
                json!([{"name": "ids", "in": "path", "required": true, "schema": schema}]);
        })
    };
    let error = error_of(&spec(json!({"type": "array", "items": {"type": "integer"}})));
    assert_operation_error(
        &error,
        "prepare",
        "POST",
        "/prepare/{ids}",
        &["the path parameter `ids` is an array or an object"],
    );
    assert!(api_of(&spec(json!({"type": "integer"}))).contains("ids.to_string()"));
}

#[test]
fn a_dangling_reference_inside_an_extension_is_not_read() {
    // velopayments' `x-webhooks` names a schema the document does not have; neither typify nor
    // progenitor reads extensions, so the spec generates (it used to loop until it gave up).
    let api = api_of(&with(|s| {
        s["x-webhooks"] = json!({"hook": {"post": {"requestBody": {"content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/Missing"}}}}}}});
    }));
    assert!(api.contains("pub fn prepare(&self)"));
    let error = error_of(&with(|s| {
        s["components"]["schemas"]["PrepareRequest"]["properties"]["name"] =
            json!({"$ref": "#/components/schemas/Missing"});
    }));
    assert!(
        error.to_string().contains("#/components/schemas/Missing"),
        "{error}"
    );
}
