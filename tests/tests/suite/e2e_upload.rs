//! End to end, through the generated client against the local server: uploads of every shape
//! come back byte for byte, and the server's faults, limits and lifecycle behave as configured.
//!
//! Why this file is long: 22 short end-to-end upload shapes against one local server set-up; each is a few lines, the file is long only by count.

use crate::kit::e2e as e2e_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_support::*;
use feishu_drive::{ApiError, ErrorCode};
use feishu_drive_server::{Config, Faults, Limits, Operation, RateLimitStyle, Server};

/// Uploads `bytes` in blocks, in the order `order` gives, and reads them back.
async fn round_trip(h: &Harness, len: usize, order: impl FnOnce(Vec<u64>) -> Vec<u64>) {
    let bytes = data(len, len as u64);
    let token = upload_chunked(&h.client, "round-trip.bin", &bytes, order)
        .await
        .unwrap_or_else(|e| panic!("{len} bytes: {e}"));
    let (back, headers) = download(&h.client, &token).await.expect("download");
    assert_eq!(back.len(), len);
    assert_eq!(sha256(&back), sha256(&bytes), "{len} bytes came back different");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-length"], len.to_string().as_str());
}

#[tokio::test]
async fn chunked_uploads_of_every_boundary_size_round_trip() {
    let h = start(config()).await;
    let b = BLOCK as usize;
    for len in [1, b - 1, b, b + 1, 3 * b + 7] {
        round_trip(&h, len, |seqs| seqs).await;
    }
}

#[tokio::test]
async fn block_num_is_ceil_of_size_over_block_size() {
    let h = start(config()).await;
    for (size, blocks) in [
        (0, 0),
        (1, 1),
        (BLOCK - 1, 1),
        (BLOCK, 1),
        (BLOCK + 1, 2),
        (3 * BLOCK + 7, 4),
    ] {
        let prepared = prepare(&h.client, "n.bin", PARENT, size).await.expect("prepare");
        assert_eq!(prepared.block_size.get(), BLOCK);
        assert_eq!(prepared.block_num, blocks, "size {size}");
        assert_eq!(prepared.upload_id.len(), 19, "a Feishu-like numeric id");
    }
}

#[tokio::test]
async fn default_block_size_is_4_mib() {
    let h = start(Config::default()).await;
    let prepared = prepare(&h.client, "big.bin", PARENT, 10 * 1024 * 1024)
        .await
        .expect("prepare");
    assert_eq!(prepared.block_size.get(), 4 * 1024 * 1024);
    assert_eq!(prepared.block_num, 3);
}

/// The docs allow `size` 0; block_num = ceil(0 / block_size) = 0, so there is no part to send and
/// `upload_finish` with block_num 0 makes an empty file. upload_all of 0 bytes works as well.
#[tokio::test]
async fn zero_byte_files_have_no_blocks_and_download_empty() {
    let h = start(config()).await;
    let prepared = prepare(&h.client, "empty.txt", PARENT, 0).await.expect("prepare");
    assert_eq!(prepared.block_num, 0);
    let upload_id = prepared.upload_id.to_string();
    let any_part = part(&h.client, &upload_id, 0, Bytes::new()).await;
    assert_code(any_part, ErrorCode::BlockNumOutOfBounds);
    let token = finish(&h.client, &upload_id, 0)
        .await
        .expect("finish of 0 blocks");
    assert_eq!(download(&h.client, &token).await.expect("download").0, b"");

    let token = upload_all(&h.client, "empty-all.txt", b"")
        .await
        .expect("upload_all of 0 bytes");
    assert_eq!(download(&h.client, &token).await.expect("download").0, b"");
}

#[tokio::test]
async fn parts_in_any_order_and_resent() {
    let h = start(config()).await;
    let len = 5 * BLOCK as usize + 11;
    round_trip(&h, len, |mut seqs| {
        seqs.reverse();
        seqs
    })
    .await;
    // Every block twice, odd ones first, then the even ones again.
    round_trip(&h, len, |seqs| {
        let odd = seqs.iter().copied().filter(|s| s % 2 == 1);
        let even = seqs.iter().copied().filter(|s| s % 2 == 0);
        odd.clone().chain(even.clone()).chain(even).chain(odd).collect()
    })
    .await;
}

#[tokio::test]
async fn a_resent_block_replaces_the_earlier_copy() {
    let h = start(config()).await;
    let bytes = data(2 * BLOCK as usize, 9);
    let prepared = prepare(&h.client, "resend.bin", PARENT, bytes.len() as u64)
        .await
        .expect("prepare");
    let id = prepared.upload_id.to_string();
    let all = Bytes::from(bytes.clone());
    let wrong = Bytes::from(data(BLOCK as usize, 10));
    part(&h.client, &id, 0, wrong).await.expect("first copy");
    part(&h.client, &id, 0, all.slice(..BLOCK as usize))
        .await
        .expect("second copy");
    part(&h.client, &id, 1, all.slice(BLOCK as usize..))
        .await
        .expect("block 1");
    let token = finish(&h.client, &id, 2).await.expect("finish");
    assert_eq!(
        sha256(&download(&h.client, &token).await.expect("download").0),
        sha256(&bytes)
    );
}

#[tokio::test]
async fn concurrent_parts_of_one_upload() {
    let h = start(config()).await;
    let bytes = data(24 * BLOCK as usize + 5, 3);
    let prepared = prepare(&h.client, "parallel.bin", PARENT, bytes.len() as u64)
        .await
        .expect("prepare");
    let id = prepared.upload_id.to_string();
    let all = Bytes::from(bytes.clone());
    // Every block sent twice at once, all blocks at once.
    let sends = blocks(bytes.len(), BLOCK, prepared.block_num)
        .into_iter()
        .flat_map(|(seq, range)| [(seq, range.clone()), (seq, range)])
        .map(|(seq, range)| part(&h.client, &id, seq, all.slice(range)));
    for result in futures::future::join_all(sends).await {
        result.expect("a concurrent part");
    }
    let token = finish(&h.client, &id, prepared.block_num).await.expect("finish");
    assert_eq!(
        sha256(&download(&h.client, &token).await.expect("download").0),
        sha256(&bytes)
    );
    assert_eq!(h.server.stats().parts_stored, 2 * prepared.block_num as u64);
}

#[tokio::test]
async fn upload_all_round_trips_with_its_name() {
    let h = start(config()).await;
    let bytes = data(300_000, 4);
    let token = upload_all(&h.client, "报告 \"final\".pdf", &bytes)
        .await
        .expect("upload_all");
    assert!(token.starts_with("boxcn"), "{token}");
    let (back, headers) = download(&h.client, &token).await.expect("download");
    assert_eq!(sha256(&back), sha256(&bytes));
    let disposition = headers["content-disposition"].to_str().expect("ASCII header");
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    assert!(
        disposition.ends_with("filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf"),
        "{disposition}"
    );
}

#[tokio::test]
async fn upload_all_takes_exactly_20_mib() {
    let h = start(config()).await;
    let bytes = data(20 * 1024 * 1024, 5);
    let token = upload_all(&h.client, "twenty.bin", &bytes)
        .await
        .expect("20 MiB is allowed");
    assert_eq!(
        sha256(&download(&h.client, &token).await.expect("download").0),
        sha256(&bytes)
    );
}

#[tokio::test]
async fn user_tokens_are_identities_too() {
    let h = start(config()).await;
    let alice = client(&h.server, "u-alice");
    let bytes = data(3 * BLOCK as usize, 6);
    let token = upload_chunked(&alice, "alice.bin", &bytes, |s| s)
        .await
        .expect("alice uploads");
    assert_eq!(download(&alice, &token).await.expect("download").0, bytes);
}

// ------------------------------------------------------------------------------- faults

#[tokio::test]
async fn injected_retryable_errors_arrive_with_http_200() {
    let h = start(config().faults(Faults::default().retryable_errors(1.0).seed(1))).await;
    let prepared = prepare(&h.client, "f.bin", PARENT, 10)
        .await
        .expect("prepare is not faulted");
    let id = prepared.upload_id.to_string();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let error = part(&h.client, &id, 0, Bytes::from_static(b"0123456789"))
            .await
            .expect_err("faulted");
        let code = error.code().expect("a code");
        assert!(error.is_retryable(), "{error}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(200), "{error}");
        seen.insert(code.code());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [1061001, 1061006, 1061045]);
    assert_eq!(h.server.stats().injected_errors, 30);
    assert_eq!(h.server.stats().parts_stored, 0, "a faulted part is not stored");
}

#[tokio::test]
async fn a_client_that_retries_gets_through_partial_faults() {
    let faults = Faults::default()
        .retryable_errors(0.3)
        .dropped_connections(0.2)
        .seed(11);
    let h = start(config().faults(faults)).await;
    let bytes = data(20 * BLOCK as usize + 1, 7);
    let prepared = prepare(&h.client, "retry.bin", PARENT, bytes.len() as u64)
        .await
        .expect("prepare");
    let id = prepared.upload_id.to_string();
    let all = Bytes::from(bytes.clone());
    for (seq, range) in blocks(bytes.len(), BLOCK, prepared.block_num) {
        let mut tries = 0;
        while let Err(e) = part(&h.client, &id, seq, all.slice(range.clone())).await {
            assert!(e.is_retryable(), "only retryable failures are injected: {e}");
            tries += 1;
            assert!(tries < 20, "block {seq} never got through");
        }
    }
    let token = finish(&h.client, &id, prepared.block_num).await.expect("finish");
    assert_eq!(
        sha256(&download(&h.client, &token).await.expect("download").0),
        sha256(&bytes)
    );
    let stats = h.server.stats();
    assert!(
        stats.injected_errors > 0 && stats.dropped_connections > 0,
        "{stats:?}"
    );
}

#[tokio::test]
async fn dropped_connections_surface_as_transport_errors() {
    let h = start(config().faults(Faults::default().dropped_connections(1.0))).await;
    let prepared = prepare(&h.client, "drop.bin", PARENT, BLOCK)
        .await
        .expect("prepare");
    let block = Bytes::from(data(BLOCK as usize, 8));
    let error = part(&h.client, &prepared.upload_id, 0, block)
        .await
        .expect_err("dropped");
    assert!(matches!(error, ApiError::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(h.server.stats().dropped_connections, 1);
    // The server is fine afterwards.
    prepare(&h.client, "after.bin", PARENT, 1)
        .await
        .expect("still serving");
}

#[tokio::test]
async fn faults_can_target_other_operations() {
    let faults = Faults::default()
        .retryable_errors(1.0)
        .on([Operation::UploadFinish, Operation::UploadAll]);
    let h = start(config().faults(faults)).await;
    let prepared = prepare(&h.client, "x.bin", PARENT, 3).await.expect("prepare");
    part(&h.client, &prepared.upload_id, 0, Bytes::from_static(b"abc"))
        .await
        .expect("parts are not faulted");
    let error = finish(&h.client, &prepared.upload_id, 1)
        .await
        .expect_err("faulted");
    assert!(
        error.is_retryable() && error.status().is_some_and(|s| s == 200),
        "{error}"
    );
    let error = upload_all(&h.client, "y.bin", b"abc").await.expect_err("faulted");
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test]
async fn added_latency_delays_each_media_request() {
    let h = start(config().faults(Faults::default().latency(Duration::from_millis(150)))).await;
    let started = Instant::now();
    prepare(&h.client, "slow.bin", PARENT, 1).await.expect("prepare");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_gateway_style_429_with_reset_header() {
    let h = start(config().faults(Faults::default().rate_limit(5, RateLimitStyle::Gateway))).await;
    // Counted, not timed: requests go until one is refused (a loaded machine may spread the
    // first six over two windows); at least 5 pass first, since a window admits 5.
    let mut passed = 0;
    let error = loop {
        match prepare(&h.client, "q.bin", PARENT, 1).await {
            Ok(_) => passed += 1,
            Err(e) => break e,
        }
        assert!(passed < 500, "500 requests without a refusal at 5 QPS");
    };
    assert!(passed >= 5, "refused after {passed}");
    assert_eq!(error.code(), Some(ErrorCode::RateLimited), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    let wait = error.retry_after().expect("x-ogw-ratelimit-reset");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
    tokio::time::sleep(wait).await;
    prepare(&h.client, "q.bin", PARENT, 1)
        .await
        .expect("allowed after the reset");
    assert_eq!(h.server.stats().rate_limited, 1);
}

#[tokio::test]
async fn rate_limit_can_retry_style_and_per_app() {
    let config = config()
        .add_app("cli_second", "second-secret")
        .faults(Faults::default().rate_limit(2, RateLimitStyle::CanRetry));
    let h = start(config).await;
    let second = client(
        &h.server,
        &tenant_token(&h.server.base_url(), "cli_second", "second-secret")
            .await
            .expect("token"),
    );
    // Counted, not timed: requests go until one is refused; at least 2 pass first.
    let mut passed = 0;
    let error = loop {
        match prepare(&h.client, "q.bin", PARENT, 1).await {
            Ok(_) => passed += 1,
            Err(e) => break e,
        }
        assert!(passed < 500, "500 requests without a refusal at 2 QPS");
    };
    assert!(passed >= 2, "refused after {passed}");
    assert_eq!(error.code(), Some(ErrorCode::CanRetry));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    prepare(&second, "q.bin", PARENT, 1)
        .await
        .expect("another app has its own limit");
}

// ---------------------------------------------------------------------- lifecycle, robustness

#[tokio::test]
async fn malformed_requests_never_wedge_the_server() {
    // Short bounds, so that the stalled clients at the end are cut off while the test waits.
    let limits = Limits::default()
        .body_idle_timeout(Duration::from_secs(1))
        .header_timeout(Duration::from_secs(1));
    let h = start(config().limits(limits)).await;
    let http = reqwest::Client::new();
    let url = |op: &str| format!("{}/open-apis/drive/v1/medias/{op}", h.server.base_url());
    let auth = format!("Bearer {}", h.token);
    let bodies: Vec<(&str, &str, Vec<u8>)> = vec![
        ("upload_prepare", "application/json", b"{not json".to_vec()),
        ("upload_prepare", "application/json", b"[1,2,3]".to_vec()),
        ("upload_prepare", "text/plain", vec![0xff; 100]),
        (
            "upload_finish",
            "application/json",
            br#"{"upload_id": 5, "block_num": "x"}"#.to_vec(),
        ),
        ("upload_part", "multipart/form-data", b"no boundary".to_vec()),
        (
            "upload_part",
            "multipart/form-data; boundary=X",
            b"--X\r\ngarbage".to_vec(),
        ),
        ("upload_part", "application/json", b"{}".to_vec()),
        (
            "upload_all",
            "multipart/form-data; boundary=X",
            b"--X--\r\n".to_vec(),
        ),
        (
            "upload_all",
            "multipart/form-data; boundary=X",
            vec![b'-'; 100_000],
        ),
    ];
    for (op, content_type, body) in bodies {
        let response = http
            .post(url(op))
            .header("authorization", &auth)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("an answer");
        let error = surfaced(response).await;
        assert_eq!(
            error.code(),
            Some(ErrorCode::ParamsError),
            "{op} {content_type}: {error}"
        );
    }
    // A part far larger than any block is cut off at the cap, answered, and the server goes on.
    let boundary = "B0undary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\n1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(7u8, 4 * 1024 * 1024));
    let response = http
        .post(url("upload_part"))
        .header("authorization", &auth)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(surfaced(response).await.code(), Some(ErrorCode::ParamsError));
    } // else the server closed the connection while the client was still sending: also fine.
    // Clients that stall, one in its headers and one in its body, hold nobody else up, and are
    // cut off once they have sent nothing for the bounds above.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stalled_headers = tokio::net::TcpStream::connect(h.server.addr())
        .await
        .expect("connect");
    stalled_headers
        .write_all(b"POST /open-apis/drive/v1/medias/upload_part HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut stalled_body = tokio::net::TcpStream::connect(h.server.addr())
        .await
        .expect("connect");
    stalled_body
        .write_all(
            format!(
                "POST /open-apis/drive/v1/medias/upload_part HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
                 Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n--X\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    round_trip(&h, 2 * BLOCK as usize + 3, |s| s).await;
    for stalled in [&mut stalled_headers, &mut stalled_body] {
        let mut sink = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(1..) = stalled.read(&mut sink).await {}
        })
        .await;
        assert!(closed.is_ok(), "the server cut the stalled connection off");
    }
    assert_eq!(h.server.stats().idle_timeouts, 1, "the stalled body timed out");
}

#[tokio::test]
async fn the_python_sdks_wire_format_is_accepted() {
    // As lark-oapi 1.7.5 sends it: file part first here (field order varies across SDKs), no
    // filename, no Content-Type, empty `checksum`, every value a decimal string.
    let h = start(config()).await;
    let prepared = prepare(&h.client, "py.bin", PARENT, 5).await.expect("prepare");
    let boundary = "d1e2f3";
    let field = |name: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let body = [
        field("file", "hello"),
        field("upload_id", &prepared.upload_id),
        field("seq", "0"),
        field("size", "5"),
        field("checksum", ""),
        format!("--{boundary}--\r\n"),
    ]
    .concat();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/open-apis/drive/v1/medias/upload_part",
            h.server.base_url()
        ))
        .header("authorization", format!("Bearer {}", h.token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let envelope: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(envelope["code"], 0, "{envelope}");
    let token = finish(&h.client, &prepared.upload_id, 1).await.expect("finish");
    assert_eq!(download(&h.client, &token).await.expect("download").0, b"hello");

    // Its token request has no Content-Type at all.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/open-apis/auth/v3/tenant_access_token/internal",
            h.server.base_url()
        ))
        .body(r#"{"app_id":"cli_local","app_secret":"local-secret"}"#)
        .send()
        .await
        .expect("an answer");
    let envelope: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(envelope["code"], 0, "{envelope}");
    // The token issued at start is handed out again, with the seconds it has left.
    let expire = envelope["expire"].as_i64().expect("expire");
    assert!((7100..=7200).contains(&expire), "{expire}");
}

#[tokio::test]
async fn files_survive_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = start(config().data_dir(dir.path())).await;
    let bytes = data(2 * BLOCK as usize + 1, 12);
    let token = upload_chunked(&h.client, "kept.bin", &bytes, |s| s)
        .await
        .expect("upload");
    let unfinished = prepare(&h.client, "unfinished.bin", PARENT, 10)
        .await
        .expect("prepare");
    h.server.shutdown().await.expect("shutdown");

    let h = start(config().data_dir(dir.path())).await;
    assert_eq!(
        download(&h.client, &token)
            .await
            .expect("download after restart")
            .0,
        bytes
    );
    let gone = part(
        &h.client,
        &unfinished.upload_id,
        0,
        Bytes::from_static(b"0123456789"),
    )
    .await;
    assert_code(gone, ErrorCode::UploadIdExpired);
    h.server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn shutdown_stops_listening_and_removes_the_temp_dir() {
    let h = start(config()).await;
    let data_dir = h.server.data_dir().to_path_buf();
    let base_url = h.server.base_url();
    assert!(data_dir.exists());
    upload_all(&h.client, "a.bin", b"abc").await.expect("upload");
    drop(h.client);
    h.server.shutdown().await.expect("clean shutdown");
    assert!(!data_dir.exists(), "the temporary data dir is deleted");
    let refused = reqwest::get(format!("{base_url}/open-apis/drive/v1/medias/x/download")).await;
    assert!(refused.is_err(), "nothing listens any more");
}

#[tokio::test]
async fn two_servers_side_by_side() {
    let a = Server::start(config()).await.expect("a");
    let b = Server::start(config()).await.expect("b");
    assert_ne!(a.addr(), b.addr());
    assert_ne!(a.data_dir(), b.data_dir());
    a.shutdown().await.expect("a stops");
    b.shutdown().await.expect("b stops");
}

/// 1 GiB through 4 MiB blocks, 4 parts in flight: the server streams every block to disk and the
/// download back from it, so memory does not grow with the file. Opt-in (it writes 1 GiB to the
/// temp dir): `cargo test -p feishu-drive-tests --test suite e2e_upload:: -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes 1 GiB; run with --ignored"]
async fn one_gib_chunked_upload_round_trips() {
    use futures::{StreamExt, TryStreamExt};
    use sha2::{Digest, Sha256};

    const SIZE: u64 = 1 << 30;
    let h = start(Config::default()).await;
    let started = Instant::now();
    let prepared = prepare(&h.client, "one-gib.bin", PARENT, SIZE)
        .await
        .expect("prepare");
    assert_eq!(prepared.block_num, 256);
    let block_size = prepared.block_size.get() as usize;
    // Block `seq` is generated from its number, so both sides can hash without keeping it.
    let block = |seq: u64| Bytes::from(data(block_size, seq + 1));
    let mut expected = Sha256::new();
    for seq in 0..prepared.block_num as u64 {
        expected.update(block(seq));
    }
    futures::stream::iter(0..prepared.block_num as u64)
        .map(|seq| part(&h.client, &prepared.upload_id, seq, block(seq)))
        .buffer_unordered(4)
        .try_collect::<Vec<()>>()
        .await
        .expect("every part");
    let token = finish(&h.client, &prepared.upload_id, prepared.block_num)
        .await
        .expect("finish");
    let uploaded = started.elapsed();
    let response = h
        .client
        .download()
        .file_token(token.as_str())
        .send()
        .await
        .expect("download");
    let mut actual = Sha256::new();
    let mut stream = response.into_inner_stream();
    let mut len = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("download chunk");
        len += chunk.len() as u64;
        actual.update(&chunk);
    }
    assert_eq!(len, SIZE);
    assert_eq!(actual.finalize(), expected.finalize());
    eprintln!(
        "1 GiB: uploaded in {uploaded:?}, uploaded and read back in {:?}",
        started.elapsed()
    );
}
