//! What the server's integration tests share: raw HTTP over loopback with reqwest, no generated
//! client, so that the tests see exactly what the server sends.

#![allow(dead_code)] // Each test module uses part of it.

use std::time::Duration;

use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, RunningServer, Server};
use serde_json::{Value, json};

/// A parent node that exists.
pub const PARENT: &str = "doxcnServerTestParent00001";

pub struct Harness {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub token: String,
}

pub async fn start(config: Config) -> Harness {
    let server = Server::start(config).await.expect("server starts");
    let http = reqwest::Client::new();
    let token = tenant_token(&http, &server.base_url(), DEFAULT_APP_ID, DEFAULT_APP_SECRET)
        .await
        .expect("a tenant token");
    Harness { server, http, token }
}

/// The token endpoint's answer for these credentials: the token, or the whole body when it has
/// none.
pub async fn tenant_token(
    http: &reqwest::Client,
    base_url: &str,
    app_id: &str,
    app_secret: &str,
) -> Result<String, Value> {
    let body: Value = http
        .post(format!(
            "{base_url}/open-apis/auth/v3/tenant_access_token/internal"
        ))
        .json(&json!({"app_id": app_id, "app_secret": app_secret}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    body["tenant_access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or(body)
}

impl Harness {
    pub fn url(&self, op: &str) -> String {
        format!("{}/open-apis/drive/v1/medias/{op}", self.server.base_url())
    }

    /// `upload_prepare` as `token`, raw.
    pub async fn prepare_as(&self, token: &str, body: Value) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url("upload_prepare"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
    }

    /// `upload_all` of `bytes` named `name` as `token`, with these extra text fields.
    pub async fn upload_all_as(
        &self,
        token: &str,
        name: &str,
        bytes: &[u8],
        fields: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let mut form = reqwest::multipart::Form::new()
            .text("file_name", name.to_owned())
            .text("size", bytes.len().to_string());
        for (key, value) in fields {
            form = form.text(key.to_string(), value.to_string());
        }
        let form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()));
        self.http
            .post(self.url("upload_all"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
    }

    /// A file uploaded with `upload_all` as `token` into [`PARENT`]; its token.
    pub async fn stored(&self, token: &str, name: &str, bytes: &[u8]) -> String {
        let body: Value = self
            .upload_all_as(
                token,
                name,
                bytes,
                &[("parent_type", "docx_file"), ("parent_node", PARENT)],
            )
            .await
            .expect("upload_all answers")
            .json()
            .await
            .expect("JSON");
        body["data"]["file_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no file token: {body}"))
            .to_owned()
    }

    /// `download` as `token`, with an optional `Range` header.
    pub async fn download_as(&self, token: &str, file_token: &str, range: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.url(&format!("{file_token}/download")))
            .bearer_auth(token);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send().await.expect("download answers")
    }
}

/// Deterministic pseudo-random bytes (xorshift).
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A response's status, a header and its body as JSON.
pub async fn json_of(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, headers, value)
}

/// Runs `f` (a wait on the child `pid`) on a thread: if it has not returned within `bound`, the
/// child is killed by its id and the test fails, so no wait on a child is unbounded.
pub fn within<T: Send + 'static>(
    bound: Duration,
    pid: u32,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match wait.recv_timeout(bound) {
        Ok(value) => value,
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{what} took over {bound:?}");
        }
    }
}
