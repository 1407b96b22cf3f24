//! The generated client's public API, as a sorted list of items, and the diff of two such lists.
//!
//! The project's own code generator runs on both sides; `syn` parses its output, and every public
//! item becomes one entry: a key that names it (`field types::UploadPrepareRequest::size`) and a
//! signature (`pub size: i64`). Two entries with the same key and different signatures are a
//! changed item. Doc comments are not part of any signature.

mod diff;
mod extract;
mod tidy;

use std::collections::BTreeMap;

use feishu_drive_codegen::GeneratedFile;

pub use diff::{ApiChange, diff};
pub use tidy::tidy;

/// One public item of the generated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiItem {
    /// Its signature, normalised to one line.
    pub signature: String,
    /// When adding this item to an existing parent breaks code written before (a field of a
    /// struct that can be built with a literal, a variant of an exhaustive enum), why.
    pub breaks_when_added: Option<String>,
    /// The type (or trait) this item belongs to, as candidate paths (`types::X` for its fields,
    /// derives and impls): the first that names a generated type is the parent. An addition
    /// can only break code if the parent existed before, and members of a type that is itself
    /// added or removed are folded into it in the diff.
    pub parents: Vec<String>,
}

/// The public API of a generated client, by item key.
pub type Api = BTreeMap<String, ApiItem>;

/// Why the generated code could not be read.
#[derive(Debug, thiserror::Error)]
#[error("generated file {file} does not parse as Rust: {message}")]
pub struct ApiError {
    file: String,
    message: String,
}

/// The public items of the generated files. Every file's items are taken as re-exported at the
/// crate root, as the client's `lib.rs` does.
pub fn extract(files: &[GeneratedFile]) -> Result<Api, ApiError> {
    let mut api = Api::new();
    for file in files {
        let parsed = syn::parse_file(&file.contents).map_err(|e| ApiError {
            file: file.name.to_owned(),
            message: e.to_string(),
        })?;
        extract::items(&parsed.items, &[], &mut api);
    }
    Ok(api)
}

/// The names of the types in the `types` module (for rules that ask whether a schema became a
/// type).
pub fn type_names(api: &Api) -> std::collections::BTreeSet<String> {
    api.keys()
        .filter_map(|key| {
            let rest = key
                .strip_prefix("struct types::")
                .or_else(|| key.strip_prefix("enum types::"))?;
            (!rest.contains("::")).then(|| rest.to_owned())
        })
        .collect()
}
