//! The limits the client and the server enforce are generated from the spec (so they cannot
//! disagree with it); here they are checked against what the official sources say, written down
//! independently of the spec: `shared/reference/endpoints.md` and the seed's doc pages.

use feishu_drive::budget::Group;
use feishu_drive::limits;
use feishu_drive::operations::OperationId;

/// upload_all takes at most 20 MiB ("size at most 20971520"; larger files must be chunked).
const DOCUMENTED_UPLOAD_ALL_MAX: u64 = 20_971_520;
/// `file_name` at most 250 characters.
const DOCUMENTED_FILE_NAME_MAX: usize = 250;
/// 5 QPS and 10,000 calls a day, per app, for each upload endpoint and download.
const DOCUMENTED_QPS: u32 = 5;
const DOCUMENTED_CALLS_PER_DAY: u64 = 10_000;
/// "The upload id and progress can be kept and resumed for 24 hours."
const DOCUMENTED_UPLOAD_ID_HOURS: u64 = 24;
/// "block_size (4194304 in examples)".
const DOCUMENTED_BLOCK_SIZE: u64 = 4 * 1024 * 1024;
/// The operations the rate-limit page names, each limited separately.
const DOCUMENTED_RATE_LIMITED: [&str; 5] = [
    "upload_prepare",
    "upload_part",
    "upload_finish",
    "upload_all",
    "download",
];

#[test]
fn generated_limits_are_the_documented_ones() {
    assert_eq!(limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM, DOCUMENTED_UPLOAD_ALL_MAX);
    assert_eq!(limits::FILE_NAME_MAX_LENGTH, DOCUMENTED_FILE_NAME_MAX);
    assert_eq!(limits::REQUESTS_PER_SECOND, DOCUMENTED_QPS);
    assert_eq!(limits::CALLS_PER_DAY, DOCUMENTED_CALLS_PER_DAY);
    assert_eq!(limits::BLOCK_SIZE, DOCUMENTED_BLOCK_SIZE);
    assert_eq!(
        limits::UPLOAD_ID_LIFETIME.as_secs(),
        DOCUMENTED_UPLOAD_ID_HOURS * 60 * 60
    );
}

#[test]
fn every_documented_rate_limited_operation_is_its_own_budget_group() {
    for name in DOCUMENTED_RATE_LIMITED {
        let op = OperationId::from_name(name).unwrap_or_else(|| panic!("the spec has {name}"));
        let group = op
            .rate_group()
            .unwrap_or_else(|| panic!("{name} has a budget group"));
        assert_eq!(group.as_str(), name);
        let limit = group.rate_limit();
        assert_eq!(limit.requests_per_second, DOCUMENTED_QPS, "{name}");
        assert_eq!(limit.calls_per_day, DOCUMENTED_CALLS_PER_DAY, "{name}");
    }
    // The token endpoint is not limited by these rules (and carries no token itself).
    let token = OperationId::from_name("tenant_access_token_internal").expect("the token endpoint");
    assert_eq!(token.rate_group(), None);
    assert!(!token.is_authenticated());
    assert!(Group::ALL.len() >= DOCUMENTED_RATE_LIMITED.len());
}

#[test]
fn the_server_keeps_the_generated_limits() {
    assert_eq!(feishu_drive_server::UPLOAD_ALL_LIMIT, DOCUMENTED_UPLOAD_ALL_MAX);
    assert_eq!(feishu_drive_server::FEISHU_REQUESTS_PER_SECOND, DOCUMENTED_QPS);
    assert_eq!(
        feishu_drive_server::DEFAULT_UPLOAD_TTL.as_secs(),
        DOCUMENTED_UPLOAD_ID_HOURS * 60 * 60
    );
}
