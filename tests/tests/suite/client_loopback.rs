//! The generated client against a loopback HTTP server inside the test: the exact bytes it sends,
//! and how it turns each kind of answer into a result.
//!
//! The server reads the raw request from a `TcpListener` (no HTTP library between the client and
//! the assertions), records it, and answers with a canned response. Multipart bodies are parsed
//! by hand, strictly: anything but a well-formed body fails the test.
//!
//! Why this file is long: one in-test HTTP server and the byte-level checks of what the generated client sends and how it reads each kind of answer; the 13 tests share that server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use feishu_drive::{ApiError, Client, ErrorCode, FeishuResult, types};
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "t-test";
const PREPARE_PATH: &str = "/open-apis/drive/v1/medias/upload_prepare";
const PART_PATH: &str = "/open-apis/drive/v1/medias/upload_part";

// ---- The loopback server ----

/// One request as it arrived.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// Path and query, as sent.
    target: String,
    /// Header names lower-cased, in arrival order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    /// Every value of a header.
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of a header; fails if it is absent or repeated.
    fn header(&self, name: &str) -> &str {
        match self.all(name).as_slice() {
            [value] => value,
            values => panic!(
                "expected one `{name}` header, got {values:?} in {:?}",
                self.headers
            ),
        }
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".to_owned())],
            body: body.to_string().into_bytes(),
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

struct Loopback {
    base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Loopback {
    /// Serves `reply` to every request.
    async fn start(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("a local address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(reply);
        let task = tokio::spawn({
            let (requests, connections) = (requests.clone(), connections.clone());
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (requests, reply) = (requests.clone(), reply.clone());
                    tokio::spawn(async move {
                        if let Err(e) = handle(stream, &*reply, &requests).await {
                            eprintln!("loopback server: {e}");
                        }
                    });
                }
            }
        });
        Self {
            base_url,
            requests,
            connections,
            task,
        }
    }

    fn client(&self) -> Client {
        Client::builder(&self.base_url)
            .access_token(TOKEN)
            .build()
            .expect("a client")
    }

    /// The only request received; fails if there were more or none.
    fn only_request(&self) -> Recorded {
        let requests = self.requests.lock().expect("the request log");
        match requests.as_slice() {
            [one] => one.clone(),
            other => panic!("expected exactly one request, got {}", other.len()),
        }
    }

    fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    mut stream: TcpStream,
    reply: &(dyn Fn(&Recorded) -> Reply + Send + Sync),
    requests: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()> {
    let request = tokio::time::timeout(Duration::from_secs(10), read_request(&mut stream))
        .await
        .map_err(|_| std::io::Error::other("timed out reading the request"))??;
    let answer = reply(&request);
    requests.lock().expect("the request log").push(request);
    let mut head = format!("HTTP/1.1 {} Loopback\r\n", answer.status);
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        answer.body.len()
    ));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&answer.body).await?;
    stream.shutdown().await
}

/// Reads one HTTP/1.1 request: head, then a body of `Content-Length` bytes or chunked.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Recorded> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        read_more(stream, &mut buffer).await?;
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).map_err(std::io::Error::other)?;
    let mut rest = buffer[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let value = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let body = if let Some(length) = value("content-length") {
        let length: usize = length.parse().map_err(std::io::Error::other)?;
        while rest.len() < length {
            read_more(stream, &mut rest).await?;
        }
        rest.truncate(length);
        rest
    } else if value("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream, rest).await?
    } else {
        Vec::new()
    };
    Ok(Recorded {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    })
}

async fn read_chunked(stream: &mut TcpStream, mut buffer: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = find(&buffer, b"\r\n") {
                break at;
            }
            read_more(stream, &mut buffer).await?;
        };
        let size_text = String::from_utf8_lossy(&buffer[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(std::io::Error::other)?;
        while buffer.len() < line_end + 2 + size + 2 {
            read_more(stream, &mut buffer).await?;
        }
        body.extend_from_slice(&buffer[line_end + 2..line_end + 2 + size]);
        buffer.drain(..line_end + 2 + size + 2);
        if size == 0 {
            return Ok(body);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the client closed the connection mid-request",
        ));
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---- A strict multipart/form-data parser ----

#[derive(Debug)]
struct FormPart {
    /// Header names lower-cased, in order.
    headers: Vec<(String, String)>,
    data: Vec<u8>,
}

impl FormPart {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `name` of `Content-Disposition: form-data; name="…"`.
    fn name(&self) -> &str {
        let disposition = self
            .header("content-disposition")
            .expect("a Content-Disposition header");
        let rest = disposition
            .strip_prefix("form-data; name=\"")
            .unwrap_or_else(|| panic!("not a form-data disposition: {disposition}"));
        &rest[..rest.find('"').expect("a closing quote")]
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.data).expect("a text part is UTF-8")
    }
}

/// Splits a `multipart/form-data` body into its parts; panics on anything malformed.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<FormPart> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not a multipart/form-data content type: {content_type}"));
    let opening = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}");
    assert!(
        body.starts_with(opening.as_bytes()),
        "the body does not open with the boundary"
    );
    let mut rest = &body[opening.len()..];
    let mut parts = Vec::new();
    loop {
        let end = find(rest, delimiter.as_bytes()).expect("every part is closed by a delimiter");
        let part = &rest[..end];
        let head_end = find(part, b"\r\n\r\n").expect("every part has a header block");
        let headers = std::str::from_utf8(&part[..head_end])
            .expect("part headers are text")
            .split("\r\n")
            .map(|line| {
                let (name, value) = line.split_once(": ").expect("a `name: value` part header");
                (name.to_ascii_lowercase(), value.to_owned())
            })
            .collect();
        parts.push(FormPart {
            headers,
            data: part[head_end + 4..].to_vec(),
        });
        rest = &rest[end + delimiter.len()..];
        if rest == b"--\r\n" {
            return parts;
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .expect("a delimiter is followed by CRLF or `--`");
    }
}

// ---- Fixtures ----

/// A block with every byte value, CR LF and dashes, longer than one socket read.
fn block() -> Bytes {
    let mut data: Vec<u8> = (0..=255u8).collect();
    data.extend_from_slice(b"\r\n--\r\n\r\n--");
    data.extend((0..70_000u32).map(|i| (i.wrapping_mul(31) % 251) as u8));
    Bytes::from(data)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn prepare_request() -> types::builder::UploadPrepareRequest {
    types::UploadPrepareRequest::builder()
        .file_name("demo.txt")
        .parent_type("docx_file")
        .parent_node(types::ParentNode::from("doxcnXgNGAtaAraIRVeCfmabcef".to_owned()))
        .size(70_272)
}

fn ok_prepare() -> Reply {
    Reply::json(
        200,
        json!({"code": 0, "msg": "success", "data": {
            "upload_id": "7111211691345512356", "block_size": 4194304, "block_num": 1
        }}),
    )
}

fn ok_part() -> Reply {
    Reply::json(200, json!({"code": 0, "msg": "success", "data": {}}))
}

fn can_retry() -> Reply {
    Reply::json(200, json!({"code": 1061045, "msg": "can retry.", "data": {}}))
}

/// Sends a complete, valid upload_part.
async fn send_part(client: &Client) -> Result<(), ApiError> {
    let data = block();
    client
        .upload_part()
        .upload_id("7111211691345512356")
        .seq(0)
        .size(data.len())
        .checksum(adler32(&data).to_string())
        .file(data)
        .send()
        .await
        .checked()
        .map(drop)
}

/// Asserts `ApiError::Api` with this code and status, and returns the error.
#[track_caller]
fn assert_api_error(
    result: Result<impl std::fmt::Debug, ApiError>,
    code: ErrorCode,
    status: u16,
) -> ApiError {
    match result {
        Err(error @ ApiError::Api { .. }) => {
            let ApiError::Api {
                code: got,
                status: got_status,
                ..
            } = &error
            else {
                unreachable!()
            };
            assert_eq!(*got, code, "{error}");
            assert_eq!(
                *got_status,
                StatusCode::from_u16(status).expect("a status"),
                "{error}"
            );
            error
        }
        other => panic!("expected ApiError::Api {{ code: {code:?}, status: {status} }}, got {other:?}"),
    }
}

// ---- What the client sends ----

#[tokio::test]
async fn upload_prepare_sends_exactly_the_json_body_and_the_bearer_token() {
    let server = Loopback::start(|_| ok_prepare()).await;
    let data = server
        .client()
        .upload_prepare()
        .body(prepare_request())
        .send()
        .await
        .into_data()
        .expect("code 0 is a success");
    assert_eq!(*data.upload_id, "7111211691345512356");
    assert_eq!(data.block_size.get(), 4194304);
    assert_eq!(data.block_num, 1);

    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, PREPARE_PATH);
    assert_eq!(request.header("authorization"), "Bearer t-test");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("content-length"), request.body.len().to_string());
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
    // Every field, nothing else: the unset optional `extra` is left out, not sent as null.
    assert_eq!(
        body,
        json!({
            "file_name": "demo.txt",
            "parent_type": "docx_file",
            "parent_node": "doxcnXgNGAtaAraIRVeCfmabcef",
            "size": 70272
        })
    );
}

#[tokio::test]
async fn upload_prepare_sends_extra_when_set() {
    let server = Loopback::start(|_| ok_prepare()).await;
    let extra = r#"{"drive_route_token":"doxcnXgNGAtaAraIRVeCfmabcef"}"#;
    server
        .client()
        .upload_prepare()
        .body(prepare_request().extra(Some(types::Extra(extra.to_owned()))))
        .send()
        .await
        .checked()
        .expect("code 0 is a success");
    let body: Value = serde_json::from_slice(&server.only_request().body).expect("a JSON body");
    assert_eq!(body["extra"], json!(extra));
    assert_eq!(body.as_object().map(|o| o.len()), Some(5));
}

#[tokio::test]
async fn upload_part_sends_exactly_the_multipart_form() {
    let server = Loopback::start(|_| ok_part()).await;
    let data = block();
    let checksum = adler32(&data).to_string();
    let response = server
        .client()
        .upload_part()
        .upload_id("7111211691345512356")
        .seq(3)
        .size(data.len())
        .checksum(checksum.clone())
        .file(data.clone())
        .send()
        .await
        .checked()
        .expect("code 0 is a success");
    assert_eq!(response.status(), StatusCode::OK);

    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, PART_PATH);
    assert_eq!(request.header("authorization"), "Bearer t-test");
    // A Content-Length, not chunked: the whole form's length is known up front.
    assert_eq!(request.header("content-length"), request.body.len().to_string());
    assert!(
        request.all("transfer-encoding").is_empty(),
        "{:?}",
        request.headers
    );

    let parts = parse_multipart(request.header("content-type"), &request.body);
    let names: Vec<&str> = parts.iter().map(FormPart::name).collect();
    assert_eq!(names, ["upload_id", "seq", "size", "checksum", "file"]);
    for (part, value) in parts
        .iter()
        .zip(["7111211691345512356", "3", "70266", checksum.as_str()])
    {
        assert_eq!(part.text(), value, "field {}", part.name());
        // A text part carries its disposition and nothing else: no content type, no filename.
        assert_eq!(
            part.headers,
            [(
                "content-disposition".to_owned(),
                format!("form-data; name=\"{}\"", part.name())
            )],
            "field {}",
            part.name()
        );
    }
    let file = &parts[4];
    assert_eq!(file.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        file.header("content-disposition"),
        Some("form-data; name=\"file\"")
    );
    assert_eq!(file.headers.len(), 2, "{:?}", file.headers);
    assert_eq!(file.data.len(), data.len());
    assert!(file.data == data, "the file part's bytes differ from the block");
}

#[tokio::test]
async fn upload_part_without_checksum_sends_no_checksum_part() {
    let server = Loopback::start(|_| ok_part()).await;
    server
        .client()
        .upload_part()
        .upload_id("7111211691345512356")
        .seq(0)
        .size(5)
        .file(Bytes::from_static(b"hello"))
        .send()
        .await
        .checked()
        .expect("code 0 is a success");
    let request = server.only_request();
    let parts = parse_multipart(request.header("content-type"), &request.body);
    let names: Vec<&str> = parts.iter().map(FormPart::name).collect();
    assert_eq!(names, ["upload_id", "seq", "size", "file"]);
    assert_eq!(parts[3].data, b"hello");
}

// ---- What the client makes of the answer ----

#[tokio::test]
async fn can_retry_with_http_200_is_an_error_for_upload_prepare() {
    let server = Loopback::start(|_| can_retry()).await;
    let client = server.client();

    let checked = client
        .upload_prepare()
        .body(prepare_request())
        .send()
        .await
        .checked();
    let error = assert_api_error(checked, ErrorCode::CanRetry, 200);
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), None);
    assert!(
        matches!(&error, ApiError::Api { msg, .. } if msg == "can retry."),
        "{error:?}"
    );

    let data = client
        .upload_prepare()
        .body(prepare_request())
        .send()
        .await
        .into_data();
    let error = assert_api_error(data, ErrorCode::CanRetry, 200);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn can_retry_with_http_200_is_an_error_for_upload_part() {
    let server = Loopback::start(|_| can_retry()).await;
    let client = server.client();

    let error = assert_api_error(send_part(&client).await, ErrorCode::CanRetry, 200);
    assert!(error.is_retryable());

    let data = client
        .upload_part()
        .upload_id("7111211691345512356")
        .seq(0)
        .size(5)
        .file(Bytes::from_static(b"hello"))
        .send()
        .await
        .into_data();
    let error = assert_api_error(data, ErrorCode::CanRetry, 200);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn params_error_with_http_400() {
    let server =
        Loopback::start(|_| Reply::json(400, json!({"code": 1061002, "msg": "params error.", "data": {}})))
            .await;
    let client = server.client();

    let prepared = client
        .upload_prepare()
        .body(prepare_request())
        .send()
        .await
        .into_data();
    let error = assert_api_error(prepared, ErrorCode::ParamsError, 400);
    assert!(!error.is_retryable());
    assert_eq!(error.code(), Some(ErrorCode::ParamsError));
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));

    let error = assert_api_error(send_part(&client).await, ErrorCode::ParamsError, 400);
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn rate_limited_with_http_429_carries_the_reset_time() {
    let server = Loopback::start(|_| {
        Reply::json(
            429,
            json!({"code": 99991400, "msg": "request trigger frequency limit."}),
        )
        .with_header("x-ogw-ratelimit-limit", "5")
        .with_header("x-ogw-ratelimit-reset", "3")
    })
    .await;
    let client = server.client();

    for result in [
        client
            .upload_prepare()
            .body(prepare_request())
            .send()
            .await
            .checked()
            .map(drop),
        send_part(&client).await,
    ] {
        let error = assert_api_error(result, ErrorCode::RateLimited, 429);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn an_unknown_code_keeps_its_value() {
    let server =
        Loopback::start(|_| Reply::json(200, json!({"code": 1234567, "msg": "something new.", "data": {}})))
            .await;
    let client = server.client();
    for result in [
        client
            .upload_prepare()
            .body(prepare_request())
            .send()
            .await
            .checked()
            .map(drop),
        send_part(&client).await,
    ] {
        let error = match result {
            Err(error @ ApiError::Api { .. }) => error,
            other => panic!("expected ApiError::Api, got {other:?}"),
        };
        let code = error.code().expect("a code");
        assert!(matches!(code, ErrorCode::Unknown(_)), "{code:?}");
        assert_eq!(code.code(), 1234567);
        assert!(!code.is_known());
        assert_eq!(error.status(), Some(StatusCode::OK));
        // Nobody documented it, and it came with 200: retrying could repeat a permanent failure.
        assert!(!error.is_retryable());
    }
}

#[tokio::test]
async fn a_missing_required_field_fails_before_anything_is_sent() {
    let server = Loopback::start(|_| ok_part()).await;
    let result = server
        .client()
        .upload_part()
        .upload_id("7111211691345512356")
        .size(5)
        .file(Bytes::from_static(b"hello"))
        .send()
        .await
        .checked();
    match result {
        Err(ApiError::InvalidRequest(message)) => assert_eq!(message, "`seq` is required but was not set"),
        other => panic!("expected ApiError::InvalidRequest, got {other:?}"),
    }

    let result = server.client().upload_prepare().send().await.checked();
    assert!(
        matches!(&result, Err(ApiError::InvalidRequest(m)) if m.contains("file_name")),
        "{result:?}"
    );
    assert_eq!(server.connection_count(), 0, "a request was sent");
}

#[tokio::test]
async fn values_outside_the_spec_fail_before_anything_is_sent() {
    let server = Loopback::start(|_| ok_part()).await;
    let client = server.client();
    let part = || {
        client
            .upload_part()
            .upload_id("7111211691345512356")
            .seq(0)
            .size(5)
            .file(Bytes::from_static(b"hello"))
    };
    let cases = [
        (part().seq(-1), "`seq` must be at least 0, got -1"),
        (part().size(-5), "`size` must be at least 0, got -5"),
        (part().seq(u64::MAX), "conversion to `i64` for seq failed: "),
        (
            part().checksum("abc"),
            "conversion to `Checksum` for checksum failed: ",
        ),
        (
            part().upload_id(""),
            "conversion to `UploadId` for upload_id failed: ",
        ),
    ];
    for (builder, expected) in cases {
        match builder.send().await.checked() {
            Err(ApiError::InvalidRequest(message)) => assert!(message.starts_with(expected), "{message}"),
            other => panic!("expected ApiError::InvalidRequest({expected}…), got {other:?}"),
        }
    }
    assert_eq!(server.connection_count(), 0, "a request was sent");
}

// ---- Download ----

/// Decodes `application/x-www-form-urlencoded` text.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("two hex digits");
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test]
async fn download_returns_exactly_the_bytes() {
    let served = block();
    let server = Loopback::start({
        let served = served.clone();
        move |_| Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/octet-stream".to_owned()),
                (
                    "content-disposition",
                    "attachment; filename=\"demo.bin\"".to_owned(),
                ),
            ],
            body: served.to_vec(),
        }
    })
    .await;
    let extra = r#"{"bitablePerm":{"tableId":"tblXXX"}}"#;
    let response = server
        .client()
        .download()
        .file_token("boxcnrHpsg1QDqXAAAyachabcef")
        .extra(extra)
        .send()
        .await
        .map_err(ApiError::from)
        .expect("a download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-disposition")
            .map(|v| v.as_bytes()),
        Some(&b"attachment; filename=\"demo.bin\""[..])
    );
    let chunks: Vec<Bytes> = response
        .into_inner()
        .into_inner()
        .try_collect()
        .await
        .expect("the body");
    let received = chunks.concat();
    assert_eq!(received.len(), served.len());
    assert!(
        received == served,
        "the downloaded bytes differ from the served ones"
    );

    let request = server.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path(),
        "/open-apis/drive/v1/medias/boxcnrHpsg1QDqXAAAyachabcef/download"
    );
    assert_eq!(request.header("authorization"), "Bearer t-test");
    let query = request.target.split_once('?').map(|(_, q)| q).expect("a query");
    let value = query.strip_prefix("extra=").expect("only the `extra` parameter");
    assert_eq!(percent_decode(value), extra);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn download_of_a_missing_file_is_not_found() {
    let server =
        Loopback::start(|_| Reply::json(404, json!({"code": 1061003, "msg": "not found.", "data": {}})))
            .await;
    let result = server
        .client()
        .download()
        .file_token("boxcnMissing")
        .send()
        .await
        .map_err(ApiError::from)
        .map(drop);
    let error = assert_api_error(result, ErrorCode::NotFound, 404);
    assert!(!error.is_retryable());
    assert!(!server.only_request().target.contains('?'), "no `extra` was set");
}
