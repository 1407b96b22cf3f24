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
    /// A `default` response (any status not listed): whether it has a JSON body, which is
    /// then of the error type.
    pub(crate) default: Option<bool>,
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

pub(crate) fn responses(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    names: &TypeNames,
) -> Result<Responses, CodegenError> {
    let mut success = Vec::new();
    let mut errors = Vec::new();
    // The 2xx type (`None` inside: no body), and the error type of those errors that have one.
    let mut success_type: Option<Option<String>> = None;
    let mut error_type: Option<String> = None;
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
        let component = response_component(spec, op, &status.to_string(), response)?;
        let describe = |c: &Option<String>| c.as_ref().map_or("no body".to_owned(), |c| format!("`{c}`"));
        if class == 2 {
            match &success_type {
                Some(existing) if *existing != component => {
                    return Err(op_error(
                        op,
                        format!(
                            "2xx responses must share one schema: {status} has {}, another has {}",
                            describe(&component),
                            describe(existing)
                        ),
                    ));
                }
                _ => success_type = Some(component.clone()),
            }
            success.push((pattern, body_of(&component)));
        } else if class >= 4 {
            // An error in another media type keeps its bytes in `UnexpectedResponse`.
            let component = component.filter(|c| c != RAW);
            if let Some(component) = &component {
                match &error_type {
                    Some(existing) if existing != component => {
                        return Err(op_error(
                            op,
                            format!(
                                "error responses must share one schema: {status} uses `{component}`, another uses `{existing}`"
                            ),
                        ));
                    }
                    _ => error_type = Some(component.clone()),
                }
            }
            errors.push((pattern, body_of(&component)));
        } else {
            return Err(op_error(
                op,
                format!("response status {status} (1xx/3xx) is not supported on multipart operations"),
            ));
        }
    }
    // `default` stands for every status not listed, errors above all: its body, if any, is the
    // error type.
    let default = match &op.op.responses.default {
        None => None,
        Some(response) => {
            let component = response_component(spec, op, "default", response)?.filter(|c| c != RAW);
            match (&component, &error_type) {
                (Some(component), Some(existing)) if component != existing => {
                    return Err(op_error(
                        op,
                        format!(
                            "error responses must share one schema: `default` uses `{component}`, another uses `{existing}`"
                        ),
                    ));
                }
                (Some(component), _) => error_type = Some(component.clone()),
                (None, _) => {}
            }
            Some(component.is_some())
        }
    };
    let success_component = success_type.ok_or_else(|| op_error(op, "no 2xx response is documented"))?;
    let mut components = Vec::new();
    let success_type = match success_component {
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
    Ok(Responses {
        success,
        errors,
        success_type,
        error_type,
        components,
        default,
    })
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
