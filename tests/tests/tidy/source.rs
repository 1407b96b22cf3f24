//! The workspace's files, as the tidy checks see them.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Every `.rs` file under `dir` (relative to the root), sorted, skipping `target/` and hidden
/// directories.
pub fn rust_files(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(&root().join(dir), &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                collect(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// `path` relative to the root, with `/` separators (how reports and allowlists name files).
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Whether a file is generated: under a `generated/` directory, or marked `@generated` in its
/// first lines (what `cargo xtask codegen` writes; `cargo xtask codegen --check` guards them).
pub fn is_generated(path: &Path, text: &str) -> bool {
    relative(path).split('/').any(|part| part == "generated")
        || text.lines().take(3).any(|line| line.contains("@generated"))
}

/// Reads a file the walk found.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// One finding of a check: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    /// What was found, as the allowlist names it (e.g. `operation id "upload_part"`).
    pub what: String,
    /// What to do instead.
    pub fix: String,
}

/// An allowlist entry: findings of `what` in `file` are known, and someone removes them.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub file: &'static str,
    pub what: &'static str,
    /// Who removes it, or why it stays.
    pub note: &'static str,
}

/// Fails with every finding the allowlist does not cover, and every allowlist entry that no
/// longer matches anything (so the list only shrinks as offenders are removed).
pub fn assert_clean(check: &str, findings: &[Finding], allowed: &[Allowed]) {
    let mut report = Vec::new();
    for f in findings {
        if !allowed.iter().any(|a| a.file == f.file && a.what == f.what) {
            report.push(format!("{}:{}: {} ({})", f.file, f.line, f.what, f.fix));
        }
    }
    for a in allowed {
        if !findings.iter().any(|f| a.file == f.file && a.what == f.what) {
            report.push(format!(
                "allowlist entry no longer needed, delete it: {} / {} ({})",
                a.file, a.what, a.note
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{check}: {} problem(s)\n{}",
        report.len(),
        report.join("\n")
    );
}
