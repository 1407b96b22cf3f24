//! The limits the uploader and the server enforce are the spec's: one source, checked here.

use feishu_drive::limits;

fn spec() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/feishu-drive.yaml");
    let text = std::fs::read_to_string(path).expect("the spec is readable");
    serde_yaml_ng::from_str(&text).expect("the spec is YAML")
}

fn at<'a>(value: &'a serde_json::Value, pointer: &str) -> &'a serde_json::Value {
    value
        .pointer(pointer)
        .unwrap_or_else(|| panic!("the spec has {pointer}"))
}

#[test]
fn limits_match_the_spec() {
    let spec = spec();
    let upload_all_max = at(
        &spec,
        "/components/schemas/UploadAllRequest/properties/size/maximum",
    );
    assert_eq!(upload_all_max.as_u64(), Some(limits::UPLOAD_ALL_MAX_BYTES));
    assert_eq!(
        upload_all_max.as_u64(),
        Some(feishu_drive_server::UPLOAD_ALL_LIMIT)
    );

    let name_max = at(&spec, "/components/schemas/FileName/maxLength");
    assert_eq!(name_max.as_u64(), Some(limits::FILE_NAME_MAX_CHARS as u64));

    let per_day = at(&spec, "/x-feishu-rate-limit/calls_per_day");
    assert_eq!(per_day.as_u64(), Some(u64::from(limits::CALLS_PER_DAY)));
    let operations: Vec<&str> = at(&spec, "/x-feishu-rate-limit/operations")
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(operations, limits::RATE_LIMITED_OPERATIONS);
    // Each operation repeats the limits it is subject to.
    for (path, item) in at(&spec, "/paths").as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let id = op["operationId"].as_str().expect("an operationId");
            let own = op.get("x-feishu-rate-limit");
            if limits::RATE_LIMITED_OPERATIONS.contains(&id) {
                let own = own.unwrap_or_else(|| panic!("{method} {path} states its x-feishu-rate-limit"));
                assert_eq!(
                    own["requests_per_second"].as_u64(),
                    Some(u64::from(limits::REQUESTS_PER_SECOND))
                );
                assert_eq!(
                    own["calls_per_day"].as_u64(),
                    Some(u64::from(limits::CALLS_PER_DAY))
                );
            } else {
                assert!(own.is_none(), "{id} is not documented as rate limited");
            }
        }
    }

    let qps = at(&spec, "/x-feishu-rate-limit/requests_per_second");
    assert_eq!(qps.as_u64(), Some(u64::from(limits::REQUESTS_PER_SECOND)));
    assert_eq!(
        qps.as_u64(),
        Some(u64::from(feishu_drive_server::FEISHU_REQUESTS_PER_SECOND))
    );
}

#[test]
fn the_upload_id_lives_a_day_on_both_sides() {
    assert_eq!(limits::UPLOAD_ID_TTL, feishu_drive_server::DEFAULT_UPLOAD_TTL);
    assert_eq!(limits::UPLOAD_ID_TTL.as_secs(), 24 * 60 * 60);
}
