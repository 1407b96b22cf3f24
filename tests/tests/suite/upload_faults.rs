//! Faults the client was not built around, from a raw loopback server in the test (no HTTP
//! library between the faults and the client): bodies that are not Feishu JSON, failures with
//! HTTP 200 and 202, diagnostics, stalled and slow links, token endpoint trouble, lost answers.
//!
//! Why this file is long: the raw scripted server (no HTTP library between the faults and the client) is defined here and private to its 26 fault tests; a split would have to make it a shared kit first.

use crate::kit::upload as upload_support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_drive::auth::{AppCredentials, AuthError, TokenSource};
use feishu_drive::upload::{ProgressEvent, RetryPolicy, UploadError, UploadRequest};
use feishu_drive::{ApiError, Client, ClientBuilder, ErrorCode, FeishuResult, types};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREPARE: &str = "/open-apis/drive/v1/medias/upload_prepare";
const PART: &str = "/open-apis/drive/v1/medias/upload_part";
const FINISH: &str = "/open-apis/drive/v1/medias/upload_finish";
const ALL: &str = "/open-apis/drive/v1/medias/upload_all";
const TOKEN: &str = "/open-apis/auth/v3/tenant_access_token/internal";

/// What the server does with one request.
#[derive(Debug, Clone)]
enum Act {
    /// Read the request, answer with this status, headers and body.
    Reply(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Read the headers, then never read the body nor answer.
    StallReading,
    /// Read the body `chunk` bytes every `every`, then answer.
    ReadSlowly(usize, Duration, Box<Act>),
    /// Read the request, then close the connection without an answer.
    Drop,
}

fn json_reply(status: u16, body: serde_json::Value) -> Act {
    Act::Reply(
        status,
        vec![("content-type", "application/json; charset=utf-8".to_owned())],
        body.to_string().into_bytes(),
    )
}

fn ok(data: serde_json::Value) -> Act {
    json_reply(200, json!({"code": 0, "msg": "success", "data": data}))
}

fn raw(status: u16, content_type: Option<&str>, body: &str) -> Act {
    let headers = content_type
        .map(|c| vec![("content-type", c.to_owned())])
        .unwrap_or_default();
    Act::Reply(status, headers, body.as_bytes().to_vec())
}

fn with_header(act: Act, name: &'static str, value: &str) -> Act {
    match act {
        Act::Reply(status, mut headers, body) => {
            headers.push((name, value.to_owned()));
            Act::Reply(status, headers, body)
        }
        other => other,
    }
}

/// A scripted server: each path has a queue of acts; when a queue is empty, `fallback` answers.
struct Scripted {
    base_url: String,
    script: Arc<Script>,
    hits: Arc<Mutex<Vec<Hit>>>,
}

/// A request's path and when its head had arrived.
type Hit = (String, std::time::Instant);

/// Per path, the acts still to play.
type Script = Mutex<Vec<(&'static str, VecDeque<Act>)>>;

type Fallback = Arc<dyn Fn(&str, &[u8]) -> Act + Send + Sync>;

impl Scripted {
    async fn start(fallback: impl Fn(&str, &[u8]) -> Act + Send + Sync + 'static) -> Self {
        // A small receive buffer, so what the client has sent is close to what the server read
        // (loopback's buffers otherwise autotune to megabytes).
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("a loopback port");
        let listener = socket.listen(64).expect("listening");
        let base_url = format!("http://{}", listener.local_addr().expect("an address"));
        let script: Arc<Script> = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let fallback: Fallback = Arc::new(fallback);
        tokio::spawn({
            let (script, hits) = (script.clone(), hits.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (script, hits, fallback) = (script.clone(), hits.clone(), fallback.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, &script, &hits, &fallback).await;
                    });
                }
            }
        });
        Self {
            base_url,
            script,
            hits,
        }
    }

    fn then(&self, path: &'static str, act: Act) -> &Self {
        let mut script = self.script.lock().expect("script");
        match script.iter_mut().find(|(p, _)| *p == path) {
            Some((_, queue)) => queue.push_back(act),
            None => script.push((path, VecDeque::from([act]))),
        }
        self
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }

    /// When each request to `path` had arrived, in order.
    fn arrivals(&self, path: &str) -> Vec<std::time::Instant> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, at)| *at)
            .collect()
    }

    fn client(&self) -> Client {
        Client::builder(&self.base_url)
            .access_token("t-test")
            .build()
            .expect("a client")
    }
}

async fn serve(
    mut stream: TcpStream,
    script: &Script,
    hits: &Mutex<Vec<Hit>>,
    fallback: &Fallback,
) -> std::io::Result<()> {
    loop {
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let path = target.split('?').next().unwrap_or("/").to_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        hits.lock()
            .expect("hits")
            .push((path.clone(), std::time::Instant::now()));
        let scripted = script
            .lock()
            .expect("script")
            .iter_mut()
            .find(|(p, _)| *p == path)
            .and_then(|(_, queue)| queue.pop_front());
        let mut act = scripted;
        let mut body = Vec::with_capacity(length);
        if let Some(Act::StallReading) = act {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        if let Some(Act::ReadSlowly(chunk, every, then)) = act {
            let mut buf = vec![0_u8; chunk];
            while body.len() < length {
                let n = (length - body.len()).min(chunk);
                stream.read_exact(&mut buf[..n]).await?;
                body.extend_from_slice(&buf[..n]);
                tokio::time::sleep(every).await;
            }
            act = Some(*then);
        } else {
            body.resize(length, 0);
            stream.read_exact(&mut body).await?;
        }
        let act = act.unwrap_or_else(|| fallback(&path, &body));
        match act {
            Act::Reply(status, headers, reply) => {
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", reply.len());
                for (name, value) in headers {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                out.push_str("\r\n");
                stream.write_all(out.as_bytes()).await?;
                stream.write_all(&reply).await?;
            }
            Act::Drop => return Ok(()),
            Act::StallReading | Act::ReadSlowly(..) => return Ok(()),
        }
    }
}

/// A working Feishu: token, prepare (blocks of `block`), parts, finish, upload_all.
fn feishu(block: u64) -> impl Fn(&str, &[u8]) -> Act + Send + Sync + 'static {
    let finished = Arc::new(AtomicUsize::new(0));
    move |path, body| match path {
        TOKEN => json_reply(
            200,
            json!({"code": 0, "msg": "ok", "tenant_access_token": "t-fresh", "expire": 7200}),
        ),
        PREPARE => {
            let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let size = request["size"].as_u64().unwrap_or(0);
            ok(json!({"upload_id": "u-1", "block_size": block, "block_num": size.div_ceil(block)}))
        }
        PART => ok(json!({})),
        FINISH | ALL => {
            let n = finished.fetch_add(1, Ordering::SeqCst);
            ok(json!({"file_token": format!("box-{n}")}))
        }
        _ => json_reply(404, json!({"code": 1061003, "msg": "not found."})),
    }
}

fn prepare_request(client: &Client) -> types::builder::UploadPrepareRequest {
    let _ = client;
    types::UploadPrepareRequest::builder()
        .file_name("a.bin")
        .parent_type("docx_file")
        .parent_node(types::ParentNode::from("doxcn1".to_owned()))
        .size(10)
}

async fn prepare(client: &Client) -> Result<types::UploadPrepareData, ApiError> {
    client
        .upload_prepare()
        .body(prepare_request(client))
        .send()
        .await
        .into_data()
}

// ---- Shared set-up: a fixed-token uploader with quick retries, and small inputs ----

/// Retries quick enough for a test, and few enough that a fault that never clears fails it.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

/// An uploader for the scripted server at `base_url`: a fixed token (the scripted server accepts
/// any), no client-side rate limit, [`fast_retries`]; `configure` adds what a test needs.
fn fast_uploader(base_url: &str, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    upload_support::scripted_uploader(base_url, fast_retries(), configure)
}

/// Five bytes from a stream: small enough for `upload_all` whatever the uploader's threshold.
fn hello() -> UploadRequest {
    UploadRequest::reader(&b"hello"[..], 5, "a.txt", "docx_file", "doxcn1")
}

/// A 10-byte file of seeded random bytes in a fresh temporary directory (kept alive by the
/// returned guard).
fn ten_byte_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = upload_support::random_file(dir.path(), "f.bin", 10, 1);
    (dir, file)
}

// ---- Failures that are not Feishu JSON keep their status and are retried ----

#[tokio::test]
async fn non_json_failures_keep_status_headers_and_body_and_are_retryable() {
    let server = Scripted::start(feishu(4)).await;
    server
        .then(
            PREPARE,
            with_header(raw(429, None, ""), "x-ogw-ratelimit-reset", "2"),
        )
        .then(
            PREPARE,
            with_header(
                raw(
                    503,
                    Some("text/html"),
                    "<html><body>503 Service Unavailable</body></html>",
                ),
                "x-tt-logid",
                "log-503",
            ),
        )
        .then(PREPARE, raw(500, Some("text/plain"), "upstream exploded"))
        .then(PREPARE, raw(502, Some("text/html"), "<html>bad gateway</html>"));
    let client = server.client();
    for (status, body_part) in [
        (429, ""),
        (503, "503 Service Unavailable"),
        (500, "exploded"),
        (502, "bad gateway"),
    ] {
        let error = prepare(&client).await.expect_err("a failure");
        let ApiError::Http {
            status: got, body, ..
        } = &error
        else {
            panic!("expected ApiError::Http for {status}, got {error:?}");
        };
        assert_eq!(got.as_u16(), status, "{error}");
        assert!(body.contains(body_part), "{error}");
        assert!(
            error.is_retryable(),
            "HTTP {status} is retried whatever its body: {error}"
        );
        match status {
            429 => assert_eq!(error.retry_after(), Some(Duration::from_secs(2))),
            503 => assert_eq!(error.log_id(), Some("log-503")),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_uploader_retries_an_html_503_and_an_empty_429() {
    let server = Scripted::start(feishu(4)).await;
    server
        .then(ALL, raw(503, Some("text/html"), "<html>maintenance</html>"))
        .then(ALL, raw(429, None, ""));
    let uploader = fast_uploader(&server.base_url, |b| b);
    let outcome = uploader.upload(hello()).await.expect("retried into success");
    assert_eq!(outcome.retries, 2);
    assert_eq!(server.hits(ALL), 3);
}

// ---- A Feishu failure never passes for success ----

#[tokio::test]
async fn a_202_envelope_keeps_its_code() {
    let server = Scripted::start(feishu(4)).await;
    server.then(
        PREPARE,
        json_reply(202, json!({"code": 1062004, "msg": "cover generating."})),
    );
    let error = prepare(&server.client()).await.expect_err("a failure");
    assert_eq!(error.code(), Some(ErrorCode::CoverGenerating), "{error}");
    assert_eq!(error.status(), Some(StatusCode::ACCEPTED));
}

#[tokio::test]
async fn a_200_with_a_nonzero_code_is_an_error_from_send_itself() {
    let server = Scripted::start(feishu(4)).await;
    server.then(
        PART,
        json_reply(200, json!({"code": 1061045, "msg": "can retry.", "data": {}})),
    );
    let raw_result = server
        .client()
        .upload_part()
        .upload_id("u-1")
        .seq(0)
        .size(5)
        .file(bytes::Bytes::from_static(b"hello"))
        .send()
        .await;
    assert!(raw_result.is_err(), "send() must not return Ok for code 1061045");
    let error = ApiError::from(raw_result.expect_err("an error"));
    assert_eq!(error.code(), Some(ErrorCode::CanRetry), "{error}");
    assert_eq!(error.status(), Some(StatusCode::OK));
}

#[tokio::test]
async fn a_download_answered_with_an_envelope_is_an_error_not_the_file() {
    let server = Scripted::start(feishu(4)).await;
    let path: &'static str = "/open-apis/drive/v1/medias/boxcn1/download";
    server
        .then(
            path,
            json_reply(
                200,
                json!({"code": 1061001, "msg": "internal error.", "data": {}}),
            ),
        )
        .then(
            path,
            json_reply(
                202,
                json!({"code": 1062005, "msg": "file type not support cover."}),
            ),
        )
        .then(
            path,
            raw(
                200,
                Some("application/octet-stream"),
                "{\"code\":1,\"msg\":\"x\"}",
            ),
        );
    let client = server.client();
    let download = || client.download().file_token("boxcn1").send();
    let Err(first) = download().await else {
        panic!("a 200 envelope is an error");
    };
    let first = ApiError::from(first);
    assert_eq!(first.code(), Some(ErrorCode::InternalError), "{first}");
    let Err(second) = download().await else {
        panic!("a 202 envelope is an error");
    };
    let second = ApiError::from(second);
    assert_eq!(
        second.code(),
        Some(ErrorCode::FileTypeNotSupportCover),
        "{second}"
    );
    assert_eq!(second.status(), Some(StatusCode::ACCEPTED));
    // File bytes that merely look like an envelope are the file: the content type decides.
    let file = download().await.expect("octet-stream bytes are the file");
    let bytes = file.into_inner().into_inner();
    use futures::TryStreamExt;
    let chunks: Vec<bytes::Bytes> = bytes.try_collect().await.expect("the body");
    assert_eq!(chunks.concat(), b"{\"code\":1,\"msg\":\"x\"}");
}

// ---- Diagnostics ----

#[tokio::test]
async fn diagnostics_are_exposed_and_the_message_printed_once() {
    let server = Scripted::start(feishu(4)).await;
    server
        .then(
            PREPARE,
            json_reply(
                400,
                json!({
                    "code": 99992402,
                    "msg": "field validation failed",
                    "error": {
                        "log_id": "202511251234ABCD",
                        "troubleshooter": "https://open.feishu.cn/search?log_id=202511251234ABCD",
                        "field_violations": [{"field": "parent_type", "description": "不支持的类型"}]
                    }
                }),
            ),
        )
        .then(
            PREPARE,
            with_header(
                json_reply(400, json!({"code": 1061002, "msg": "params error."})),
                "X-Tt-Logid",
                "header-log-id",
            ),
        )
        .then(
            PREPARE,
            with_header(
                json_reply(503, json!({"code": 1061001, "msg": "internal error."})),
                "X-Tt-Logid",
                "log-503",
            ),
        );
    let client = server.client();
    let error = prepare(&client).await.expect_err("a failure");
    assert_eq!(error.log_id(), Some("202511251234ABCD"));
    assert_eq!(
        error.troubleshooter(),
        Some("https://open.feishu.cn/search?log_id=202511251234ABCD")
    );
    assert_eq!(error.field_violations().len(), 1);
    assert_eq!(error.field_violations()[0].field, "parent_type");
    assert_eq!(
        error.field_violations()[0].description.as_deref(),
        Some("不支持的类型")
    );
    let text = error.to_string();
    assert!(text.contains("log id 202511251234ABCD"), "{text}");
    assert_eq!(text.matches("field validation failed").count(), 1, "{text}");

    let error = prepare(&client).await.expect_err("a failure");
    assert_eq!(
        error.log_id(),
        Some("header-log-id"),
        "the header is the fallback"
    );
    let text = error.to_string();
    assert_eq!(
        text.matches("params error").count(),
        1,
        "the message once: {text}"
    );

    // An envelope with a status the spec does not document keeps its code and log id.
    let error = prepare(&client).await.expect_err("a failure");
    assert_eq!(error.code(), Some(ErrorCode::InternalError), "{error}");
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.log_id(), Some("log-503"));
}

// ---- Timeouts that follow progress ----

#[tokio::test]
async fn a_stalled_upload_fails_typed_after_the_stall_timeout() {
    let server = Scripted::start(feishu(4)).await;
    server.then(PART, Act::StallReading);
    let client = Client::builder(&server.base_url)
        .access_token("t-test")
        .stall_timeout(Duration::from_millis(500))
        .build()
        .expect("a client");
    // 32 MiB: more than loopback's socket buffers, so the stall shows on the sending side.
    let block = bytes::Bytes::from(vec![7_u8; 32 * 1024 * 1024]);
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        client
            .upload_part()
            .upload_id("u-1")
            .seq(0)
            .size(block.len())
            .file(block)
            .send(),
    )
    .await
    .expect("the stall timeout ends the request, not the test's bound");
    let error = ApiError::from(result.expect_err("a stall"));
    assert!(matches!(error, ApiError::Stalled { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_but_moving_upload_is_never_cut_off() {
    let server = Scripted::start(feishu(4)).await;
    // 12 MiB read at 256 KiB every 100 ms: 48 pauses, at least 4.8 s in all (each pause is a
    // sleep of at least 100 ms), over the stall timeout of 3 s, while a single pause would have
    // to stretch 30-fold on a loaded machine to reach it.
    server.then(
        PART,
        Act::ReadSlowly(256 * 1024, Duration::from_millis(100), Box::new(ok(json!({})))),
    );
    let stall = Duration::from_secs(3);
    let client = Client::builder(&server.base_url)
        .access_token("t-test")
        .stall_timeout(stall)
        .build()
        .expect("a client");
    let block = bytes::Bytes::from(vec![7_u8; 12 * 1024 * 1024]);
    let started = std::time::Instant::now();
    client
        .upload_part()
        .upload_id("u-1")
        .seq(0)
        .size(block.len())
        .file(block)
        .send()
        .await
        .checked()
        .expect("a slow upload that keeps moving completes");
    assert!(
        started.elapsed() > stall,
        "the upload took longer than the stall timeout, so only progress kept it alive"
    );
}

// ---- Tokens ----

#[tokio::test]
async fn transient_token_failures_are_retried_even_on_the_first_fetch() {
    let server = Scripted::start(feishu(4)).await;
    server
        .then(TOKEN, raw(503, Some("text/html"), "<html>down</html>"))
        .then(
            TOKEN,
            json_reply(200, json!({"code": 1061045, "msg": "can retry."})),
        )
        .then(TOKEN, raw(502, None, ""));
    let credentials = AppCredentials::new(&server.base_url, "cli_app", "secret").retry_policy(fast_retries());
    let token = credentials.token().await.expect("retried into a token");
    assert_eq!(token.expose(), "t-fresh");
    assert_eq!(server.hits(TOKEN), 4);
}

#[tokio::test]
async fn a_refusal_of_the_credentials_is_final_and_typed() {
    let server = Scripted::start(feishu(4)).await;
    server.then(
        TOKEN,
        json_reply(400, json!({"code": 10014, "msg": "app secret invalid"})),
    );
    let uploader = fast_uploader(&server.base_url, |b| {
        b.token_source(AppCredentials::new(&server.base_url, "cli_app", "wrong").retry_policy(fast_retries()))
    });
    let result = uploader.upload(hello()).await;
    match result {
        Err(UploadError::Auth(AuthError::Refused { code, .. })) => assert_eq!(code.code(), 10014),
        other => panic!("expected a typed refusal, got {other:?}"),
    }
    assert_eq!(server.hits(TOKEN), 1, "a refusal is not retried");
    assert_eq!(server.hits(ALL), 0);
}

/// A token endpoint that stays down: the token source retries it under its own policy, and the
/// request that needed the token is not retried on top. A raw call under the client's retry loop
/// did: 5 token requests for each of its 5 attempts here, and with the default policies 6 for each
/// of 9, two and a half minutes of silence before the error.
#[tokio::test]
async fn a_token_endpoint_that_stays_down_is_retried_by_the_token_source_alone() {
    let server = Scripted::start(feishu(4)).await;
    for _ in 0..40 {
        server.then(TOKEN, raw(503, Some("text/html"), "<html>down</html>"));
    }
    let uploader = fast_uploader(&server.base_url, |b| {
        b.token_source(
            AppCredentials::new(&server.base_url, "cli_app", "secret").retry_policy(fast_retries()),
        )
    });
    let result = uploader.upload(hello()).await;
    let auth = match &result {
        Err(UploadError::Auth(auth)) => auth,
        Err(UploadError::Api {
            source: ApiError::Auth(auth),
            ..
        }) => auth,
        other => panic!("expected a typed token failure, got {other:?}"),
    };
    assert!(matches!(auth, AuthError::Unavailable { .. }), "{auth:?}");
    let attempts = 1 + fast_retries().max_retries;
    assert_eq!(server.hits(TOKEN), attempts, "the token source's attempts, once");
    // A raw operation under the client's retry loop (as a batch lists its folder) alike.
    let raw = uploader.retrying(true, || prepare(&uploader)).await;
    assert!(
        matches!(raw, Err(ApiError::Auth(AuthError::Unavailable { .. }))),
        "{raw:?}"
    );
    assert_eq!(server.hits(TOKEN), 2 * attempts, "once more, not once per retry");
    assert_eq!(server.hits(ALL) + server.hits(PREPARE), 0);
}

// A failed refresh keeping the cached token, and when it is tried again: client_clock.rs, on
// tokio's paused clock.

#[tokio::test]
async fn a_token_failure_inside_a_request_is_typed_not_text() {
    let server = Scripted::start(feishu(4)).await;
    server.then(
        TOKEN,
        json_reply(
            400,
            json!({"code": 99991543, "msg": "app_id or app_secret wrong"}),
        ),
    );
    let client = Client::builder(&server.base_url)
        .app_credentials("cli_app", "bad")
        .build()
        .expect("a client");
    let error = prepare(&client).await.expect_err("no token");
    match &error {
        ApiError::Auth(AuthError::Refused { code, .. }) => assert_eq!(code.code(), 99991543),
        other => panic!("expected ApiError::Auth, got {other:?}"),
    }
    assert!(!error.is_retryable());
}

// ---- Lost answers: exactly once, or a reported duplicate ----

fn chunked_uploader(server: &Scripted, block: u64) -> Client {
    fast_uploader(&server.base_url, |b| b.upload_all_max(block))
}

#[tokio::test]
async fn a_lost_finish_answer_then_1061021_is_reported_as_a_possible_duplicate() {
    let server = Scripted::start(feishu(4)).await;
    server.then(FINISH, Act::Drop).then(
        FINISH,
        json_reply(400, json!({"code": 1061021, "msg": "upload id expire."})),
    );
    let (dir, file) = ten_byte_file();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let outcome = chunked_uploader(&server, 4)
        .upload(
            UploadRequest::file(&file, "docx_file", "doxcn1")
                .journal(dir.path().join("f.journal"))
                .progress(move |e| seen.lock().expect("events").push(e.clone())),
        )
        .await
        .expect("uploaded again");
    assert!(outcome.possible_duplicate, "{outcome:?}");
    assert!(
        events
            .lock()
            .expect("events")
            .iter()
            .any(|e| matches!(e, ProgressEvent::PossibleDuplicate { .. })),
        "a progress event says so"
    );
    assert_eq!(server.hits(PREPARE), 2, "the upload was made again");
}

/// 1062010 ("block missing") after a finish whose answer was lost: the finish may have been
/// handled and its blocks consumed, so sending every block again and finishing may make a
/// second media, which is reported (or refused).
#[tokio::test]
async fn a_lost_finish_answer_then_1062010_is_reported_as_a_possible_duplicate() {
    let missing = || {
        json_reply(
            400,
            json!({"code": 1062010, "msg": "block missing, please upload all blocks."}),
        )
    };
    let server = Scripted::start(feishu(4)).await;
    server.then(FINISH, Act::Drop).then(FINISH, missing());
    let (_dir, file) = ten_byte_file();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let outcome = chunked_uploader(&server, 4)
        .upload(
            UploadRequest::file(&file, "docx_file", "doxcn1")
                .progress(move |e| seen.lock().expect("events").push(e.clone())),
        )
        .await
        .expect("every block sent again, then finished");
    assert!(outcome.possible_duplicate, "{outcome:?}");
    assert_eq!(outcome.possible_duplicates, 1);
    assert!(
        events
            .lock()
            .expect("events")
            .iter()
            .any(|e| matches!(e, ProgressEvent::PossibleDuplicate { reason } if reason.contains("1062010"))),
        "a progress event says so, and why"
    );
    assert_eq!(server.hits(PART), 6, "the 3 blocks went twice");
    assert_eq!(server.hits(FINISH), 3);
    assert_eq!(server.hits(PREPARE), 1, "the same upload id");

    // Asked to refuse duplicates, the uploader stops there instead.
    let server = Scripted::start(feishu(4)).await;
    server.then(FINISH, Act::Drop).then(FINISH, missing());
    let result = chunked_uploader(&server, 4)
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").refuse_duplicates())
        .await;
    assert!(
        matches!(result, Err(UploadError::AmbiguousFinish { .. })),
        "{result:?}"
    );
    assert_eq!(server.hits(PART), 3, "not sent again");
}

#[tokio::test]
async fn refuse_duplicates_stops_instead_of_uploading_again() {
    let server = Scripted::start(feishu(4)).await;
    server.then(FINISH, Act::Drop).then(
        FINISH,
        json_reply(400, json!({"code": 1061021, "msg": "upload id expire."})),
    );
    let (_dir, file) = ten_byte_file();
    let result = chunked_uploader(&server, 4)
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").refuse_duplicates())
        .await;
    assert!(
        matches!(result, Err(UploadError::AmbiguousFinish { .. })),
        "{result:?}"
    );
    assert_eq!(server.hits(PREPARE), 1, "not uploaded again");
}

#[tokio::test]
async fn a_clean_1061021_at_finish_restarts_without_a_duplicate() {
    let server = Scripted::start(feishu(4)).await;
    server.then(
        FINISH,
        json_reply(400, json!({"code": 1061021, "msg": "upload id expire."})),
    );
    let (_dir, file) = ten_byte_file();
    let outcome = chunked_uploader(&server, 4)
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("restarted");
    assert!(
        !outcome.possible_duplicate,
        "an answered 1061021 is an expired id: {outcome:?}"
    );
    assert_eq!(outcome.restarts, 1);
}

#[tokio::test]
async fn a_lost_upload_all_answer_is_reported_when_the_retry_succeeds() {
    let server = Scripted::start(feishu(4)).await;
    server.then(ALL, Act::Drop);
    let uploader = fast_uploader(&server.base_url, |b| b);
    let outcome = uploader.upload(hello()).await.expect("retried");
    assert!(outcome.possible_duplicate, "{outcome:?}");
    assert_eq!(server.hits(ALL), 2);
}

// ---- Rate limits pause every worker ----

/// Counted, not timed: the parts that reach the server while the budget holds every worker
/// (from the refusal's report to its reset) can only be those already granted before it, at
/// most one per other worker. Arrivals are stamped by the server, so a loaded machine only makes
/// fewer of them fall in the window.
#[tokio::test]
async fn a_429_with_a_reset_pauses_every_worker() {
    use feishu_drive::budget::{Budget, BudgetConfig, BudgetEvent};
    const RESET_SECS: u64 = 3;
    let server = Scripted::start(feishu(4)).await;
    server.then(
        PART,
        with_header(
            json_reply(
                429,
                json!({"code": 99991400, "msg": "request trigger frequency limit"}),
            ),
            "x-ogw-ratelimit-reset",
            &RESET_SECS.to_string(),
        ),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    // 64 blocks of 4 bytes, 4 workers.
    let file = upload_support::random_file(dir.path(), "f.bin", 256, 3);
    let throttled_at = Arc::new(Mutex::new(None));
    let seen = throttled_at.clone();
    let budget = Budget::in_process(
        BudgetConfig::new("cli_test")
            .requests_per_second(10_000)
            .spacing_margin(Duration::ZERO)
            .daily_quota(None)
            .on_event(move |event| {
                if let BudgetEvent::Throttled { reset: Some(_), .. } = event {
                    seen.lock()
                        .expect("throttled")
                        .get_or_insert(std::time::Instant::now());
                }
            }),
    );
    let uploader = fast_uploader(&server.base_url, |b| {
        b.upload_all_max(4).concurrency(4).budget(budget)
    });
    let started = std::time::Instant::now();
    uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("the upload completes");
    let at = throttled_at
        .lock()
        .expect("throttled")
        .expect("the refusal's reset reached the budget");
    // A second short of the reset: the event is recorded just after the pause begins.
    let window = at..at + Duration::from_secs(RESET_SECS - 1);
    let during = server
        .arrivals(PART)
        .into_iter()
        .filter(|t| window.contains(t))
        .count();
    assert!(during <= 3, "{during} parts reached the server during the pause");
    assert!(
        started.elapsed() >= Duration::from_secs(RESET_SECS),
        "the reset was honoured"
    );
    assert_eq!(server.hits(PART), 65, "64 blocks and the refused one");
}

// ---- Resume verifies what it trusts; the journal is locked and checked ----

#[tokio::test]
async fn a_confirmed_block_changed_with_its_mtime_restored_is_sent_again() {
    use upload_support::{BLOCK, assert_round_trip, random_file, server, uploader};
    let server = server(feishu_drive_server::Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    // 40 blocks (2.5 MiB): block 20 lies between the first and the last MiB, which the journal's
    // identity samples.
    let file = random_file(dir.path(), "f.bin", 40 * BLOCK, 8);
    let journal = dir.path().join("f.journal");
    let cancel = tokio_util::sync::CancellationToken::new();
    let trigger = cancel.clone();
    let first = UploadRequest::file(&file, "docx_file", "doxcn1")
        .journal(&journal)
        .cancel_on(cancel)
        .progress(move |event| {
            if let ProgressEvent::BlockConfirmed {
                confirmed_blocks: 25, ..
            } = event
            {
                trigger.cancel();
            }
        });
    assert!(matches!(
        uploader.upload(first).await,
        Err(UploadError::Cancelled)
    ));

    // Change one byte in the middle of block 20 (confirmed) and restore the modification time,
    // as `cp -p`, `rsync -t` or `touch -r` do: size, mtime and the edges all still match.
    let mtime = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    let mut bytes = std::fs::read(&file).expect("read");
    let at = usize::try_from(20 * BLOCK + BLOCK / 2).expect("fits");
    bytes[at] ^= 0xff;
    std::fs::write(&file, &bytes).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(mtime))
        .expect("restoring the mtime");

    let outcome = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
        .await
        .expect("the resumed upload");
    assert!(
        outcome.blocks_verified >= 25,
        "the journal was resumed: {outcome:?}"
    );
    assert_eq!(outcome.blocks_changed, 1, "{outcome:?}");
    assert_round_trip(&uploader, &outcome.file_token, &file).await;
}

#[tokio::test]
async fn a_second_run_on_a_locked_journal_gets_a_typed_error() {
    let server = Scripted::start(feishu(4)).await;
    let (dir, file) = ten_byte_file();
    let journal = dir.path().join("f.journal");
    let holder = std::fs::File::create(dir.path().join("f.journal.lock")).expect("lock file");
    holder.lock().expect("the test holds the lock");
    let result = chunked_uploader(&server, 4)
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
        .await;
    assert!(
        matches!(result, Err(UploadError::JournalLocked { .. })),
        "{result:?}"
    );
    assert_eq!(server.hits(PREPARE), 0);
    holder.unlock().expect("unlock");
    chunked_uploader(&server, 4)
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
        .await
        .expect("once the lock is free, the upload runs");
}

#[tokio::test]
async fn an_empty_or_corrupt_journal_gets_a_typed_error_naming_it() {
    let server = Scripted::start(feishu(4)).await;
    let (dir, file) = ten_byte_file();
    let journal = dir.path().join("f.journal");
    for content in ["", "{\"version\": 2, \"upload_id\":", "[1, 2, 3]"] {
        std::fs::write(&journal, content).expect("write");
        let result = chunked_uploader(&server, 4)
            .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
            .await;
        match result {
            Err(error @ UploadError::JournalCorrupt { .. }) => {
                let text = error.to_string();
                assert!(text.contains("f.journal") && text.contains("delete it"), "{text}");
            }
            other => panic!("expected JournalCorrupt for {content:?}, got {other:?}"),
        }
    }
    assert_eq!(server.hits(PREPARE), 0);
}

// ---- A plan the server dictates is checked before any part is sent ----

/// A sparse file of `len` bytes (no disk used): the plan is refused before anything is read.
fn sparse_file(len: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.iso");
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(len))
        .expect("a sparse file");
    (dir, path)
}

#[tokio::test]
async fn one_byte_blocks_from_the_server_are_refused_before_any_part() {
    // 40 MiB in 1-byte blocks: 41,943,040 parts, consistent with the size, and absurd.
    let server = Scripted::start(feishu(1)).await;
    let client = fast_uploader(&server.base_url, |b| b.upload_all_max(0));
    let (_dir, path) = sparse_file(40 * 1024 * 1024);
    let error = client
        .upload(UploadRequest::file(&path, "docx_file", "doxcn1"))
        .await
        .expect_err("the plan is refused");
    assert!(matches!(error, UploadError::Protocol(_)), "{error}");
    assert!(error.to_string().contains("upload_part calls a day"), "{error}");
    assert_eq!(server.hits(PART), 0, "no part sent");
}

#[tokio::test]
async fn blocks_larger_than_the_documented_block_are_refused_before_any_part() {
    // 64 MiB blocks would hold 16 times the memory the uploader's bound assumes.
    let server = Scripted::start(feishu(64 * 1024 * 1024)).await;
    let client = fast_uploader(&server.base_url, |b| b.upload_all_max(0));
    let (_dir, path) = sparse_file(100 * 1024 * 1024);
    let error = client
        .upload(UploadRequest::file(&path, "docx_file", "doxcn1"))
        .await
        .expect_err("the plan is refused");
    assert!(
        error.to_string().contains("documented block is 4194304"),
        "{error}"
    );
    assert_eq!(server.hits(PART), 0, "no part sent");
}

/// A lost `upload_all` answer with duplicates refused: the attempt may have made the media, so
/// it is not sent again (the retry loop's rule for a request that is not idempotent).
#[tokio::test]
async fn a_lost_upload_all_answer_is_not_sent_again_when_duplicates_are_refused() {
    let server = Scripted::start(feishu(4)).await;
    server.then(ALL, Act::Drop);
    let uploader = fast_uploader(&server.base_url, |b| b);
    let result = uploader.upload(hello().refuse_duplicates()).await;
    assert!(
        matches!(result, Err(UploadError::AmbiguousFinish { .. })),
        "an ambiguous upload_all is final, and says so: {result:?}"
    );
    assert_eq!(server.hits(ALL), 1, "sent once");
}

/// The retry policy's count is the whole story: `max_retries` failures in a row are retried and
/// the next attempt's success returned; one more failure is final, after exactly
/// `max_retries + 1` attempts.
#[tokio::test]
async fn a_fault_that_never_clears_fails_after_max_retries_plus_one_attempts() {
    let retries = fast_retries().max_retries;
    // A Feishu envelope, so the failure is transient and not ambiguous: the server said it failed.
    let unavailable = || json_reply(500, json!({"code": 1061001, "msg": "internal error."}));
    for (failures, succeeds) in [(retries, true), (retries + 1, false)] {
        let server = Scripted::start(feishu(4)).await;
        for _ in 0..failures {
            server.then(PREPARE, unavailable());
        }
        let client = fast_uploader(&server.base_url, |b| b);
        let result = client.retrying(true, || prepare(&client)).await;
        assert_eq!(result.is_ok(), succeeds, "{failures} failures: {result:?}");
        assert_eq!(server.hits(PREPARE), retries + 1, "{failures} failures");
    }
}

/// A journaled `upload_all` that fails with nothing ambiguous leaves no journal; one that may
/// have made the media keeps it, and so does every later failure of that file until one succeeds
/// (the next run must still say a media may exist).
#[tokio::test]
async fn a_failed_upload_all_keeps_its_journal_only_while_a_media_may_exist() {
    let refused = || json_reply(400, json!({"code": 1061002, "msg": "params error."}));
    let (dir, file) = ten_byte_file();
    let journal = dir.path().join("f.journal");
    let request = || UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal);

    let server = Scripted::start(feishu(4)).await;
    server.then(ALL, refused());
    let uploader = fast_uploader(&server.base_url, |b| b);
    uploader.upload(request()).await.expect_err("refused");
    assert!(!journal.exists(), "nothing was made: the journal is gone");

    server.then(ALL, Act::Drop).then(ALL, refused());
    uploader
        .upload(request().refuse_duplicates())
        .await
        .expect_err("an ambiguous attempt, not sent again");
    assert!(journal.exists(), "a media may exist: the journal stays");
    uploader.upload(request()).await.expect_err("refused");
    assert!(
        journal.exists(),
        "an earlier run sent one: the journal still stays"
    );
}

/// A streamed upload cannot send its blocks again: an expired id (1061021) or missing blocks
/// (1062010) at the finish end it with `CannotRewind`, naming which, not the raw API error.
#[tokio::test]
async fn a_streamed_upload_refused_at_the_finish_cannot_rewind() {
    for (code, msg, why) in [
        (1061021, "upload id expire.", "the upload id expired"),
        (
            1062010,
            "block missing, please upload all blocks.",
            "blocks were missing at finish",
        ),
    ] {
        let server = Scripted::start(feishu(4)).await;
        server.then(FINISH, json_reply(400, json!({"code": code, "msg": msg})));
        let bytes = b"0123456789";
        let result = chunked_uploader(&server, 4)
            .upload(UploadRequest::reader(
                &bytes[..],
                10,
                "a.bin",
                "docx_file",
                "doxcn1",
            ))
            .await;
        assert!(
            matches!(result, Err(UploadError::CannotRewind(said)) if said == why),
            "{code}: {result:?}"
        );
        assert_eq!(server.hits(PREPARE), 1, "{code}: not prepared again");
    }
}
