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
