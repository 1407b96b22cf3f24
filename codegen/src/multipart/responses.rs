//! How a multipart operation's documented responses map to the types `send` returns.

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::CodegenError;
use crate::names::TypeNames;
use crate::spec::{self, OperationRef, op_error};

/// The status patterns of success and error responses, and their types.
pub(crate) struct Responses {
    pub(crate) success: Vec<TokenStream>,
    pub(crate) errors: Vec<TokenStream>,
    pub(crate) success_type: TokenStream,
    pub(crate) error_type: TokenStream,
    /// The component schemas named (to check against progenitor's type space).
    pub(crate) components: Vec<String>,
}

pub(crate) fn responses(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    names: &TypeNames,
) -> Result<Responses, CodegenError> {
    if op.op.responses.default.is_some() {
        return Err(op_error(
            op,
            "a `default` response is not supported on multipart operations; document each status",
        ));
    }
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut success_type: Option<String> = None;
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
        let slot = if class == 2 {
            &mut success_type
        } else {
            &mut error_type
        };
        match slot {
            Some(existing) if *existing != component => {
                return Err(op_error(
                    op,
                    format!(
                        "responses of one class must share one schema: {status} uses `{component}`, another uses `{existing}`"
                    ),
                ));
            }
            _ => *slot = Some(component),
        }
        if class == 2 {
            success.push(pattern);
        } else if class >= 4 {
            errors.push(pattern);
        } else {
            return Err(op_error(
                op,
                format!("response status {status} (1xx/3xx) is not supported on multipart operations"),
            ));
        }
    }
    let success_component = success_type.ok_or_else(|| op_error(op, "no 2xx response is documented"))?;
    let mut components = vec![success_component.clone()];
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
        success_type: {
            let path = names.path(&success_component)?;
            quote! { super::#path }
        },
        error_type,
        components,
    })
}

/// The component schema a response's JSON body references.
fn response_component(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    status: &str,
    response: &ReferenceOr<openapiv3::Response>,
) -> Result<String, CodegenError> {
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
    let schema = response
        .content
        .get(spec::JSON)
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| {
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
            .map(str::to_owned)
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
