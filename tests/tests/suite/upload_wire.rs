//! What the uploader puts on the wire, seen by a recording proxy in front of the local server:
//! each part's Adler-32 (checked against the `adler32` crate, not the client's SIMD code), an
//! empty `parent_node` left out, one budget permit per attempt (retries included), the warning
//! for an undocumented `parent_type`, and a slides media over 20 MiB refused before any request.

use crate::kit::upload as upload_support;
use crate::kit::wire as wire_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_drive::budget::{Budget, BudgetConfig, Group};
use feishu_drive::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM;
use feishu_drive::upload::{RetryPolicy, UploadError, UploadRequest};
use feishu_drive_server::{Config, DEFAULT_APP_ID, FaultKind, FaultRule, Faults, Operation};
use upload_support::{BLOCK, assert_round_trip, random_file, server, uploader_via};
use wire_support::{Proxy, field, multipart_fields, text_field};

const PART: &str = "medias/upload_part";
const PREPARE: &str = "medias/upload_prepare";
const FINISH: &str = "medias/upload_finish";
const ALL: &str = "medias/upload_all";

fn adler32_crate(bytes: &[u8]) -> String {
    adler32::RollingAdler32::from_buffer(bytes).hash().to_string()
}

#[tokio::test]
async fn every_part_and_upload_all_carry_the_adler32_of_their_bytes() {
    let server = server(Config::default()).await;
    let proxy = Proxy::start(&server.base_url()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Five whole blocks and a last one of 1 byte.
    let file = random_file(dir.path(), "f.bin", 5 * BLOCK + 1, 31);
    let bytes = std::fs::read(&file).expect("the file");
    let chunked = uploader_via(&proxy.base_url, |b| b.concurrency(3));
    let outcome = chunked
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    assert_round_trip(&chunked, &outcome.file_token, &file).await;

    let parts = proxy.to(PART);
    assert_eq!(parts.len(), 6, "one request per block, none retried");
    let mut seqs = Vec::new();
    for part in &parts {
        let fields = multipart_fields(part).await;
        let seq: usize = text_field(&fields, "seq").parse().expect("a seq");
        let start = seq * BLOCK as usize;
        let expected = &bytes[start..(start + BLOCK as usize).min(bytes.len())];
        let sent = field(&fields, "file").expect("the block's bytes");
        assert_eq!(sent, expected, "block {seq} is the file's bytes at its offset");
        assert_eq!(
            text_field(&fields, "size"),
            expected.len().to_string(),
            "block {seq}"
        );
        assert_eq!(
            text_field(&fields, "checksum"),
            adler32_crate(expected),
            "block {seq}: the checksum field is the Adler-32 of the bytes sent"
        );
        seqs.push(seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (0..6).collect::<Vec<_>>());

    // upload_all: the whole file, with its Adler-32.
    let whole = uploader_via(&proxy.base_url, |b| {
        b.upload_all_max(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)
    });
    let small = random_file(dir.path(), "small.bin", 3 * BLOCK + 5, 32);
    let small_bytes = std::fs::read(&small).expect("the file");
    whole
        .upload(UploadRequest::file(&small, "docx_file", "doxcn1"))
        .await
        .expect("upload_all");
    let all = proxy.to(ALL);
    assert_eq!(all.len(), 1);
    let fields = multipart_fields(&all[0]).await;
    assert_eq!(field(&fields, "file"), Some(small_bytes.as_slice()));
    assert_eq!(text_field(&fields, "checksum"), adler32_crate(&small_bytes));
}

#[tokio::test]
async fn an_empty_parent_node_is_left_out_of_prepare_and_upload_all() {
    let server = server(Config::default()).await;
    let proxy = Proxy::start(&server.base_url()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 2 * BLOCK, 33);
    // `ccm_import_open` is one of the parent types that take no node.
    let chunked = uploader_via(&proxy.base_url, |b| b);
    chunked
        .upload(UploadRequest::file(&file, "ccm_import_open", ""))
        .await
        .expect("chunked upload without a parent node");
    let prepare = proxy.to(PREPARE);
    assert_eq!(prepare.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&prepare[0].body).expect("a JSON body");
    assert_eq!(body["parent_type"], "ccm_import_open", "{body}");
    assert!(
        body.get("parent_node").is_none(),
        "an empty parent_node is left out, not sent empty: {body}"
    );

    let whole = uploader_via(&proxy.base_url, |b| {
        b.upload_all_max(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)
    });
    whole
        .upload(UploadRequest::file(&file, "ccm_import_open", ""))
        .await
        .expect("upload_all without a parent node");
    let all = proxy.to(ALL);
    assert_eq!(all.len(), 1);
    let fields = multipart_fields(&all[0]).await;
    assert_eq!(text_field(&fields, "parent_type"), "ccm_import_open");
    assert!(
        field(&fields, "parent_node").is_none(),
        "an empty parent_node is left out of the form: {:?}",
        fields.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}

/// Every attempt takes a permit of its group's budget, retries included: the daily quota counts
/// permits, so what it used equals the requests the proxy saw, per group.
#[tokio::test]
async fn every_attempt_retries_included_takes_a_budget_permit() {
    const QUOTA: u64 = 1000;
    let faults = Faults::default()
        .rule(FaultRule::new(FaultKind::Envelope200, [Operation::UploadPart]).first(3))
        .rule(FaultRule::new(FaultKind::Html(503), [Operation::UploadPrepare]).first(1))
        .rule(FaultRule::new(FaultKind::Empty429, [Operation::UploadFinish]).first(2));
    let server = server(Config::default().faults(faults)).await;
    let proxy = Proxy::start(&server.base_url()).await;
    let budget = Budget::in_process(
        BudgetConfig::new(DEFAULT_APP_ID)
            .requests_per_second(10_000)
            .spacing_margin(Duration::ZERO)
            .daily_quota(Some(QUOTA)),
    );
    let uploader = uploader_via(&proxy.base_url, |b| {
        b.budget(budget.clone()).concurrency(2).retry_policy(RetryPolicy {
            max_retries: 8,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 4 * BLOCK, 34);
    let outcome = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    assert_eq!(
        outcome.retries, 6,
        "every injected fault was retried once: {outcome:?}"
    );
    for (group, operation, attempts) in [
        (Group::UploadPrepare, PREPARE, 2),
        (Group::UploadPart, PART, 4 + 3),
        (Group::UploadFinish, FINISH, 3),
    ] {
        let seen = proxy.to(operation).len() as u64;
        assert_eq!(seen, attempts, "{operation}: requests on the wire");
        let used = QUOTA - budget.remaining(group).await.expect("a quota is kept");
        assert_eq!(used, seen, "{group:?}: one permit per attempt, retries included");
    }
}

/// Collects what `tracing` writes, for the duration of a test on the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().expect("logs"))).into_owned()
    }
}

#[tokio::test]
async fn an_undocumented_parent_type_is_sent_as_given_with_a_warning() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = server(Config::default()).await;
    let proxy = Proxy::start(&server.base_url()).await;
    let uploader = uploader_via(&proxy.base_url, |b| {
        b.upload_all_max(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 100, 35);

    uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("a documented parent type");
    let documented = logs.take();
    assert!(
        !documented.contains("not among the documented values"),
        "no warning for docx_file: {documented}"
    );

    uploader
        .upload(UploadRequest::file(&file, "wiki_attachment_v9", "doxcn1"))
        .await
        .expect("the server takes a well-formed parent type");
    let warned = logs.take();
    assert!(
        warned.contains("WARN")
            && warned.contains("not among the documented values")
            && warned.contains("wiki_attachment_v9"),
        "a warning names the undocumented value: {warned}"
    );
    let all = proxy.to(ALL);
    let fields = multipart_fields(all.last().expect("an upload_all")).await;
    assert_eq!(
        text_field(&fields, "parent_type"),
        "wiki_attachment_v9",
        "sent as given"
    );
}

#[tokio::test]
async fn a_slide_file_over_20_mib_is_refused_before_any_request() {
    let server = server(Config::default()).await;
    let proxy = Proxy::start(&server.base_url()).await;
    let uploader = uploader_via(&proxy.base_url, |b| {
        b.upload_all_max(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let too_large = dir.path().join("deck-media.bin");
    // Sparse: 20 MiB + 1 byte of zeros without writing them.
    std::fs::File::create(&too_large)
        .and_then(|f| f.set_len(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM + 1))
        .expect("a sparse file");
    match uploader
        .upload(UploadRequest::file(&too_large, "slide_file", "sldcn1"))
        .await
    {
        Err(UploadError::SlideFileTooLarge { size, max }) => {
            assert_eq!(
                (size, max),
                (
                    UPLOAD_ALL_REQUEST_SIZE_MAXIMUM + 1,
                    UPLOAD_ALL_REQUEST_SIZE_MAXIMUM
                )
            );
        }
        other => panic!("expected SlideFileTooLarge, got {other:?}"),
    }
    assert!(
        proxy.requests().is_empty(),
        "no request at all, not even for a token"
    );

    // Exactly 20 MiB is allowed, and goes through upload_all.
    std::fs::File::options()
        .write(true)
        .open(&too_large)
        .and_then(|f| f.set_len(UPLOAD_ALL_REQUEST_SIZE_MAXIMUM))
        .expect("truncate");
    let outcome = uploader
        .upload(UploadRequest::file(&too_large, "slide_file", "sldcn1"))
        .await
        .expect("a 20 MiB slides media");
    assert!(!outcome.chunked);
    assert_eq!(proxy.to(ALL).len(), 1);
    assert!(proxy.to(PREPARE).is_empty());
    // The uploader's lower `upload_all_max` lowers the slides limit with it.
    let lowered = upload_support::uploader(&server, |b| b.upload_all_max(1024));
    let result = lowered
        .upload(UploadRequest::file(&too_large, "slide_file", "sldcn1"))
        .await;
    assert!(
        matches!(result, Err(UploadError::SlideFileTooLarge { max: 1024, .. })),
        "{result:?}"
    );
}
