//! `cargo xtask corpus-report --dir DIR…`: what `cargo xtask generate` makes of every spec in a
//! corpus, as the table the README reports: operations generated and left out, multipart
//! operations generated, and the operations left out by cause. Nothing is hand-counted: the
//! table is the generator's own account ([`feishu_drive_codegen::Output`]).
//!
//! Compiling the crates is `scripts/check-generated-crates.sh`'s part; this only generates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use feishu_drive_codegen::{Counts, LeftOut, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A folder of specs (`*.yaml`, `*.yml`, `*.json`, searched recursively), or one spec;
    /// repeatable.
    #[arg(long, required = true)]
    pub dir: Vec<PathBuf>,
    /// Generate in strict mode (a spec with one operation left out counts as refused).
    #[arg(long)]
    pub strict: bool,
}

/// One spec's outcome.
#[derive(Debug)]
pub struct SpecRow {
    /// The spec's path as given.
    pub spec: PathBuf,
    /// The counts, or why the whole spec was refused.
    pub outcome: Result<Counts, String>,
    /// The operations left out.
    pub left_out: Vec<LeftOut>,
}

/// Generates every spec under `dirs`; a panic in the generator is a refusal that says so.
pub fn report(dirs: &[PathBuf], strict: bool) -> anyhow::Result<Vec<SpecRow>> {
    let mut specs = Vec::new();
    for dir in dirs {
        if dir.is_file() {
            specs.push(dir.clone());
        } else {
            collect(dir, &mut specs).with_context(|| format!("listing {}", dir.display()))?;
        }
    }
    specs.sort();
    let mut rows = Vec::new();
    for spec in specs {
        let text = std::fs::read_to_string(&spec).with_context(|| format!("reading {}", spec.display()))?;
        let settings = Settings {
            inner_type: None,
            spec_name: spec.display().to_string(),
            command: "cargo xtask generate".to_owned(),
            strict,
            file_setters: true,
            ..Settings::default()
        };
        let generated = std::panic::catch_unwind(|| feishu_drive_codegen::generate_output(&text, &settings));
        let row = match generated {
            Ok(Ok(output)) => SpecRow {
                spec,
                outcome: Ok(output.counts),
                left_out: output.left_out,
            },
            Ok(Err(e)) => SpecRow {
                spec,
                outcome: Err(e.to_string()),
                left_out: Vec::new(),
            },
            Err(_) => SpecRow {
                spec,
                outcome: Err("PANIC in the generator".to_owned()),
                left_out: Vec::new(),
            },
        };
        rows.push(row);
    }
    Ok(rows)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The cause an operation was left out for, by the words of its reason.
pub fn cause(reason: &str) -> &'static str {
    const CAUSES: [(&str, &str); 21] = [
        ("panic at", "progenitor/typify panic"),
        ("typify cannot convert", "schema typify rejects"),
        ("progenitor cannot generate", "progenitor rejects the operation"),
        ("points to nothing", "dangling $ref"),
        ("request content type", "request content type not supported"),
        ("cookie parameter", "cookie parameter"),
        ("is not a scalar", "non-scalar parameter"),
        ("`default` response", "default response"),
        ("inline pattern", "multipart field: inline pattern"),
        ("multipart fields must be", "multipart field: unsupported type"),
        (
            "must have an `application/json` schema",
            "multipart response not JSON",
        ),
        ("share one schema", "responses with different schemas"),
        ("1xx/3xx", "multipart 1xx/3xx response"),
        ("operationId", "operation name"),
        ("both become", "name clash"),
        ("clash", "name clash"),
        (
            "multipart body schema must be an object",
            "multipart body not a form",
        ),
        (
            "inline schemas have no stable type name",
            "multipart response: inline schema",
        ),
        ("no 2xx response", "no 2xx response"),
        (
            "but progenitor generated no type",
            "type name progenitor does not generate",
        ),
        ("not one media type", "multipart encoding: several content types"),
    ];
    CAUSES
        .iter()
        .find(|(words, _)| reason.contains(words))
        .map_or("other", |(_, cause)| cause)
}

/// The report as Markdown: one row per spec, the totals, and the causes.
pub fn markdown(rows: &[SpecRow]) -> String {
    let mut out = String::from(
        "| spec | operations | generated | left out | multipart | multipart generated | multipart sent as another type |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut total = Counts::default();
    let (mut compiled, mut refused) = (0, Vec::new());
    let mut causes: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        let name = row.spec.display();
        match &row.outcome {
            Ok(c) => {
                compiled += 1;
                out.push_str(&format!(
                    "| {name} | {} | {} | {} | {} | {} | {} |\n",
                    c.operations,
                    c.generated,
                    c.operations - c.generated,
                    c.multipart,
                    c.multipart_generated,
                    c.multipart_sent_otherwise
                ));
                total.operations += c.operations;
                total.generated += c.generated;
                total.multipart += c.multipart;
                total.multipart_generated += c.multipart_generated;
                total.multipart_sent_otherwise += c.multipart_sent_otherwise;
                for left in &row.left_out {
                    *causes.entry(cause(&left.reason)).or_default() += 1;
                }
            }
            Err(e) => {
                let first = e.lines().next().unwrap_or_default();
                out.push_str(&format!(
                    "| {name} | refused: {} | | | | | |\n",
                    first.replace('|', "\\|")
                ));
                refused.push(name.to_string());
            }
        }
    }
    out.push_str(&format!(
        "| **{} specs, {compiled} generated** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |\n",
        rows.len(),
        total.operations,
        total.generated,
        total.operations - total.generated,
        total.multipart,
        total.multipart_generated,
        total.multipart_sent_otherwise
    ));
    out.push_str("\n| operations left out, by cause | count |\n| --- | ---: |\n");
    let mut by_count: Vec<_> = causes.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (cause, count) in by_count {
        out.push_str(&format!("| {cause} | {count} |\n"));
    }
    out
}

/// Runs `cargo xtask corpus-report`: prints the table, and every operation left out (to stderr).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let rows = report(&args.dir, args.strict)?;
    for row in &rows {
        for left in &row.left_out {
            eprintln!("{}: [{}] {left}", row.spec.display(), cause(&left.reason));
        }
        if let Err(e) = &row.outcome {
            eprintln!("{}: refused: {e}", row.spec.display());
        }
    }
    print!("{}", markdown(&rows));
    Ok(ExitCode::SUCCESS)
}
