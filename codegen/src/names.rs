//! The Rust names of the spec's component schemas, asked from typify (the type generator inside
//! progenitor) rather than recomputed: a component named `3dResp` or `my-type` gets the name
//! typify gives it, so the hand-generated code (multipart methods, envelopes, extensible enums)
//! names the same type progenitor's output defines.

use std::collections::BTreeMap;

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::quote;
use schemars::schema::{InstanceType, Schema, SchemaObject};

use crate::error::CodegenError;

/// Component name → the name of the type typify generates for it.
#[derive(Debug, Default)]
pub(crate) struct TypeNames {
    by_component: BTreeMap<String, String>,
}

impl TypeNames {
    /// Names every component schema of `spec` through a typify type space.
    ///
    /// typify names a component's type after the component alone (its `Name::Required`); the
    /// schema each component is given here is a one-value string enum, a shape typify always
    /// turns into a named type, so that no component's own quirks (defaults, OpenAPI-only
    /// keywords) can stop the naming. progenitor's run checks the names afterwards
    /// ([`TypeNames::check_against`]).
    pub(crate) fn of(spec: &OpenAPI) -> Result<Self, CodegenError> {
        let names: Vec<&String> = spec.components.iter().flat_map(|c| c.schemas.keys()).collect();
        let mut settings = typify::TypeSpaceSettings::default();
        settings.with_struct_builder(true);
        let mut space = typify::TypeSpace::new(&settings);
        let placeholder = Schema::Object(SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            enum_values: Some(vec![serde_json::Value::String("x".to_owned())]),
            ..SchemaObject::default()
        });
        space
            .add_ref_types(names.iter().map(|name| (name.as_str(), placeholder.clone())))
            .map_err(|e| {
                CodegenError::Internal(format!("typify could not name the component schemas: {e}"))
            })?;
        let mut by_component = BTreeMap::new();
        for name in names {
            let reference = Schema::new_ref(format!("#/components/schemas/{}", pointer_escape(name)));
            let id = space.add_type(&reference).map_err(|e| CodegenError::Schema {
                name: name.clone(),
                problem: format!("typify cannot name it: {e}"),
            })?;
            let ty = space.get_type(&id).map_err(|e| CodegenError::Schema {
                name: name.clone(),
                problem: format!("typify cannot name it: {e}"),
            })?;
            by_component.insert(name.clone(), ty.name());
        }
        Ok(Self { by_component })
    }

    /// The type's name, e.g. `UploadPartResponse` or `X3dResp`.
    pub(crate) fn name(&self, component: &str) -> Result<&str, CodegenError> {
        self.by_component
            .get(component)
            .map(String::as_str)
            .ok_or_else(|| CodegenError::Schema {
                name: component.to_owned(),
                problem: "no such component schema".to_owned(),
            })
    }

    /// The type as a path from the generated file's top level: `types::Name`.
    pub(crate) fn path(&self, component: &str) -> Result<TokenStream, CodegenError> {
        let ident = ident(self.name(component)?)?;
        Ok(quote! { types::#ident })
    }

    /// Fails unless every name is a type progenitor's own type space generated: the two runs of
    /// typify must agree.
    pub(crate) fn check_against(&self, space: &typify::TypeSpace, used: &[&str]) -> Result<(), CodegenError> {
        let generated: std::collections::BTreeSet<String> = space.iter_types().map(|t| t.name()).collect();
        for component in used {
            let name = self.name(component)?;
            if !generated.contains(name) {
                return Err(CodegenError::Schema {
                    name: (*component).to_owned(),
                    problem: format!(
                        "typify names it `{name}`, but progenitor generated no type of that name (the multipart code needs one)"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// An identifier for a name typify produced (typify only produces valid identifiers).
pub(crate) fn ident(name: &str) -> Result<syn::Ident, CodegenError> {
    syn::parse_str::<syn::Ident>(name)
        .map_err(|_| CodegenError::Internal(format!("typify's type name `{name}` is not an identifier")))
}

/// A component name as one JSON-pointer segment (`~` → `~0`, `/` → `~1`).
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
