//! Formatting generated tokens into a file under its `@generated` header.

use proc_macro2::TokenStream;

use crate::error::CodegenError;

/// Formats `tokens` with prettyplease under `header` (comment lines, each ending in `\n`).
pub(crate) fn format_file(tokens: TokenStream, header: &str) -> Result<String, CodegenError> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Internal(e.to_string()))?;
    Ok(format!("{header}\n{}", prettyplease::unparse(&file)))
}
