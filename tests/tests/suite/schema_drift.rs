//! The spec → Rust translation is faithful: each generated type's JSON Schema (`schemars`, the
//! client's `schemars` feature) is compared with its component in `spec/feishu-drive.yaml` —
//! type, format, properties, required fields, `$ref`s, enum values and bounds.
//!
//! Two oracles that nobody here wrote meet: typify's choice of Rust types, read back by
//! schemars' derive, against the spec's text. Every difference must be one of `ACCEPTED`, with
//! the reason it is harmless, and every accepted difference must still occur (so the list
//! cannot rot). Bounds schemars cannot see (typify checks string lengths and patterns in the
//! newtypes' `FromStr` / `Deserialize`) are checked by behaviour instead: a value at each bound
//! deserialises, one past it does not.

use std::collections::{BTreeMap, BTreeSet};

use feishu_drive::types;
use serde_json::{Value, json};

/// A generated type: its schema and whether a JSON value deserialises into it.
struct Generated {
    schema: Value,
    accepts: fn(Value) -> bool,
}

macro_rules! generated {
    ($($component:literal => $ty:ident),* $(,)?) => {
        BTreeMap::from([$(
            (
                $component,
                Generated {
                    schema: serde_json::to_value(schemars::schema_for!(types::$ty)).expect("a schema is JSON"),
                    accepts: |v| serde_json::from_value::<types::$ty>(v).is_ok(),
                },
            ),
        )*])
    };
}

fn generated_types() -> BTreeMap<&'static str, Generated> {
    generated! {
        "ErrorEnvelope" => ErrorEnvelope,
        "ErrorInfo" => ErrorInfo,
        "ErrorDetail" => ErrorDetail,
        "PermissionViolation" => PermissionViolation,
        "FieldViolation" => FieldViolation,
        "ErrorHelp" => ErrorHelp,
        "ParentType" => ParentType,
        "FileName" => FileName,
        "ParentNode" => ParentNode,
        "Extra" => Extra,
        "Checksum" => Checksum,
        "UploadId" => UploadId,
        "TenantAccessTokenRequest" => TenantAccessTokenRequest,
        "TenantAccessTokenResponse" => TenantAccessTokenResponse,
        "UploadPrepareRequest" => UploadPrepareRequest,
        "UploadPrepareData" => UploadPrepareData,
        "UploadPrepareResponse" => UploadPrepareResponse,
        "UploadPartData" => UploadPartData,
        "UploadPartResponse" => UploadPartResponse,
        "UploadFinishRequest" => UploadFinishRequest,
        "FileTokenData" => FileTokenData,
        "FileTokenResponse" => FileTokenResponse,
        "FileParentType" => FileParentType,
        "FolderToken" => FolderToken,
        "DriveFileToken" => DriveFileToken,
        "FileUploadPrepareRequest" => FileUploadPrepareRequest,
        "FileUploadData" => FileUploadData,
        "FileUploadResponse" => FileUploadResponse,
        "FolderName" => FolderName,
        "CreateFolderRequest" => CreateFolderRequest,
        "CreateFolderData" => CreateFolderData,
        "CreateFolderResponse" => CreateFolderResponse,
        "PageSize" => PageSize,
        "ListOrderBy" => ListOrderBy,
        "ListDirection" => ListDirection,
        "UserIdType" => UserIdType,
        "ShortcutInfo" => ShortcutInfo,
        "DriveNode" => DriveNode,
        "ListFilesData" => ListFilesData,
        "ListFilesResponse" => ListFilesResponse,
    }
}

/// Components with no generated type of their own, and why.
const NOT_GENERATED: &[(&str, &str)] = &[
    (
        "UploadPartRequest",
        "a multipart/form-data body: its fields are the `upload_part` builder's setters",
    ),
    (
        "UploadAllRequest",
        "a multipart/form-data body: its fields are the `upload_all` builder's setters",
    ),
    (
        "FileUploadAllRequest",
        "a multipart/form-data body: its fields are the `file_upload_all` builder's setters",
    ),
];

/// Differences between the spec and the generated types' schemas that are accepted, and why.
const ACCEPTED: &[(&str, &str)] = &[
    (
        "Checksum: pattern spec=\"^[0-9]{1,10}$\" rust=-",
        "typify checks the pattern in FromStr/Deserialize (checked by behaviour below)",
    ),
    (
        "FileName: maxLength spec=250 rust=-",
        "typify checks string lengths in FromStr/Deserialize (checked by behaviour below)",
    ),
    (
        "FileName: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize (checked by behaviour below)",
    ),
    (
        "ParentType: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize (checked by behaviour below)",
    ),
    (
        "UploadId: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize (checked by behaviour below)",
    ),
    (
        "DriveFileToken: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize",
    ),
    (
        "FileParentType: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize",
    ),
    (
        "FolderName: maxLength spec=256 rust=-",
        "typify checks string lengths in FromStr/Deserialize",
    ),
    (
        "FolderName: minLength spec=1 rust=-",
        "typify checks string lengths in FromStr/Deserialize",
    ),
    (
        "FileUploadPrepareRequest.size: minimum spec=0 rust=-",
        "typify keeps an int64 with minimum 0 as i64, so a negative is not refused before \
         sending; the server answers it with 1061002, and the uploader's sizes are u64",
    ),
    (
        "PageSize: format spec=int64 rust=uint64",
        "minimum 1 makes typify choose an unsigned type: narrower than int64, within what the \
         spec allows",
    ),
    (
        "PageSize: maximum spec=200 rust=-",
        "typify does not bound integers above, so a page size over 200 is sent; the server \
         answers it with 1064001 PageSizeOutOfLimit (server/tests/suite/files.rs)",
    ),
    (
        "TenantAccessTokenRequest.app_id: minLength spec=1 rust=-",
        "an inline bounded string: typify's newtype TenantAccessTokenRequestAppId checks it",
    ),
    (
        "TenantAccessTokenRequest.app_secret: minLength spec=1 rust=-",
        "an inline bounded string: typify's newtype TenantAccessTokenRequestAppSecret checks it",
    ),
    (
        "TenantAccessTokenResponse.expire: minimum spec=0 rust=-",
        "typify keeps an int64 with minimum 0 as i64; a response field, read whatever it holds",
    ),
    (
        "UploadPrepareData.block_num: minimum spec=0 rust=-",
        "typify keeps an int64 with minimum 0 as i64; a response field, read whatever it holds",
    ),
    (
        "UploadFinishRequest.block_num: minimum spec=0 rust=-",
        "typify keeps an int64 with minimum 0 as i64, so a negative is not refused before \
         sending; the server answers it with 1061002, and the uploader's counts are unsigned",
    ),
    (
        "UploadPrepareRequest.size: minimum spec=0 rust=-",
        "typify keeps an int64 with minimum 0 as i64, so a negative is not refused before \
         sending; the server answers it with 1061002, and the uploader's sizes are u64",
    ),
    (
        "UploadPrepareData.block_size: format spec=int64 rust=uint64",
        "minimum 1 makes typify choose NonZeroU64: narrower than int64, and exactly the values \
         the spec allows",
    ),
];

fn spec_components() -> BTreeMap<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/feishu-drive.yaml");
    let text = std::fs::read_to_string(path).expect("the spec");
    let doc: Value = serde_yaml_ng::from_str(&text).expect("the spec is YAML");
    doc["components"]["schemas"]
        .as_object()
        .expect("component schemas")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the comparison looks at in one schema, from either side.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    reference: Option<String>,
    ty: Option<String>,
    nullable: bool,
    format: Option<String>,
    enumeration: Option<BTreeSet<String>>,
    bounds: BTreeMap<&'static str, String>,
}

const BOUNDS: [&str; 5] = ["minLength", "maxLength", "pattern", "minimum", "maximum"];

fn reference_name(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).to_owned()
}

fn bound_text(value: &Value) -> String {
    // schemars writes integer bounds as floats (0.0); the spec as integers.
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", n as i64),
        _ => value.to_string(),
    }
}

/// The shape of a schema, seen through `nullable` (OpenAPI) and `anyOf`/`allOf` wrappers and
/// `"type": [T, "null"]` (JSON Schema, as schemars writes optional fields).
fn shape(schema: &Value) -> Shape {
    let mut shape = Shape {
        nullable: schema["nullable"] == true,
        ..Shape::default()
    };
    let mut schema = schema;
    for wrapper in ["anyOf", "allOf", "oneOf"] {
        if let Some(list) = schema[wrapper].as_array() {
            let non_null: Vec<&Value> = list.iter().filter(|s| s["type"] != "null").collect();
            shape.nullable |= non_null.len() < list.len();
            if let [only] = non_null.as_slice() {
                schema = only;
            }
        }
    }
    if let Some(reference) = schema["$ref"].as_str() {
        shape.reference = Some(reference_name(reference));
        return shape;
    }
    shape.ty = match &schema["type"] {
        Value::String(t) => Some(t.clone()),
        Value::Array(types) => {
            shape.nullable |= types.iter().any(|t| t == "null");
            types
                .iter()
                .find(|t| *t != "null")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        }
        _ => None,
    };
    shape.format = schema["format"].as_str().map(str::to_owned);
    shape.enumeration = schema["enum"]
        .as_array()
        .map(|values| values.iter().map(Value::to_string).collect());
    for bound in BOUNDS {
        if let Some(value) = schema.get(bound) {
            shape.bounds.insert(bound, bound_text(value));
        }
    }
    shape
}

/// Where `$ref`s point: the spec's components, and the generated schema's `definitions`.
struct Resolver<'a> {
    spec: &'a BTreeMap<String, Value>,
    rust: &'a Value,
}

impl Resolver<'_> {
    /// The shape of a schema with its `$ref` followed (schemars inlines a newtype struct where
    /// the spec names a component, so the names cannot be compared, only what they stand for).
    fn resolve(&self, schema: &Value, definitions: impl Fn(&str) -> Option<Value>) -> Shape {
        let mut shape = shape(schema);
        if let Some(name) = shape.reference.take()
            && let Some(target) = definitions(&name)
        {
            let nullable = shape.nullable;
            shape = self::shape(&target);
            shape.nullable |= nullable;
        }
        shape
    }
}

/// The differences between a spec schema and a generated one, as `place: what spec=… rust=…`.
/// `optional` is set for a property the spec does not require: its Rust `Option` reads as
/// nullable, which stands for "absent" (serde skips `None` when writing).
fn compare(
    place: &str,
    spec: &Value,
    rust: &Value,
    optional: bool,
    at: &Resolver<'_>,
    out: &mut Vec<String>,
) {
    let named = shape(spec).reference.is_some();
    let s = at.resolve(spec, |name| at.spec.get(name).cloned());
    let r = at.resolve(rust, |name| at.rust["definitions"].get(name).cloned());
    let mut differ = |what: &str, spec: Option<String>, rust: Option<String>| {
        if spec != rust {
            let show = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
            out.push(format!("{place}: {what} spec={} rust={}", show(spec), show(rust)));
        }
    };
    differ("type", s.ty.clone(), r.ty.clone());
    if !optional {
        differ(
            "nullable",
            Some(s.nullable.to_string()),
            Some(r.nullable.to_string()),
        );
    }
    // A spec without a format leaves the width to the generator; one with a format binds it.
    if s.format.is_some() {
        differ("format", s.format.clone(), r.format.clone());
    }
    let set = |e: &Option<BTreeSet<String>>| {
        e.as_ref()
            .map(|e| e.iter().cloned().collect::<Vec<_>>().join(","))
    };
    differ("enum", set(&s.enumeration), set(&r.enumeration));
    // A field that names a component has that component's bounds, compared once, with it.
    if !named {
        for bound in BOUNDS {
            differ(bound, s.bounds.get(bound).cloned(), r.bounds.get(bound).cloned());
        }
    }
}

fn properties(schema: &Value) -> BTreeMap<String, Value> {
    schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn differences(name: &str, spec: &Value, rust: &Value, components: &BTreeMap<String, Value>) -> Vec<String> {
    let at = Resolver {
        spec: components,
        rust,
    };
    let mut out = Vec::new();
    if spec["type"] != "object" {
        compare(name, spec, rust, false, &at, &mut out);
        return out;
    }
    if rust["type"] != "object" {
        out.push(format!("{name}: type spec=object rust={}", rust["type"]));
        return out;
    }
    let (spec_props, rust_props) = (properties(spec), properties(rust));
    let spec_required = required(spec);
    let names: BTreeSet<&String> = spec_props.keys().chain(rust_props.keys()).collect();
    for field in names {
        let place = format!("{name}.{field}");
        match (spec_props.get(field), rust_props.get(field)) {
            (Some(s), Some(r)) => compare(&place, s, r, !spec_required.contains(field), &at, &mut out),
            (Some(_), None) => out.push(format!("{place}: missing from the Rust type")),
            (None, Some(_)) => out.push(format!("{place}: not in the spec")),
            (None, None) => {}
        }
    }
    let rust_required = required(rust);
    if spec_required != rust_required {
        out.push(format!(
            "{name}: required spec={spec_required:?} rust={rust_required:?}"
        ));
    }
    out
}

#[test]
fn every_component_has_a_generated_type_or_a_reason() {
    let generated = generated_types();
    for name in spec_components().keys() {
        let listed = generated.contains_key(name.as_str()) || NOT_GENERATED.iter().any(|(n, _)| n == name);
        assert!(
            listed,
            "component {name} is neither compared here nor listed in NOT_GENERATED"
        );
    }
}

#[test]
fn generated_types_describe_the_spec_schemas() {
    let spec = spec_components();
    let mut found = BTreeSet::new();
    for (name, generated) in generated_types() {
        let component = spec
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the spec"));
        // The generated schema's own definitions are the referenced components.
        found.extend(differences(name, component, &generated.schema, &spec));
    }
    let accepted: BTreeSet<String> = ACCEPTED.iter().map(|(d, _)| (*d).to_owned()).collect();
    let unexpected: Vec<&String> = found.difference(&accepted).collect();
    let gone: Vec<&String> = accepted.difference(&found).collect();
    assert!(
        unexpected.is_empty(),
        "the generated types drifted from the spec (fix codegen, or accept with a reason):\n{}",
        unexpected
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        gone.is_empty(),
        "accepted differences that no longer occur: {gone:#?}"
    );
}

/// A string of `n` characters that matches nothing in particular.
fn chars(n: u64) -> Value {
    json!("a".repeat(usize::try_from(n).expect("a small bound")))
}

#[test]
fn bounds_schemars_cannot_see_are_enforced_by_the_types() {
    let spec = spec_components();
    let generated = generated_types();
    let mut checked = 0;
    for (name, component) in &spec {
        let Some(generated) = generated.get(name.as_str()) else {
            continue;
        };
        let accepts = generated.accepts;
        if let Some(min) = component["minLength"].as_u64() {
            assert!(accepts(chars(min)), "{name} refuses {min} characters");
            if min > 0 {
                assert!(!accepts(chars(min - 1)), "{name} accepts {} characters", min - 1);
            }
            checked += 1;
        }
        if let Some(max) = component["maxLength"].as_u64() {
            assert!(accepts(chars(max)), "{name} refuses {max} characters");
            assert!(!accepts(chars(max + 1)), "{name} accepts {} characters", max + 1);
            checked += 1;
        }
        if component["pattern"].is_string() {
            // The spec's own example matches its pattern; text with a space matches none of the
            // spec's patterns.
            let example = component["example"].clone();
            assert!(
                accepts(example.clone()),
                "{name} refuses its own example {example}"
            );
            assert!(!accepts(json!("not it")), "{name} ignores its pattern");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} bounds checked");
}
