//! `schemars::JsonSchema` for the generated types, behind the generated crate's `schemars`
//! feature.
//!
//! typify can add a derive to every type it writes, but not under a `cfg_attr`, and a client
//! crate should not make every user compile schemars. So the derive is added here, to the types
//! that carry serde derives (the spec's schemas), as
//! `#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]`. typify's builders (in
//! `types::builder`) and error types are not schemas and are left alone.

use quote::quote;

use crate::error::CodegenError;

/// Adds the `cfg_attr` derive to each serde type of the `types` module of progenitor's output.
pub(crate) fn derive_under_feature(file: &mut syn::File) -> Result<(), CodegenError> {
    let types = crate::inject::types_module(file)?;
    let derive: syn::Attribute =
        syn::parse_quote!(#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]);
    for item in types.iter_mut() {
        let attrs = match item {
            syn::Item::Struct(s) => &mut s.attrs,
            syn::Item::Enum(e) => &mut e.attrs,
            _ => continue,
        };
        if attrs.iter().any(is_serde_derive) {
            // After the derives, before `#[serde(...)]`: schemars reads the serde attributes.
            let at = attrs.iter().position(is_serde_derive).map_or(0, |i| i + 1);
            attrs.insert(at, derive.clone());
        }
    }
    Ok(())
}

fn is_serde_derive(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return false;
    }
    let Ok(list) = attr.meta.require_list() else {
        return false;
    };
    let tokens = list.tokens.to_string();
    let serde = quote!(::serde::).to_string();
    tokens.contains(&format!("{serde} Serialize")) || tokens.contains(&format!("{serde} Deserialize"))
}
