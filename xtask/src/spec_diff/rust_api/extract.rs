//! Walking `syn`'s items: one entry per public item, with its signature and parent.

use quote::ToTokens;
use syn::{Fields, ImplItem, Item, Visibility};

use super::tidy::{signature, tidy, ty};
use super::{Api, ApiItem};

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

/// Adds the public items of `list`, in `module`, to `api`.
pub(super) fn items(list: &[Item], module: &[String], api: &mut Api) {
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
pub(super) fn parent_key(api: &Api, item: &ApiItem) -> Option<String> {
    item.parents.iter().find_map(|path| {
        ["struct", "enum", "trait"]
            .iter()
            .map(|kind| format!("{kind} {path}"))
            .find(|key| api.contains_key(key))
    })
}
