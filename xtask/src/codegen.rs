//! `cargo xtask codegen [--check]`: regenerate `client/src/generated/` from the spec, or check it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use feishu_drive_codegen::{GeneratedFile, Settings};

/// Where the spec lives, relative to the workspace root.
pub const SPEC: &str = "spec/feishu-drive.yaml";
/// Where the generated files go, relative to the workspace root.
pub const OUT_DIR: &str = "client/src/generated";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing; fail with a unified diff if the committed files differ from a fresh run.
    #[arg(long)]
    check: bool,
}

/// Runs `cargo xtask codegen`; the exit code says whether `--check` found stale files.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace_root();
    let started = Instant::now();
    let files = generate(&root)?;
    let out_dir = root.join(OUT_DIR);
    if args.check {
        let stale = stale_files(&out_dir, &files)?;
        if stale.is_empty() {
            eprintln!("generated code is up to date ({} files)", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for (path, diff) in &stale {
            println!("{diff}");
            eprintln!("stale: {}", path.display());
        }
        eprintln!("generated code is out of date: run `cargo xtask codegen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for file in &files {
        let path = out_dir.join(file.name);
        std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote {} ({} lines)",
            path.strip_prefix(&root).unwrap_or(&path).display(),
            file.contents.lines().count()
        );
    }
    eprintln!("generated in {:.2?}", started.elapsed());
    Ok(ExitCode::SUCCESS)
}

/// Generates the client's files from the spec in `root`.
pub fn generate(root: &Path) -> anyhow::Result<Vec<GeneratedFile>> {
    let spec_path = root.join(SPEC);
    let spec =
        std::fs::read_to_string(&spec_path).with_context(|| format!("reading {}", spec_path.display()))?;
    feishu_drive_codegen::generate(&spec, &Settings::client())
        .with_context(|| format!("generating from {SPEC}"))
}

/// The files whose committed copy differs from `files`, with a unified diff of each.
fn stale_files(out_dir: &Path, files: &[GeneratedFile]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut stale = Vec::new();
    for file in files {
        let path = out_dir.join(file.name);
        let committed = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if committed != file.contents {
            let diff = similar::TextDiff::from_lines(&committed, &file.contents)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("a/{OUT_DIR}/{}", file.name),
                    &format!("b/{OUT_DIR}/{}", file.name),
                )
                .to_string();
            stale.push((path, diff));
        }
    }
    Ok(stale)
}
