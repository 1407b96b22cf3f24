//! A schema flattened into its fields, with `$ref`s resolved.
//!
//! Comparing flattened fields by their path from the body (`data.file_token`) rather than by
//! component makes the comparison independent of how the spec is factored: a field moved into
//! a `$ref` keeps its path, so it is not reported as removed and added.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::doc::{self, flag, resolve, str_of};

/// A field's path from the root of a body or parameter: property names, `[]` for array items,
/// `{}` for `additionalProperties` values, `<oneOf 0>` for alternatives. The root is `[]`.
pub type FieldPath = Vec<String>;

/// The bound keywords compared, with which way is "narrower" (rejects more values).
pub const BOUNDS: [(&str, Narrower); 10] = [
    ("minLength", Narrower::Larger),
    ("maxLength", Narrower::Smaller),
    ("minimum", Narrower::Larger),
    ("maximum", Narrower::Smaller),
    ("exclusiveMinimum", Narrower::True),
    ("exclusiveMaximum", Narrower::True),
    ("minItems", Narrower::Larger),
    ("maxItems", Narrower::Smaller),
    ("uniqueItems", Narrower::True),
    ("multipleOf", Narrower::AnyChange),
];

/// Which way a bound keyword narrows the accepted values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrower {
    /// A larger value (or adding the keyword) accepts fewer values.
    Larger,
    /// A smaller value (or adding the keyword) accepts fewer values.
    Smaller,
    /// `true` accepts fewer values.
    True,
    /// Any change may reject values the old one accepted.
    AnyChange,
}

/// What the review needs to know about one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Required in its parent object (the root: the body or parameter is required).
    pub required: bool,
    /// `string`, `integer`, `object`, … ; `any` when the schema says nothing; `recursive` where a
    /// schema refers back to itself; `unresolved` for a `$ref` that points nowhere.
    pub kind: String,
    /// The `format`, if any.
    pub format: Option<String>,
    /// `nullable: true`.
    pub nullable: bool,
    /// The bound keywords present (see [`BOUNDS`]).
    pub bounds: BTreeMap<&'static str, Value>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// A closed `enum`, values rendered as JSON text.
    pub closed_enum: Option<BTreeSet<String>>,
    /// `x-extensible-enum`: documented values of an open set.
    pub open_enum: Option<BTreeSet<String>>,
    /// `additionalProperties: false` on an object.
    pub closed_object: bool,
    /// The component the field's schema is (`FileName` for `$ref: …/FileName`).
    pub component: Option<String>,
    /// Where the field sits, for reports: `UploadPrepareRequest.size`.
    pub slot: String,
    /// Where the field's schema is defined, for reports: the component if it has one, else the slot.
    pub schema_at: String,
    /// `deprecated: true` on the field's schema (or, for a parameter, on the parameter).
    pub deprecated: bool,
    /// Where the field is declared in the document: its property key, `items`, the parameter.
    pub declared: Vec<String>,
    /// Where the field's schema is written, `$ref`s followed: bound keywords sit under it.
    pub written: Vec<String>,
}

/// Which way data flows, which decides what "compatible" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server: narrowing breaks old clients.
    Request,
    /// Server to client: widening breaks old clients.
    Response,
}

impl Direction {
    /// `request` or `response`.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// How deep a schema is followed; deeper structure is not compared (no real body is this deep).
const MAX_DEPTH: usize = 24;

/// The root of a flattening: its schema, where that is written, and what to call it.
#[derive(Debug, Clone, Copy)]
pub struct Root<'a> {
    /// The schema.
    pub schema: &'a Value,
    /// Where the schema is written in the document.
    pub site: &'a [String],
    /// Whether the body or parameter is required.
    pub required: bool,
    /// The root in reports (`upload_prepare request body`).
    pub slot: &'a str,
}

/// Flattens `root.schema` into its fields. `direction` drops `readOnly` fields from requests and
/// `writeOnly` fields from responses, as the wire does.
pub fn flatten(document: &Value, root: Root<'_>, direction: Direction) -> BTreeMap<FieldPath, Field> {
    let mut walker = Walker {
        root: document,
        direction,
        out: BTreeMap::new(),
        stack: Vec::new(),
    };
    walker.walk(
        root.schema,
        Vec::new(),
        root.required,
        root.slot.to_owned(),
        root.site.to_vec(),
    );
    walker.out
}

struct Walker<'a> {
    root: &'a Value,
    direction: Direction,
    out: BTreeMap<FieldPath, Field>,
    /// The components being expanded, to stop at recursion.
    stack: Vec<String>,
}

impl Walker<'_> {
    fn walk(&mut self, schema: &Value, path: FieldPath, required: bool, slot: String, site: Vec<String>) {
        let Some(resolved) = resolve(self.root, schema) else {
            let reference = str_of(schema, "$ref").unwrap_or("?");
            let field = opaque("unresolved", Some(reference.to_owned()), required, slot, &site);
            self.out.insert(path, field);
            return;
        };
        let written = resolved.site(&site);
        let component = resolved.schema_name().map(str::to_owned);
        if let Some(name) = &component
            && self.stack.contains(name)
        {
            let field = opaque("recursive", component, required, slot, &site);
            self.out.insert(path, field);
            return;
        }
        if path.len() > MAX_DEPTH {
            return;
        }
        let merged = merge_all_of(self.root, resolved.value);
        let schema = &merged;
        let schema_at = component.clone().unwrap_or_else(|| slot.clone());

        let field = Field {
            component: component.clone(),
            slot,
            schema_at: schema_at.clone(),
            declared: site,
            written: written.clone(),
            ..describe(schema, required)
        };
        self.out.insert(path.clone(), field);

        if let Some(name) = &component {
            self.stack.push(name.clone());
        }
        self.children(resolved.value, schema, &path, &schema_at, &written);
        if component.is_some() {
            self.stack.pop();
        }
    }

    /// Walks the fields under a schema: properties, items, map values, alternatives. `own` is
    /// the schema as written (for where properties are declared), `schema` with `allOf` merged.
    fn children(
        &mut self,
        own: &Value,
        schema: &Value,
        path: &FieldPath,
        schema_at: &str,
        written: &[String],
    ) {
        let child = |segment: &str| {
            let mut p = path.clone();
            p.push(segment.to_owned());
            p
        };
        let required_names: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let hidden = match self.direction {
                    Direction::Request => "readOnly",
                    Direction::Response => "writeOnly",
                };
                if resolve(self.root, property).is_some_and(|p| flag(p.value, hidden)) {
                    continue;
                }
                let declared = property_site(self.root, own, written, name);
                self.walk(
                    property,
                    child(name),
                    required_names.contains(name.as_str()),
                    format!("{schema_at}.{name}"),
                    declared,
                );
            }
        }
        let under = |key: &str| doc::child(written, &[key]);
        if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
            self.walk(items, child("[]"), true, format!("{schema_at}[]"), under("items"));
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let site = under("additionalProperties");
            self.walk(values, child("{}"), true, format!("{schema_at}{{}}"), site);
        }
        for keyword in ["oneOf", "anyOf"] {
            for (i, alternative) in schema
                .get(keyword)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let segment = format!("<{keyword} {i}>");
                let site = doc::child(written, &[keyword, &i.to_string()]);
                self.walk(
                    alternative,
                    child(&segment),
                    true,
                    format!("{schema_at}{segment}"),
                    site,
                );
            }
        }
    }
}

/// Where property `name` of `schema` (written at `written`) is declared: in the schema's own
/// `properties`, or in the `allOf` part that brings it.
fn property_site(root: &Value, schema: &Value, written: &[String], name: &str) -> Vec<String> {
    let has = |s: &Value| s.get("properties").and_then(|p| p.get(name)).is_some();
    if has(schema) {
        return doc::child(written, &["properties", name]);
    }
    let parts = schema.get("allOf").and_then(Value::as_array);
    for (i, part) in parts.into_iter().flatten().enumerate() {
        let part_site = doc::child(written, &["allOf", &i.to_string()]);
        if let Some(resolved) = resolve(root, part)
            && has(resolved.value)
        {
            return doc::child(&resolved.site(&part_site), &["properties", name]);
        }
    }
    written.to_vec()
}

/// What a schema says about a field, apart from where it is.
fn describe(schema: &Value, required: bool) -> Field {
    Field {
        required,
        kind: kind_of(schema),
        format: str_of(schema, "format").map(str::to_owned),
        nullable: flag(schema, "nullable"),
        bounds: BOUNDS
            .iter()
            .filter_map(|(key, _)| schema.get(*key).map(|v| (*key, v.clone())))
            .collect(),
        pattern: str_of(schema, "pattern").map(str::to_owned),
        closed_enum: schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| values.iter().map(enum_value).collect()),
        open_enum: schema
            .get("x-extensible-enum")
            .and_then(Value::as_array)
            .map(|values| values.iter().map(enum_value).collect()),
        closed_object: schema.get("additionalProperties") == Some(&Value::Bool(false)),
        component: None,
        slot: String::new(),
        schema_at: String::new(),
        deprecated: flag(schema, "deprecated"),
        declared: Vec::new(),
        written: Vec::new(),
    }
}

fn opaque(kind: &str, component: Option<String>, required: bool, slot: String, site: &[String]) -> Field {
    Field {
        required,
        kind: kind.to_owned(),
        format: None,
        nullable: false,
        bounds: BTreeMap::new(),
        pattern: None,
        closed_enum: None,
        open_enum: None,
        closed_object: false,
        schema_at: component.clone().unwrap_or_else(|| slot.clone()),
        component,
        slot,
        deprecated: false,
        declared: site.to_vec(),
        written: site.to_vec(),
    }
}

fn enum_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The schema's type, inferred from its keywords when `type` is absent.
fn kind_of(schema: &Value) -> String {
    if let Some(kind) = str_of(schema, "type") {
        return kind.to_owned();
    }
    if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
        "object".to_owned()
    } else if schema.get("items").is_some() {
        "array".to_owned()
    } else if schema.get("oneOf").is_some() {
        "oneOf".to_owned()
    } else if schema.get("anyOf").is_some() {
        "anyOf".to_owned()
    } else {
        "any".to_owned()
    }
}

/// `allOf` folded into one schema: properties and `required` united, other keywords taken from
/// the first part that has them. This is how code generators read the common "base + extra
/// fields" pattern; anything subtler shows up in the generated-API diff.
fn merge_all_of(root: &Value, schema: &Value) -> Value {
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut merged = serde_json::Map::new();
    let mut properties = serde_json::Map::new();
    let mut required: Vec<Value> = Vec::new();
    let own = std::iter::once(schema);
    let resolved_parts = parts
        .iter()
        .filter_map(|part| resolve(root, part).map(|r| r.value));
    for part in own.chain(resolved_parts) {
        // Parts may nest `allOf` themselves.
        let part = merge_all_of(root, part);
        let Some(object) = part.as_object() else { continue };
        for (key, value) in object {
            match key.as_str() {
                "allOf" => {}
                "properties" => {
                    for (name, property) in value.as_object().into_iter().flatten() {
                        properties.entry(name.clone()).or_insert_with(|| property.clone());
                    }
                }
                "required" => {
                    for name in value.as_array().into_iter().flatten() {
                        if !required.contains(name) {
                            required.push(name.clone());
                        }
                    }
                }
                _ => {
                    merged.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".to_owned(), Value::Object(properties));
        merged
            .entry("type")
            .or_insert_with(|| Value::String("object".to_owned()));
    }
    if !required.is_empty() {
        merged.insert("required".to_owned(), Value::Array(required));
    }
    Value::Object(merged)
}
