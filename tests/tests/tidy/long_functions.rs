//! No hand-written function over 80 lines unless it says why: a function that long usually does
//! several things a reader has to tell apart, each of which deserves a name. A function that
//! must be long says so in a comment starting `// Why this function is long:`, in the comments
//! and attributes right above it or inside it. Counted from the `fn` line to the closing brace,
//! comments included. Generated files and test code (`#[cfg(test)]` items, `tests.rs` files)
//! are exempt.

use super::lexer::{Tok, Token, lex, matching, without_test_items};
use super::source::{Allowed, Finding, assert_clean, is_generated, read, relative, rust_files};

/// Most lines a hand-written function may have without saying why.
const MAX_LINES: usize = 80;
const WHY: &str = "// Why this function is long:";

/// The hand-written sources the check reads (tests and benches are not among them).
const SOURCES: &[&str] = &["client/src", "server/src", "codegen/src", "cli/src", "xtask/src"];

/// Known long functions, each with who shortens it (or adds the `Why` comment). Delete an entry
/// once its function is short or explains itself.
const ALLOWED: &[Allowed] = &[];

/// One function: its name, its first and last line.
#[derive(Debug, PartialEq, Eq)]
struct Function {
    name: String,
    first: usize,
    last: usize,
}

/// Every function with a body in `tokens`, nested ones included.
fn functions(tokens: &[Token]) -> Vec<Function> {
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.tok != Tok::Ident("fn".to_owned()) {
            continue;
        }
        let Some(Tok::Ident(name)) = tokens.get(i + 1).map(|t| &t.tok) else {
            continue; // `fn(u8) -> u8`, a pointer type
        };
        if let Some(open) = body_start(tokens, i + 2)
            && let Some(close) = matching(tokens, open, '{', '}')
        {
            out.push(Function {
                name: name.clone(),
                first: token.line,
                last: tokens[close].line,
            });
        }
    }
    out
}

/// The `{` opening the body of a function whose signature starts at `i`; `None` when the
/// signature ends in `;` (a trait method without a default body).
fn body_start(tokens: &[Token], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(i) {
        match token.tok {
            Tok::Punct('(' | '[') => depth += 1,
            Tok::Punct(')' | ']') => depth = depth.saturating_sub(1),
            Tok::Punct('{') if depth == 0 => return Some(j),
            Tok::Punct(';') if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// Whether the function's own lines, or the comments and attributes right above it, say why it
/// is long.
fn explained(lines: &[&str], f: &Function) -> bool {
    let body = lines
        .get(f.first.saturating_sub(1)..f.last.min(lines.len()))
        .unwrap_or(&[]);
    let above = lines[..f.first.saturating_sub(1).min(lines.len())]
        .iter()
        .rev()
        .map(|line| line.trim_start())
        .take_while(|line| line.starts_with("//") || line.starts_with("#["));
    body.iter()
        .map(|line| line.trim_start())
        .chain(above)
        .any(|line| line.starts_with(WHY))
}

fn too_long(file: &str, text: &str) -> Vec<Finding> {
    let tokens = without_test_items(&lex(text));
    let lines: Vec<&str> = text.lines().collect();
    functions(&tokens)
        .into_iter()
        .filter(|f| f.last - f.first + 1 > MAX_LINES && !explained(&lines, f))
        .map(|f| Finding {
            file: file.to_owned(),
            line: f.first,
            what: format!("long function `{}`", f.name),
            fix: format!(
                "{} lines: extract well-named functions, or say `{WHY} …` above it",
                f.last - f.first + 1
            ),
        })
        .collect()
}

/// What the check finds in the workspace's hand-written sources.
fn findings() -> Vec<Finding> {
    let mut findings = Vec::new();
    for dir in SOURCES {
        for path in rust_files(dir) {
            let file = relative(&path);
            let text = read(&path);
            let test_file = path.file_name().is_some_and(|n| n == "tests.rs");
            if test_file || is_generated(&path, &text) {
                continue;
            }
            findings.extend(too_long(&file, &text));
        }
    }
    findings
}

#[test]
fn no_hand_written_function_is_over_80_lines_without_saying_why() {
    let findings = findings();
    if std::env::var_os("TIDY_PRINT_LONG_FUNCTIONS").is_some() {
        for f in &findings {
            println!("{}:{}: {} ({})", f.file, f.line, f.what, f.fix);
        }
    }
    assert_clean("long functions", &findings, ALLOWED);
}

/// The check can fail: an 81-line function is reported (and a long test function, a trait
/// method without a body and a function pointer type are not); with the `Why` comment above
/// it, or inside it, it is not.
#[test]
fn the_long_function_check_finds_a_planted_long_function() {
    let body = "    let x = 1;\n".repeat(MAX_LINES - 1);
    let long = format!(
        "trait T {{ fn declared(&self) -> fn(u8) -> u8; }}\n/// Docs.\n#[inline]\nfn planted(a: [u8; 2]) -> u8 {{\n{body}}}\n#[cfg(test)]\nmod tests {{ fn long() {{\n{body}\n\n}} }}\n"
    );
    let found = too_long("planted.rs", &long);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].line, found[0].what.as_str()),
        (4, "long function `planted`")
    );
    let above = long.replace(
        "/// Docs.\n",
        &format!("/// Docs.\n{WHY} one match, one arm per code.\n"),
    );
    assert_eq!(too_long("planted.rs", &above), []);
    let inside = long.replace("{\n    let x", &format!("{{\n    {WHY} a table.\n    let x"));
    assert_eq!(too_long("planted.rs", &inside), []);
    let short = long.replacen("    let x = 1;\n", "", 1);
    assert_eq!(too_long("planted.rs", &short), []);
}
