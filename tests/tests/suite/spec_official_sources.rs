//! `spec_agrees_with_official_sources`: the facts the official sources state about the media
//! and files endpoints, written here as data, checked against `spec/feishu-drive.yaml`.
//!
//! The files family's facts come from its doc pages (drive-v1/file/upload_prepare,
//! upload_finish, upload_all, download, create_folder and the folder listing, read from copies of
//! the pages with their `source` URLs), the Node SDK (`code-gen/projects/drive.ts`: `parent_type`
//! `explorer | wiki`, `file_token` on prepare and upload_all, `version` and `url` answered) and
//! the official CLI (`shortcuts/drive/drive_upload.go`, `drive_create_folder.go`).
//!
//! The facts come from `../shared/reference/official-sources.md` and `endpoints.md` (the official
//! SDKs lark-oapi 1.7.5 / oapi-sdk-go / node-sdk 1.73.0, the official CLI larksuite/cli, the doc
//! pages) and the seed `upload_part.zh.md` (its error table, copied below row by row). They are
//! not derived from the spec, so the two can disagree; every place where the spec deliberately
//! differs from a source is in [`DEVIATIONS`], with its reason, and is itself checked.
//!
//! Why this file is long: most of it is data: the official sources' facts, row by row with their source, checked against the spec by two tests.

use std::collections::BTreeSet;

use serde_json::Value;

#[path = "spec_official_sources/files.rs"]
mod files;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/feishu-drive.yaml");
    let text = std::fs::read_to_string(path).expect("the spec is readable");
    serde_yaml_ng::from_str(&text).expect("the spec is YAML")
}

/// Follows `$ref`s inside the document.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(
                spec,
                spec.pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} exists")),
            )
        }
        None => value,
    }
}

fn operation<'a>(spec: &'a Value, id: &str) -> &'a Value {
    spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .find(|op| op["operationId"] == id)
        .unwrap_or_else(|| panic!("operation {id} is in the spec"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The request body schema of an operation (JSON or multipart), resolved.
fn request_schema<'a>(spec: &'a Value, id: &str) -> &'a Value {
    let content = &operation(spec, id)["requestBody"]["content"];
    let media = content
        .get("application/json")
        .or_else(|| content.get("multipart/form-data"))
        .unwrap_or_else(|| panic!("{id} has a JSON or multipart body"));
    resolve(spec, &media["schema"])
}

// ---------------------------------------------------------------------------------------------
// The facts.

/// Request fields per operation: (operation, required fields, optional fields), in the wire
/// order the SDKs use (official-sources.md "Agrees"; `parent_node` optional: NODE drive.ts
/// `parent_node?: string` since 2024-05-14, CLI `drive_import_common.go` sends "" / omits it).
const REQUEST_FIELDS: &[(&str, &[&str], &[&str])] = &[
    (
        "upload_prepare",
        &["file_name", "parent_type", "size"],
        &["parent_node", "extra"],
    ),
    (
        "upload_part",
        &["upload_id", "seq", "size", "file"],
        &["checksum"],
    ),
    ("upload_finish", &["upload_id", "block_num"], &[]),
    (
        "upload_all",
        &["file_name", "parent_type", "size", "file"],
        &["parent_node", "checksum", "extra"],
    ),
    ("tenant_access_token_internal", &["app_id", "app_secret"], &[]),
    // files/upload_prepare doc page (all four required); NODE adds `file_token?`.
    (
        "file_upload_prepare",
        &["file_name", "parent_type", "parent_node", "size"],
        &["file_token"],
    ),
    (
        "file_upload_part",
        &["upload_id", "seq", "size", "file"],
        &["checksum"],
    ),
    ("file_upload_finish", &["upload_id", "block_num"], &[]),
    // files/upload_all doc page; NODE adds `file_token?`.
    (
        "file_upload_all",
        &["file_name", "parent_type", "parent_node", "size", "file"],
        &["checksum", "file_token"],
    ),
    // create_folder doc page: both required, `folder_token` "" for the root.
    ("create_folder", &["name", "folder_token"], &[]),
];

/// Multipart field order (official-sources.md "Agrees").
const MULTIPART_ORDER: &[(&str, &[&str])] = &[
    ("upload_part", &["upload_id", "seq", "size", "checksum", "file"]),
    (
        "upload_all",
        &[
            "file_name",
            "parent_type",
            "parent_node",
            "size",
            "checksum",
            "extra",
            "file",
        ],
    ),
];

/// NODE's `parent_type` list, in its order (node-sdk 1.73.0 `code-gen/projects/drive.ts`).
const PARENT_TYPES: [&str; 23] = [
    "doc_image",
    "docx_image",
    "sheet_image",
    "doc_file",
    "docx_file",
    "sheet_file",
    "vc_virtual_background",
    "bitable_image",
    "bitable_file",
    "moments",
    "ccm_import_open",
    "calendar",
    "base_global",
    "lark_ai_media_analysis",
    "whiteboard",
    "mindnote_image",
    "comment_image",
    "slide_img",
    "slide_file",
    "email",
    "bitable_tmp_point",
    "office_sheet_file",
    "office_slide_file",
];

/// The upload operations' scopes (the seed's 权限要求 row).
const UPLOAD_SCOPES: &[&str] = &[
    "bitable:app",
    "docs:doc",
    "docs:document.media:upload",
    "drive:drive",
    "sheets:spreadsheet",
];

/// download's scopes (the download doc page, official-sources.md "Disagrees" 4).
const DOWNLOAD_SCOPES: &[&str] = &[
    "bitable:app",
    "bitable:app:readonly",
    "docs:doc",
    "docs:doc:readonly",
    "docs:document.media:download",
    "drive:drive",
    "drive:drive:readonly",
    "sheets:spreadsheet",
    "sheets:spreadsheet:readonly",
];

/// The seed's error table: (HTTP status, code, message), in its order.
const SEED_TABLE: [(u16, i64, &str); 35] = [
    (200, 1061001, "internal error."),
    (400, 1061002, "params error."),
    (404, 1061003, "not found."),
    (403, 1061004, "forbidden."),
    (401, 1061005, "auth failed."),
    (200, 1061006, "internal time out."),
    (404, 1061007, "file has been delete."),
    (400, 1061008, "invalid file name."),
    (400, 1061021, "upload id expire."),
    (400, 1061041, "parent node has been deleted."),
    (400, 1061042, "parent node out of limit."),
    (400, 1061043, "file size beyond limit."),
    (400, 1061044, "parent node not exist."),
    (200, 1061045, "can retry."),
    (400, 1061109, "file name cqc not passed."),
    (400, 1061113, "file cqc not passed."),
    (400, 1061101, "file quota exceeded."),
    (202, 1062004, "cover generating."),
    (202, 1062005, "file type not support cover."),
    (202, 1062006, "cover no exist."),
    (400, 1062007, "upload user not match."),
    (400, 1062008, "checksum param Invalid."),
    (
        400,
        1062009,
        "the actual size is inconsistent with the parameter declaration size.",
    ),
    (400, 1062010, "block missing, please upload all blocks."),
    (400, 1062011, "block num out of bounds."),
    (400, 1061547, "attachment parent-child relation number exceed."),
    (400, 1061061, "user quota exceeded."),
    (403, 1061073, "no scope auth."),
    (400, 1062012, "file copying."),
    (400, 1062013, "file damaged."),
    (403, 1062014, "dedupe no support."),
    (400, 1062051, "client connect close."),
    (400, 1062505, "parent node out of size."),
    (400, 1062506, "parent node out of depth."),
    (400, 1062507, "parent node out of sibling num."),
];

/// Codes beyond the seed that the official sources handle for these endpoints, with the HTTP
/// status where an official page states one (`None`: no official page does, so the row must
/// mark its status unverified).
const OTHER_CODES: &[(i64, Option<u16>)] = &[
    (1061022, Some(500)),  // files/upload_prepare table
    (1064230, Some(200)),  // files/upload_prepare table
    (1061500, Some(403)),  // files/upload_all table
    (99991400, Some(429)), // rate-limit page (or 400 on older APIs: see DEVIATIONS)
    (99991661, None),
    (99991663, None),
    (99991668, None),
    (99992402, None),
    (99991672, None),
    (99991679, None),
    (99991676, None),
    (99991671, None),
    (99991664, None),
    (99991677, None),
    (99991543, None),
    (99991662, None),
    (99991673, None),
    (1064510, Some(403)), // drive-v1 create_shortcut table (the CLI names the code)
    (1064511, Some(403)), // drive-v1 create_shortcut table
    (10014, Some(400)),   // tenant_access_token page
    (10003, None),        // third-party evidence only
    (1064001, Some(400)), // the folder-listing doc page
    (99991403, None),     // third-party evidence only (the server's quota answer)
];

/// The fields of the envelope's `error` object (PY `lark_oapi/core/model/error.py`).
const ERROR_OBJECT_FIELDS: &[&str] = &[
    "log_id",
    "troubleshooter",
    "details",
    "permission_violations",
    "field_violations",
    "helps",
];

/// The operations with the documented 5 QPS / 10,000 a day (the rate-limit doc page; for the
/// files family and create_folder, their doc pages' 使用限制).
const RATE_LIMITED: &[&str] = &[
    "upload_prepare",
    "upload_part",
    "upload_finish",
    "upload_all",
    "download",
    "file_upload_prepare",
    "file_upload_part",
    "file_upload_finish",
    "file_upload_all",
    "file_download",
    "create_folder",
];

/// Where the spec deliberately differs from an official source, why, and a check that it still
/// does (so this list cannot go stale).
/// A deviation: what differs, why, and a check that the spec still differs that way.
type Deviation = (&'static str, &'static str, fn(&Value) -> bool);

const DEVIATIONS: &[Deviation] = &[
    (
        "Older Lark doc pages mark parent_node required on upload_prepare and upload_all.",
        "The Node SDK has it optional since 2024-05-14 and the official CLI sends \"\" / omits it \
         for ccm_import_open; a required field would reject what the official tools send.",
        |spec| {
            !strings(&request_schema(spec, "upload_prepare")["required"]).contains(&"parent_node".to_owned())
        },
    ),
    (
        "99991400 arrives with HTTP 429, or 400 on some older APIs; the row states 429.",
        "A row has one status; the client classifies 99991400 by its code (retryable whatever the \
         status), and the row's hint says so.",
        |spec| {
            error_row(spec, 99991400).is_some_and(|r| {
                r["http_status"] == 429 && r["hint"].as_str().is_some_and(|h| h.contains("400"))
            })
        },
    ),
    (
        "The Python SDK saves any 2xx download body as the file.",
        "A 202 or a 200 with Content-Type application/json is a failure envelope: the spec documents \
         both, and the Client checks Content-Type.",
        |spec| {
            let responses = &operation(spec, "download")["responses"];
            responses["202"]["content"].get("application/json").is_some()
                && responses["200"]["content"].get("application/json").is_some()
        },
    ),
    (
        "The create_folder and folder-listing doc tables give 1061001 with HTTP 500, the upload \
         tables (media and files) with 200; the row states 200.",
        "A row has one status; 1061001 is retryable whatever it arrives with, and the upload \
         tables are the majority and the seed.",
        |spec| error_row(spec, 1061001).is_some_and(|r| r["http_status"] == 200 && r["retryable"] == true),
    ),
    (
        "The create_folder doc says 1061045 means \"resource contention occurred, please retry.\"",
        "The upload tables' message \"can retry.\" is kept; both say retry later, and the row is \
         retryable.",
        |spec| {
            error_row(spec, 1061045).is_some_and(|r| r["message"] == "can retry." && r["retryable"] == true)
        },
    ),
    (
        "The files/upload_prepare doc page lists no `file_token`, nor the download page `version`.",
        "The Node and Python SDKs send both (a new version of a file, and reading one back); both are \
         optional, so a caller that leaves them out sends what the pages describe.",
        |spec| {
            !strings(&request_schema(spec, "file_upload_prepare")["required"])
                .contains(&"file_token".to_owned())
                && operation(spec, "file_download")["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["name"] == "version" && p["required"] != true))
        },
    ),
    (
        "The folder-listing doc page gives list_files 20 QPS (no daily quota); the spec gives it no \
         x-feishu-rate-limit.",
        "That extension states a daily quota too, which no source gives for list_files; its \
         description states the 20 QPS, and it is not in the top-level 5 QPS list.",
        |spec| {
            let op = operation(spec, "list_files");
            op.get("x-feishu-rate-limit").is_none()
                && op["description"].as_str().is_some_and(|d| d.contains("20"))
                && !strings(&spec["x-feishu-rate-limit"]["operations"]).contains(&"list_files".to_owned())
        },
    ),
    (
        "10003 on the token endpoint has only third-party evidence.",
        "Kept so that the client names it, marked `third-party` with its status and message unverified.",
        |spec| {
            error_row(spec, 10003)
                .is_some_and(|r| r["provenance"] == "third-party" && strings(&r["unverified"]).len() == 2)
        },
    ),
    (
        "upload_prepare rejects parent_type slide_file (99992402), the Node SDK lists it for both.",
        "The enum stays shared and open; the ParentType description says slide_file is upload_all \
         only, and the uploader refuses a slides media over 20 MiB before upload_prepare.",
        |spec| {
            let parent_type = &spec["components"]["schemas"]["ParentType"];
            strings(&parent_type["x-extensible-enum"]).contains(&"slide_file".to_owned())
                && parent_type["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("slide_file"))
        },
    ),
];

fn error_row(spec: &Value, code: i64) -> Option<&Value> {
    spec["x-feishu-error-codes"]
        .as_array()
        .expect("the error table")
        .iter()
        .find(|row| row["code"] == code)
}

// ---------------------------------------------------------------------------------------------
// The checks.

#[test]
fn spec_agrees_with_official_sources() {
    let spec = spec();
    let mut problems = Vec::new();

    // Required-ness and presence of every request field.
    for (id, required, optional) in REQUEST_FIELDS {
        let schema = request_schema(&spec, id);
        let declared: BTreeSet<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        let expected: BTreeSet<String> = required
            .iter()
            .chain(*optional)
            .map(|s| (*s).to_owned())
            .collect();
        if declared != expected {
            problems.push(format!("{id}: fields {declared:?}, the sources say {expected:?}"));
        }
        let spec_required: BTreeSet<String> = strings(&schema["required"]).into_iter().collect();
        let want: BTreeSet<String> = required.iter().map(|s| (*s).to_owned()).collect();
        if spec_required != want {
            problems.push(format!(
                "{id}: required {spec_required:?}, the sources say {want:?}"
            ));
        }
    }
    for (id, order) in MULTIPART_ORDER {
        let keys: Vec<&str> = request_schema(&spec, id)["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        if keys != *order {
            problems.push(format!("{id}: multipart order {keys:?}, the SDKs send {order:?}"));
        }
    }
    // parent_node may be empty (the CLI sends "").
    let parent_node = &spec["components"]["schemas"]["ParentNode"];
    if parent_node.get("minLength").and_then(Value::as_u64).unwrap_or(0) > 0 {
        problems.push("ParentNode has a minLength: the CLI sends an empty parent_node".to_owned());
    }

    // parent_type: NODE's list, in its order, and open.
    let parent_type = &spec["components"]["schemas"]["ParentType"];
    if strings(&parent_type["x-extensible-enum"]) != PARENT_TYPES {
        problems.push(format!(
            "ParentType: {:?}, NODE lists {PARENT_TYPES:?}",
            strings(&parent_type["x-extensible-enum"])
        ));
    }
    if parent_type.get("enum").is_some() {
        problems.push("ParentType is a closed enum; the list grows".to_owned());
    }

    // Scopes per operation.
    for id in ["upload_prepare", "upload_part", "upload_finish", "upload_all"] {
        let scopes = strings(&operation(&spec, id)["x-feishu-scopes"]);
        if scopes != UPLOAD_SCOPES {
            problems.push(format!("{id}: scopes {scopes:?}, the docs say {UPLOAD_SCOPES:?}"));
        }
    }
    let scopes = strings(&operation(&spec, "download")["x-feishu-scopes"]);
    if scopes != DOWNLOAD_SCOPES {
        problems.push(format!(
            "download: scopes {scopes:?}, the docs say {DOWNLOAD_SCOPES:?}"
        ));
    }
    let described = spec["x-feishu-scopes"]["scopes"]
        .as_object()
        .expect("the scope list");
    for scope in UPLOAD_SCOPES.iter().chain(DOWNLOAD_SCOPES) {
        if !described.contains_key(*scope) {
            problems.push(format!("scope {scope} is not described in x-feishu-scopes"));
        }
    }

    // The error table: the seed's rows exactly, in order, marked as the seed's.
    let rows = spec["x-feishu-error-codes"].as_array().expect("the error table");
    let seed_rows: Vec<(u16, i64, &str)> = rows
        .iter()
        .filter(|r| r["provenance"] == "table")
        .map(|r| {
            (
                u16::try_from(r["http_status"].as_u64().unwrap_or(0)).unwrap_or(0),
                r["code"].as_i64().unwrap_or(0),
                r["message"].as_str().unwrap_or(""),
            )
        })
        .collect();
    if seed_rows != SEED_TABLE {
        problems.push("the rows with provenance `table` are not the seed's table, in order".to_owned());
    }
    for (code, status) in OTHER_CODES {
        let Some(row) = error_row(&spec, *code) else {
            problems.push(format!("code {code} is missing"));
            continue;
        };
        let unverified = strings(&row["unverified"]);
        match status {
            Some(status) if row["http_status"] != *status => {
                problems.push(format!(
                    "code {code}: HTTP {}, the official page says {status}",
                    row["http_status"]
                ));
            }
            Some(_) if unverified.contains(&"http_status".to_owned()) => {
                problems.push(format!(
                    "code {code}: its status is official, yet marked unverified"
                ));
            }
            None if !unverified.contains(&"http_status".to_owned()) => {
                problems.push(format!(
                    "code {code}: no official page states its status; mark it unverified"
                ));
            }
            _ => {}
        }
    }
    for row in rows {
        let provenance = row["provenance"].as_str().unwrap_or_default();
        if provenance != "table"
            && row
                .get("evidence")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            problems.push(format!(
                "code {}: a row outside the seed's table names its evidence",
                row["code"]
            ));
        }
    }
    // 99991668 is the user token's code (CLI lark_errors.go), 99991677 its expiry.
    let renamed = error_row(&spec, 99991668).expect("99991668");
    if !renamed["message"]
        .as_str()
        .is_some_and(|m| m.contains("user_access_token"))
    {
        problems.push(format!(
            "99991668 is about the user_access_token, not {}",
            renamed["message"]
        ));
    }
    if error_row(&spec, 99991400).is_some_and(|r| r["retryable"] != true) {
        problems.push("99991400 (rate limit) must be retryable".to_owned());
    }

    // Rate limits: 5 QPS and 10,000 a day for each of the five operations.
    for id in RATE_LIMITED {
        let limit = &operation(&spec, id)["x-feishu-rate-limit"];
        if limit["requests_per_second"] != 5 || limit["calls_per_day"] != 10000 {
            problems.push(format!(
                "{id}: x-feishu-rate-limit {limit}, the docs say 5 QPS, 10,000 a day"
            ));
        }
    }

    // list_files: page_size at most 200 (its doc page); its 20 QPS: see DEVIATIONS.
    let page_size = resolve(&spec, &spec["components"]["schemas"]["PageSize"]);
    if page_size["maximum"] != 200 {
        problems.push(format!(
            "PageSize: maximum {}, the docs say 200",
            page_size["maximum"]
        ));
    }
    let listed = strings(&spec["x-feishu-rate-limit"]["operations"]);
    for id in RATE_LIMITED {
        if !listed.contains(&(*id).to_owned()) {
            problems.push(format!("{id} is not in x-feishu-rate-limit.operations"));
        }
    }

    // The files family.
    files::check(&spec, &mut problems);

    // Diagnostics: the error object and the log id header.
    let error = resolve(
        &spec,
        &spec["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"],
    );
    for field in ERROR_OBJECT_FIELDS {
        if error["properties"].get(*field).is_none() {
            problems.push(format!("the envelope's error object lacks `{field}`"));
        }
    }
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("a path item").values() {
            for (status, response) in op["responses"].as_object().expect("responses") {
                let response = resolve(&spec, response);
                let has = response["headers"]
                    .as_object()
                    .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("x-tt-logid")));
                if !has {
                    problems.push(format!("{} {status}: no X-Tt-Logid header", op["operationId"]));
                }
            }
        }
    }

    // download, as the real endpoint behaves.
    let download = operation(&spec, "download");
    let range = download["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "Range");
    if !range.is_some_and(|p| p["in"] == "header" && p["required"] != true) {
        problems.push("download: no optional Range header".to_owned());
    }
    let responses = &download["responses"];
    let media_200 = responses["200"]["content"].as_object().expect("200 content");
    if !media_200.keys().any(|k| k == "*/*") {
        problems.push("download 200: the media comes with any Content-Type".to_owned());
    }
    if resolve(&spec, &responses["206"]["headers"]["Content-Range"])["required"] != true {
        problems.push("download 206: Content-Range is required".to_owned());
    }
    if !responses["200"]["headers"]
        .as_object()
        .is_some_and(|h| h.contains_key("Content-Disposition"))
    {
        problems.push("download 200: no Content-Disposition".to_owned());
    }

    // Tokens: no `t-` prefix or short length assumed.
    // (the JWT-format tokens of official-sources.md 10 are tenant tokens; neither kind has a
    // guaranteed prefix).
    for (name, words) in [
        ("tenant_access_token", &["JWT", "prefix"][..]),
        ("user_access_token", &["prefix"][..]),
    ] {
        let description = spec["components"]["securitySchemes"][name]["description"]
            .as_str()
            .unwrap_or("");
        if !words.iter().all(|w| description.contains(w)) {
            problems.push(format!(
                "{name}: the description must say {words:?} (no prefix or short token assumed)"
            ));
        }
    }
    let token =
        &spec["components"]["schemas"]["TenantAccessTokenResponse"]["properties"]["tenant_access_token"];
    if token.get("pattern").is_some()
        || token
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| m < 4096)
    {
        problems.push("tenant_access_token: no pattern or short maxLength".to_owned());
    }
    let expire = &spec["components"]["schemas"]["TenantAccessTokenResponse"]["properties"]["expire"];
    if !expire["description"].as_str().is_some_and(|d| d.contains("30")) {
        problems.push("expire: state the 30-minute reissue rule".to_owned());
    }

    // Every deliberate deviation still holds, as written.
    for (what, why, holds) in DEVIATIONS {
        if !holds(&spec) {
            problems.push(format!("deviation no longer true: {what} ({why})"));
        }
    }

    assert!(
        problems.is_empty(),
        "the spec disagrees with the official sources:\n  {}",
        problems.join("\n  ")
    );
}

/// No response schema closes its objects: a key Feishu adds later must not turn a success into
/// an error (official-sources.md "Disagrees" 8).
#[test]
fn no_response_schema_rejects_unknown_fields() {
    let spec = spec();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Value> = Vec::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("a path item").values() {
            for response in op["responses"].as_object().expect("responses").values() {
                for media in resolve(&spec, response)["content"]
                    .as_object()
                    .into_iter()
                    .flat_map(|c| c.values())
                {
                    stack.push(media["schema"].clone());
                }
            }
        }
    }
    let mut closed = Vec::new();
    while let Some(schema) = stack.pop() {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if seen.insert(reference.to_owned()) {
                stack.push(resolve(&spec, &schema).clone());
            }
            continue;
        }
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            closed.push(schema.to_string());
        }
        for child in schema["properties"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            stack.push(child.clone());
        }
        if let Some(items) = schema.get("items") {
            stack.push(items.clone());
        }
    }
    assert!(seen.len() >= 8, "the walk reached the response schemas: {seen:?}");
    assert!(closed.is_empty(), "closed response schemas: {closed:?}");
}
