//! `Envelope` implementations for every response schema shaped like Feishu's
//! `{code, msg, data}`, so a hand-written layer can check `code` on any operation's response.

use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::CodegenError;
use crate::names::TypeNames;

/// The trait definitions and one impl per envelope-shaped component schema.
pub(crate) fn generate(spec: &OpenAPI, names: &TypeNames) -> Result<TokenStream, CodegenError> {
    let schemas = spec.components.iter().flat_map(|c| &c.schemas);
    let mut impls = Vec::new();
    for (name, schema) in schemas {
        if let Some(tokens) = envelope_impl(names, name, schema)? {
            impls.push(tokens);
        }
    }
    Ok(quote! {
        /// A Feishu response envelope: `code` is 0 on success, otherwise an error code, and
        /// `msg` explains it. Implemented for every response type of the spec with both fields.
        pub trait Envelope {
            /// The envelope's `code`: 0 on success.
            fn code(&self) -> i64;
            /// The envelope's `msg`.
            fn msg(&self) -> &str;
        }

        /// An envelope whose payload is in `data`.
        pub trait EnvelopeData: Envelope {
            /// The payload type.
            type Data;
            /// The payload, if the server sent one.
            fn into_data(self) -> Option<Self::Data>;
        }

        #(#impls)*
    })
}

/// The `Envelope` (and `EnvelopeData`) impls of one component, if it is envelope-shaped.
fn envelope_impl(
    names: &TypeNames,
    name: &str,
    schema: &ReferenceOr<openapiv3::Schema>,
) -> Result<Option<TokenStream>, CodegenError> {
    let ReferenceOr::Item(schema) = schema else {
        return Ok(None);
    };
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Ok(None);
    };
    let has = |field: &str| object.required.iter().any(|r| r == field);
    // typify makes such a `code` an `i64` (a non-negative minimum would make it unsigned).
    let code_is_int = matches!(
        object.properties.get("code"),
        Some(ReferenceOr::Item(s)) if matches!(&s.schema_kind, SchemaKind::Type(Type::Integer(int))
            if !matches!(int.format, openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32))
                && int.minimum.is_none_or(|m| m < 0))
    );
    let msg_is_text = matches!(
        object.properties.get("msg"),
        Some(ReferenceOr::Item(s)) if matches!(s.schema_kind, SchemaKind::Type(Type::String(_)))
    );
    if !(has("code") && has("msg") && code_is_int && msg_is_text) {
        return Ok(None);
    }
    let ty = names.path(name)?;
    let data = match object.properties.get("data") {
        Some(ReferenceOr::Reference { reference }) => {
            let Some(data_name) = reference.strip_prefix("#/components/schemas/") else {
                return Ok(None);
            };
            let data_ty = names.path(data_name)?;
            let value = if has("data") {
                quote! { Some(self.data) }
            } else {
                quote! { self.data }
            };
            Some(quote! {
                impl EnvelopeData for #ty {
                    type Data = #data_ty;
                    fn into_data(self) -> Option<Self::Data> {
                        #value
                    }
                }
            })
        }
        _ => None,
    };
    Ok(Some(quote! {
        impl Envelope for #ty {
            fn code(&self) -> i64 {
                self.code
            }
            fn msg(&self) -> &str {
                &self.msg
            }
        }
        #data
    }))
}
