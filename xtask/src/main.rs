//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask codegen` regenerates `client/src/generated/` from `spec/`.
//! - `cargo xtask codegen --check` writes nothing and fails with a diff when those files are stale.
//! - `cargo xtask generate --spec FILE --out DIR [--name CRATE]` writes a standalone client crate
//!   generated from any OpenAPI 3.0.x document (JSON and multipart/form-data operations).
//! - `cargo xtask corpus-report --dir DIR` tabulates what `generate` makes of every spec in DIR.
//! - `cargo xtask spec-diff [--base REV]` reviews a spec change: what changes on the wire and in the
//!   generated Rust API, classified as breaking, behaviour change, non-breaking or docs-only.
//! - `cargo xtask public-api JSON OUT [--check]` writes (or checks) a crate's public-API listing
//!   from rustdoc's JSON; `scripts/public-api.sh` runs it for `feishu-drive`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{codegen, corpus, public_api, spec_diff};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project automation for feishu-drive")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate the client from spec/feishu-drive.yaml.
    Codegen(codegen::Args),
    /// Generate a standalone client crate from any OpenAPI 3.0.x document.
    Generate(codegen::GenerateArgs),
    /// Tabulate what `generate` makes of every spec in a corpus (operations generated, left
    /// out, by cause).
    CorpusReport(corpus::Args),
    /// Review a spec change: semantic diff, classification, and the generated Rust API diff.
    SpecDiff(spec_diff::Args),
    /// List a crate's public API from rustdoc's JSON, or check a committed listing.
    PublicApi(public_api::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, error_code) = match cli.command {
        Command::Codegen(args) => (codegen::run(&args), ExitCode::FAILURE),
        Command::Generate(args) => (codegen::run_generate(&args), ExitCode::FAILURE),
        Command::CorpusReport(args) => (corpus::run(&args), ExitCode::FAILURE),
        // spec-diff reserves exit status 1 for "breaking changes found" (--fail-on-breaking), so a
        // failure to produce the report at all must be told apart from it.
        Command::SpecDiff(args) => (spec_diff::run(&args), ExitCode::from(2)),
        Command::PublicApi(args) => (public_api::run(&args), ExitCode::FAILURE),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            error_code
        }
    }
}
