//! Architecture Invariant: the modules of each library crate (`client/src`, `server/src`,
//! `codegen/src`) import each other without a circle, so each can be read knowing only what it
//! imports. A module is a file. An edge `a -> b` is a
//! `use` or a path in code (`crate::…`, `super::…`, `self::…`, or a child module's name in a
//! `use`) that reaches an item defined in `b`. Names re-exported by `lib.rs` are followed to the
//! module that defines them (`crate::Client` is `generated/api.rs`): the crate root is a
//! facade, its `pub use` lines are not edges. Other modules' `use` lines are followed the same
//! way (`super::UploadError` from `upload/flow.rs` is `upload/error.rs`) and are edges of their
//! own module. Items under `#[cfg(test)]` are not counted.

use std::collections::{BTreeMap, BTreeSet};

use super::lexer::{Tok, Token, lex, matching, without_test_items};
use super::source::{read, root};

use super::cycles_allowlist::ALLOWED_EDGES;

/// One file of the crate.
#[derive(Debug)]
struct Module {
    /// Relative to the crate's `src`, e.g. `upload/flow.rs`.
    name: String,
    parent: Option<usize>,
    /// Child modules in their own files.
    children: BTreeMap<String, usize>,
    /// Inline modules (`mod raw { … }`): their names resolve to this file.
    inline: BTreeSet<String>,
    /// Names brought in by `use`: name -> the path it stands for.
    bindings: BTreeMap<String, Vec<String>>,
}

/// A `use` leaf or a path in code, from a module.
#[derive(Debug)]
struct Reference {
    from: usize,
    path: Vec<String>,
    line: usize,
    /// A `pub use` in `lib.rs`: a binding, not an edge.
    facade: bool,
}

/// The edges of a crate: (from, to) -> the first line that makes it.
pub type Edges = BTreeMap<(String, String), (String, usize)>;

struct Crate {
    /// The crate's `src` directory, e.g. `client/src` (how findings name files).
    src: String,
    modules: Vec<Module>,
    references: Vec<Reference>,
}

impl Crate {
    fn load(src: &str, files: &BTreeMap<String, String>) -> Self {
        let mut krate = Crate {
            src: src.to_owned(),
            modules: Vec::new(),
            references: Vec::new(),
        };
        krate.add("lib.rs", None, files);
        krate
    }

    fn add(&mut self, name: &str, parent: Option<usize>, files: &BTreeMap<String, String>) -> usize {
        let text = files.get(name).cloned().unwrap_or_default();
        let tokens = without_test_items(&lex(&text));
        let id = self.modules.len();
        self.modules.push(Module {
            name: name.to_owned(),
            parent,
            children: BTreeMap::new(),
            inline: BTreeSet::new(),
            bindings: BTreeMap::new(),
        });
        let declared = declarations(&tokens);
        for (child, path_attr) in declared.files {
            let file = child_file(name, &child, path_attr.as_deref(), files);
            let child_id = self.add(&file, Some(id), files);
            self.modules[id].children.insert(child, child_id);
        }
        self.modules[id].inline = declared.inline;
        let depths = inline_depths(&tokens);
        for (at, use_path, bound, public) in declared.uses {
            let path = in_file(use_path, depths[at]);
            // A name imported inside an inline module is that module's, not the file's.
            if let Some(bound) = bound.filter(|_| depths[at] == 0) {
                self.modules[id].bindings.insert(bound, path.clone());
            }
            let facade = public && parent.is_none();
            self.references.push(Reference {
                from: id,
                path,
                line: tokens[at].line,
                facade,
            });
        }
        for (at, path) in code_paths(&tokens) {
            let path = in_file(path, depths[at]);
            self.references.push(Reference {
                from: id,
                path,
                line: tokens[at].line,
                facade: false,
            });
        }
        id
    }

    /// The module defining what `path` (as written in module `from`) names, if it is in this
    /// crate.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 || path.is_empty() {
            return None;
        }
        let (mut at, mut rest) = match path[0].as_str() {
            "crate" => (0, &path[1..]),
            "self" => (from, &path[1..]),
            "super" => {
                let mut at = from;
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    at = self.modules[at].parent?;
                    rest = &rest[1..];
                }
                (at, rest)
            }
            first => {
                let m = &self.modules[from];
                if !(m.children.contains_key(first)
                    || m.bindings.contains_key(first)
                    || m.inline.contains(first))
                {
                    return None; // another crate
                }
                (from, path)
            }
        };
        while let Some(segment) = rest.first() {
            let m = &self.modules[at];
            if let Some(&child) = m.children.get(segment) {
                at = child;
            } else if m.inline.contains(segment) {
                // Still this file.
            } else if let Some(target) = m.bindings.get(segment) {
                // A name another `use` brought in: follow it (None if it is another crate's).
                let mut full = target.clone();
                full.extend(rest[1..].iter().cloned());
                return self.resolve(at, &full, depth + 1);
            } else {
                return Some(at);
            }
            rest = &rest[1..];
        }
        Some(at)
    }

    fn edges(&self) -> Edges {
        let mut edges = Edges::new();
        for r in &self.references {
            if r.facade {
                continue;
            }
            let Some(to) = self.resolve(r.from, &r.path, 0) else {
                continue;
            };
            if to == r.from {
                continue;
            }
            let key = (self.modules[r.from].name.clone(), self.modules[to].name.clone());
            let at = (format!("{}/{}", self.src, self.modules[r.from].name), r.line);
            edges.entry(key).or_insert(at);
        }
        edges
    }
}

/// How many inline modules (`mod name { … }`) enclose each token.
fn inline_depths(tokens: &[Token]) -> Vec<usize> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut braces = 0usize;
    let mut open: Vec<usize> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token.tok {
            Tok::Punct('{') => {
                braces += 1;
                let is_mod =
                    i >= 2 && ident(tokens.get(i - 2)) == Some("mod") && ident(tokens.get(i - 1)).is_some();
                if is_mod {
                    open.push(braces);
                }
            }
            Tok::Punct('}') => {
                if open.last() == Some(&braces) {
                    open.pop();
                }
                braces = braces.saturating_sub(1);
            }
            _ => {}
        }
        out.push(open.len());
    }
    out
}

/// A path written inside `depth` inline modules, as seen from the file's module: the first
/// `depth` leading `super`s name a module of the same file, so they become `self`.
fn in_file(mut path: Vec<String>, depth: usize) -> Vec<String> {
    let supers = path.iter().take_while(|s| *s == "super").count();
    let stay = supers.min(depth);
    if stay > 0 {
        path.drain(..stay);
        if path.first().is_none_or(|s| s != "super") {
            path.insert(0, "self".to_owned());
        }
    }
    path
}

/// The file of child module `child` declared in `parent` (names relative to `src`).
fn child_file(
    parent: &str,
    child: &str,
    path_attr: Option<&str>,
    files: &BTreeMap<String, String>,
) -> String {
    let dir = match parent.rsplit_once('/') {
        Some((dir, file)) if file == "mod.rs" || file == "lib.rs" => format!("{dir}/"),
        Some((dir, file)) => format!("{dir}/{}/", file.trim_end_matches(".rs")),
        None if parent == "lib.rs" || parent == "mod.rs" => String::new(),
        None => format!("{}/", parent.trim_end_matches(".rs")),
    };
    if let Some(path) = path_attr {
        // A `#[path]` outside an inline module is relative to the declaring file's directory.
        let base = parent
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        return format!("{base}{path}");
    }
    let flat = format!("{dir}{child}.rs");
    if files.contains_key(&flat) {
        flat
    } else {
        format!("{dir}{child}/mod.rs")
    }
}

#[derive(Default)]
struct Declarations {
    /// `mod name;` with its `#[path]`, if any.
    files: Vec<(String, Option<String>)>,
    inline: BTreeSet<String>,
    /// (index of the `use` token, path, the name it binds, whether it is `pub`).
    uses: Vec<(usize, Vec<String>, Option<String>, bool)>,
}

fn ident(token: Option<&Token>) -> Option<&str> {
    match token.map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

fn declarations(tokens: &[Token]) -> Declarations {
    let mut out = Declarations::default();
    let mut path_attr: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match (
            &tokens[i].tok,
            ident(tokens.get(i + 1)),
            tokens.get(i + 2).map(|t| &t.tok),
        ) {
            (Tok::Punct('#'), _, _) if tokens.get(i + 1).map(|t| &t.tok) == Some(&Tok::Punct('[')) => {
                let end = matching(tokens, i + 1, '[', ']').unwrap_or(tokens.len() - 1);
                if ident(tokens.get(i + 2)) == Some("path")
                    && let Some(Tok::Str(p)) = tokens.get(i + 4).map(|t| &t.tok)
                {
                    path_attr = Some(p.clone());
                }
                i = end + 1;
                continue;
            }
            (Tok::Ident(kw), Some(name), Some(Tok::Punct(';'))) if kw == "mod" => {
                out.files.push((name.to_owned(), path_attr.take()));
                i += 3;
                continue;
            }
            (Tok::Ident(kw), Some(name), Some(Tok::Punct('{'))) if kw == "mod" => {
                out.inline.insert(name.to_owned());
            }
            (Tok::Ident(kw), _, _) if kw == "use" => {
                let public = i > 0 && is_visibility_end(tokens, i);
                let end = (i..tokens.len())
                    .find(|&j| tokens[j].tok == Tok::Punct(';'))
                    .unwrap_or(tokens.len());
                let mut leaves = Vec::new();
                use_tree(&tokens[i + 1..end], Vec::new(), &mut leaves);
                for (path, bound) in leaves {
                    out.uses.push((i, path, bound, public));
                }
                i = end + 1;
                continue;
            }
            (Tok::Punct(';' | '{' | '}'), _, _) => path_attr = None,
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the tokens before `use` at `i` are a visibility (`pub`, `pub(crate)`, `pub(super)`).
fn is_visibility_end(tokens: &[Token], i: usize) -> bool {
    if ident(tokens.get(i - 1)) == Some("pub") {
        return true;
    }
    i >= 4 && tokens[i - 1].tok == Tok::Punct(')') && ident(tokens.get(i - 4)) == Some("pub")
}

/// The leaves of a use tree: each full path and the name it binds (`None` for a glob).
fn use_tree(tokens: &[Token], prefix: Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    let mut path = prefix;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].tok {
            Tok::Ident(s) if s == "as" => {
                let bound = ident(tokens.get(i + 1)).map(str::to_owned);
                out.push((path.clone(), bound));
                return;
            }
            Tok::Ident(s) => path.push(s.clone()),
            Tok::Punct(':') => {}
            Tok::Punct('*') => {
                out.push((path.clone(), None));
                return;
            }
            Tok::Punct('{') => {
                let end = matching(tokens, i, '{', '}').unwrap_or(tokens.len());
                let inner = &tokens[i + 1..end.min(tokens.len())];
                let mut depth = 0usize;
                let mut start = 0;
                for (j, t) in inner.iter().enumerate() {
                    match t.tok {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => depth -= 1,
                        Tok::Punct(',') if depth == 0 => {
                            use_tree(&inner[start..j], path.clone(), out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                use_tree(&inner[start..], path.clone(), out);
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if path.last().is_some_and(|s| s == "self") {
        path.pop();
    }
    if let Some(last) = path.last().cloned() {
        out.push((path, Some(last)));
    }
}

/// Paths in code that start with `crate`, `super` or `self` (outside `use` lines), with the
/// index of their first token.
fn code_paths(tokens: &[Token]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    let colons = |j: usize| {
        tokens.get(j).map(|t| &t.tok) == Some(&Tok::Punct(':'))
            && tokens.get(j + 1).map(|t| &t.tok) == Some(&Tok::Punct(':'))
    };
    while i < tokens.len() {
        if ident(tokens.get(i)) == Some("use") {
            i = (i..tokens.len())
                .find(|&j| tokens[j].tok == Tok::Punct(';'))
                .unwrap_or(tokens.len());
            continue;
        }
        if let Some(end) = quoted_code_end(tokens, i) {
            i = end + 1;
            continue;
        }
        let starts = matches!(ident(tokens.get(i)), Some("crate" | "super" | "self")) && colons(i + 1);
        let after_colons = i >= 2 && colons(i - 2);
        if starts && !after_colons {
            let mut path = Vec::new();
            let mut j = i;
            while let Some(s) = ident(tokens.get(j)) {
                path.push(s.to_owned());
                if !colons(j + 1) {
                    break;
                }
                j += 3;
            }
            out.push((i, path));
            i = j + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// If a `quote!`-like macro starts at `i` (the code generator's templates), the index of its
/// closing bracket: the paths inside are the generated code's, not imports of this crate.
fn quoted_code_end(tokens: &[Token], i: usize) -> Option<usize> {
    let name = ident(tokens.get(i))?;
    if !matches!(
        name,
        "quote" | "quote_spanned" | "parse_quote" | "parse_quote_spanned"
    ) || tokens.get(i + 1)?.tok != Tok::Punct('!')
    {
        return None;
    }
    let (open, close) = match tokens.get(i + 2)?.tok {
        Tok::Punct('{') => ('{', '}'),
        Tok::Punct('(') => ('(', ')'),
        Tok::Punct('[') => ('[', ']'),
        _ => return None,
    };
    matching(tokens, i + 2, open, close)
}

/// The edges of the crate in `src`, from its files (names relative to `src`).
pub fn edges_of(src: &str, files: &BTreeMap<String, String>) -> Edges {
    Crate::load(src, files).edges()
}

/// The module circles left in `edges` once `allowed` edges are removed: each circle's edges
/// with where they are.
pub fn circles(edges: &Edges, allowed: &[&str]) -> Vec<Vec<String>> {
    let kept: BTreeSet<(String, String)> = edges
        .keys()
        .filter(|(a, b)| !allowed.contains(&format!("{a} -> {b}").as_str()))
        .cloned()
        .collect();
    let reach = reachability(&kept);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (a, _) in &kept {
        if seen.contains(a) || !reach.contains(&(a.clone(), a.clone())) {
            continue;
        }
        // a's strongly connected component: everything a reaches that reaches a.
        let scc: BTreeSet<&String> = reach
            .iter()
            .filter(|(x, y)| x == a && reach.contains(&(y.clone(), a.clone())))
            .map(|(_, y)| y)
            .collect();
        let mut circle = Vec::new();
        for ((x, y), (file, line)) in edges {
            if scc.contains(x) && scc.contains(y) && kept.contains(&(x.clone(), y.clone())) {
                circle.push(format!("{x} -> {y} ({file}:{line})"));
            }
        }
        seen.extend(scc.into_iter().cloned());
        out.push(circle);
    }
    out
}

/// Every (x, y) such that y can be reached from x by one or more edges.
pub fn reachability(edges: &BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    let mut reach = edges.clone();
    loop {
        let mut added = Vec::new();
        for (a, b) in &reach {
            for (c, d) in edges {
                if b == c && !reach.contains(&(a.clone(), d.clone())) {
                    added.push((a.clone(), d.clone()));
                }
            }
        }
        if added.is_empty() {
            return reach;
        }
        reach.extend(added);
    }
}

/// The library crates whose modules must not import each other in a circle (a binary's
/// `main.rs` declares no modules of its own here).
const CRATES: &[&str] = &["client/src", "server/src", "codegen/src"];

/// A crate's files (under `src`, e.g. `server/src`) by name relative to it.
fn crate_files(src: &str) -> BTreeMap<String, String> {
    let dir = root().join(src);
    super::source::rust_files(src)
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            (name, read(&path))
        })
        .collect()
}

/// Every circle of the crate in `src`, and every allowlist entry of it that closes none.
fn problems(src: &str) -> Vec<String> {
    let edges = edges_of(src, &crate_files(src));
    assert!(edges.len() > 10, "the module graph of {src} was read: {edges:?}");
    if std::env::var_os("TIDY_PRINT_EDGES").is_some() {
        for ((a, b), (file, line)) in &edges {
            println!("{a} -> {b} ({file}:{line})");
        }
    }
    let entries: Vec<(&str, &str)> = ALLOWED_EDGES
        .iter()
        .filter(|(krate, _, _)| *krate == src)
        .map(|(_, edge, note)| (*edge, *note))
        .collect();
    let allowed: Vec<&str> = entries.iter().map(|(edge, _)| *edge).collect();
    let mut report: Vec<String> = circles(&edges, &allowed)
        .into_iter()
        .map(|circle| format!("circle in {src}:\n  {}", circle.join("\n  ")))
        .collect();
    // An allowed edge is needed only while its target still reaches its source without it.
    let others: BTreeSet<(String, String)> = edges
        .keys()
        .filter(|(a, b)| !allowed.contains(&format!("{a} -> {b}").as_str()))
        .cloned()
        .collect();
    let reach = reachability(&others);
    for (edge, note) in entries {
        let (a, b) = edge.split_once(" -> ").expect("`a -> b`");
        if !edges.contains_key(&(a.to_owned(), b.to_owned()))
            || !reach.contains(&(b.to_owned(), a.to_owned()))
        {
            report.push(format!(
                "allowed edge {edge} of {src} closes no circle any more, delete it ({note})"
            ));
        }
    }
    report
}

#[test]
fn the_modules_of_each_crate_import_each_other_without_a_circle() {
    let report: Vec<String> = CRATES.iter().flat_map(|src| problems(src)).collect();
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

/// The check can fail, and sees through re-exports: a crate whose `a` imports `crate::B`
/// (re-exported by `lib.rs` from `b`) while `b` calls `super::a::f` has the circle a <-> b.
/// `super` inside an inline module names the file's own module; test code and the code a
/// `quote!` template generates do not count.
#[test]
fn the_circle_check_sees_a_circle_through_a_root_re_export() {
    let files: BTreeMap<String, String> = [
        (
            "lib.rs",
            "mod a;\nmod b;\n#[path = \"gen/c.rs\"]\nmod c;\npub use b::B;\npub use c::C;\n",
        ),
        (
            "a.rs",
            "use crate::B;\npub fn f() {}\npub mod inner {\n    use super::B;\n    pub fn h() { super::f(); }\n}\n",
        ),
        (
            "b.rs",
            "pub struct B;\nfn g() { super::a::f(); let _ = crate::C; }\n",
        ),
        (
            "gen/c.rs",
            "pub struct C;\nfn t() { quote! { crate::a::Generated } }\n#[cfg(test)]\nmod tests { use crate::a::f; }\n",
        ),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_owned(), text.to_owned()))
    .collect();
    let edges = edges_of("client/src", &files);
    let names: Vec<String> = edges.keys().map(|(a, b)| format!("{a} -> {b}")).collect();
    assert_eq!(names, ["a.rs -> b.rs", "b.rs -> a.rs", "b.rs -> gen/c.rs"]);
    let found = circles(&edges, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0],
        [
            "a.rs -> b.rs (client/src/a.rs:1)",
            "b.rs -> a.rs (client/src/b.rs:2)"
        ]
    );
    assert!(circles(&edges, &["b.rs -> a.rs"]).is_empty());
}
