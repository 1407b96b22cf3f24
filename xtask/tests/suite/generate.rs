//! `cargo xtask generate`: the crate it writes for a corpus spec and for the project's own spec.
//! (`codegen_corpus_builds` in the tests crate compiles the same generated code.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    xtask::workspace_root()
}

/// A fresh directory under the system temp dir, unique to this test.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-generate-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn a_corpus_spec_becomes_a_standalone_crate() {
    let out = out_dir("openai");
    let spec = root().join("tests/fixtures/codegen/corpus/openai.yaml");
    let written = xtask::codegen::generate_crate(&spec, &out, Some("openai-client")).expect("generates");
    let names: Vec<_> = written
        .iter()
        .map(|p| {
            p.strip_prefix(&out)
                .expect("inside out")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // No error table in OpenAI's spec, so no `ErrorCode`.
    assert_eq!(names, ["Cargo.toml", "src/lib.rs", "src/api.rs"]);
    let cargo = read(&out.join("Cargo.toml"));
    assert!(cargo.contains("name = \"openai-client\""));
    assert!(cargo.contains("progenitor-client = \"0.15.1\""));
    assert!(
        cargo.contains("\n[workspace]\n"),
        "standalone, not part of an enclosing workspace"
    );
    assert!(
        cargo.contains("[features]\nschemars = [\"dep:schemars\"]"),
        "{cargo}"
    );
    let api = read(&out.join("src/api.rs"));
    assert!(api.contains("pub fn create_image_edit(&self)"));
    assert!(api.contains("pub fn list_files(&self)"));
    // The same code the tests crate compiles, under another header.
    let compiled = read(&root().join("tests/fixtures/codegen/corpus/openai.api.rs"));
    let body = |s: &str| {
        s.split_once("\n\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    };
    assert_eq!(body(&api), body(&compiled));
    std::fs::remove_dir_all(&out).expect("clean up");
}

#[test]
fn the_feishu_extensions_are_used_when_present() {
    let out = out_dir("feishu");
    xtask::codegen::generate_crate(&root().join("spec/feishu-drive.yaml"), &out, Some("feishu"))
        .expect("generates");
    let lib = read(&out.join("src/lib.rs"));
    assert!(lib.contains("pub use error_codes::{ErrorCode, UnknownCode};"));
    assert!(read(&out.join("src/error_codes.rs")).contains("ParamsError"));
    std::fs::remove_dir_all(&out).expect("clean up");
}

#[test]
fn a_bad_crate_name_is_refused() {
    let out = out_dir("bad-name");
    let error = xtask::codegen::generate_crate(
        &root().join("tests/fixtures/codegen/corpus/openai.yaml"),
        &out,
        Some("1 bad name"),
    )
    .expect_err("refused");
    assert!(error.to_string().contains("crate name `1 bad name`"), "{error}");
    assert!(!out.exists(), "nothing written");
}

/// typify never sees a multipart form: the uuid and chrono its typed fields use must still be
/// dependencies of the crate (Immich 1.132's upload has inline uuid and date-time fields).
#[test]
fn the_forms_typed_fields_bring_their_dependencies() {
    let out = out_dir("immich-assets");
    let spec = root().join("tests/fixtures/codegen/corpus/immich_assets.yaml");
    xtask::codegen::generate_crate(&spec, &out, Some("immich-assets")).expect("generates");
    let cargo = read(&out.join("Cargo.toml"));
    assert!(cargo.contains("\nuuid = "), "{cargo}");
    assert!(cargo.contains("\nchrono = "), "{cargo}");
    assert!(
        cargo.contains("features = [\"derive\", \"uuid1\", \"chrono\"]"),
        "{cargo}"
    );
    std::fs::remove_dir_all(&out).expect("clean up");
}
