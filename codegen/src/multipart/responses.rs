//! How a multipart operation's documented responses map to the types `send` returns.

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::CodegenError;
use crate::names::TypeNames;
use crate::spec::{self, OperationRef, op_error};

/// The status patterns of success and error responses (each with whether it has a JSON body),
/// and their types. A success without a body is `()`; an error without a body is an
/// `ErrorResponse` of `()` when no error has a body, and `UnexpectedResponse` (status and
/// headers kept) beside errors that have one.
pub(crate) struct Responses {
    pub(crate) success: Vec<(TokenStream, Body)>,
    pub(crate) errors: Vec<(TokenStream, Body)>,
    pub(crate) success_type: TokenStream,
    pub(crate) error_type: TokenStream,
    /// The component schemas named (to check against progenitor's type space).
    pub(crate) components: Vec<String>,
    /// A `default` response (any status not listed): how its body is read (a JSON one is of
    /// the error type; a raw one is kept in `UnexpectedResponse`).
    pub(crate) default: Option<Body>,
}

/// What stands for a body of another media type than JSON where a component name would be
/// (no component can be named so: their names are `[a-zA-Z0-9._-]+`).
const RAW: &str = "*/*";

/// How `send` reads a response's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    None,
    Json,
    /// Another media type: the bytes, as a stream.
    Raw,
}

fn body_of(component: &Option<String>) -> Body {
    match component.as_deref() {
        None => Body::None,
        Some(RAW) => Body::Raw,
        Some(_) => Body::Json,
    }
}

/// One documented response: its pattern, class (2, 4 or 5) and component (`None`: no body).
struct Entry {
    status: String,
    pattern: TokenStream,
    class: u16,
    component: Option<String>,
}

/// `lenient` (outside strict mode) reads what a type cannot express as bytes rather than
/// refusing: 2xx responses of different schemas as a `ByteStream`, errors of different schemas
/// as `UnexpectedResponse` (bytes kept), and an operation without a 2xx takes its `default`
/// (or, without one, any 2xx as bytes) as the success, as progenitor does.
pub(crate) fn responses(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    names: &TypeNames,
    lenient: bool,
) -> Result<Responses, CodegenError> {
    let mut entries = entries(spec, op)?;
    let mut default = match &op.op.responses.default {
        None => None,
        Some(response) => Some(response_component(spec, op, "default", response)?),
    };
    if lenient && !entries.iter().any(|e| e.class == 2) {
        // No 2xx documented: `default` (or any 2xx, as bytes) is the success.
        let component = default.take().unwrap_or_else(|| Some(RAW.to_owned()));
        entries.push(Entry {
            status: "2XX".to_owned(),
            pattern: quote! { 200u16..=299u16 },
            class: 2,
            component,
        });
    }
    let success_type = success_component(op, &mut entries, lenient)?;
    // An error in another media type keeps its bytes in `UnexpectedResponse`.
    let mut default = default.map(|c| c.filter(|c| c != RAW));
    for entry in entries.iter_mut().filter(|e| e.class != 2) {
        entry.component = entry.component.take().filter(|c| c != RAW);
    }
    let error_type = error_component(op, &mut entries, &mut default, lenient)?;
    let mut components = Vec::new();
    let success_type = match success_type {
        Some(raw) if raw == RAW => quote! { ::progenitor_client::ByteStream },
        Some(component) => {
            let path = names.path(&component)?;
            components.push(component);
            quote! { super::#path }
        }
        None => quote! { () },
    };
    let error_type = match error_type {
        Some(component) => {
            let path = names.path(&component)?;
            components.push(component);
            quote! { super::#path }
        }
        None => quote! { () },
    };
    let (success, errors): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.class == 2);
    let pairs = |v: Vec<Entry>| {
        v.into_iter()
            .map(|e| (e.pattern, body_of(&e.component)))
            .collect()
    };
    Ok(Responses {
        success: pairs(success),
        errors: pairs(errors),
        success_type,
        error_type,
        components,
        default: default.map(|c| body_of(&c)),
    })
}

/// The documented responses with a status (not `default`), in the spec's order.
fn entries(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<Vec<Entry>, CodegenError> {
    let mut entries = Vec::new();
    for (status, response) in &op.op.responses.responses {
        let (pattern, class) = match status {
            StatusCode::Code(code) => {
                let code = Some(*code)
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| op_error(op, format!("response status {code} is not an HTTP status")))?;
                (quote! { #code }, code / 100)
            }
            StatusCode::Range(range) => {
                let range = Some(*range).filter(|r| (1..=5).contains(r)).ok_or_else(|| {
                    op_error(
                        op,
                        format!("response status range {range}XX is not an HTTP status class"),
                    )
                })?;
                let (lo, hi) = (range * 100, range * 100 + 99);
                (quote! { #lo..=#hi }, range)
            }
        };
        if class != 2 && class < 4 {
            return Err(op_error(
                op,
                format!("response status {status} (1xx/3xx) is not supported on multipart operations"),
            ));
        }
        let component = response_component(spec, op, &status.to_string(), response)?;
        entries.push(Entry {
            status: status.to_string(),
            pattern,
            class,
            component,
        });
    }
    Ok(entries)
}

fn describe(component: &Option<String>) -> String {
    component
        .as_ref()
        .map_or("no body".to_owned(), |c| format!("`{c}`"))
}

/// The one schema of the 2xx responses (`None` inside: no body); when they differ, outside
/// strict mode, all of them are read as bytes.
fn success_component(
    op: &OperationRef<'_>,
    entries: &mut [Entry],
    lenient: bool,
) -> Result<Option<String>, CodegenError> {
    let mut success: Option<&Entry> = None;
    let mut differ = None;
    for entry in entries.iter().filter(|e| e.class == 2) {
        match success {
            Some(first) if first.component != entry.component => {
                differ = Some(format!(
                    "2xx responses must share one schema: {} has {}, another has {}",
                    entry.status,
                    describe(&entry.component),
                    describe(&first.component)
                ));
                break;
            }
            Some(_) => {}
            None => success = Some(entry),
        }
    }
    let Some(first) = success else {
        return Err(op_error(op, "no 2xx response is documented"));
    };
    let first = first.component.clone();
    match differ {
        None => Ok(first),
        Some(problem) if !lenient => Err(op_error(op, problem)),
        Some(_) => {
            for entry in entries.iter_mut().filter(|e| e.class == 2) {
                entry.component = Some(RAW.to_owned());
            }
            Ok(Some(RAW.to_owned()))
        }
    }
}

/// The one schema of the errors that have a body, `default` included; when they differ,
/// outside strict mode, none is typed (each is an `UnexpectedResponse`, its bytes kept).
/// Called after other media types were dropped from the errors (`None`), so `RAW` below only
/// marks these.
fn error_component(
    op: &OperationRef<'_>,
    entries: &mut [Entry],
    default: &mut Option<Option<String>>,
    lenient: bool,
) -> Result<Option<String>, CodegenError> {
    let mut error_type: Option<String> = None;
    let listed = entries
        .iter()
        .filter(|e| e.class != 2)
        .filter_map(|e| Some((e.status.clone(), e.component.clone()?)));
    let from_default = default.clone().flatten().map(|c| ("`default`".to_owned(), c));
    for (status, component) in listed.chain(from_default) {
        match &error_type {
            Some(existing) if *existing != component => {
                if !lenient {
                    return Err(op_error(
                        op,
                        format!(
                            "error responses must share one schema: {status} uses `{component}`, another uses `{existing}`"
                        ),
                    ));
                }
                // Read as bytes: each is an `UnexpectedResponse`, which keeps them.
                let bodies = entries
                    .iter_mut()
                    .filter(|e| e.class != 2)
                    .map(|e| &mut e.component)
                    .chain(default.as_mut());
                for component in bodies.filter(|c| c.is_some()) {
                    *component = Some(RAW.to_owned());
                }
                return Ok(None);
            }
            Some(_) => {}
            None => error_type = Some(component),
        }
    }
    Ok(error_type)
}

/// The component schema a response's JSON body references; `None` for a response without a
/// body.
fn response_component(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    status: &str,
    response: &ReferenceOr<openapiv3::Response>,
) -> Result<Option<String>, CodegenError> {
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/responses/")
                .unwrap_or(reference);
            match spec.components.as_ref().and_then(|c| c.responses.get(name)) {
                Some(ReferenceOr::Item(r)) => r,
                _ => {
                    return Err(op_error(
                        op,
                        format!("response {status} references `{reference}`, which does not exist"),
                    ));
                }
            }
        }
    };
    if response.content.is_empty() {
        return Ok(None);
    }
    let Some(media) = response.content.get(spec::JSON) else {
        // Only other media types: the body is read as bytes.
        return Ok(Some(RAW.to_owned()));
    };
    let schema = media.schema.as_ref().ok_or_else(|| {
        op_error(
            op,
            format!(
                "response {status} of a multipart operation must have an `{}` schema",
                spec::JSON
            ),
        )
    })?;
    match schema {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .filter(|name| {
                spec.components
                    .as_ref()
                    .is_some_and(|c| c.schemas.contains_key(*name))
            })
            .map(|name| Some(name.to_owned()))
            .ok_or_else(|| {
                op_error(
                    op,
                    format!("response {status} references `{reference}`, which does not exist"),
                )
            }),
        ReferenceOr::Item(_) => Err(op_error(
            op,
            format!(
                "response {status} of a multipart operation must reference a schema in components/schemas (inline schemas have no stable type name)"
            ),
        )),
    }
}
