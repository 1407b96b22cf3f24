//! `cargo xtask public-api JSON OUT [--check]`: the public API of a crate, one item per line,
//! from rustdoc's JSON output (`scripts/public-api.sh` makes the JSON and calls this).
//!
//! Listed: every public module, struct, enum (with its variants), union, trait (with its
//! items), function (with its signature), constant, static, type alias and macro reachable from
//! the crate root, public fields, inherent methods and associated constants, and the trait
//! implementations a type has (not the auto traits or blanket implementations rustdoc
//! synthesises, which follow from the rest). Re-exports are listed where the user names them
//! (`feishu_drive::Client`, not the private module it is defined in); a re-export of another
//! crate's item is listed as `pub use path = source`. `#[doc(hidden)]` items are left out, as
//! rustdoc leaves them out. The lines are sorted, so a change of the surface is a small diff.
//!
//! Why not `cargo public-api`: it needs a nightly toolchain whose rustdoc JSON format matches
//! its own version, and the workspace is built with stable 1.95 only.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// `cargo xtask public-api`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// rustdoc's JSON for the crate (`target/doc/<crate>.json`).
    pub json: PathBuf,
    /// The listing to write (or to compare with `--check`).
    pub out: PathBuf,
    /// Write nothing; fail with a diff when the listing differs.
    #[arg(long)]
    pub check: bool,
}

/// Writes or checks the listing.
pub fn run(args: &Args) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(&args.json).with_context(|| format!("reading {}", args.json.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", args.json.display()))?;
    let listing = render(&doc)?;
    if args.check {
        let committed = std::fs::read_to_string(&args.out).unwrap_or_default();
        if committed == listing {
            println!(
                "{}: up to date ({} items)",
                args.out.display(),
                listing.lines().count() - HEADER.lines().count()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let diff = similar::TextDiff::from_lines(&committed, &listing);
        eprint!("{}", diff.unified_diff().header("committed", "fresh"));
        eprintln!(
            "{} is stale: the public API changed. Review the diff above and run scripts/public-api.sh.",
            args.out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    std::fs::write(&args.out, &listing).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({} items)",
        args.out.display(),
        listing.lines().count() - HEADER.lines().count()
    );
    Ok(ExitCode::SUCCESS)
}

const HEADER: &str = "# The public API of feishu-drive (features redis, schemars), one item per line.\n\
# Written by scripts/public-api.sh from rustdoc's JSON; CI checks it with --check.\n";

/// The listing of the crate in `doc`, header included.
pub fn render(doc: &Value) -> Result<String> {
    let index = doc["index"].as_object().context("rustdoc JSON without `index`")?;
    let root = id_key(&doc["root"]).context("rustdoc JSON without `root`")?;
    let Some(root_item) = index.get(&root) else {
        bail!("the root item {root} is not in the index")
    };
    let name = root_item["name"].as_str().unwrap_or("crate").to_owned();
    let mut walk = Walk {
        doc,
        lines: BTreeSet::new(),
        seen: HashSet::new(),
    };
    walk.module_items(root_item, &name);
    let mut out = String::from(HEADER);
    for line in walk.lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// An id as the index's key (ids are numbers in recent formats, strings in older ones).
fn id_key(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

struct Walk<'a> {
    doc: &'a Value,
    lines: BTreeSet<String>,
    /// (item id, path) pairs already listed: re-exports may reach an item twice.
    seen: HashSet<(String, String)>,
}

impl<'a> Walk<'a> {
    fn item(&self, id: &Value) -> Option<&'a Value> {
        self.doc["index"].get(id_key(id)?)
    }

    fn module_items(&mut self, module: &'a Value, path: &str) {
        for id in module["inner"]["module"]["items"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(item) = self.item(id)
                && item["visibility"] == "public"
            {
                self.item_at(item, path, None);
            }
        }
    }

    /// Lists `item` as `path::name` (`name` overrides the item's own, for `use … as name`).
    fn item_at(&mut self, item: &'a Value, path: &str, name: Option<&str>) {
        let inner = &item["inner"];
        let Some((kind, body)) = inner.as_object().and_then(|o| o.iter().next()) else {
            return;
        };
        if kind == "use" {
            return self.re_export(body, path);
        }
        let name = name.or(item["name"].as_str()).unwrap_or("_");
        let full = format!("{path}::{name}");
        let key = (id_key(&item["id"]).unwrap_or_default(), full.clone());
        if !self.seen.insert(key) {
            return;
        }
        match kind.as_str() {
            "module" => {
                self.lines.insert(format!("pub mod {full}"));
                self.module_items(item, &full);
            }
            "struct" | "union" => {
                self.lines
                    .insert(format!("pub {kind} {full}{}", generics(&body["generics"])));
                self.fields(body, &full);
                self.impls(item, body, &full);
            }
            "enum" => {
                self.lines
                    .insert(format!("pub enum {full}{}", generics(&body["generics"])));
                for id in body["variants"].as_array().into_iter().flatten() {
                    if let Some(variant) = self.item(id) {
                        let variant_name = variant["name"].as_str().unwrap_or("_");
                        self.lines.insert(format!(
                            "pub {full}::{variant_name}{}",
                            self.variant_shape(variant)
                        ));
                    }
                }
                self.impls(item, body, &full);
            }
            "trait" => {
                self.lines
                    .insert(format!("pub trait {full}{}", generics(&body["generics"])));
                for id in body["items"].as_array().into_iter().flatten() {
                    if let Some(member) = self.item(id) {
                        self.member(member, &full);
                    }
                }
            }
            "function" => {
                self.lines.insert(format!("pub {}", function(body, &full)));
            }
            "constant" => {
                self.lines
                    .insert(format!("pub const {full}: {}", ty(&body["type"])));
            }
            "static" => {
                self.lines
                    .insert(format!("pub static {full}: {}", ty(&body["type"])));
            }
            "type_alias" => {
                self.lines.insert(format!(
                    "pub type {full}{} = {}",
                    generics(&body["generics"]),
                    ty(&body["type"])
                ));
            }
            "macro" | "proc_macro" => {
                self.lines.insert(format!("pub macro {name}!"));
            }
            other => {
                self.lines.insert(format!("pub {other} {full}"));
            }
        }
    }

    fn re_export(&mut self, body: &'a Value, path: &str) {
        let source = body["source"].as_str().unwrap_or("?");
        let name = body["name"].as_str().unwrap_or("_");
        let target = self.item(&body["id"]);
        match (body["is_glob"].as_bool().unwrap_or(false), target) {
            (true, Some(module)) => self.module_items(module, path),
            (false, Some(target)) => self.item_at(target, path, Some(name)),
            (_, None) => {
                self.lines.insert(format!("pub use {path}::{name} = {source}"));
            }
        }
    }

    fn fields(&mut self, body: &'a Value, full: &str) {
        let kind = &body["kind"];
        let fields = kind["plain"]["fields"].as_array().or(kind["tuple"].as_array());
        for (i, id) in fields.into_iter().flatten().enumerate() {
            let Some(field) = self.item(id) else { continue };
            if field["visibility"] == "public" {
                let name = field["name"]
                    .as_str()
                    .map_or_else(|| i.to_string(), str::to_owned);
                self.lines.insert(format!(
                    "pub {full}::{name}: {}",
                    ty(&field["inner"]["struct_field"])
                ));
            }
        }
    }

    fn variant_shape(&self, variant: &Value) -> String {
        let kind = &variant["inner"]["variant"]["kind"];
        let field_types = |ids: &Value, named: bool| -> Vec<String> {
            ids.as_array()
                .into_iter()
                .flatten()
                .filter_map(|id| self.item(id))
                .map(|f| {
                    let t = ty(&f["inner"]["struct_field"]);
                    if named {
                        format!("{}: {t}", f["name"].as_str().unwrap_or("_"))
                    } else {
                        t
                    }
                })
                .collect()
        };
        if kind.get("tuple").is_some() {
            format!("({})", field_types(&kind["tuple"], false).join(", "))
        } else if kind.get("struct").is_some() {
            format!(
                " {{ {} }}",
                field_types(&kind["struct"]["fields"], true).join(", ")
            )
        } else {
            String::new()
        }
    }

    /// Inherent methods and constants, and the (non-synthetic, non-blanket) trait impls of the
    /// type `owner` (rustdoc also lists impls that only name it in a trait's arguments).
    fn impls(&mut self, owner: &Value, body: &'a Value, full: &str) {
        for id in body["impls"].as_array().into_iter().flatten() {
            let Some(imp) = self.item(id).map(|i| &i["inner"]["impl"]) else {
                continue;
            };
            if imp["is_synthetic"].as_bool().unwrap_or(false) || !imp["blanket_impl"].is_null() {
                continue;
            }
            if imp["for"]["resolved_path"]["id"] != owner["id"] {
                continue;
            }
            if imp["trait"].is_null() {
                for member in imp["items"].as_array().into_iter().flatten() {
                    if let Some(member) = self.item(member).filter(|m| m["visibility"] == "public") {
                        self.member(member, full);
                    }
                }
            } else {
                let negative = if imp["is_negative"].as_bool().unwrap_or(false) {
                    "!"
                } else {
                    ""
                };
                self.lines.insert(format!(
                    "impl{} {negative}{} for {full}",
                    generics(&imp["generics"]),
                    path_type(&imp["trait"])
                ));
            }
        }
    }

    /// A method, associated constant or associated type of `owner`.
    fn member(&mut self, member: &Value, owner: &str) {
        let name = member["name"].as_str().unwrap_or("_");
        let full = format!("{owner}::{name}");
        let Some((kind, body)) = member["inner"].as_object().and_then(|o| o.iter().next()) else {
            return;
        };
        let line = match kind.as_str() {
            "function" => function(body, &full),
            "assoc_const" => format!("const {full}: {}", ty(&body["type"])),
            "assoc_type" => format!("type {full}"),
            other => format!("{other} {full}"),
        };
        self.lines.insert(format!("pub {line}"));
    }
}

/// `fn path(args) -> output`, with `async`, `const`, `unsafe` as declared.
fn function(body: &Value, full: &str) -> String {
    let header = &body["header"];
    let mut qualifiers = String::new();
    for (flag, word) in [
        ("is_const", "const "),
        ("is_async", "async "),
        ("is_unsafe", "unsafe "),
    ] {
        if header[flag].as_bool().unwrap_or(false) {
            qualifiers.push_str(word);
        }
    }
    let inputs: Vec<String> = body["sig"]["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            let arg = pair[0].as_str().unwrap_or("_");
            let t = ty(&pair[1]);
            if arg == "self" {
                self_arg(&pair[1], &t)
            } else {
                format!("{arg}: {t}")
            }
        })
        .collect();
    let output = match &body["sig"]["output"] {
        Value::Null => String::new(),
        out => format!(" -> {}", ty(out)),
    };
    format!(
        "{qualifiers}fn {full}{}({}){output}",
        generics(&body["generics"]),
        inputs.join(", ")
    )
}

fn self_arg(t: &Value, rendered: &str) -> String {
    match rendered {
        "Self" => "self".to_owned(),
        "&Self" => "&self".to_owned(),
        "&mut Self" => "&mut self".to_owned(),
        _ if t.get("borrowed_ref").is_some() && rendered.ends_with(" Self") => {
            format!("{}self", &rendered[..rendered.len() - 4])
        }
        _ => format!("self: {rendered}"),
    }
}

/// `<'a, T: Bound>`, leaving out the synthetic parameters of `impl Trait` arguments.
fn generics(g: &Value) -> String {
    let params: Vec<String> = g["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| !p["kind"]["type"]["is_synthetic"].as_bool().unwrap_or(false))
        .map(|p| {
            let name = p["name"].as_str().unwrap_or("_");
            match p["kind"].as_object().and_then(|o| o.iter().next()) {
                Some((k, v)) if k == "type" => {
                    let bounds = bounds(&v["bounds"]);
                    if bounds.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{name}: {bounds}")
                    }
                }
                Some((k, v)) if k == "const" => format!("const {name}: {}", ty(&v["type"])),
                _ => name.to_owned(),
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn bounds(list: &Value) -> String {
    let parts: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            if let Some(t) = b.get("trait_bound") {
                let maybe = if t["modifier"] == "maybe" { "?" } else { "" };
                format!("{maybe}{}", path_type(&t["trait"]))
            } else if let Some(l) = b.get("outlives") {
                l.as_str().unwrap_or("'_").to_owned()
            } else {
                "_".to_owned()
            }
        })
        .collect();
    parts.join(" + ")
}

/// A path with its generic arguments: `Result<T, Error>`, `Fn(&Event) -> ()`.
fn path_type(p: &Value) -> String {
    let name = p["path"].as_str().or(p["name"].as_str()).unwrap_or("_");
    let args = &p["args"];
    if let Some(angle) = args.get("angle_bracketed") {
        let mut parts: Vec<String> = angle["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                if let Some(t) = a.get("type") {
                    ty(t)
                } else if let Some(l) = a.get("lifetime") {
                    l.as_str().unwrap_or("'_").to_owned()
                } else if let Some(c) = a.get("const") {
                    c["expr"].as_str().unwrap_or("_").to_owned()
                } else {
                    "_".to_owned()
                }
            })
            .collect();
        for c in angle["constraints"].as_array().into_iter().flatten() {
            let bound = c["binding"]["equality"]["type"].clone();
            parts.push(format!("{} = {}", c["name"].as_str().unwrap_or("_"), ty(&bound)));
        }
        if parts.is_empty() {
            name.to_owned()
        } else {
            format!("{name}<{}>", parts.join(", "))
        }
    } else if let Some(paren) = args.get("parenthesized") {
        let inputs: Vec<String> = paren["inputs"].as_array().into_iter().flatten().map(ty).collect();
        let output = if paren["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", ty(&paren["output"]))
        };
        format!("{name}({}){output}", inputs.join(", "))
    } else {
        name.to_owned()
    }
}

/// A type as Rust spells it, near enough for a review diff.
fn ty(t: &Value) -> String {
    let Some((kind, v)) = t.as_object().and_then(|o| o.iter().next()) else {
        return t.as_str().map_or_else(|| "_".to_owned(), str::to_owned);
    };
    match kind.as_str() {
        "resolved_path" => path_type(v),
        "generic" | "primitive" => v.as_str().unwrap_or("_").to_owned(),
        "borrowed_ref" => {
            let lifetime = v["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutable = if v["is_mutable"].as_bool().unwrap_or(false) {
                "mut "
            } else {
                ""
            };
            format!("&{lifetime}{mutable}{}", ty(&v["type"]))
        }
        "raw_pointer" => {
            let m = if v["is_mutable"].as_bool().unwrap_or(false) {
                "mut"
            } else {
                "const"
            };
            format!("*{m} {}", ty(&v["type"]))
        }
        "slice" => format!("[{}]", ty(v)),
        "array" => format!("[{}; {}]", ty(&v["type"]), v["len"].as_str().unwrap_or("_")),
        "tuple" => {
            let items: Vec<String> = v.as_array().into_iter().flatten().map(ty).collect();
            format!("({})", items.join(", "))
        }
        "impl_trait" => format!("impl {}", bounds(v)),
        "dyn_trait" => {
            let mut parts: Vec<String> = v["traits"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| path_type(&p["trait"]))
                .collect();
            parts.extend(v["lifetime"].as_str().map(str::to_owned));
            format!("dyn {}", parts.join(" + "))
        }
        "qualified_path" => {
            let name = v["name"].as_str().unwrap_or("_");
            match &v["trait"] {
                Value::Null => format!("{}::{name}", ty(&v["self_type"])),
                tr => format!("<{} as {}>::{name}", ty(&v["self_type"]), path_type(tr)),
            }
        }
        "function_pointer" => {
            let inputs: Vec<String> = v["sig"]["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ty(&p[1]))
                .collect();
            let output = if v["sig"]["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", ty(&v["sig"]["output"]))
            };
            format!("fn({}){output}", inputs.join(", "))
        }
        "infer" => "_".to_owned(),
        other => format!("<{other}>"),
    }
}
