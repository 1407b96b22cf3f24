//! The library behind `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - [`codegen`]: `cargo xtask codegen [--check]` regenerates (or checks) `client/src/generated/`.
//! - [`corpus`]: `cargo xtask corpus-report` tabulates what `generate` makes of a corpus of specs.
//! - [`public_api`]: `cargo xtask public-api` lists a crate's public API from rustdoc's JSON
//!   (`scripts/public-api.sh`).
//! - [`spec_diff`]: `cargo xtask spec-diff` reviews a change of `spec/` by its effect on the wire and
//!   on the generated Rust client.
//!
//! It is a library (and `src/main.rs` only parses the command line) so that `xtask/tests/` can
//! run the spec review on fixture specs without a git repository.

pub mod codegen;
pub mod corpus;
pub mod public_api;
pub mod spec_diff;

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
