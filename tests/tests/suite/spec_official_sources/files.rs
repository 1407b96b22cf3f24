//! The files family's facts (its doc pages, the Node and Python SDKs, the official CLI),
//! checked against the spec.

use serde_json::Value;

use super::{error_row, operation, request_schema, resolve, strings};

/// NODE's `parent_type` list of the files family (`"explorer" | "wiki"`); the doc pages list
/// `explorer` only.
const FILE_PARENT_TYPES: [&str; 2] = ["explorer", "wiki"];

/// The files family's scopes, per operation, from their doc pages (权限要求).
const FILE_SCOPES: &[(&str, &[&str])] = &[
    (
        "file_upload_prepare",
        &["drive:drive", "drive:file", "drive:file:upload"],
    ),
    (
        "file_upload_part",
        &["drive:drive", "drive:file", "drive:file:upload"],
    ),
    (
        "file_upload_finish",
        &["drive:drive", "drive:file", "drive:file:upload"],
    ),
    (
        "file_upload_all",
        &["drive:drive", "drive:file", "drive:file:upload"],
    ),
    (
        "file_download",
        &[
            "drive:drive",
            "drive:drive:readonly",
            "drive:file",
            "drive:file:download",
            "drive:file:readonly",
        ],
    ),
    ("create_folder", &["drive:drive", "space:folder:create"]),
    (
        "list_files",
        &["drive:drive", "drive:drive:readonly", "space:document:retrieve"],
    ),
];

/// The codes of the files family's doc tables (files/upload_prepare, upload_finish, upload_all)
/// with the status each states; they agree with the media tables on every status.
const FILE_UPLOAD_TABLES: &[(i64, u16)] = &[
    (1061001, 200),
    (1061002, 400),
    (1061003, 404),
    (1061004, 403),
    (1061021, 400),
    (1061022, 500),
    (1061041, 400),
    (1061042, 400),
    (1061043, 400),
    (1061044, 400),
    (1061045, 200),
    (1061109, 400),
    (1061101, 400),
    (1061500, 403),
    (1062007, 400),
    (1062008, 400),
    (1062009, 400),
    (1062010, 400),
    (1062011, 400),
    (1061061, 400),
    (1061073, 403),
    (1064230, 200),
    (1062505, 400),
    (1062506, 400),
    (1062507, 400),
];

/// The codes of the create_folder and folder-listing doc tables (their 1061001 says HTTP 500:
/// see [`DEVIATIONS`]).
const FOLDER_TABLES: &[i64] = &[
    1061001, 1061002, 1061003, 1061004, 1061005, 1061007, 1062507, 1064001,
];

/// What the files family's doc pages, NODE and the CLI say, beyond the fields and rate limits.
pub(super) fn check(spec: &Value, problems: &mut Vec<String>) {
    check_requests(spec, problems);
    check_answers_and_scopes(spec, problems);
    check_error_tables(spec, problems);
    check_download(spec, problems);
}

fn check_requests(spec: &Value, problems: &mut Vec<String>) {
    let parent_type = &spec["components"]["schemas"]["FileParentType"];
    if strings(&parent_type["x-extensible-enum"]) != FILE_PARENT_TYPES || parent_type.get("enum").is_some() {
        problems.push(format!(
            "FileParentType: {:?} (closed: {}), NODE lists {FILE_PARENT_TYPES:?}",
            strings(&parent_type["x-extensible-enum"]),
            parent_type.get("enum").is_some()
        ));
    }
    for id in ["file_upload_prepare", "file_upload_all"] {
        let schema = request_schema(spec, id);
        if resolve(spec, &schema["properties"]["parent_type"]) != parent_type {
            problems.push(format!("{id}: parent_type is not FileParentType"));
        }
        // The CLI sends `parent_node: ""` for the root folder.
        if resolve(spec, &schema["properties"]["parent_node"])
            .get("minLength")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            > 0
        {
            problems.push(format!("{id}: parent_node may be \"\" (the root folder)"));
        }
    }
    let size = &request_schema(spec, "file_upload_all")["properties"]["size"];
    if size["maximum"] != 20_971_520 {
        problems.push(format!(
            "file_upload_all: size maximum {}, the doc says 20971520",
            size["maximum"]
        ));
    }
    let name = resolve(
        spec,
        &request_schema(spec, "file_upload_prepare")["properties"]["file_name"],
    );
    if name["maxLength"] != 250 {
        problems.push("file_upload_prepare: file_name is at most 250 characters".to_owned());
    }
    let folder_name = resolve(spec, &request_schema(spec, "create_folder")["properties"]["name"]);
    if folder_name["maxLength"] != 256 || folder_name["minLength"] != 1 {
        problems.push("create_folder: name is 1 to 256 (bytes)".to_owned());
    }
}

fn check_answers_and_scopes(spec: &Value, problems: &mut Vec<String>) {
    // NODE and PY: upload_finish and upload_all answer file_token, version and url.
    for id in ["file_upload_finish", "file_upload_all"] {
        let ok = resolve(spec, &operation(spec, id)["responses"]["200"]);
        let envelope = resolve(spec, &ok["content"]["application/json"]["schema"]);
        let data = resolve(spec, &envelope["properties"]["data"]);
        for field in ["file_token", "version", "url"] {
            if data["properties"].get(field).is_none() {
                problems.push(format!("{id}: the answer has no `{field}`"));
            }
        }
    }
    for (id, scopes) in FILE_SCOPES {
        let declared = strings(&operation(spec, id)["x-feishu-scopes"]);
        if declared != *scopes {
            problems.push(format!("{id}: scopes {declared:?}, the docs say {scopes:?}"));
        }
        for scope in *scopes {
            if spec["x-feishu-scopes"]["scopes"].get(*scope).is_none() {
                problems.push(format!("scope {scope} is not described in x-feishu-scopes"));
            }
        }
    }
}

fn check_error_tables(spec: &Value, problems: &mut Vec<String>) {
    for (code, status) in FILE_UPLOAD_TABLES {
        match error_row(spec, *code) {
            Some(row) if row["http_status"] != *status => problems.push(format!(
                "code {code}: HTTP {}, the files upload tables say {status}",
                row["http_status"]
            )),
            Some(_) => {}
            None => problems.push(format!("code {code} (files upload tables) is missing")),
        }
    }
    for code in FOLDER_TABLES {
        if error_row(spec, *code).is_none() {
            problems.push(format!("code {code} (create_folder / listing tables) is missing"));
        }
    }
}

fn check_download(spec: &Value, problems: &mut Vec<String>) {
    // The download page: Range, 206, the file with any type; 403 and 404 documented.
    let download = operation(spec, "file_download");
    let responses = &download["responses"];
    for status in ["200", "206", "403", "404", "500"] {
        if responses.get(status).is_none() {
            problems.push(format!(
                "file_download: no {status} (the doc page's status table)"
            ));
        }
    }
    if !responses["206"]["content"]
        .as_object()
        .is_some_and(|c| c.contains_key("*/*"))
    {
        problems.push("file_download 206: the bytes come with any Content-Type".to_owned());
    }
    let range = download["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "Range");
    if !range.is_some_and(|p| p["in"] == "header" && p["required"] != true) {
        problems.push("file_download: no optional Range header".to_owned());
    }
}
