//! `cargo xtask codegen [--check]`: regenerate `client/src/generated/` from the spec, or check it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use feishu_drive_codegen::{Counts, GeneratedFile, LeftOut, Settings};

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

/// `cargo xtask generate`: a standalone client crate from any OpenAPI 3.0.x document.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The OpenAPI 3.0.x document (YAML or JSON).
    #[arg(long)]
    pub spec: PathBuf,
    /// The crate's directory; `Cargo.toml` and `src/` are written there (other files are left).
    #[arg(long)]
    pub out: PathBuf,
    /// The crate's name (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Refuse the whole spec when one operation cannot be generated, instead of leaving that
    /// operation out (with a warning) and generating the rest.
    #[arg(long)]
    pub strict: bool,
}

/// Runs `cargo xtask generate`.
pub fn run_generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let generated = generate_crate_with(&args.spec, &args.out, args.name.as_deref(), args.strict)?;
    for left in &generated.left_out {
        eprintln!("warning: left out {left}");
    }
    for path in &generated.written {
        eprintln!("wrote {}", path.display());
    }
    let counts = generated.counts;
    eprintln!(
        "{} of {} operations generated ({} of {} multipart, {} more with another content type)",
        counts.generated,
        counts.operations,
        counts.multipart_generated,
        counts.multipart,
        counts.multipart_sent_otherwise
    );
    eprintln!("generated in {:.2?}", started.elapsed());
    Ok(ExitCode::SUCCESS)
}

/// The versions a generated crate depends on: those this workspace builds and tests with.
const CRATE_DEPENDENCIES: &str = r#"bytes = "1"
progenitor-client = "0.15.1"
reqwest = { version = "0.13", default-features = false, features = ["json", "stream", "multipart", "query", "http2", "rustls"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

/// What [`generate_crate_with`] wrote and left out.
#[derive(Debug)]
pub struct GeneratedCrate {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// The operations the crate does not have, and why.
    pub left_out: Vec<LeftOut>,
    /// The spec's operation counts.
    pub counts: Counts,
}

/// Writes a standalone crate generated from `spec` into `out`, in strict mode; returns the files
/// written.
pub fn generate_crate(spec: &Path, out: &Path, name: Option<&str>) -> anyhow::Result<Vec<PathBuf>> {
    generate_crate_with(spec, out, name, true).map(|generated| generated.written)
}

/// Writes a standalone crate generated from `spec` into `out`: outside `strict` mode, the
/// operations the generator cannot express are left out, and listed in the crate's docs.
pub fn generate_crate_with(
    spec: &Path,
    out: &Path,
    name: Option<&str>,
    strict: bool,
) -> anyhow::Result<GeneratedCrate> {
    let text = std::fs::read_to_string(spec).with_context(|| format!("reading {}", spec.display()))?;
    let name = crate_name(name, out)?;
    let settings = Settings {
        inner_type: None,
        spec_name: spec
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("the spec")
            .to_owned(),
        command: "cargo xtask generate".to_owned(),
        strict,
        file_setters: true,
        operation_table: false,
        own_constructor: false,
    };
    let output = feishu_drive_codegen::generate_output(&text, &settings)
        .with_context(|| format!("generating from {}", spec.display()))?;
    let cargo_toml = cargo_toml(&settings.spec_name, &name, output.dependencies);
    let mut lib = format!(
        "// @generated by `cargo xtask generate` from {}.\n//! A client generated from `{}` by `cargo xtask generate`.\n{}\n#[allow(clippy::all)]\nmod api;\npub use api::*;\n",
        settings.spec_name,
        settings.spec_name,
        left_out_docs(&output.left_out)
    );
    // The error table is a Feishu extension: only a spec that has one gets `ErrorCode`.
    let doc: serde_json::Value = serde_yaml_ng::from_str(&text).context("reading the spec as YAML")?;
    let has_error_table = doc.get(feishu_drive_codegen::error_codes::EXTENSION).is_some();
    if has_error_table {
        lib.push_str("mod error_codes;\npub use error_codes::{ErrorCode, UnknownCode};\n");
    }

    let src = out.join("src");
    std::fs::create_dir_all(&src).with_context(|| format!("creating {}", src.display()))?;
    let mut written = Vec::new();
    let mut write = |path: PathBuf, contents: &str| -> anyhow::Result<()> {
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write(out.join("Cargo.toml"), &cargo_toml)?;
    write(src.join("lib.rs"), &lib)?;
    for file in output
        .files
        .iter()
        .filter(|f| has_error_table || f.name != "error_codes.rs")
    {
        write(src.join(file.name), &file.contents)?;
    }
    Ok(GeneratedCrate {
        written,
        left_out: output.left_out,
        counts: output.counts,
    })
}

/// The crate's name: `name`, or `out`'s directory name; a name cargo accepts.
fn crate_name(name: Option<&str>, out: &Path) -> anyhow::Result<String> {
    let name = match name {
        Some(name) => name.to_owned(),
        None => out
            .canonicalize()
            .ok()
            .as_deref()
            .unwrap_or(out)
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .context("--out has no directory name to name the crate; pass --name")?,
    };
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    anyhow::ensure!(
        valid_name,
        "crate name `{name}` must start with a letter and hold only letters, digits, `-` and `_`"
    );
    Ok(name)
}

/// The generated crate's `Cargo.toml`: the runtime every client needs, and what its types use.
fn cargo_toml(spec_name: &str, name: &str, dependencies: feishu_drive_codegen::Dependencies) -> String {
    let mut cargo_toml = format!(
        "# @generated by `cargo xtask generate` from {spec_name}.\n[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{CRATE_DEPENDENCIES}",
    );
    if dependencies.regress {
        cargo_toml.push_str("regress = \"0.10\"\n");
    }
    if dependencies.uuid {
        cargo_toml.push_str("uuid = { version = \"1\", features = [\"serde\"] }\n");
    }
    if dependencies.chrono {
        cargo_toml.push_str(
            "chrono = { version = \"0.4\", default-features = false, features = [\"serde\", \"std\"] }\n",
        );
    }
    if dependencies.streaming {
        cargo_toml.push_str("tokio = { version = \"1\", features = [\"fs\"] }\n");
        cargo_toml.push_str("tokio-util = { version = \"0.7\", features = [\"io\"] }\n");
    }
    // The types derive `schemars::JsonSchema` under this feature (with schemars' support for
    // the uuid and chrono types they use).
    let mut schemars_features = vec!["\"derive\""];
    if dependencies.uuid {
        schemars_features.push("\"uuid1\"");
    }
    if dependencies.chrono {
        schemars_features.push("\"chrono\"");
    }
    cargo_toml.push_str(&format!(
        "schemars = {{ version = \"0.8\", optional = true, features = [{}] }}\n\n[features]\nschemars = [\"dep:schemars\"]\n",
        schemars_features.join(", ")
    ));
    // Not a member of any workspace it is generated inside.
    cargo_toml.push_str("\n[workspace]\n");
    cargo_toml
}

/// The crate docs' section listing the operations left out (empty when none is).
fn left_out_docs(left_out: &[LeftOut]) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let mut docs = format!(
        "//!\n//! # Left out\n//!\n//! {} operations of the spec could not be generated:\n//!\n",
        left_out.len()
    );
    for left in left_out {
        // One line each: a line break in a spec's text would end the doc comment's item.
        let line = left.to_string().replace(['\r', '\n'], " ");
        docs.push_str(&format!("//! - {line}\n"));
    }
    docs
}
