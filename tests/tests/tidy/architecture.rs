//! The invariants of docs/ARCHITECTURE.md that are about who may use whom.

use std::collections::BTreeMap;
use std::process::Command;

use super::lexer::{Tok, Token, lex, without_test_items};
use super::source::{Finding, assert_clean, read, relative, root, rust_files};

/// What the server may take from the client crate: the spec's generated facts (request and
/// response types, the error table, the operation table, the limits, the envelope).
const SERVER_MAY_USE: &[&str] = &[
    "types",
    "ErrorCode",
    "UnknownCode",
    "operations",
    "limits",
    "Envelope",
    "EnvelopeData",
];

/// `feishu_drive::X` paths in `tokens` (use trees expanded one level): (X, line).
fn client_paths(tokens: &[Token]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let is = |i: usize, t: Tok| tokens.get(i).map(|x| &x.tok) == Some(&t);
    for i in 0..tokens.len() {
        if tokens[i].tok != Tok::Ident("feishu_drive".to_owned())
            || !(is(i + 1, Tok::Punct(':')) && is(i + 2, Tok::Punct(':')))
        {
            continue;
        }
        match tokens.get(i + 3).map(|t| &t.tok) {
            Some(Tok::Ident(name)) => out.push((name.clone(), tokens[i].line)),
            Some(Tok::Punct('{')) => {
                let mut depth = 0usize;
                let mut after_path = false;
                for t in &tokens[i + 3..] {
                    let was_after_path = std::mem::replace(&mut after_path, t.tok == Tok::Punct(':'));
                    match &t.tok {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        // A name at the top level of the braces, not after `::`.
                        Tok::Ident(name) if depth == 1 && !was_after_path => out.push((name.clone(), t.line)),
                        _ => {}
                    }
                }
            }
            Some(Tok::Punct('*')) => out.push(("*".to_owned(), tokens[i].line)),
            _ => {}
        }
    }
    out.dedup();
    out
}

fn server_findings(file: &str, src: &str) -> Vec<Finding> {
    let tokens = without_test_items(&lex(src));
    let mut out = Vec::new();
    for (name, line) in client_paths(&tokens) {
        if !SERVER_MAY_USE.contains(&name.as_str()) {
            out.push(Finding {
                file: file.to_owned(),
                line,
                what: format!("feishu_drive::{name}"),
                fix: format!("the server uses only {SERVER_MAY_USE:?} of the client: no uploader, downloader, budget or auth logic"),
            });
        }
    }
    out
}

/// Architecture Invariant: the server never uses uploader logic. It is the client's oracle in
/// the end-to-end tests; if it shared the uploader's code (its retries, its budget, its block
/// arithmetic), a bug there would be on both sides of every test and no test would see it.
#[test]
fn the_server_uses_only_the_generated_facts_of_the_client() {
    let mut findings = Vec::new();
    for path in rust_files("server/src") {
        findings.extend(server_findings(&relative(&path), &read(&path)));
    }
    assert_clean("server/src uses client logic", &findings, &[]);
}

#[test]
fn the_server_check_finds_a_planted_use_of_the_uploader() {
    let src = "use feishu_drive::{ErrorCode, types::{A, B}, limits::BLOCK_SIZE};\nuse feishu_drive::upload::UploadRequest;\nfn f() { feishu_drive::budget::Budget::in_process(c); let _ = feishu_drive::limits::BLOCK_SIZE; }\n#[cfg(test)]\nmod tests { use feishu_drive::Client; }\n";
    let found: Vec<(usize, String)> = server_findings("planted.rs", src)
        .into_iter()
        .map(|f| (f.line, f.what))
        .collect();
    assert_eq!(
        found,
        [
            (2, "feishu_drive::upload".to_owned()),
            (3, "feishu_drive::budget".to_owned())
        ]
    );
}

/// The workspace crates each crate depends on (normal and build dependencies), from
/// `cargo metadata`.
fn workspace_dependencies() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
            "--locked",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut out = BTreeMap::new();
    for package in packages {
        let deps = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null() || d["kind"] == "build")
            .filter_map(|d| d["name"].as_str())
            .filter(|name| members.contains(name))
            .map(str::to_owned)
            .collect();
        out.insert(package["name"].as_str().unwrap_or_default().to_owned(), deps);
    }
    out
}

/// Which workspace crates each crate may depend on (a new crate is added here).
const MAY_DEPEND_ON: &[(&str, &[&str])] = &[
    ("feishu-drive-codegen", &[]),
    ("feishu-drive", &[]),
    ("feishu-drive-server", &["feishu-drive"]),
    ("feishu-drive-cli", &["feishu-drive", "feishu-drive-server"]),
    ("xtask", &["feishu-drive-codegen"]),
    (
        "feishu-drive-tests",
        &["feishu-drive", "feishu-drive-codegen", "feishu-drive-server"],
    ),
];

/// Architecture Invariant: data flows spec -> codegen -> client -> user. The generator knows
/// nothing of the client it writes (it runs on any spec); the client does not depend on the
/// generator at build time (its generated code is committed) nor on the server; the server
/// depends on the client only for the generated facts (checked above).
#[test]
fn crates_depend_in_the_direction_the_data_flows() {
    let mut report = Vec::new();
    for (krate, deps) in workspace_dependencies() {
        let allowed = MAY_DEPEND_ON.iter().find(|(name, _)| *name == krate);
        let Some((_, allowed)) = allowed else {
            report.push(format!(
                "{krate}: not in MAY_DEPEND_ON; say which workspace crates it may use"
            ));
            continue;
        };
        for dep in deps {
            if !allowed.contains(&dep.as_str()) {
                report.push(format!("{krate} depends on {dep}, against the data flow"));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
