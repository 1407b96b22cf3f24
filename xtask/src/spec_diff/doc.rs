//! The spec as a JSON tree, and the few lookups every comparison needs.
//!
//! The review works on `serde_json::Value`, not on `openapiv3` types: it must read whatever a
//! reviewer is about to commit, including specs the code generator would reject, and it has to
//! see extensions (`x-feishu-error-codes`, `x-extensible-enum`) and keys no typed model keeps.

use serde_json::Value;

/// Why a spec could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// Not YAML (or JSON) at all.
    #[error("{side} spec is not valid YAML: {message}")]
    Yaml {
        /// `base` or `head`.
        side: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
    /// YAML, but not an object at the top level.
    #[error("{side} spec is not an OpenAPI document: the top level is not a mapping")]
    NotAnObject {
        /// `base` or `head`.
        side: &'static str,
    },
}

/// Parses a spec's text; `side` names it in errors.
pub fn parse(text: &str, side: &'static str) -> Result<Value, SpecError> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| SpecError::Yaml {
        side,
        message: e.to_string(),
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(SpecError::NotAnObject { side })
    }
}

/// The HTTP methods an OpenAPI path item can hold, in the order reports list them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A `$ref` target, followed.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The object the reference points to (or the input, if it was not a reference).
    pub value: &'a Value,
    /// The last `$ref` followed, if any (`#/components/schemas/FileName`).
    pub reference: Option<&'a str>,
}

impl Resolved<'_> {
    /// The component name if the last reference pointed into `#/components/schemas`.
    pub fn schema_name(&self) -> Option<&str> {
        self.reference?.strip_prefix("#/components/schemas/")
    }

    /// Where the resolved object is written: the last reference's target, or `written` (the
    /// path of the input) when no reference was followed.
    pub fn site(&self, written: &[String]) -> Vec<String> {
        self.reference
            .and_then(pointer_segments)
            .unwrap_or_else(|| written.to_vec())
    }
}

/// The path segments of a local reference (`#/components/schemas/A~1B` → `components`,
/// `schemas`, `A/B`).
pub fn pointer_segments(reference: &str) -> Option<Vec<String>> {
    let pointer = reference.strip_prefix("#/")?;
    Some(
        pointer
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// `base` with `more` appended.
pub fn child(base: &[String], more: &[&str]) -> Vec<String> {
    let mut out = base.to_vec();
    out.extend(more.iter().map(|s| (*s).to_owned()));
    out
}

/// How many `$ref`s in a row are followed before giving up: a chain this long is a cycle.
const MAX_HOPS: usize = 16;

/// Follows local `$ref`s (`#/…`) from `value`. `None` when a reference points nowhere, is
/// external, or loops.
pub fn resolve<'a>(root: &'a Value, value: &'a Value) -> Option<Resolved<'a>> {
    let mut current = Resolved {
        value,
        reference: None,
    };
    for _ in 0..MAX_HOPS {
        let Some(reference) = current.value.get("$ref").and_then(Value::as_str) else {
            return Some(current);
        };
        let pointer = reference.strip_prefix('#')?;
        current = Resolved {
            value: root.pointer(pointer)?,
            reference: Some(reference),
        };
    }
    None
}

/// `value[key]` as a string.
pub fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// `value[key]` as a boolean, `false` when absent.
pub fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A short, single-line rendering of a JSON value for reports (`"abc"`, `42`, `[a, b]`).
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 80 {
                let cut: String = text.chars().take(77).collect();
                format!("{cut}…")
            } else {
                text
            }
        }
    }
}

/// An operation of the spec.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// `operationId`, or `METHOD /path` when there is none.
    pub id: String,
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// The path template.
    pub path: &'a str,
    /// The operation object.
    pub op: &'a Value,
    /// The path item's own `parameters`, shared by its operations.
    pub path_parameters: Option<&'a Value>,
    /// Where the operation is written: `paths`, the template, the method.
    pub site: Vec<String>,
}

/// Every operation of a spec, in document order.
pub fn operations(root: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(resolved) = resolve(root, item) else {
            continue;
        };
        let item_site = resolved.site(&["paths".to_owned(), path.clone()]);
        let item = resolved.value;
        for method in METHODS {
            let Some(op) = item.get(method).filter(|op| op.is_object()) else {
                continue;
            };
            let id = str_of(op, "operationId")
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
            out.push(Operation {
                id,
                method,
                path,
                op,
                path_parameters: item.get("parameters"),
                site: child(&item_site, &[method]),
            });
        }
    }
    out
}
