//! The `Downloader` against real HTTP over loopback: the local Feishu server (upload, then read
//! back), and a deliberately faulty media server written here, which drops connections
//! mid-body, ignores `Range`, answers failures as JSON envelopes with 200 and 202, and changes
//! the media under the client — the faults the downloader must survive or refuse.
//!
//! Why this file is long: it holds the deliberately faulty media server (dropped bodies, ignored Range, envelopes with 200/202) that its 16 tests share.

use crate::kit::e2e as e2e_support;
use crate::kit::upload as upload_support;
use e2e_support::data;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use feishu_drive::Client;
use feishu_drive::ErrorCode;
use feishu_drive::auth::AppCredentials;
use feishu_drive::download::{DownloadError, DownloadEvent, DownloadRequest};
use feishu_drive::upload::{RetryPolicy, UploadRequest};
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, Faults, Operation, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 6,
        min_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
    }
}

pub(crate) fn no_partial_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("the directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".part"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Against the local Feishu server.

pub(crate) async fn upload_to_server(
    bytes: &[u8],
    name: &str,
) -> (feishu_drive_server::RunningServer, String, tempfile::TempDir) {
    let server = Server::start(Config::default().block_size(64 * 1024))
        .await
        .expect("server starts");
    let uploader = upload_support::uploader_via(&server.base_url(), |b| b);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.bin");
    std::fs::write(&source, bytes).expect("write");
    let outcome = uploader
        .upload(UploadRequest::file(&source, "docx_file", "doxcnDownloadParent").file_name(name))
        .await
        .expect("upload");
    (server, outcome.file_token, dir)
}

pub(crate) fn downloader_for(base: &str, range_size: Option<u64>) -> Client {
    e2e_support::downloader(base, |b| {
        b.token_source(AppCredentials::new(base, DEFAULT_APP_ID, DEFAULT_APP_SECRET))
            .requests_per_second(None)
            .retry_policy(fast_policy())
            .range_size(range_size)
    })
}

#[tokio::test]
async fn a_media_comes_back_byte_exact_under_its_decoded_name() {
    let bytes = data(300 * 1024 + 17, 1);
    // A name that needs `filename*`: non-ASCII, a space, a quote.
    let name = "季度报告 \"final\".pdf";
    let (server, token, _keep) = upload_to_server(&bytes, name).await;
    let out = tempfile::tempdir().expect("tempdir");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let outcome = downloader_for(&server.base_url(), Some(100 * 1024))
        .download_media(
            DownloadRequest::into_dir(&token, out.path())
                .progress(move |e| seen.lock().expect("lock").push(e.clone())),
        )
        .await
        .expect("download");
    assert_eq!(outcome.file_name.as_deref(), Some(name));
    assert_eq!(outcome.path, out.path().join(name));
    assert_eq!(std::fs::read(&outcome.path).expect("read"), bytes);
    assert_eq!(outcome.size, bytes.len() as u64);
    // The server answers Range with 206: ceil((300 KiB + 17) / 100 KiB) = 4 requests, no retry.
    assert_eq!((outcome.requests, outcome.retries), (4, 0), "{outcome:?}");
    assert!(no_partial_files(out.path()).is_empty());
    let events = events.lock().expect("lock").clone();
    assert!(
        matches!(
            events.first(),
            Some(DownloadEvent::Started { resumed_bytes: 0, .. })
        ),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(DownloadEvent::Finished { size, .. }) if *size == bytes.len() as u64),
        "{events:?}"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_partial_file_resumes_against_the_server() {
    let bytes = data(200_000, 11);
    let (server, token, _keep) = upload_to_server(&bytes, "r.bin").await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("r.bin");
    std::fs::write(out.path().join(format!(".r.bin.{token}.part")), &bytes[..150_000]).expect("partial");
    let outcome = downloader_for(&server.base_url(), None)
        .download_media(DownloadRequest::to_file(&token, &target))
        .await
        .expect("download");
    assert_eq!(
        (outcome.resumed_bytes, outcome.requests),
        (150_000, 1),
        "{outcome:?}"
    );
    assert_eq!(std::fs::read(&target).expect("read"), bytes);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_missing_media_is_a_typed_error_and_leaves_no_file() {
    let (server, _token, _keep) = upload_to_server(b"x", "x.txt").await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("never.bin");
    let error = downloader_for(&server.base_url(), None)
        .download_media(DownloadRequest::to_file("boxcnNoSuchMedia", &target))
        .await
        .expect_err("no such media");
    match &error {
        DownloadError::Api { source, .. } => assert_eq!(source.code(), Some(ErrorCode::NotFound), "{error}"),
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!target.exists());
    // Nothing was written, so no partial file is kept for a resume.
    assert_eq!(no_partial_files(out.path()), Vec::<String>::new());
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn dropped_connections_at_the_server_are_retried() {
    let bytes = data(200 * 1024, 2);
    let server = Server::start(
        Config::default().block_size(64 * 1024).faults(
            Faults::default()
                .dropped_connections(0.5)
                .on([Operation::Download])
                .seed(7),
        ),
    )
    .await
    .expect("server");
    let base = server.base_url();
    let uploader = upload_support::uploader_via(&base, |b| {
        b.upload_all_max(feishu_drive::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("a.bin");
    std::fs::write(&source, &bytes).expect("write");
    let token = uploader
        .upload(UploadRequest::file(&source, "docx_file", "doxcnP"))
        .await
        .expect("upload")
        .file_token;
    let target = dir.path().join("back.bin");
    let outcome = downloader_for(&base, Some(64 * 1024))
        .download_media(DownloadRequest::to_file(&token, &target))
        .await
        .expect("download despite dropped connections");
    assert_eq!(std::fs::read(&target).expect("read"), bytes);
    assert!(outcome.retries > 0, "the seed drops some requests: {outcome:?}");
    assert_eq!(server.stats().dropped_connections, outcome.retries);
    server.shutdown().await.expect("shutdown");
}

// ---------------------------------------------------------------------------------------------
// Against a faulty media server written here: raw HTTP/1.1 over loopback, one response per
// connection, so every fault is exact.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Serve the range asked for.
    None,
    /// Send the headers of the range, then only this many body bytes, and close.
    DropAfter(usize),
    /// Ignore `Range`: 200 with the whole media.
    IgnoreRange,
    /// A JSON failure envelope with this status and code.
    Envelope(u16, i64),
    /// Serve the range of a media one byte longer (the media changed).
    Grown,
    /// Serve the range with another media type.
    OtherType,
    /// Answer 206 starting one byte after the requested offset.
    WrongStart,
    /// The gateway's rate-limit refusal: HTTP 429, 99991400, `x-ogw-ratelimit-reset` seconds.
    RateLimited(u64),
}

struct FaultyServer {
    base: String,
    /// Each request's `Range` header (or "" when absent), in order.
    ranges: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
    /// When each request's head had arrived, in order.
    arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
}

/// Serves `media` (as `media_type`, named by `disposition`); request *i* gets `faults[i]`
/// (`Fault::None` past the end).
async fn faulty_server(
    media: Vec<u8>,
    media_type: &'static str,
    disposition: &'static str,
    faults: Vec<Fault>,
) -> FaultyServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let (seen, count, arrived) = (ranges.clone(), requests.clone(), arrivals.clone());
    let media = Arc::new(media);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let fault = faults.get(n).copied().unwrap_or(Fault::None);
            let (media, seen, arrived) = (media.clone(), seen.clone(), arrived.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0_u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let range = head
                    .lines()
                    .find_map(|l| l.strip_prefix("range: ").or_else(|| l.strip_prefix("Range: ")))
                    .unwrap_or("")
                    .to_owned();
                seen.lock().expect("lock").push(range.clone());
                arrived.lock().expect("lock").push(std::time::Instant::now());
                let _ = socket
                    .write_all(&respond(&media, media_type, disposition, &range, fault))
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    FaultyServer {
        base,
        ranges,
        requests,
        arrivals,
    }
}

/// The bytes of one response.
fn respond(media: &[u8], media_type: &str, disposition: &str, range: &str, fault: Fault) -> Vec<u8> {
    let envelope = |status: u16, code: i64| {
        let body =
            format!(r#"{{"code":{code},"msg":"injected","data":{{}},"error":{{"log_id":"test-log-id"}}}}"#);
        let reason = match status {
            200 => "OK",
            202 => "Accepted",
            _ => "Bad Request",
        };
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nx-tt-logid: test-log-id\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    if let Fault::Envelope(status, code) = fault {
        return envelope(status, code);
    }
    if let Fault::RateLimited(reset) = fault {
        let body = r#"{"code":99991400,"msg":"request trigger frequency limit"}"#;
        return format!(
            "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nx-ogw-ratelimit-reset: {reset}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
    }
    let mut media = media.to_vec();
    if fault == Fault::Grown {
        media.push(0);
    }
    let media_type = if fault == Fault::OtherType {
        "text/plain"
    } else {
        media_type
    };
    let total = media.len();
    let parsed = range.strip_prefix("bytes=").and_then(|r| {
        let (a, b) = r.split_once('-')?;
        let start: usize = a.parse().ok()?;
        let end: usize = if b.is_empty() {
            total - 1
        } else {
            b.parse::<usize>().ok()?.min(total - 1)
        };
        Some((start, end))
    });
    let (status, start, end) = match (parsed, fault) {
        (Some((start, end)), f) if f != Fault::IgnoreRange && start < total => {
            let start = if f == Fault::WrongStart { start + 1 } else { start };
            ("206 Partial Content", start, end)
        }
        _ => ("200 OK", 0, total - 1),
    };
    let body = &media[start..=end];
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {media_type}\r\ncontent-length: {}\r\ncontent-disposition: {disposition}\r\nconnection: close\r\n",
        body.len()
    );
    if status.starts_with("206") {
        out.push_str(&format!("content-range: bytes {start}-{end}/{total}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    match fault {
        Fault::DropAfter(n) => out.extend_from_slice(&body[..n.min(body.len())]),
        _ => out.extend_from_slice(body),
    }
    out
}

fn plain_downloader(base: &str, range_size: Option<u64>) -> Client {
    e2e_support::downloader(base, |b| {
        b.requests_per_second(None)
            .retry_policy(fast_policy())
            .range_size(range_size)
    })
}

const DISPOSITION: &str = "attachment; filename=\"__.png\"; filename*=UTF-8''%E5%9B%BE%E7%89%87.png";

#[tokio::test]
async fn a_connection_dropped_mid_body_resumes_where_the_file_ends() {
    let media = data(10_000, 3);
    let server = faulty_server(
        media.clone(),
        "image/png",
        DISPOSITION,
        vec![Fault::DropAfter(2_500), Fault::DropAfter(1_000)],
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::into_dir("boxcnFaulty", out.path()))
        .await
        .expect("download resumes");
    assert_eq!(std::fs::read(&outcome.path).expect("read"), media);
    assert_eq!(
        outcome.path.file_name().and_then(|n| n.to_str()),
        Some("图片.png")
    );
    assert_eq!(outcome.media_type.as_deref(), Some("image/png"));
    // Three requests, each starting where the file ended: 0, then 2,500, then 3,500.
    assert_eq!(
        *server.ranges.lock().expect("lock"),
        ["bytes=0-", "bytes=2500-", "bytes=3500-"]
    );
    assert_eq!(outcome.retries, 2);
    assert!(no_partial_files(out.path()).is_empty());
}

#[tokio::test]
async fn ranged_requests_cover_the_media_in_order() {
    let media = data(10_000, 4);
    let server = faulty_server(media.clone(), "application/pdf", DISPOSITION, vec![]).await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("doc.pdf");
    let outcome = plain_downloader(&server.base, Some(4_096))
        .download_media(DownloadRequest::to_file("boxcnRanges", &target).expect_media_type("application/pdf"))
        .await
        .expect("download");
    assert_eq!(std::fs::read(&target).expect("read"), media);
    assert_eq!(
        *server.ranges.lock().expect("lock"),
        ["bytes=0-4095", "bytes=4096-8191", "bytes=8192-12287"]
    );
    assert_eq!(outcome.requests, 3);
}

#[tokio::test]
async fn a_partial_file_of_an_earlier_run_is_resumed() {
    let media = data(10_000, 5);
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, vec![]).await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("pic.png");
    // What an interrupted run leaves: the first 6,000 bytes under the temporary name.
    let partial = out.path().join(".pic.png.boxcnResume.part");
    std::fs::write(&partial, &media[..6_000]).expect("partial");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnResume", &target))
        .await
        .expect("download");
    assert_eq!(outcome.resumed_bytes, 6_000);
    assert_eq!(*server.ranges.lock().expect("lock"), ["bytes=6000-"]);
    assert_eq!(std::fs::read(&target).expect("read"), media);
    assert!(!partial.exists());
}

#[tokio::test]
async fn a_server_that_ignores_range_restarts_the_file() {
    let media = data(8_000, 6);
    let server = faulty_server(
        media.clone(),
        "image/png",
        DISPOSITION,
        vec![Fault::DropAfter(3_000), Fault::IgnoreRange],
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("pic.png");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    plain_downloader(&server.base, None)
        .download_media(
            DownloadRequest::to_file("boxcnIgnore", &target)
                .progress(move |e| seen.lock().expect("lock").push(e.clone())),
        )
        .await
        .expect("download");
    assert_eq!(
        std::fs::read(&target).expect("read"),
        media,
        "not the first 3,000 bytes twice"
    );
    assert!(
        events
            .lock()
            .expect("lock")
            .iter()
            .any(|e| matches!(e, DownloadEvent::Restarted { .. }))
    );
}

#[tokio::test]
async fn envelopes_with_200_and_202_are_failures_never_file_bytes() {
    let media = data(5_000, 7);
    // Retryable ones (1061045 with 200, 1062004 with 202) are retried, then the media comes.
    let server = faulty_server(
        media.clone(),
        "image/png",
        DISPOSITION,
        // 99991400 with HTTP 400 (older APIs) is recognised by its code, and retried.
        vec![
            Fault::Envelope(200, 1061045),
            Fault::Envelope(202, 1062004),
            Fault::Envelope(400, 99991400),
        ],
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("pic.png");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnEnvelope", &target))
        .await
        .expect("download after retries");
    assert_eq!(outcome.retries, 3);
    assert_eq!(std::fs::read(&target).expect("read"), media);

    // A permanent one (1062005 with 202) is an error at once, with its code, and no file.
    let server = faulty_server(
        media.clone(),
        "image/png",
        DISPOSITION,
        vec![Fault::Envelope(202, 1062005)],
    )
    .await;
    let target = out.path().join("never.png");
    let error = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnEnvelope", &target))
        .await
        .expect_err("1062005 is permanent");
    match &error {
        DownloadError::Api { source, .. } => {
            assert_eq!(source.code(), Some(ErrorCode::FileTypeNotSupportCover), "{error}");
            assert_eq!(source.status().map(|s| s.as_u16()), Some(202));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    assert!(!target.exists());
}

#[tokio::test]
async fn a_json_media_is_a_file_not_an_error() {
    let media = br#"{"name":"a JSON document stored as a media","code_like":1}"#.to_vec();
    let server = faulty_server(
        media.clone(),
        "application/json",
        "attachment; filename=\"doc.json\"",
        vec![],
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::into_dir("boxcnJson", out.path()))
        .await
        .expect("a JSON media downloads");
    assert_eq!(std::fs::read(&outcome.path).expect("read"), media);
    assert_eq!(outcome.path, out.path().join("doc.json"));
}

#[tokio::test]
async fn a_media_that_changes_between_ranges_is_refused() {
    let out = tempfile::tempdir().expect("tempdir");
    for (fault, what) in [
        (Fault::Grown, "size"),
        (Fault::OtherType, "type"),
        (Fault::WrongStart, "range"),
    ] {
        let server = faulty_server(data(9_000, 8), "image/png", DISPOSITION, vec![Fault::None, fault]).await;
        let target = out.path().join(format!("{what}.png"));
        let error = plain_downloader(&server.base, Some(4_000))
            .download_media(DownloadRequest::to_file("boxcnChanged", &target))
            .await
            .expect_err(what);
        let ok = match what {
            "size" => matches!(
                error,
                DownloadError::SizeChanged {
                    before: 9_000,
                    after: 9_001
                }
            ),
            "type" => matches!(error, DownloadError::MediaTypeChanged { .. }),
            _ => matches!(error, DownloadError::BadContentRange { .. }),
        };
        assert!(ok, "{what}: {error:?}");
        assert!(!target.exists(), "{what}: no file under the final name");
        assert_eq!(server.requests.load(Ordering::SeqCst), 2, "{what}: not retried");
    }
}

#[tokio::test]
async fn an_unexpected_media_type_is_refused() {
    let server = faulty_server(data(100, 9), "text/html", DISPOSITION, vec![]).await;
    let out = tempfile::tempdir().expect("tempdir");
    let error = plain_downloader(&server.base, None)
        .download_media(
            DownloadRequest::to_file("boxcnType", out.path().join("x.png")).expect_media_type("image/png"),
        )
        .await
        .expect_err("html is not png");
    assert!(
        matches!(error, DownloadError::UnexpectedMediaType { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn giving_up_keeps_the_partial_file_for_the_next_run() {
    let media = data(6_000, 10);
    // Every request drops after 500 bytes, more often than the policy retries without progress...
    // but each drop makes progress, so the download still completes: 12 requests of 500 bytes.
    let faults = vec![Fault::DropAfter(500); 11];
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, faults).await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("slow.png");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnSlow", &target))
        .await
        .expect("progress resets the retry budget");
    assert_eq!(outcome.requests, 12);
    assert_eq!(std::fs::read(&target).expect("read"), media);

    // With no progress at all (drops before any byte), the policy gives up, and what was
    // written stays under the temporary name only.
    let faults = vec![Fault::DropAfter(1_000)]
        .into_iter()
        .chain(std::iter::repeat_n(Fault::DropAfter(0), 20))
        .collect();
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, faults).await;
    let target = out.path().join("stuck.png");
    let error = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnStuck", &target))
        .await
        .expect_err("no progress: gives up");
    assert!(
        matches!(
            error,
            DownloadError::Api { .. } | DownloadError::LengthMismatch { .. }
        ),
        "{error:?}"
    );
    assert!(!target.exists());
    let partial = out.path().join(".stuck.png.boxcnStuck.part");
    assert_eq!(
        std::fs::read(&partial).expect("the partial file stays"),
        media[..1_000]
    );
    // The next run resumes it.
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, vec![]).await;
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnStuck", &target))
        .await
        .expect("resumed");
    assert_eq!(outcome.resumed_bytes, 1_000);
    assert_eq!(std::fs::read(&target).expect("read"), media);
}

// ---------------------------------------------------------------------------------------------
// Retries and rate limit, as the uploader's.

#[tokio::test]
async fn the_gateway_reset_header_is_waited_out_before_the_retry() {
    const RESET: u64 = 2;
    let media = data(3000, 11);
    let server = faulty_server(
        media.clone(),
        "image/png",
        DISPOSITION,
        vec![Fault::RateLimited(RESET)],
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = plain_downloader(&server.base, None)
        .download_media(DownloadRequest::to_file("boxcnToken", dir.path().join("out.png")))
        .await
        .expect("downloaded after the reset");
    assert_eq!(std::fs::read(&outcome.path).expect("the file"), media);
    let arrivals = server.arrivals.lock().expect("lock").clone();
    assert_eq!(arrivals.len(), 2, "one refusal, one retry");
    // A lower bound: a loaded machine only makes the gap longer.
    let gap = arrivals[1] - arrivals[0];
    assert!(
        gap >= std::time::Duration::from_secs(RESET),
        "the retry came {gap:?} after a refusal that said {RESET} s"
    );
}

/// Hands out `t-stale` until told it was rejected, then `t-fresh`.
#[derive(Debug, Clone, Default)]
struct StaleThenFresh {
    /// Shared by the clones: the test keeps one, the downloader another.
    invalidated: Arc<AtomicUsize>,
}

impl feishu_drive::auth::TokenSource for StaleThenFresh {
    fn token(
        &self,
    ) -> futures::future::BoxFuture<'_, Result<feishu_drive::auth::AccessToken, feishu_drive::auth::AuthError>>
    {
        let token = if self.invalidated.load(Ordering::SeqCst) == 0 {
            "t-stale"
        } else {
            "t-fresh"
        };
        Box::pin(async move { Ok(feishu_drive::auth::AccessToken::new(token)) })
    }

    fn invalidate(&self, _token: &feishu_drive::auth::AccessToken) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once() {
    let media = data(3000, 12);
    let rejected = Fault::Envelope(400, 99991663);
    // Rejected once: refreshed, downloaded.
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, vec![rejected]).await;
    let source = StaleThenFresh::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let downloader = e2e_support::downloader(&server.base, |b| {
        b.token_source(source.clone())
            .requests_per_second(None)
            .retry_policy(fast_policy())
    });
    downloader
        .download_media(DownloadRequest::to_file("boxcnToken", dir.path().join("a.png")))
        .await
        .expect("downloaded with the refreshed token");
    assert_eq!(source.invalidated.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);

    // Rejected twice: one refresh only, then the rejection is the answer.
    let server = faulty_server(media, "image/png", DISPOSITION, vec![rejected, rejected]).await;
    let source = StaleThenFresh::default();
    let downloader = e2e_support::downloader(&server.base, |b| {
        b.token_source(source.clone())
            .requests_per_second(None)
            .retry_policy(fast_policy())
    });
    let result = downloader
        .download_media(DownloadRequest::to_file("boxcnToken", dir.path().join("b.png")))
        .await;
    match result {
        Err(DownloadError::Api { source: error, .. }) => {
            assert_eq!(error.code(), Some(ErrorCode::AccessTokenInvalid), "{error}")
        }
        other => panic!("expected the rejection after one refresh, got {other:?}"),
    }
    assert_eq!(source.invalidated.load(Ordering::SeqCst), 1, "refreshed once");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

/// The default of 5 requests per second, by a lower bound on time: 6 ranged requests at 5 per
/// second span at least a second (a loaded machine only makes it longer).
#[tokio::test]
async fn five_requests_per_second_by_default() {
    let media = data(6 * 1000, 13);
    let server = faulty_server(media.clone(), "image/png", DISPOSITION, Vec::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let downloader = e2e_support::downloader(&server.base, |b| b.range_size(Some(1000)));
    let started = std::time::Instant::now();
    let outcome = downloader
        .download_media(DownloadRequest::to_file("boxcnToken", dir.path().join("c.png")))
        .await
        .expect("downloaded");
    let elapsed = started.elapsed();
    assert_eq!(std::fs::read(&outcome.path).expect("the file"), media);
    assert_eq!(server.requests.load(Ordering::SeqCst), 6);
    assert!(
        elapsed >= std::time::Duration::from_secs(1),
        "6 requests in {elapsed:?}: faster than 5 per second"
    );
}
