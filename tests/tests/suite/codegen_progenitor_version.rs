//! The multipart injection was written against one progenitor release
//! (`feishu_drive_codegen::PROGENITOR_VERSION`); this fails loudly when Cargo.lock holds another,
//! so an upgrade is a deliberate review of the injection rather than a silent change.

use std::path::Path;

/// The versions of `name` that Cargo.lock holds.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"")
            && let Some(version) = lines.next()
            && let Some(v) = version.trim().strip_prefix("version = \"")
        {
            out.push(v.trim_end_matches('"').to_owned());
        }
    }
    out
}

#[test]
fn progenitor_version_is_the_reviewed_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock is readable");
    for name in ["progenitor-impl", "progenitor-client"] {
        let versions = locked_versions(&lock, name);
        assert_eq!(
            versions,
            [feishu_drive_codegen::PROGENITOR_VERSION],
            "Cargo.lock has {name} {versions:?}, but the multipart injection (codegen/src/inject.rs) was written against \
             {}: review what the new release generates for `Client` and the `builder` module, regenerate, review the \
             snapshots, then update PROGENITOR_VERSION",
            feishu_drive_codegen::PROGENITOR_VERSION
        );
    }
}

#[test]
fn the_lock_reader_finds_versions() {
    // The reader itself, on a fragment whose answer is known: an empty result above would
    // otherwise fail for the wrong reason.
    let lock = "[[package]]\nname = \"progenitor-impl\"\nversion = \"9.9.9\"\nsource = \"x\"\n";
    assert_eq!(locked_versions(lock, "progenitor-impl"), ["9.9.9"]);
    assert!(locked_versions(lock, "progenitor").is_empty());
}
