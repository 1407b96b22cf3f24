//! A one-request loopback listener and readers of the multipart form it received, for the
//! tests that send generated clients' requests (`codegen_corpus_builds`, `codegen_fixture_builds`).

#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Every wait below is bounded by this.
pub const BOUND: Duration = Duration::from_secs(30);

/// Serves one request on 127.0.0.1 with `status` and the JSON `body`; returns the base URL and
/// a handle giving the raw request (headers and body) it received.
pub async fn one_shot(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("a connection");
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = socket.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
            if let Some(end) = find(&request, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    // A request without a body (a GET) has none; a body always has one (every
                    // part is in memory or of known length), never a chunked encoding.
                    .unwrap_or_else(|| {
                        assert!(!head.contains("transfer-encoding"), "a chunked body: {head}");
                        0
                    });
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let response = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.expect("write");
        request
    });
    (base, handle)
}

/// The raw request the listener of [`one_shot`] received, within [`BOUND`].
pub async fn received(server: tokio::task::JoinHandle<Vec<u8>>) -> Vec<u8> {
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the request arrives within the bound")
        .expect("the listener task ends")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The text of the form part `name` (the first one, or the `index`th of several).
pub fn part(request: &[u8], name: &str, index: usize) -> String {
    let text = String::from_utf8_lossy(request);
    let marker = format!("name=\"{name}\"");
    let start = text
        .match_indices(&marker)
        .nth(index)
        .unwrap_or_else(|| panic!("no part {name} #{index} in:\n{text}"))
        .0;
    let rest = &text[start..];
    let body = &rest[rest.find("\r\n\r\n").expect("part headers end") + 4..];
    body[..body.find("\r\n--").expect("part ends")].to_owned()
}

/// The headers of the form part `name` (lower-cased).
pub fn part_headers(request: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(request);
    let start = text
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no part {name}"));
    let rest = &text[start..];
    rest[..rest.find("\r\n\r\n").expect("part headers end")].to_ascii_lowercase()
}
