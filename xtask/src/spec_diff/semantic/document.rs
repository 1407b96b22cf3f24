//! The document: servers, component schemas, `info.version`.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use serde_json::Value;

use super::Generated;
use crate::spec_diff::change::{Change, Effect, Impact, Side, path};
use crate::spec_diff::doc::str_of;

/// Servers added or removed, by URL.
pub(super) fn servers(old: &Value, new: &Value, out: &mut Vec<Change>) {
    // URL → its index in the list, for the annotation.
    let urls = |root: &Value| -> BTreeMap<String, usize> {
        let servers = root.get("servers").and_then(Value::as_array);
        servers
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, s)| str_of(s, "url").map(|url| (url.to_owned(), i)))
            .collect()
    };
    let (before, after) = (urls(old), urls(new));
    let rust = || {
        Effect::new(
            Impact::None,
            "`Client::new` takes the base URL; none is generated in",
        )
    };
    let at = |i: usize| path(&["servers", &i.to_string()]);
    for (url, i) in after.iter().filter(|(url, _)| !before.contains_key(*url)) {
        out.push(
            Change::new(
                "server-added",
                "servers",
                format!("`{url}` added"),
                Effect::new(Impact::Compatible, "one more documented base URL"),
                rust(),
            )
            .about(url)
            .at(Side::Head, at(*i)),
        );
    }
    for (url, i) in before.iter().filter(|(url, _)| !after.contains_key(*url)) {
        out.push(
            Change::new(
                "server-removed",
                "servers",
                format!("`{url}` removed"),
                Effect::new(
                    Impact::Breaking,
                    "clients configured with it lose their documented endpoint",
                ),
                rust(),
            )
            .about(url)
            .at(Side::Base, at(*i)),
        );
    }
}

/// Component schemas added or removed, judged by the types generated for them.
pub(super) fn components(old: &Value, new: &Value, generated: &Generated, out: &mut Vec<Change>) {
    let names = |root: &Value| -> BTreeSet<String> {
        root.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (before, after) = (names(old), names(new));
    // A component the code generator leaves out (a multipart body's schema) has no Rust effect.
    let in_types = |types: &Option<BTreeSet<String>>, name: &str| {
        types
            .as_ref()
            .is_none_or(|t| t.contains(&name.to_upper_camel_case()))
    };
    // A type can exist without its component: progenitor names inline bodies after their
    // operation (`UploadPrepareResponse`), so extracting one into a component keeps the type.
    let existed = |types: &Option<BTreeSet<String>>, name: &str| {
        types
            .as_ref()
            .is_some_and(|t| t.contains(&name.to_upper_camel_case()))
    };
    for name in after.difference(&before) {
        let ty = name.to_upper_camel_case();
        let rust = if existed(&generated.old_types, name) {
            Effect::new(
                Impact::None,
                format!("`types::{ty}` already existed (from an inline schema)"),
            )
        } else if in_types(&generated.new_types, name) {
            Effect::new(Impact::Compatible, format!("new type `types::{ty}`"))
        } else {
            Effect::new(Impact::None, "no type is generated for it")
        };
        out.push(
            Change::new(
                "schema-added",
                format!("components.schemas.{name}"),
                "schema added",
                Effect::new(
                    Impact::None,
                    "a definition; operations that use it are listed separately",
                ),
                rust,
            )
            .at(Side::Head, path(&["components", "schemas", name])),
        );
    }
    for name in before.difference(&after) {
        let ty = name.to_upper_camel_case();
        let rust = if existed(&generated.new_types, name) {
            Effect::new(
                Impact::None,
                format!("`types::{ty}` stays (from an inline schema)"),
            )
        } else if in_types(&generated.old_types, name) {
            Effect::new(Impact::Breaking, format!("`types::{ty}` is no longer generated"))
        } else {
            Effect::new(Impact::None, "no type was generated for it")
        };
        out.push(
            Change::new(
                "schema-removed",
                format!("components.schemas.{name}"),
                "schema removed",
                Effect::new(
                    Impact::None,
                    "a definition; operations that used it are listed separately",
                ),
                rust,
            )
            .at(Side::Base, path(&["components", "schemas", name])),
        );
    }
}

/// `info.version`, which the client reports.
pub(super) fn version(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let (a, b) = (
        old.pointer("/info/version").and_then(Value::as_str),
        new.pointer("/info/version").and_then(Value::as_str),
    );
    if a != b
        && let Some(b) = b
    {
        out.push(
            Change::new(
                "api-version-changed",
                "info.version",
                format!("{} → {b}", a.unwrap_or("none")),
                Effect::new(Impact::None, "a label"),
                Effect::new(
                    Impact::Compatible,
                    format!("`Client::api_version()` returns {b:?}"),
                ),
            )
            .at(Side::Head, path(&["info", "version"])),
        );
    }
}
