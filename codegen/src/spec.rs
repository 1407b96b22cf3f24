//! Reading the spec and checking that every operation is one the generator can express.
//!
//! progenitor panics on some inputs (for example several content types on one request body), so
//! everything it would trip over is rejected here first, with the operation and path in the error.
//! This module depends only on [`crate::error`]; the generators depend on it.

use openapiv3::{OpenAPI, Operation, ReferenceOr, RequestBody, Schema, SchemaKind, Type};

use crate::error::CodegenError;

/// The error for a problem with one operation: names the operation, its method and its path.
pub(crate) fn op_error(op: &OperationRef<'_>, problem: impl Into<String>) -> CodegenError {
    CodegenError::Operation {
        operation: op.id().to_owned(),
        method: op.method.to_uppercase(),
        path: op.path.to_owned(),
        problem: problem.into(),
    }
}

/// The methods progenitor's `Client` has of its own: an operation of the same name would be a
/// second method of that name.
const CLIENT_METHODS: [&str; 6] = [
    "new",
    "new_with_client",
    "baseurl",
    "client",
    "api_version",
    "inner",
];

pub(crate) const JSON: &str = "application/json";
pub(crate) const MULTIPART: &str = "multipart/form-data";

/// Reads a document (from [`parse_value`], possibly rewritten) as OpenAPI 3.0.
pub(crate) fn from_value(raw: serde_json::Value) -> Result<OpenAPI, CodegenError> {
    serde_json::from_value(raw).map_err(|e| CodegenError::Parse(e.to_string()))
}

/// Every `$ref` must point into this document at something that exists: typify and progenitor
/// panic on any other.
fn check_references(
    root: &serde_json::Value,
    value: &serde_json::Value,
    at: &mut String,
) -> Result<(), CodegenError> {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                let target = reference
                    .strip_prefix('#')
                    .and_then(|pointer| root.pointer(pointer));
                if target.is_none() {
                    return Err(CodegenError::Parse(format!(
                        "`$ref: {reference}` at {at} points to nothing in this document (only local references such as `#/components/schemas/Name` are supported)"
                    )));
                }
            }
            for (key, child) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                check_references(root, child, at)?;
                at.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{index}"));
                check_references(root, child, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parses YAML or JSON into a value, checking the `openapi` version first.
pub(crate) fn parse_value(text: &str) -> Result<serde_json::Value, CodegenError> {
    // Check the version first: a 3.1 document often fails to parse as 3.0 with a far less helpful
    // message than "write 3.0".
    let raw: serde_json::Value =
        serde_yaml_ng::from_str(text).map_err(|e| CodegenError::Parse(e.to_string()))?;
    match raw.get("openapi") {
        Some(serde_json::Value::String(v)) if v.trim().starts_with("3.0.") => {}
        Some(serde_json::Value::String(v)) => return Err(CodegenError::Version { found: v.clone() }),
        // `openapi: 3.0` is the YAML number 3.0: the field is there, so do not call it missing.
        Some(other) => {
            return Err(CodegenError::Parse(format!(
                "the `openapi` field must be a string such as \"3.0.3\" (quote it), found {other}"
            )));
        }
        None => {
            return Err(CodegenError::Parse(
                "missing the `openapi: 3.0.x` field at the top level".to_owned(),
            ));
        }
    }
    Ok(raw)
}

/// One operation of the spec, with where it lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperationRef<'a> {
    pub(crate) path: &'a str,
    pub(crate) method: &'a str,
    pub(crate) op: &'a Operation,
    /// The parameters the path item declares for all its operations.
    pub(crate) item_parameters: &'a [ReferenceOr<openapiv3::Parameter>],
}

impl<'a> OperationRef<'a> {
    pub(crate) fn id(&self) -> &'a str {
        self.op.operation_id.as_deref().unwrap_or("<none>")
    }

    /// The generated method's name: the `operationId` in snake_case, as progenitor names it
    /// (`createFile` → `create_file`).
    pub(crate) fn method_name(&self) -> String {
        heck::ToSnakeCase::to_snake_case(self.id())
    }
}

/// How an operation's request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Json,
    Multipart,
    /// A body progenitor sends itself: `application/x-www-form-urlencoded` (a typed object),
    /// `application/octet-stream` (a `reqwest::Body`), `text/plain` (a `String`).
    Other,
}

/// Request content types progenitor 0.15 generates itself, besides JSON.
pub(crate) const PROGENITOR_BODIES: [&str; 4] = [
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "text/plain",
    "text/x-markdown",
];

/// Every operation in document order; path items that are `$ref`s are an error.
pub(crate) fn operations(spec: &OpenAPI) -> Result<Vec<OperationRef<'_>>, CodegenError> {
    let mut out = Vec::new();
    for (path, item) in &spec.paths.paths {
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                return Err(CodegenError::Path {
                    path: path.clone(),
                    problem: format!(
                        "the path item is a reference ({reference}); write the operations inline"
                    ),
                });
            }
        };
        for (method, op) in item.iter() {
            out.push(OperationRef {
                path,
                method,
                op,
                item_parameters: &item.parameters,
            });
        }
    }
    Ok(out)
}

/// An operation (or a whole path item, `method: None`) the generator cannot express.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) path: String,
    pub(crate) method: Option<String>,
    pub(crate) error: CodegenError,
}

/// Every operation's first problem, in document order: each is something neither progenitor
/// nor the multipart generator can express (or would panic on or mistranslate).
pub(crate) fn problems(spec: &OpenAPI) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (path, item) in &spec.paths.paths {
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                out.push(Problem {
                    path: path.clone(),
                    method: None,
                    error: CodegenError::Path {
                        path: path.clone(),
                        problem: format!(
                            "the path item is a reference ({reference}); write the operations inline"
                        ),
                    },
                });
                continue;
            }
        };
        for (method, op) in item.iter() {
            let op = OperationRef {
                path,
                method,
                op,
                item_parameters: &item.parameters,
            };
            if let Err(error) = check_operation(spec, &op, &mut seen) {
                out.push(Problem {
                    path: path.clone(),
                    method: Some(method.to_owned()),
                    error,
                });
            }
        }
    }
    out
}

/// One operation's checks; `seen` holds the method names of the operations before it.
fn check_operation<'a>(
    spec: &OpenAPI,
    op: &OperationRef<'a>,
    seen: &mut std::collections::HashMap<String, (&'a str, &'a str)>,
) -> Result<(), CodegenError> {
    let Some(id) = op.op.operation_id.as_deref() else {
        return Err(op_error(
            op,
            "missing `operationId`; every operation needs one to name its method",
        ));
    };
    let method = op.method_name();
    if !is_identifier(&method) {
        return Err(op_error(
            op,
            format!(
                "operationId `{id}` does not make a Rust method name (`{method}`): use letters, digits and `_`, starting with a letter, and no Rust keyword"
            ),
        ));
    }
    if CLIENT_METHODS.contains(&method.as_str()) {
        return Err(op_error(
            op,
            format!(
                "operationId `{id}` would name a second `Client::{method}` (the client's own method); rename the operation"
            ),
        ));
    }
    if let Some(other) = seen.get(&method) {
        return Err(op_error(
            op,
            format!(
                "duplicate operationId: also used by {} {} (both would be the method `{method}`)",
                other.0.to_uppercase(),
                other.1
            ),
        ));
    }
    seen.insert(method, (op.method, op.path));
    if body_kind(spec, op)? != BodyKind::Multipart {
        check_path_parameters(spec, op)?;
    }
    check_responses(spec, op)
}

/// progenitor formats a path parameter with `Display`, which an array or an object has not
/// (daniweb's `/apps/{ID}` with an array of ids): such an operation is refused (left out
/// outside strict mode) rather than written as code that does not compile. The multipart
/// checks refuse them for multipart operations.
fn check_path_parameters(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<(), CodegenError> {
    for parameter in op.item_parameters.iter().chain(&op.op.parameters) {
        let Some(openapiv3::Parameter::Path { parameter_data, .. }) = resolve_parameter(spec, parameter)
        else {
            continue;
        };
        let openapiv3::ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
            continue;
        };
        let Some((_, schema)) = resolve_schema(spec, schema) else {
            continue;
        };
        if matches!(
            schema.schema_kind,
            SchemaKind::Type(Type::Array(_) | Type::Object(_))
        ) {
            return Err(op_error(
                op,
                format!(
                    "the path parameter `{}` is an array or an object, which the generated code cannot put in a path",
                    parameter_data.name
                ),
            ));
        }
    }
    Ok(())
}

/// Every `$ref` of the document resolves; run after the checks whose messages name an operation.
pub(crate) fn check_all_references(spec: &OpenAPI) -> Result<(), CodegenError> {
    let raw = serde_json::to_value(spec).map_err(|e| CodegenError::Internal(e.to_string()))?;
    // Only what the generators read: a `$ref` inside an extension (velopayments' `x-webhooks`)
    // reaches neither typify nor progenitor.
    for key in ["paths", "components"] {
        if let Some(part) = raw.get(key) {
            check_references(&raw, part, &mut format!("#/{key}"))?;
        }
    }
    Ok(())
}

/// An ASCII snake_case identifier that is not a keyword (`gen` is reserved since edition 2024).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name != "gen"
        && syn::parse_str::<syn::Ident>(name).is_ok()
}

/// The request body of an operation, resolved through `components.requestBodies`.
pub(crate) fn request_body<'a>(
    spec: &'a OpenAPI,
    op: &OperationRef<'a>,
) -> Result<Option<&'a RequestBody>, CodegenError> {
    match &op.op.request_body {
        None => Ok(None),
        Some(ReferenceOr::Item(body)) => Ok(Some(body)),
        Some(ReferenceOr::Reference { reference }) => {
            let name = reference.strip_prefix("#/components/requestBodies/").ok_or_else(|| {
                op_error(op, format!("request body reference `{reference}` does not point into #/components/requestBodies"))
            })?;
            match spec.components.as_ref().and_then(|c| c.request_bodies.get(name)) {
                Some(ReferenceOr::Item(body)) => Ok(Some(body)),
                Some(ReferenceOr::Reference { .. }) => Err(op_error(
                    op,
                    format!("request body `{name}` is a reference to a reference"),
                )),
                None => Err(op_error(
                    op,
                    format!("request body reference `{reference}` points to nothing"),
                )),
            }
        }
    }
}

/// A media type without its parameters: `application/json; charset=utf-8` → `application/json`.
pub(crate) fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// Classifies the request body and rejects what neither generator supports.
pub(crate) fn body_kind(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<BodyKind, CodegenError> {
    let Some(body) = request_body(spec, op)? else {
        return Ok(BodyKind::None);
    };
    let types: Vec<&str> = body.content.keys().map(String::as_str).collect();
    match types.as_slice() {
        [] => Err(op_error(op, "the request body lists no content type")),
        [JSON] => Ok(BodyKind::Json),
        [MULTIPART] => Ok(BodyKind::Multipart),
        [other] if other.starts_with("application/") && other.ends_with("+json") => Ok(BodyKind::Json),
        [other] if essence(other) == JSON => Ok(BodyKind::Json),
        [other] if PROGENITOR_BODIES.contains(&essence(other)) => Ok(BodyKind::Other),
        [other] => Err(op_error(
            op,
            format!(
                "request content type `{other}` is not supported; use `{JSON}`, `{MULTIPART}`, {}",
                PROGENITOR_BODIES.map(|t| format!("`{t}`")).join(", ")
            ),
        )),
        several => Err(op_error(
            op,
            format!(
                "the request body has {} content types ({}); the generated method can send only one, so keep one",
                several.len(),
                several.join(", ")
            ),
        )),
    }
}

fn check_responses(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<(), CodegenError> {
    if op.op.responses.responses.is_empty() && op.op.responses.default.is_none() {
        return Err(op_error(
            op,
            "no responses are documented; document at least the success response",
        ));
    }
    // A `$ref`'d response must exist (progenitor panics on a dangling one). Several content
    // types are fine: progenitor reads the JSON one, or the body as bytes (`tidy` has dropped
    // other encodings of the JSON one's schema).
    for (status, response) in &op.op.responses.responses {
        if let ReferenceOr::Reference { reference } = response {
            let target = reference
                .strip_prefix("#/components/responses/")
                .and_then(|name| spec.components.as_ref()?.responses.get(name));
            if !matches!(target, Some(ReferenceOr::Item(_))) {
                return Err(op_error(
                    op,
                    format!("response {status} references `{reference}`, which does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// A component schema by `$ref`, or the inline schema.
pub(crate) fn resolve_schema<'a>(
    spec: &'a OpenAPI,
    schema: &'a ReferenceOr<Schema>,
) -> Option<(Option<&'a str>, &'a Schema)> {
    match schema {
        ReferenceOr::Item(s) => Some((None, s)),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/schemas/")?;
            match spec.components.as_ref()?.schemas.get(name)? {
                ReferenceOr::Item(s) => Some((Some(name), s)),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// A parameter by `$ref` (`#/components/parameters/…`), or the inline one.
pub(crate) fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    parameter: &'a ReferenceOr<openapiv3::Parameter>,
) -> Option<&'a openapiv3::Parameter> {
    match parameter {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            match spec.components.as_ref()?.parameters.get(name)? {
                ReferenceOr::Item(p) => Some(p),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

pub(crate) fn is_binary(schema: &Schema) -> bool {
    matches!(
        &schema.schema_kind,
        SchemaKind::Type(Type::String(s))
            if matches!(&s.format, openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary))
    )
}
