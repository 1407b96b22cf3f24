//! Shared set-up for the uploader tests: a local server, an uploader pointed at it, files of
//! random bytes, and reading media back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use feishu_drive::auth::AppCredentials;
use feishu_drive::{Client, ClientBuilder};
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, RunningServer, Server};
use futures::TryStreamExt;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// A small block size keeps chunked uploads of many blocks fast.
pub const BLOCK: u64 = 64 * 1024;

pub async fn server(config: Config) -> RunningServer {
    Server::start(config.block_size(BLOCK))
        .await
        .expect("the local server starts")
}

/// An uploader for `server` with no client-side rate limit and every non-empty file chunked.
pub fn uploader(server: &RunningServer, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    let base = server.base_url();
    let builder = Client::builder(&base)
        .token_source(AppCredentials::new(&base, DEFAULT_APP_ID, DEFAULT_APP_SECRET))
        .requests_per_second(None)
        .upload_all_max(0);
    configure(builder).build().expect("the uploader builds")
}

/// An uploader for whatever listens at `base_url` (a proxy in front of a local server) as the
/// server's default app, with no client-side rate limit and every non-empty file chunked.
pub fn uploader_via(base_url: &str, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    uploader_at(base_url, base_url, configure)
}

/// [`uploader_via`], with tokens fetched from `token_base` (the server itself, not the proxy).
pub fn uploader_at(
    base_url: &str,
    token_base: &str,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    let builder = Client::builder(base_url)
        .token_source(AppCredentials::new(
            token_base,
            DEFAULT_APP_ID,
            DEFAULT_APP_SECRET,
        ))
        .requests_per_second(None)
        .upload_all_max(0);
    configure(builder).build().expect("the uploader builds")
}

/// An uploader for a scripted server at `base_url`: a fixed token (a scripted server accepts
/// any), no client-side rate limit, `policy`; `configure` adds what a test needs.
pub fn scripted_uploader(
    base_url: &str,
    policy: feishu_drive::upload::RetryPolicy,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    let builder = Client::builder(base_url)
        .access_token("t-test")
        .requests_per_second(None)
        .retry_policy(policy);
    configure(builder).build().expect("the uploader builds")
}

/// An uploader for `base_url` with a fixed token and every other setting at its default (rate
/// limit, timeouts, retries, `upload_all` threshold): for the tests of those defaults.
pub fn default_uploader(base_url: &str, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    configure(Client::builder(base_url).access_token("t-test"))
        .build()
        .expect("the uploader builds")
}

/// A file of `len` random bytes (seeded, so failures reproduce).
pub fn random_file(dir: &Path, name: &str, len: u64, seed: u64) -> PathBuf {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut bytes = vec![0_u8; usize::try_from(len).expect("test files fit in memory")];
    rng.fill(&mut bytes[..]);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).expect("writing a test file");
    path
}

pub fn sha256_file(path: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(path).expect("reading a test file")))
}

/// Downloads the media and returns its length and SHA-256.
pub async fn download(uploader: &Client, token: &str) -> (u64, String) {
    let response = uploader
        .download()
        .file_token(token)
        .send()
        .await
        .expect("download succeeds");
    let mut stream = response.into_inner().into_inner();
    let (mut hasher, mut len) = (Sha256::new(), 0_u64);
    while let Some(chunk) = stream.try_next().await.expect("download streams") {
        len += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (len, hex(&hasher.finalize()))
}

/// Asserts the media behind `token` is byte for byte the file at `path`.
pub async fn assert_round_trip(uploader: &Client, token: &str, path: &Path) {
    let (len, digest) = download(uploader, token).await;
    let expected_len = std::fs::metadata(path).expect("the file exists").len();
    assert_eq!(len, expected_len, "downloaded length of {}", path.display());
    assert_eq!(
        digest,
        sha256_file(path),
        "downloaded bytes of {}",
        path.display()
    );
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
