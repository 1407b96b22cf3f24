//! Leaves progenitor's `Client::new` out of a crate that writes its own constructor.
//!
//! progenitor's `new` builds a `reqwest::Client` with a 15-second timeout on every whole
//! request, which a 20 MiB `upload_all` below about 11 Mbit/s cannot meet, and unwraps the
//! builder. The client crate builds its `Client` through its own builder (a connect timeout and
//! a stall timeout, no whole-request deadline), so the generated `new` must not be reachable.
//! `new_with_client` stays: it is what that builder calls.

use crate::error::CodegenError;

/// Removes `Client::new` from the generated file; fails if progenitor's output changed shape.
pub(crate) fn remove_client_new(file: &mut syn::File) -> Result<(), CodegenError> {
    let mut removed = false;
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let is_client = block.trait_.is_none()
            && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client {
            continue;
        }
        let before = block.items.len();
        block
            .items
            .retain(|f| !matches!(f, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
        removed |= block.items.len() < before;
    }
    if removed {
        Ok(())
    } else {
        Err(CodegenError::Internal(
            "progenitor's output has no `impl Client { fn new }` to leave out".to_owned(),
        ))
    }
}
