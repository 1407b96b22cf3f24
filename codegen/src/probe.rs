//! Finding what progenitor (or typify inside it) refuses or panics on, outside strict mode: the
//! component schema or the operation, so that only it is left out.
//!
//! progenitor converts every component schema before any operation, so the schemas are probed
//! first, on the document without operations: a failing schema is found by replacing the others
//! with `{}` (any value, which typify always converts, under the same name so that `$ref`s still
//! resolve) and bisecting. Then the operations, with the schemas known to pass: a failing one
//! is found by bisecting the set of operations kept. Each probe is one progenitor run; a spec
//! that generates takes one probe per phase.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaData, SchemaKind};

use crate::select::culprit;

/// What stops progenitor.
#[derive(Debug)]
pub(crate) enum Trouble {
    /// The component schema of this name, and what typify says.
    Schema { name: String, reason: String },
    /// The operations, each as `path`, `method` (lower case), and what progenitor says of it
    /// alone.
    Operations(Vec<(String, String, String)>),
    /// Neither one schema nor one operation: progenitor fails on the document as a whole.
    Document { reason: String },
}

/// One progenitor run: `Err` with its error or panic message.
fn probe(spec: &OpenAPI, settings: &progenitor_impl::GenerationSettings) -> Result<(), String> {
    crate::quiet::catch(|| {
        let mut generator = progenitor_impl::Generator::new(settings);
        generator
            .generate_tokens(spec)
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .and_then(|result| result)
}

fn any_schema() -> ReferenceOr<Schema> {
    ReferenceOr::Item(Schema {
        schema_data: SchemaData::default(),
        schema_kind: SchemaKind::Any(Default::default()),
    })
}

/// `spec` without operations, with only the schemas named in `keep` as written.
fn schemas_only(spec: &OpenAPI, keep: &[String]) -> OpenAPI {
    let mut out = spec.clone();
    out.paths.paths.clear();
    if let Some(components) = out.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if !keep.contains(name) {
                *schema = any_schema();
            }
        }
    }
    out
}

/// `spec` with only the operations in `keep` (as `(path, method)`).
fn operations_only(spec: &OpenAPI, keep: &[(String, String)]) -> OpenAPI {
    let mut out = spec.clone();
    for (path, item) in out.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else { continue };
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
            if !keep.iter().any(|(p, m)| p == path && m == method) {
                *slot = None;
            }
        }
    }
    out.paths.paths.retain(|_, item| match item {
        ReferenceOr::Item(item) => item.iter().next().is_some(),
        ReferenceOr::Reference { .. } => false,
    });
    out
}

/// The first thing progenitor fails on, or `None` when it generates `spec`.
pub(crate) fn find_trouble(
    spec: &OpenAPI,
    settings: &progenitor_impl::GenerationSettings,
) -> Option<Trouble> {
    let whole = probe(spec, settings).err()?;
    let names: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys().cloned())
        .collect();
    if let Err(reason) = probe(&schemas_only(spec, &names), settings) {
        if probe(&schemas_only(spec, &[]), settings).is_err() {
            return Some(Trouble::Document { reason });
        }
        let mut fails = |keep: &[String]| probe(&schemas_only(spec, keep), settings).is_err();
        return Some(match culprit(&names, &mut fails) {
            Some(name) => {
                let reason = probe(&schemas_only(spec, std::slice::from_ref(&name)), settings)
                    .err()
                    .unwrap_or(reason);
                Trouble::Schema { name, reason }
            }
            None => Trouble::Document { reason },
        });
    }
    let operations: Vec<(String, String)> = spec
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| match item {
            ReferenceOr::Item(item) => Some((path, item)),
            ReferenceOr::Reference { .. } => None,
        })
        .flat_map(|(path, item)| {
            item.iter()
                .map(move |(method, _)| (path.clone(), method.to_owned()))
        })
        .collect();
    let mut fails = |keep: &[(String, String)]| probe(&operations_only(spec, keep), settings).is_err();
    let failing = all_culprits(&operations, &mut fails);
    if failing.is_empty() {
        return Some(Trouble::Document { reason: whole });
    }
    let found = failing
        .into_iter()
        .map(|(path, method)| {
            let alone = [(path.clone(), method.clone())];
            let reason = probe(&operations_only(spec, &alone), settings)
                .err()
                .unwrap_or_else(|| whole.clone());
            (path, method, reason)
        })
        .collect();
    Some(Trouble::Operations(found))
}

/// Every item whose presence makes `fails` true, by splitting in halves (one probe per half
/// that fails on its own); when only two halves together fail, the item that completes the
/// shortest failing prefix of them.
fn all_culprits<T: Clone>(items: &[T], fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    fn split<T: Clone>(items: &[T], fails: &mut dyn FnMut(&[T]) -> bool, out: &mut Vec<T>) {
        if items.len() == 1 {
            out.push(items[0].clone());
            return;
        }
        let (a, b) = items.split_at(items.len() / 2);
        let before = out.len();
        for half in [a, b] {
            if fails(half) {
                split(half, fails, out);
            }
        }
        if out.len() == before
            && let Some(one) = culprit(items, fails)
        {
            out.push(one);
        }
    }
    let mut out = Vec::new();
    if fails(items) {
        split(items, fails, &mut out);
    }
    out
}
