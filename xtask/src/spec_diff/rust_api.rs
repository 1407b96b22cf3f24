//! The generated client's public API, as a sorted list of items, and the diff of two such lists.
//!
//! The project's own code generator runs on both sides; `syn` parses its output, and every public
//! item becomes one entry: a key that names it (`field types::UploadPrepareRequest::size`) and a
//! signature (`pub size: i64`). Two entries with the same key and different signatures are a
//! changed item. Doc comments are not part of any signature.

use std::collections::BTreeMap;

use feishu_drive_codegen::GeneratedFile;
use quote::ToTokens;
use serde::Serialize;
use syn::{Fields, ImplItem, Item, Visibility};

use super::change::{Effect, Impact, Severity};

/// One public item of the generated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiItem {
    /// Its signature, normalised to one line.
    pub signature: String,
    /// When adding this item to an existing parent breaks code written before (a field of a
    /// struct that can be built with a literal, a variant of an exhaustive enum), why.
    pub breaks_when_added: Option<String>,
    /// The type (or trait) this item belongs to, as candidate paths (`types::X` for its fields,
    /// derives and impls): the first that names a generated type is the parent. An addition
    /// can only break code if the parent existed before, and members of a type that is itself
    /// added or removed are folded into it in the diff.
    pub parents: Vec<String>,
}

/// The public API of a generated client, by item key.
pub type Api = BTreeMap<String, ApiItem>;

/// Why the generated code could not be read.
#[derive(Debug, thiserror::Error)]
#[error("generated file {file} does not parse as Rust: {message}")]
pub struct ApiError {
    file: String,
    message: String,
}

/// The public items of the generated files. Every file's items are taken as re-exported at the
/// crate root, as the client's `lib.rs` does.
pub fn extract(files: &[GeneratedFile]) -> Result<Api, ApiError> {
    let mut api = Api::new();
    for file in files {
        let parsed = syn::parse_file(&file.contents).map_err(|e| ApiError {
            file: file.name.to_owned(),
            message: e.to_string(),
        })?;
        items(&parsed.items, &[], &mut api);
    }
    Ok(api)
}

/// The names of the types in the `types` module (for rules that ask whether a schema became a
/// type).
pub fn type_names(api: &Api) -> std::collections::BTreeSet<String> {
    api.keys()
        .filter_map(|key| {
            let rest = key
                .strip_prefix("struct types::")
                .or_else(|| key.strip_prefix("enum types::"))?;
            (!rest.contains("::")).then(|| rest.to_owned())
        })
        .collect()
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn qualified(module: &[String], name: &str) -> String {
    if module.is_empty() {
        name.to_owned()
    } else {
        format!("{}::{name}", module.join("::"))
    }
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

/// The derives of an item, each one an entry: adding a derive is compatible, removing one breaks.
fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            out.push(tidy(&meta.path.to_token_stream()));
            Ok(())
        });
    }
    out
}

fn insert(api: &mut Api, key: String, signature: String, breaks_when_added: Option<String>) {
    insert_child(api, key, signature, breaks_when_added, Vec::new());
}

fn insert_child(
    api: &mut Api,
    key: String,
    signature: String,
    breaks_when_added: Option<String>,
    parents: Vec<String>,
) {
    api.insert(
        key,
        ApiItem {
            signature,
            breaks_when_added,
            parents,
        },
    );
}

fn items(list: &[Item], module: &[String], api: &mut Api) {
    for item in list {
        match item {
            Item::Mod(m) if is_public(&m.vis) => {
                let mut inner = module.to_vec();
                inner.push(m.ident.to_string());
                insert(
                    api,
                    format!("mod {}", inner.join("::")),
                    format!("pub mod {}", m.ident),
                    None,
                );
                if let Some((_, content)) = &m.content {
                    items(content, &inner, api);
                }
            }
            Item::Struct(s) if is_public(&s.vis) => structure(s, module, api),
            Item::Enum(e) if is_public(&e.vis) => enumeration(e, module, api),
            Item::Fn(f) if is_public(&f.vis) => {
                let path = qualified(module, &f.sig.ident.to_string());
                insert(api, format!("fn {path}"), signature(&f.sig), None);
            }
            Item::Const(c) if is_public(&c.vis) => {
                let path = qualified(module, &c.ident.to_string());
                insert(
                    api,
                    format!("const {path}"),
                    format!("pub const {}: {}", c.ident, ty(&c.ty)),
                    None,
                );
            }
            Item::Static(s) if is_public(&s.vis) => {
                let path = qualified(module, &s.ident.to_string());
                insert(
                    api,
                    format!("static {path}"),
                    format!("pub static {}: {}", s.ident, ty(&s.ty)),
                    None,
                );
            }
            Item::Type(t) if is_public(&t.vis) => {
                let path = qualified(module, &t.ident.to_string());
                insert(
                    api,
                    format!("type {path}"),
                    format!("pub type {} = {}", t.ident, ty(&t.ty)),
                    None,
                );
            }
            Item::Trait(t) if is_public(&t.vis) => trait_items(t, module, api),
            Item::Impl(i) => implementation(i, module, api),
            Item::Use(u) if is_public(&u.vis) => {
                for leaf in use_leaves(&u.tree, String::new()) {
                    let name = leaf.rsplit("::").next().unwrap_or(&leaf).to_owned();
                    let path = qualified(module, &name);
                    insert(api, format!("use {path}"), format!("pub use {leaf}"), None);
                }
            }
            _ => {}
        }
    }
}

fn use_leaves(tree: &syn::UseTree, prefix: String) -> Vec<String> {
    let join = |name: String| {
        if prefix.is_empty() {
            name
        } else {
            format!("{prefix}::{name}")
        }
    };
    match tree {
        syn::UseTree::Path(p) => use_leaves(&p.tree, join(p.ident.to_string())),
        syn::UseTree::Name(n) => vec![join(n.ident.to_string())],
        syn::UseTree::Rename(r) => vec![format!("{} as {}", join(r.ident.to_string()), r.rename)],
        syn::UseTree::Glob(_) => vec![join("*".to_owned())],
        syn::UseTree::Group(g) => g
            .items
            .iter()
            .flat_map(|t| use_leaves(t, prefix.clone()))
            .collect(),
    }
}

fn structure(s: &syn::ItemStruct, module: &[String], api: &mut Api) {
    let path = qualified(module, &s.ident.to_string());
    let generics = tidy(&s.generics.to_token_stream());
    let non_exhaustive = has_attr(&s.attrs, "non_exhaustive");
    let all_public = s.fields.iter().all(|f| is_public(&f.vis));
    let head = match &s.fields {
        Fields::Named(_) => format!("pub struct {}{generics} {{ … }}", s.ident),
        Fields::Unit => format!("pub struct {}{generics};", s.ident),
        Fields::Unnamed(fields) => {
            let shown: Vec<String> = fields
                .unnamed
                .iter()
                .map(|f| {
                    if is_public(&f.vis) {
                        format!("pub {}", ty(&f.ty))
                    } else {
                        "_".to_owned()
                    }
                })
                .collect();
            format!("pub struct {}{generics}({});", s.ident, shown.join(", "))
        }
    };
    insert(api, format!("struct {path}"), head, None);
    attributes(&s.attrs, &path, api);
    if let Fields::Named(named) = &s.fields {
        for field in named.named.iter().filter(|f| is_public(&f.vis)) {
            let Some(name) = &field.ident else { continue };
            // A struct whose fields are all public and that is not #[non_exhaustive] can be built
            // with a literal, which every new field breaks.
            let breaks = (all_public && !non_exhaustive).then(|| {
                format!("`{path}` is not #[non_exhaustive] and all its fields are pub: struct literals stop compiling")
            });
            insert_child(
                api,
                format!("field {path}::{name}"),
                format!("pub {name}: {}", ty(&field.ty)),
                breaks,
                vec![path.clone()],
            );
        }
    }
}

/// `#[non_exhaustive]` and the derives of a type, one entry each.
fn attributes(attrs: &[syn::Attribute], path: &str, api: &mut Api) {
    if has_attr(attrs, "non_exhaustive") {
        insert_child(
            api,
            format!("attr {path}: #[non_exhaustive]"),
            "#[non_exhaustive]".to_owned(),
            Some("literals, exhaustive matches and destructuring stop compiling".to_owned()),
            vec![path.to_owned()],
        );
    }
    for derive in derives(attrs) {
        insert_child(
            api,
            format!("derive {path}: {derive}"),
            format!("#[derive({derive})]"),
            None,
            vec![path.to_owned()],
        );
    }
}

fn enumeration(e: &syn::ItemEnum, module: &[String], api: &mut Api) {
    let path = qualified(module, &e.ident.to_string());
    let generics = tidy(&e.generics.to_token_stream());
    let non_exhaustive = has_attr(&e.attrs, "non_exhaustive");
    insert(
        api,
        format!("enum {path}"),
        format!("pub enum {}{generics} {{ … }}", e.ident),
        None,
    );
    attributes(&e.attrs, &path, api);
    for variant in &e.variants {
        let fields = match &variant.fields {
            Fields::Unit => String::new(),
            Fields::Unnamed(f) => {
                format!(
                    "({})",
                    f.unnamed.iter().map(|f| ty(&f.ty)).collect::<Vec<_>>().join(", ")
                )
            }
            Fields::Named(f) => format!(
                " {{ {} }}",
                f.named
                    .iter()
                    .map(|f| format!(
                        "{}: {}",
                        f.ident.as_ref().map(ToString::to_string).unwrap_or_default(),
                        ty(&f.ty)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let breaks = (!non_exhaustive).then(|| {
            format!("`{path}` is an exhaustive enum: `match`es without a wildcard arm stop compiling")
        });
        insert_child(
            api,
            format!("variant {path}::{}", variant.ident),
            format!("{}{fields}", variant.ident),
            breaks,
            vec![path.clone()],
        );
    }
}

fn trait_items(t: &syn::ItemTrait, module: &[String], api: &mut Api) {
    let path = qualified(module, &t.ident.to_string());
    let generics = tidy(&t.generics.to_token_stream());
    let supertraits = if t.supertraits.is_empty() {
        String::new()
    } else {
        format!(": {}", tidy(&t.supertraits.to_token_stream()))
    };
    insert(
        api,
        format!("trait {path}"),
        format!("pub trait {}{generics}{supertraits}", t.ident),
        None,
    );
    let parent = || vec![path.clone()];
    for item in &t.items {
        match item {
            syn::TraitItem::Fn(f) => {
                // A required method breaks every implementor; one with a default body does not.
                let breaks = f
                    .default
                    .is_none()
                    .then(|| format!("implementors of `{path}` must now provide it"));
                insert_child(
                    api,
                    format!("fn {path}::{}", f.sig.ident),
                    signature(&f.sig),
                    breaks,
                    parent(),
                );
            }
            syn::TraitItem::Type(ty_item) => {
                let breaks = ty_item
                    .default
                    .is_none()
                    .then(|| format!("implementors of `{path}` must now provide it"));
                insert_child(
                    api,
                    format!("type {path}::{}", ty_item.ident),
                    tidy(&ty_item.to_token_stream()),
                    breaks,
                    parent(),
                );
            }
            syn::TraitItem::Const(c) => {
                let breaks = c
                    .default
                    .is_none()
                    .then(|| format!("implementors of `{path}` must now provide it"));
                insert_child(
                    api,
                    format!("const {path}::{}", c.ident),
                    format!("const {}: {}", c.ident, ty(&c.ty)),
                    breaks,
                    parent(),
                );
            }
            _ => {}
        }
    }
}

/// The type an impl is for, as a path from the crate root, without generics:
/// `impl<'a> UploadPrepare<'a>` in `builder` → `builder::UploadPrepare`.
fn self_path(self_ty: &syn::Type, module: &[String]) -> String {
    let syn::Type::Path(type_path) = self_ty else {
        return qualified(module, &ty(self_ty));
    };
    let segments: Vec<String> = type_path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let mut base: Vec<String> = module.to_vec();
    let mut rest = segments.as_slice();
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            "crate" => base.clear(),
            _ => break,
        }
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    base.join("::")
}

fn implementation(i: &syn::ItemImpl, module: &[String], api: &mut Api) {
    let target = self_path(&i.self_ty, module);
    if let Some((_, trait_path, _)) = &i.trait_ {
        // A trait impl is public whatever its items' visibility; its methods are the trait's.
        let generics = tidy(&i.generics.to_token_stream());
        let trait_name = tidy(&trait_path.to_token_stream());
        let self_ty = ty(&i.self_ty);
        let context = if module.is_empty() {
            String::new()
        } else {
            format!(" (in {})", module.join("::"))
        };
        let header = format!("impl{generics} {trait_name} for {self_ty}{context}");
        // `impl From<X> for String` belongs to `X`: every name in the header is a candidate.
        let mut parents = vec![target];
        for token in trait_path.to_token_stream() {
            collect_idents(token, module, &mut parents);
        }
        insert_child(api, header.clone(), header, None, parents);
        return;
    }
    for item in &i.items {
        match item {
            ImplItem::Fn(f) if is_public(&f.vis) => {
                insert_child(
                    api,
                    format!("fn {target}::{}", f.sig.ident),
                    signature(&f.sig),
                    None,
                    vec![target.clone()],
                );
            }
            ImplItem::Const(c) if is_public(&c.vis) => {
                insert_child(
                    api,
                    format!("const {target}::{}", c.ident),
                    format!("pub const {}: {}", c.ident, ty(&c.ty)),
                    None,
                    vec![target.clone()],
                );
            }
            _ => {}
        }
    }
}

fn collect_idents(token: proc_macro2::TokenTree, module: &[String], out: &mut Vec<String>) {
    match token {
        proc_macro2::TokenTree::Ident(ident) => out.push(qualified(module, &ident.to_string())),
        proc_macro2::TokenTree::Group(group) => {
            for inner in group.stream() {
                collect_idents(inner, module, out);
            }
        }
        _ => {}
    }
}

/// The key of the type or trait an item belongs to, in `api`.
fn parent_key(api: &Api, item: &ApiItem) -> Option<String> {
    item.parents.iter().find_map(|path| {
        ["struct", "enum", "trait"]
            .iter()
            .map(|kind| format!("{kind} {path}"))
            .find(|key| api.contains_key(key))
    })
}

fn signature(sig: &syn::Signature) -> String {
    // A where clause's trailing comma is noise in a one-line signature.
    let text = tidy(&sig.to_token_stream());
    format!("pub {}", text.strip_suffix(',').unwrap_or(&text))
}

fn ty(t: &syn::Type) -> String {
    tidy(&t.to_token_stream())
}

/// Prints tokens the way rustfmt would, on one line, so signatures read naturally:
/// `Result<Option<i64>, String>`, `&'a self`, `<V as TryInto<T>>::Error`.
pub fn tidy(tokens: &proc_macro2::TokenStream) -> String {
    let mut parts = Vec::new();
    split(tokens.clone(), &mut parts);
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 && !joins(&parts[i - 1], part) {
            out.push(' ');
        }
        out.push_str(part);
    }
    // Trailing commas (`send(self,)`) are noise on one line.
    out.replace(",)", ")").replace(",>", ">").replace(",]", "]")
}

/// Flattens tokens into printable pieces: delimiters on their own, `::`, `->`, `=>` and
/// lifetimes (`'a`) as one piece each.
fn split(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let mut pending_joint: Option<String> = None;
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push(open.to_owned());
                }
                split(group.stream(), out);
                if !close.is_empty() {
                    out.push(close.to_owned());
                }
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                if let Some(mut joint) = pending_joint.take() {
                    joint.push(c);
                    if matches!(joint.as_str(), "::" | "->" | "=>") {
                        out.push(joint);
                        continue;
                    }
                    // Not a pair worth keeping together (`>>`): print both on their own.
                    let first = joint.remove(0).to_string();
                    out.push(first);
                }
                if punct.spacing() == Spacing::Joint && c != '>' {
                    pending_joint = Some(c.to_string());
                } else {
                    out.push(c.to_string());
                }
            }
            TokenTree::Ident(ident) => match pending_joint.take() {
                // A lifetime: `'` joined to its name.
                Some(tick) if tick == "'" => out.push(format!("'{ident}")),
                Some(other) => {
                    out.push(other);
                    out.push(ident.to_string());
                }
                None => out.push(ident.to_string()),
            },
            TokenTree::Literal(literal) => {
                if let Some(other) = pending_joint.take() {
                    out.push(other);
                }
                out.push(literal.to_string());
            }
        }
    }
    if let Some(other) = pending_joint {
        out.push(other);
    }
}

/// Keywords that are followed by a space even before `<`, `(` or `::`.
const KEYWORDS: [&str; 18] = [
    "as", "dyn", "where", "mut", "in", "pub", "fn", "const", "unsafe", "async", "type", "struct", "enum",
    "trait", "static", "ref", "impl", "for",
];

/// Whether a token is a name (an identifier, a path keyword such as `self`, or a lifetime).
fn is_name(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '\'')
        && !KEYWORDS.contains(&token)
}

/// Whether `next` is printed right after `prev`, without a space.
fn joins(prev: &str, next: &str) -> bool {
    if matches!(prev, "::" | "&" | "(" | "[" | "<" | "#" | "!") {
        return true;
    }
    match next {
        "," | ";" | ")" | "]" | "?" | "." | ">" | ":" => true,
        "::" => is_name(prev) || prev == ">",
        "<" => is_name(prev) || matches!(prev, "impl" | "for" | "fn"),
        "(" => is_name(prev) || prev == ">",
        _ => false,
    }
}

/// One entry of the generated-API diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiChange {
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The item, e.g. `field types::UploadPrepareRequest::size`.
    pub item: String,
    /// Its signature on the base side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// Its signature on the head side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// The effect on code using the client, and why.
    pub rust: Effect,
    /// The class of the change.
    pub severity: Severity,
    /// How many members (fields, variants, methods, derives, impls) of an added or removed type
    /// were added or removed with it; they are not listed one by one.
    #[serde(skip_serializing_if = "is_zero")]
    pub members: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The changed items between two APIs, sorted worst first, then by item. Members of a type that
/// is added or removed as a whole are counted in its entry instead of listed.
pub fn diff(old: &Api, new: &Api) -> Vec<ApiChange> {
    let mut out = Vec::new();
    let mut folded: BTreeMap<String, usize> = BTreeMap::new();
    let entry = |change, item: &str, old: Option<&ApiItem>, new: Option<&ApiItem>, rust: Effect| ApiChange {
        change,
        item: item.to_owned(),
        old: old.map(|i| i.signature.clone()),
        new: new.map(|i| i.signature.clone()),
        severity: Severity::of(Impact::None, rust.impact),
        rust,
        members: 0,
    };
    for (key, item) in new {
        match old.get(key) {
            None => {
                let parent = parent_key(new, item);
                let parent_existed = parent.as_ref().is_some_and(|p| old.contains_key(p));
                if let Some(parent) = parent.filter(|_| !parent_existed) {
                    *folded.entry(parent).or_default() += 1;
                    continue;
                }
                let rust = match &item.breaks_when_added {
                    Some(why) if parent_existed => Effect::new(Impact::Breaking, why.clone()),
                    _ => Effect::new(Impact::Compatible, "a new item"),
                };
                out.push(entry("added", key, None, Some(item), rust));
            }
            Some(before) if before.signature != item.signature => {
                let rust = if only_array_lengths_differ(&before.signature, &item.signature) {
                    Effect::new(
                        Impact::Compatible,
                        "only an array length changes (one entry per row of the spec); iterating code is unaffected",
                    )
                } else {
                    Effect::new(Impact::Breaking, "the signature changes")
                };
                out.push(entry("changed", key, Some(before), Some(item), rust));
            }
            Some(_) => {}
        }
    }
    for (key, item) in old {
        if new.contains_key(key) {
            continue;
        }
        if let Some(parent) = parent_key(old, item).filter(|p| !new.contains_key(p)) {
            *folded.entry(parent).or_default() += 1;
            continue;
        }
        let rust = if key.starts_with("attr ") {
            Effect::new(Impact::Compatible, "removing #[non_exhaustive] only allows more")
        } else {
            Effect::new(Impact::Breaking, "code using it stops compiling")
        };
        out.push(entry("removed", key, Some(item), None, rust));
    }
    for change in &mut out {
        change.members = folded.get(&change.item).copied().unwrap_or(0);
    }
    out.sort_by(|a, b| (a.severity, &a.item, a.change).cmp(&(b.severity, &b.item, b.change)));
    out
}

/// `[ErrorCode; 35]` vs `[ErrorCode; 36]`: the same signature but for array lengths.
fn only_array_lengths_differ(a: &str, b: &str) -> bool {
    fn blank(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(pos) = rest.find("; ") {
            out.push_str(&rest[..pos + 2]);
            rest = &rest[pos + 2..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let after = rest[digits..].strip_prefix("usize").unwrap_or(&rest[digits..]);
            if digits > 0 && after.starts_with(']') {
                out.push('N');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
    a != b && blank(a) == blank(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidies_token_text() {
        let t = |s: &str| tidy(&s.parse::<proc_macro2::TokenStream>().expect("tokens"));
        assert_eq!(
            t("pub fn new(client: &'a super::Client) -> Self"),
            "pub fn new(client: &'a super::Client) -> Self"
        );
        assert_eq!(
            t("::std::result::Result<::std::option::Option<i64>, ::std::string::String>"),
            "::std::result::Result<::std::option::Option<i64>, ::std::string::String>"
        );
        assert_eq!(
            t(
                "fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::X>, <V as std::convert::TryInto<types::X>>::Error: std::fmt::Display"
            ),
            "fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::X>, <V as std::convert::TryInto<types::X>>::Error: std::fmt::Display"
        );
        assert_eq!(t("[ErrorCode; 35]"), "[ErrorCode; 35]");
        assert_eq!(t("&'static [&'static str]"), "&'static [&'static str]");
        assert_eq!(t("impl<'de>"), "impl<'de>");
        assert_eq!(t("::serde::Deserialize<'de>"), "::serde::Deserialize<'de>");
        assert_eq!(
            t("async fn send(self) -> Result<ResponseValue<()>, Error<()>>"),
            "async fn send(self) -> Result<ResponseValue<()>, Error<()>>"
        );
    }

    #[test]
    fn array_lengths() {
        assert!(only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 35]",
            "pub const ALL: [ErrorCode; 36]"
        ));
        assert!(only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 39usize]",
            "pub const ALL: [ErrorCode; 40usize]"
        ));
        assert!(!only_array_lengths_differ(
            "pub const ALL: [ErrorCode; 35]",
            "pub const ALL: [Code; 36]"
        ));
    }
}
