//! Real specs: each corpus document (tests/fixtures/codegen/corpus/, source and licence in its
//! header) generates; its output is committed beside it and compiled by `codegen_corpus_builds`,
//! and the multipart part is snapshotted here.

use std::path::PathBuf;

use feishu_drive_codegen::{Settings, generate};
use insta::assert_snapshot;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus documents: (file stem, multipart operations the document has).
const CORPUS: [(&str, &[&str]); 5] = [
    (
        "openai",
        &[
            "create_file",
            "create_image_edit",
            "create_image_variation",
            "create_transcription",
            "create_translation",
        ],
    ),
    ("immich", &["upload_file", "create_profile_image"]),
    ("immich_assets", &["upload_asset", "replace_asset"]),
    ("peertube", &["create_playlist"]),
    ("peertube_live", &["add_live"]),
];

fn generated(stem: &str) -> String {
    let path = workspace_root().join(format!("tests/fixtures/codegen/corpus/{stem}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let settings = Settings {
        inner_type: None,
        spec_name: format!("tests/fixtures/codegen/corpus/{stem}.yaml"),
        command: "cargo test -p feishu-drive-tests --test suite codegen_corpus::".to_owned(),
        // As `cargo xtask generate` writes them: with the streaming file setters.
        file_setters: true,
        ..Settings::default()
    };
    let files = generate(&text, &settings).unwrap_or_else(|e| panic!("{stem}: {e}"));
    files
        .into_iter()
        .find(|f| f.name == "api.rs")
        .expect("an api.rs")
        .contents
}

/// The multipart part of the output: the `impl Client` block of multipart methods and every
/// setter signature of their builders.
fn multipart_part(api: &str, operations: &[&str]) -> String {
    let start = api
        .find("/// Operations with `multipart/form-data` bodies")
        .expect("a block of multipart methods");
    let end = start + api[start..].find("\n}\n").expect("the block ends") + 3;
    let mut out = api[start..end].to_owned();
    for op in operations {
        let builder = heck_pascal(op);
        let at = api
            .find(&format!("pub struct {builder}<'a>"))
            .unwrap_or_else(|| panic!("no builder {builder}"));
        let body = &api[at..];
        let body = &body[..body.find("pub async fn send").expect("a send")];
        out.push_str(&format!("\n// builder {builder}\n"));
        for line in body.lines().filter(|l| {
            l.trim_start().starts_with("pub fn ") || l.trim().starts_with("V:") || l.trim().starts_with("I:")
        }) {
            out.push_str(line.trim());
            out.push('\n');
        }
    }
    out
}

fn heck_pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The committed copy compiled by `codegen_corpus_builds` must equal the fresh output. Outside
/// CI a stale copy is rewritten (and the test fails so that the diff is reviewed).
fn assert_compiled_copy_is_fresh(relative: &str, fresh: &str) {
    let path = workspace_root().join(relative);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let in_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if committed != fresh && !in_ci {
        std::fs::write(&path, fresh).unwrap_or_else(|e| panic!("rewriting {relative}: {e}"));
        panic!("{relative} was stale and has been rewritten: review the diff and rerun the tests");
    }
    assert_eq!(
        committed, fresh,
        "{relative} is stale: run the tests outside CI to rewrite it"
    );
}

#[test]
fn every_corpus_spec_generates_and_its_copy_is_fresh() {
    for (stem, operations) in CORPUS {
        let api = generated(stem);
        for op in operations {
            assert!(
                api.contains(&format!("pub fn {op}(&self)")),
                "{stem}: no method {op}"
            );
        }
        assert_snapshot!(
            format!("corpus_{stem}_multipart"),
            multipart_part(&api, operations)
        );
        assert_compiled_copy_is_fresh(&format!("tests/fixtures/codegen/corpus/{stem}.api.rs"), &api);
    }
}
