//! The conversions behind component- and format-typed setters (`IntoFormValue`), and the Rust
//! types of string formats.

use proc_macro2::TokenStream;
use quote::quote;

use super::form::TextFormat;
use crate::error::CodegenError;
use crate::names::TypeNames;

/// The conversions behind component-typed setters: the type itself, or text a user has at hand
/// (`&str`, `String`), turned into the type by its own `Deserialize` (which checks the schema's
/// constraints: an enum's values, a pattern, a UUID's syntax); integer, number and boolean
/// components also take the plain Rust value.
pub(crate) fn form_value_impls(
    spec: &openapiv3::OpenAPI,
    components: &[String],
    formats: &[TextFormat],
    names: &TypeNames,
) -> Result<TokenStream, CodegenError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut impls = Vec::new();
    let formats: std::collections::BTreeSet<TextFormat> = formats.iter().copied().collect();
    for format in formats {
        impls.extend(conversions(&format_type(format), &text()));
    }
    for component in components {
        if !seen.insert(component.as_str()) {
            continue;
        }
        let ty = names.path(component)?;
        let schema = spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(component))
            .and_then(|s| s.as_item());
        let plain: Vec<TokenStream> = match schema.map(|s| &s.schema_kind) {
            Some(openapiv3::SchemaKind::Type(openapiv3::Type::String(_))) => text(),
            Some(openapiv3::SchemaKind::Type(openapiv3::Type::Integer(_))) => vec![quote! { i64 }],
            Some(openapiv3::SchemaKind::Type(openapiv3::Type::Number(_))) => vec![quote! { f64 }],
            Some(openapiv3::SchemaKind::Type(openapiv3::Type::Boolean(_))) => vec![quote! { bool }],
            _ => Vec::new(),
        };
        impls.extend(conversions(&quote! { super::#ty }, &plain));
    }
    if impls.is_empty() {
        return Ok(quote! {});
    }
    Ok(quote! {
        /// A value a multipart field of type `T` accepts: a `T`, or the plain value a user has at
        /// hand (`&str` / `String` for string types, the number or boolean for the others),
        /// converted and checked by `T`'s own deserialisation when `send` runs.
        pub trait IntoFormValue<T> {
            /// The value as a `T`, or why it is not one.
            fn into_form_value(self) -> Result<T, String>;
        }

        #(#impls)*
    })
}

/// The text types a user has at hand.
fn text() -> Vec<TokenStream> {
    vec![
        quote! { &str },
        quote! { ::std::string::String },
        quote! { &::std::string::String },
    ]
}

/// `IntoFormValue<ty>` for `ty` itself, and for each plain type through `ty`'s deserialisation.
fn conversions(ty: &TokenStream, plain: &[TokenStream]) -> Vec<TokenStream> {
    let mut impls = vec![quote! {
        impl IntoFormValue<#ty> for #ty {
            fn into_form_value(self) -> Result<#ty, String> {
                Ok(self)
            }
        }
    }];
    impls.extend(plain.iter().map(|from| {
        quote! {
            impl IntoFormValue<#ty> for #from {
                fn into_form_value(self) -> Result<#ty, String> {
                    ::serde_json::from_value(::serde_json::json!(self)).map_err(|e| e.to_string())
                }
            }
        }
    }));
    impls
}

/// The Rust type of a string format.
pub(super) fn format_type(format: TextFormat) -> TokenStream {
    match format {
        TextFormat::Uuid => quote! { ::uuid::Uuid },
        TextFormat::DateTime => quote! { ::chrono::DateTime<::chrono::offset::Utc> },
    }
}
