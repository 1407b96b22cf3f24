//! `Envelope` implementations for every response schema shaped like Feishu's
//! `{code, msg, data}`, so a hand-written layer can check `code` on any operation's response.

use heck::ToUpperCamelCase;
use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The trait definitions and one impl per envelope-shaped component schema.
pub(crate) fn generate(spec: &OpenAPI) -> TokenStream {
    let schemas = spec.components.iter().flat_map(|c| &c.schemas);
    let impls = schemas.filter_map(|(name, schema)| {
        let ReferenceOr::Item(schema) = schema else {
            return None;
        };
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            return None;
        };
        let has = |field: &str| object.required.iter().any(|r| r == field);
        let code_is_int = matches!(
            object.properties.get("code"),
            Some(ReferenceOr::Item(s)) if matches!(s.schema_kind, SchemaKind::Type(Type::Integer(_)))
        );
        if !(has("code") && has("msg") && code_is_int) {
            return None;
        }
        let ty = format_ident!("{}", name.to_upper_camel_case());
        let data = match object.properties.get("data") {
            Some(ReferenceOr::Reference { reference }) => {
                let data_name = reference.strip_prefix("#/components/schemas/")?;
                let data_ty = format_ident!("{}", data_name.to_upper_camel_case());
                let value = if has("data") {
                    quote! { Some(self.data) }
                } else {
                    quote! { self.data }
                };
                Some(quote! {
                    impl EnvelopeData for types::#ty {
                        type Data = types::#data_ty;
                        fn into_data(self) -> Option<Self::Data> {
                            #value
                        }
                    }
                })
            }
            _ => None,
        };
        Some(quote! {
            impl Envelope for types::#ty {
                fn code(&self) -> i64 {
                    self.code
                }
                fn msg(&self) -> &str {
                    &self.msg
                }
            }
            #data
        })
    });
    quote! {
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
    }
}
