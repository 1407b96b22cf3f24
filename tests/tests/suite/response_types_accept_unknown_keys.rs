//! Every generated response type accepts a key it does not know: a field Feishu adds later must
//! not turn a successful response into an error (no `deny_unknown_fields`, issue 8 item 6).
//!
//! The list of types is checked against the spec: every schema a response reaches must be here,
//! so a new response type cannot skip the check.

use std::collections::BTreeSet;

use feishu_drive::types;
use serde_json::{Value, json};

/// A valid instance of each response schema, by schema name.
fn instances() -> Vec<(&'static str, Value)> {
    let error_info = json!({
        "log_id": "20240701150933F3A2B1C0D9E8F7A6B5C4",
        "troubleshooter": "https://open.feishu.cn/search?log_id=20240701150933F3A2B1C0D9E8F7A6B5C4",
        "details": [{"key": "k", "value": "v"}],
        "permission_violations": [{"type": "action_scope_required", "subject": "drive:drive", "description": "d"}],
        "field_violations": [{"field": "parent_type", "value": "slide_file", "description": "d"}],
        "helps": [{"url": "https://open.feishu.cn/document", "description": "d"}],
    });
    vec![
        (
            "TenantAccessTokenResponse",
            json!({"code": 0, "msg": "ok", "tenant_access_token": "t-abc", "expire": 7200}),
        ),
        (
            "UploadPrepareResponse",
            json!({"code": 0, "msg": "success", "data": {"upload_id": "7111", "block_size": 4194304, "block_num": 1}}),
        ),
        (
            "UploadPrepareData",
            json!({"upload_id": "7111", "block_size": 4194304, "block_num": 1}),
        ),
        (
            "UploadPartResponse",
            json!({"code": 0, "msg": "success", "data": {}}),
        ),
        ("UploadPartData", json!({})),
        (
            "FileTokenResponse",
            json!({"code": 0, "msg": "success", "data": {"file_token": "boxcnabc"}}),
        ),
        ("FileTokenData", json!({"file_token": "boxcnabc"})),
        (
            "ErrorEnvelope",
            json!({"code": 99992402, "msg": "field validation failed", "data": {"free": "form"}, "error": error_info}),
        ),
        ("ErrorInfo", error_info.clone()),
        ("ErrorDetail", json!({"key": "k", "value": "v"})),
        (
            "PermissionViolation",
            json!({"type": "t", "subject": "s", "description": "d"}),
        ),
        (
            "FieldViolation",
            json!({"field": "f", "value": "v", "description": "d"}),
        ),
        ("ErrorHelp", json!({"url": "u", "description": "d"})),
        (
            "FileUploadResponse",
            json!({"code": 0, "msg": "success", "data": {"file_token": "boxcnabc", "version": "7", "url": "https://x"}}),
        ),
        (
            "FileUploadData",
            json!({"file_token": "boxcnabc", "version": "7", "url": "https://x"}),
        ),
        (
            "CreateFolderResponse",
            json!({"code": 0, "msg": "success", "data": {"token": "fldcnabc", "url": "https://x"}}),
        ),
        (
            "CreateFolderData",
            json!({"token": "fldcnabc", "url": "https://x"}),
        ),
        (
            "ListFilesResponse",
            json!({"code": 0, "msg": "success", "data": {"files": [], "has_more": false}}),
        ),
        (
            "ListFilesData",
            json!({"files": [{"name": "a", "token": "boxcn1", "type": "file"}], "has_more": true, "next_page_token": "2"}),
        ),
        (
            "DriveNode",
            json!({"name": "a", "token": "boxcn1", "type": "shortcut", "shortcut_info": {"target_token": "t", "target_type": "file"}}),
        ),
        (
            "ShortcutInfo",
            json!({"target_token": "t", "target_type": "file"}),
        ),
    ]
}

/// Deserialises `value` as the generated type `name` and serialises it back.
fn round_trip(name: &str, value: Value) -> Result<Value, String> {
    fn through<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> Result<Value, String> {
        let parsed: T = serde_json::from_value(value).map_err(|e| e.to_string())?;
        serde_json::to_value(parsed).map_err(|e| e.to_string())
    }
    match name {
        "TenantAccessTokenResponse" => through::<types::TenantAccessTokenResponse>(value),
        "FileUploadResponse" => through::<types::FileUploadResponse>(value),
        "FileUploadData" => through::<types::FileUploadData>(value),
        "CreateFolderResponse" => through::<types::CreateFolderResponse>(value),
        "CreateFolderData" => through::<types::CreateFolderData>(value),
        "ListFilesResponse" => through::<types::ListFilesResponse>(value),
        "ListFilesData" => through::<types::ListFilesData>(value),
        "DriveNode" => through::<types::DriveNode>(value),
        "ShortcutInfo" => through::<types::ShortcutInfo>(value),
        "UploadPrepareResponse" => through::<types::UploadPrepareResponse>(value),
        "UploadPrepareData" => through::<types::UploadPrepareData>(value),
        "UploadPartResponse" => through::<types::UploadPartResponse>(value),
        "UploadPartData" => through::<types::UploadPartData>(value),
        "FileTokenResponse" => through::<types::FileTokenResponse>(value),
        "FileTokenData" => through::<types::FileTokenData>(value),
        "ErrorEnvelope" => through::<types::ErrorEnvelope>(value),
        "ErrorInfo" => through::<types::ErrorInfo>(value),
        "ErrorDetail" => through::<types::ErrorDetail>(value),
        "PermissionViolation" => through::<types::PermissionViolation>(value),
        "FieldViolation" => through::<types::FieldViolation>(value),
        "ErrorHelp" => through::<types::ErrorHelp>(value),
        other => Err(format!("no generated type listed for {other}")),
    }
}

/// Adds an unknown key to every object in `value`, at every depth (but not inside `data` maps
/// that are free-form anyway, which get one too: harmless).
fn with_unknown_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), with_unknown_keys(v)))
                .collect();
            out.insert(
                "a_key_feishu_adds_later".to_owned(),
                json!({"nested": [1, "two"]}),
            );
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(with_unknown_keys).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_response_type_accepts_an_unknown_key() {
    for (name, instance) in instances() {
        let plain =
            round_trip(name, instance.clone()).unwrap_or_else(|e| panic!("{name}: the plain instance: {e}"));
        let extended = round_trip(name, with_unknown_keys(&instance))
            .unwrap_or_else(|e| panic!("{name} rejects an unknown key: {e}"));
        // The unknown keys are ignored (or kept in a free-form map), never mistaken for fields.
        let strip = |v: &Value| {
            let mut v = v.clone();
            strip_unknown(&mut v);
            v
        };
        assert_eq!(
            strip(&extended),
            strip(&plain),
            "{name}: an unknown key changed the parsed value"
        );
    }
}

fn strip_unknown(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("a_key_feishu_adds_later");
            map.values_mut().for_each(strip_unknown);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_unknown),
        _ => {}
    }
}

/// Every object schema a response of the spec reaches (through `$ref`s, properties and items), by name.
fn response_schema_names() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/feishu-drive.yaml");
    let spec: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).expect("the spec")).expect("YAML");
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => spec
                .pointer(r.strip_prefix('#').expect("local"))
                .cloned()
                .expect("the $ref resolves"),
            None => v.clone(),
        }
    };
    let mut stack = Vec::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("a path item").values() {
            for response in op["responses"].as_object().expect("responses").values() {
                let response = resolve(response);
                for media in response["content"]
                    .as_object()
                    .into_iter()
                    .flat_map(|c| c.values())
                {
                    stack.push(media["schema"].clone());
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    while let Some(schema) = stack.pop() {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().expect("a name").to_owned();
            let target = resolve(&schema);
            // Objects are what could reject a key; strings (UploadId, …) have none.
            if target["type"] == "object" && names.insert(name) {
                stack.push(target);
            }
            continue;
        }
        stack.extend(
            schema["properties"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.values().cloned()),
        );
        stack.extend(schema.get("items").cloned());
    }
    names
}

#[test]
fn the_list_covers_every_response_schema() {
    let listed: BTreeSet<String> = instances().into_iter().map(|(n, _)| n.to_owned()).collect();
    let in_spec = response_schema_names();
    let missing: Vec<_> = in_spec.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "response schemas without a check here: {missing:?}"
    );
}
