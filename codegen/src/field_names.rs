//! Object properties whose Rust field names collide, kept apart.
//!
//! typify names a struct field after its property (`@id` → `id`, `x-axis` and `xAxis` →
//! `x_axis`) and, when two properties of one object give the same name, writes the field twice
//! (JSON-LD's `@id` beside `id`: alertersystem; meshery's `x-axis` beside `xAxis`), output rustc
//! refuses; a `required` name that is no property becomes a field too (xero's `Id` property
//! beside a required `id`). typify has no way to name a field, so the colliding property is
//! given, before typify sees it, a key that typify turns into a free name (`id_2`) and that
//! appears nowhere else in the document, and that key is replaced by the property's own in the
//! generated text: in its `#[serde(rename = "…")]` and in the docs. The wire names stay the
//! spec's; the field that keeps the plain name is the property whose key already is that name
//! (`id` beside `@id`), else the first.
//!
//! A key with a character that would need escaping in a Rust string (`"`, `\`, a control
//! character) is left alone, as is the shape typify builds from an `allOf` of several objects.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Placeholder keys and the property names they stand for, to put back in the generated text.
#[derive(Debug, Default)]
pub(crate) struct Restore {
    keys: Vec<(String, String)>,
}

impl Restore {
    /// `text` with every placeholder key replaced by the property name it stands for.
    pub(crate) fn apply(&self, mut text: String) -> String {
        for (placeholder, original) in &self.keys {
            text = text.replace(placeholder.as_str(), original);
        }
        text
    }
}

/// The field name typify gives a property (typify's `sanitize` in snake case, with ASCII
/// letters and digits standing for Unicode's identifier characters).
fn rust_name(key: &str) -> String {
    let cleaned: String = key
        .replace('\'', "")
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '_' { c } else { '-' })
        .collect();
    let name = heck::ToSnakeCase::to_snake_case(cleaned.as_str());
    let name = match name.chars().next() {
        None => "x".to_owned(),
        Some(c) if c.is_alphabetic() => name,
        Some(_) => format!("x{name}"),
    };
    if typify::accept_as_ident(&name) {
        name
    } else {
        format!("{name}_")
    }
}

/// A marker of characters typify drops from a field name, distinct for each `n`: the ten
/// punctuation marks stand for the decimal digits of `n`.
fn marker(n: usize) -> String {
    const DIGITS: [char; 10] = ['!', '#', '$', '%', '&', '(', ')', '*', '+', ','];
    let digits: String = n
        .to_string()
        .chars()
        .map(|d| DIGITS[d.to_digit(10).map_or(0, |d| d as usize)])
        .collect();
    format!("~~{digits}~~")
}

fn escapes(key: &str) -> bool {
    key.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

/// Gives the colliding properties of every object schema in `doc`, and the colliding query and
/// header parameters of every operation, names that typify and progenitor keep apart.
pub(crate) fn separate(doc: &mut Value) -> Restore {
    let text = doc.to_string();
    let mut restore = Restore::default();
    walk(doc, &text, &mut restore);
    separate_parameters(doc, &text, &mut restore);
    restore
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// progenitor names a builder's field and setter after each parameter: PHP-style `status`
/// beside `status[]` (alertersystem) gave one builder two `status` fields. A parameter written
/// inline, not in the path (whose template names it), takes a placeholder name as properties do;
/// the path-level ones are looked at with each operation of their path.
fn separate_parameters(doc: &mut Value, text: &str, restore: &mut Restore) {
    let shared = doc
        .pointer("/components/parameters")
        .cloned()
        .unwrap_or(Value::Null);
    let name_of = |param: &Value| -> Option<String> {
        let param = match param.get("$ref").and_then(Value::as_str) {
            Some(r) => shared.get(r.strip_prefix("#/components/parameters/")?)?,
            None => param,
        };
        param.get("name").and_then(Value::as_str).map(str::to_owned)
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let params = |v: Option<&Value>| -> Vec<Value> {
                v.and_then(Value::as_array).cloned().unwrap_or_default()
            };
            if item.get(method).is_none() {
                continue;
            }
            let mut all = params(item.get("parameters"));
            all.extend(params(item.get(method).and_then(|op| op.get("parameters"))));
            let keys: Vec<String> = all.iter().filter_map(&name_of).collect();
            let fixed: Vec<String> = all
                .iter()
                .filter(|p| p.get("$ref").is_some() || p.get("in").and_then(Value::as_str) == Some("path"))
                .filter_map(&name_of)
                .collect();
            let renames = placeholders(&keys, &fixed, text, restore);
            if renames.is_empty() {
                continue;
            }
            rename_parameters(item.get_mut("parameters"), &renames);
            rename_parameters(
                item.get_mut(method).and_then(|op| op.get_mut("parameters")),
                &renames,
            );
        }
    }
}

fn walk(value: &mut Value, text: &str, restore: &mut Restore) {
    match value {
        Value::Object(map) => {
            if matches!(map.get("properties"), Some(Value::Object(_)))
                && map.get("type").is_none_or(|t| t == "object")
            {
                separate_object(map, text, restore);
            }
            map.values_mut().for_each(|v| walk(v, text, restore));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, text, restore)),
        _ => {}
    }
}

/// The names one object's fields get: its properties, then its `required` names that are no
/// property, in the spec's order.
fn field_keys(map: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = map
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let required = map.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        if !keys.iter().any(|k| k == name) {
            keys.push(name.to_owned());
        }
    }
    keys
}

fn separate_object(map: &mut Map<String, Value>, text: &str, restore: &mut Restore) {
    let keys = field_keys(map);
    for (key, placeholder) in placeholders(&keys, &[], text, restore) {
        rename_key(map, &key, &placeholder);
    }
}

/// Renames the inline parameters of `list` that `renames` names.
fn rename_parameters(list: Option<&mut Value>, renames: &[(String, String)]) {
    for param in list.and_then(Value::as_array_mut).into_iter().flatten() {
        if param.get("$ref").is_some() {
            continue;
        }
        if let Some(name) = param.get_mut("name")
            && let Some((_, to)) = renames.iter().find(|(from, _)| name == from)
        {
            *name = Value::String(to.clone());
        }
    }
}

/// (key, placeholder) for each of `keys` whose Rust name an earlier one has: the plain name goes
/// to a `fixed` key (one that cannot be renamed), then to the key that already is it, then to
/// the first.
fn placeholders(
    keys: &[String],
    fixed: &[String],
    text: &str,
    restore: &mut Restore,
) -> Vec<(String, String)> {
    let mut taken: BTreeSet<String> = keys.iter().map(|k| rust_name(k)).collect();
    let mut kept: BTreeSet<String> = BTreeSet::new();
    let mut order: Vec<&String> = keys.iter().filter(|k| fixed.contains(k)).collect();
    order.extend(keys.iter().filter(|k| !fixed.contains(k) && rust_name(k) == **k));
    order.extend(keys.iter().filter(|k| !fixed.contains(k) && rust_name(k) != **k));
    let mut renames: Vec<(String, String)> = Vec::new();
    for key in order {
        let name = rust_name(key);
        if kept.insert(name.clone()) || escapes(key) || fixed.contains(key) {
            continue;
        }
        let Some(free) = (2..)
            .map(|n| rust_name(&format!("{name}_{n}")))
            .find(|candidate| !taken.contains(candidate))
        else {
            continue;
        };
        taken.insert(free.clone());
        let placeholder = (restore.keys.len()..)
            .map(|n| format!("{free}{}", marker(n)))
            .find(|p| !text.contains(p.as_str()))
            .unwrap_or_default();
        restore.keys.push((placeholder.clone(), key.clone()));
        renames.push((key.clone(), placeholder));
    }
    renames
}

/// Renames a property (keeping its place) and its mention in `required`.
fn rename_key(map: &mut Map<String, Value>, key: &str, to: &str) {
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        let renamed: Map<String, Value> = std::mem::take(properties)
            .into_iter()
            .map(|(k, v)| if k == key { (to.to_owned(), v) } else { (k, v) })
            .collect();
        *properties = renamed;
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        for name in required.iter_mut() {
            if name == key {
                *name = Value::String(to.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typify_names() {
        assert_eq!(rust_name("@id"), "id");
        assert_eq!(rust_name("xAxis"), "x_axis");
        assert_eq!(rust_name("x-axis"), "x_axis");
        assert_eq!(rust_name("type"), "type_");
        assert_eq!(rust_name("3d"), "x3d");
        assert_eq!(rust_name(&format!("id_2{}", marker(17))), "id_2");
    }

    #[test]
    fn the_plain_name_goes_to_the_key_that_is_it() {
        let mut doc = serde_json::json!({"type": "object", "required": ["@id"],
            "properties": {"@id": {"type": "string"}, "id": {"type": "string"}}});
        let restore = separate(&mut doc);
        let keys: Vec<&String> = doc["properties"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys[1], "id");
        assert_eq!(rust_name(keys[0]), "id_2");
        assert_eq!(doc["required"][0], *keys[0]);
        assert_eq!(restore.apply(doc.to_string()).matches("@id").count(), 2);
    }
}
