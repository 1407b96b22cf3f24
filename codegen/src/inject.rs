//! Running progenitor, and adding the multipart operations to what it generated.
//!
//! progenitor 0.15 rejects a whole document when one operation has a `multipart/form-data` body,
//! so those operations are taken out before progenitor sees the spec ([`without_multipart`]) and
//! their generated methods and builders are added to its output afterwards ([`inject`]). Only
//! progenitor's public API is used (`Generator`, `GenerationSettings`, `get_type_space`), and the
//! injected code only progenitor-client's public API; what the injection still assumes about
//! progenitor's output (a `Client` type, a `builder` module beside it, a `types` module) was
//! written against [`PROGENITOR_VERSION`], which a test compares with Cargo.lock.

use std::panic::{AssertUnwindSafe, catch_unwind};

use openapiv3::{OpenAPI, ReferenceOr};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::CodegenError;
use crate::multipart::MultipartOperation;
use crate::names::TypeNames;
use crate::spec::{self, OperationRef};

/// The progenitor release the injection was written and reviewed against. When Cargo.lock
/// moves to another one, the `progenitor_version_is_the_reviewed_one` test fails: read the
/// release's changes to the generated `Client` and `builder` module, regenerate, review the
/// snapshots, then update this.
pub const PROGENITOR_VERSION: &str = "0.15.1";

/// What a generated crate needs besides the client's own dependencies, as progenitor's type
/// space reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// The types use `uuid::Uuid`.
    pub uuid: bool,
    /// The types use `chrono` date-times.
    pub chrono: bool,
    /// The types check patterns with `regress`.
    pub regress: bool,
    /// The multipart builders stream files and readers (`tokio`, `tokio-util`).
    pub streaming: bool,
}

/// The spec progenitor can read: multipart operations and the schemas only they use removed.
pub(crate) fn without_multipart(spec: &OpenAPI) -> Result<OpenAPI, CodegenError> {
    let mut out = spec.clone();
    let mut body_schemas = Vec::new();
    let mut still_used = String::new();
    for (path, item) in out.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        let item_parameters = item.parameters.clone();
        let slots = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ];
        for (method, slot) in slots {
            let Some(op) = slot.as_ref() else { continue };
            let op_ref = OperationRef {
                path,
                method,
                op,
                item_parameters: &item_parameters,
            };
            if spec::body_kind(spec, &op_ref)? != spec::BodyKind::Multipart {
                continue;
            }
            if let Some(body) = spec::request_body(spec, &op_ref)?
                && let Some(media) = body.content.get(spec::MULTIPART)
                && let Some(ReferenceOr::Reference { reference }) = &media.schema
            {
                body_schemas.push(reference.clone());
            }
            // Its responses and parameters keep what they use (a form schema that is also
            // the response, as slicebox's `scp`), which the multipart code names.
            let used = (&op.responses, &op.parameters);
            still_used
                .push_str(&serde_json::to_string(&used).map_err(|e| CodegenError::Internal(e.to_string()))?);
            *slot = None;
        }
    }
    out.paths.paths.retain(|_, item| match item {
        ReferenceOr::Item(item) => item.iter().next().is_some(),
        ReferenceOr::Reference { .. } => true,
    });
    // A body schema nothing else references would only become an unused type with a `String`
    // where the bytes go; drop it.
    let mut text = serde_json::to_string(&out).map_err(|e| CodegenError::Internal(e.to_string()))?;
    text.push_str(&still_used);
    if let Some(components) = out.components.as_mut() {
        for reference in body_schemas {
            let quoted = format!("\"{reference}\"");
            if !text.contains(&quoted)
                && let Some(name) = reference.strip_prefix("#/components/schemas/")
            {
                components.schemas.shift_remove(name);
            }
        }
    }
    Ok(out)
}

/// progenitor's settings: builder style, one `Client` for every tag, the inner type if any.
pub(crate) fn progenitor_settings(
    inner_type: Option<&str>,
) -> Result<progenitor_impl::GenerationSettings, CodegenError> {
    let mut settings = progenitor_impl::GenerationSettings::default();
    settings
        .with_interface(progenitor_impl::InterfaceStyle::Builder)
        .with_tag(progenitor_impl::TagStyle::Merged);
    if let Some(inner) = inner_type {
        let inner: TokenStream = inner
            .parse()
            .map_err(|_| CodegenError::Internal(format!("inner type `{inner}` is not a Rust path")))?;
        settings.with_inner_type(inner);
    }
    Ok(settings)
}

/// Runs progenitor in builder style, and checks that every type the multipart code names is one
/// progenitor's type space generated.
pub(crate) fn run_progenitor(
    spec: &OpenAPI,
    inner_type: Option<&str>,
    names: &TypeNames,
    used_types: &[&str],
    operations: &[MultipartOperation],
) -> Result<(TokenStream, Dependencies), CodegenError> {
    let settings = progenitor_settings(inner_type)?;
    // progenitor panics on some inputs it does not expect; `spec::problems` rejects every such
    // input we know of, and this turns any other panic into an error instead of an abort.
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut generator = progenitor_impl::Generator::new(&settings);
        let tokens = generator.generate_tokens(spec)?;
        let space = generator.get_type_space();
        let dependencies = Dependencies {
            uuid: space.uses_uuid(),
            chrono: space.uses_chrono(),
            regress: space.uses_regress(),
            streaming: false,
        };
        let checked = names
            .check_against(space, used_types)
            .and_then(|()| forms_are_free(space, operations));
        Ok::<_, progenitor_impl::Error>((tokens, dependencies, checked))
    }));
    match result {
        Ok(Ok((tokens, dependencies, checked))) => checked.map(|()| (tokens, dependencies)),
        Ok(Err(e)) => Err(CodegenError::Progenitor(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "progenitor panicked".to_owned());
            Err(CodegenError::Progenitor(message))
        }
    }
}

/// Each multipart operation's request-body type (`{Operation}Form`) goes into the `types`
/// module beside typify's types: its name must be free there.
fn forms_are_free(space: &typify::TypeSpace, operations: &[MultipartOperation]) -> Result<(), CodegenError> {
    let taken: std::collections::BTreeSet<String> = space.iter_types().map(|t| t.name()).collect();
    let mut seen = std::collections::BTreeSet::new();
    for op in operations {
        if taken.contains(&op.form_name) || !seen.insert(op.form_name.as_str()) {
            let (operation, method, path) = op.place.clone();
            return Err(CodegenError::Operation {
                operation,
                method,
                path,
                problem: format!(
                    "its request-body type would be named `{}`, which another type already has; rename the schema or the operation",
                    op.form_name
                ),
            });
        }
    }
    Ok(())
}

/// Adds the multipart methods (an `impl Client` block before the `builder` module) and their
/// builders (at the end of the `builder` module) to progenitor's output.
pub(crate) fn inject(
    progenitor: TokenStream,
    operations: &[MultipartOperation],
    builder_extras: TokenStream,
) -> Result<syn::File, CodegenError> {
    let mut file: syn::File = syn::parse2(progenitor).map_err(|e| CodegenError::Internal(e.to_string()))?;
    if operations.is_empty() {
        return Ok(file);
    }
    let methods = operations.iter().map(|m| &m.method);
    let client_impl: syn::Item = syn::parse2(quote! {
        /// Operations with `multipart/form-data` bodies, generated by `feishu-drive-codegen`
        /// in progenitor's builder style.
        impl Client {
            #(#methods)*
        }
    })
    .map_err(|e| CodegenError::Internal(e.to_string()))?;
    let builder_pos = file
        .items
        .iter()
        .position(|item| matches!(item, syn::Item::Mod(m) if m.ident == "builder"))
        .ok_or_else(|| CodegenError::Internal("progenitor output has no `builder` module".to_owned()))?;
    let syn::Item::Mod(builder) = &mut file.items[builder_pos] else {
        return Err(CodegenError::Internal(
            "progenitor's `builder` is not a module".to_owned(),
        ));
    };
    let content = &mut builder
        .content
        .as_mut()
        .ok_or_else(|| CodegenError::Internal("progenitor's `builder` module is empty".to_owned()))?
        .1;
    // progenitor's builders reach typify's types through its `use super::types;`; the injected
    // ones name `super::types::…` themselves, so when every builder that used the import is a
    // multipart one the import is unused (a warning in a generated crate).
    for item in content.iter_mut() {
        if let syn::Item::Use(import) = item
            && imports_super_types(import)
        {
            import.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
        }
    }
    let builders = operations.iter().map(|op| &op.builder);
    let items: syn::File = syn::parse2(quote! { #builder_extras #(#builders)* })
        .map_err(|e| CodegenError::Internal(e.to_string()))?;
    content.extend(items.items);
    file.items.insert(builder_pos, client_impl);
    add_forms(&mut file, operations)?;
    Ok(file)
}

/// Whether `import` is `use super::types;`.
fn imports_super_types(import: &syn::ItemUse) -> bool {
    match &import.tree {
        syn::UseTree::Path(path) if path.ident == "super" => {
            matches!(&*path.tree, syn::UseTree::Name(name) if name.ident == "types")
        }
        _ => false,
    }
}

/// The items of the `types` module of progenitor's output.
pub(crate) fn types_module(file: &mut syn::File) -> Result<&mut Vec<syn::Item>, CodegenError> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| CodegenError::Internal("progenitor output has no `types` module".to_owned()))
}

/// Adds the request-body types of the multipart operations to the `types` module.
fn add_forms(file: &mut syn::File, operations: &[MultipartOperation]) -> Result<(), CodegenError> {
    let types = types_module(file)?;
    let forms = operations.iter().map(|op| &op.form);
    let items: syn::File =
        syn::parse2(quote! { #(#forms)* }).map_err(|e| CodegenError::Internal(e.to_string()))?;
    // Before typify's `builder` and `error` submodules, after its types.
    let at = types
        .iter()
        .position(|item| matches!(item, syn::Item::Mod(_)))
        .unwrap_or(types.len());
    types.splice(at..at, items.items);
    Ok(())
}
