//! What the end-to-end tests share: a server on port 0, a generated client with a tenant token
//! from the server's own token endpoint, and the upload steps through that client.

#![allow(dead_code)] // Each e2e module uses part of it.

use bytes::Bytes;
use feishu_drive::ClientBuilder;
use feishu_drive::types::{self, ErrorEnvelope};
use feishu_drive::{ApiError, Client, ErrorCode, FeishuResult};

use feishu_drive::raw::{Error, ResponseValue};
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, RunningServer, Server};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

/// The block size of most tests: small, so multi-block files stay fast.
pub const BLOCK: u64 = 64 * 1024;
/// A parent node that exists.
pub const PARENT: &str = "doxcnE2eParentNode0000000001";

/// A running server and a client authenticated as its default app.
pub struct Harness {
    pub server: RunningServer,
    pub client: Client,
    pub token: String,
}

/// The usual test configuration: 64 KiB blocks, everything else default.
pub fn config() -> Config {
    Config::default().block_size(BLOCK)
}

/// Starts a server and fetches a tenant token for its default app.
pub async fn start(config: Config) -> Harness {
    let server = Server::start(config).await.expect("server starts");
    let token = tenant_token(&server.base_url(), DEFAULT_APP_ID, DEFAULT_APP_SECRET)
        .await
        .expect("tenant token");
    let client = client(&server, &token);
    Harness {
        server,
        client,
        token,
    }
}

pub fn client(server: &RunningServer, token: &str) -> Client {
    client_at(&server.base_url(), token)
}

/// A client of whatever listens at `base_url` (the server, or a proxy in front of it), with no
/// client-side rate limit: these tests probe what the server itself allows and answers.
pub fn client_at(base_url: &str, token: &str) -> Client {
    Client::builder(base_url)
        .access_token(token)
        .requests_per_second(None)
        .build()
        .expect("a client")
}

/// A tenant token from the token endpoint at `base_url`, through the generated client.
pub async fn tenant_token(base_url: &str, app_id: &str, app_secret: &str) -> Result<String, ApiError> {
    let anonymous = Client::builder(base_url).build().expect("a client");
    let response = anonymous
        .tenant_access_token_internal()
        .body(
            types::TenantAccessTokenRequest::builder()
                .app_id(app_id)
                .app_secret(app_secret),
        )
        .send()
        .await
        .checked()?
        .into_inner();
    assert!(
        response.expire.is_some_and(|e| e >= 0),
        "expire: {:?}",
        response.expire
    );
    response.tenant_access_token.ok_or(ApiError::MissingData)
}

/// A downloader for whatever listens at `base_url`, with a fixed token and every other setting
/// at its default (5 requests per second, retries, ranges); `configure` changes what a test
/// needs. Downloaders are built here only, so a change of the builder touches this kit alone.
pub fn downloader(base_url: &str, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    configure(Client::builder(base_url).access_token("t-test"))
        .build()
        .expect("the downloader builds")
}

/// Deterministic pseudo-random bytes (xorshift), different for each seed.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The Adler-32 of `bytes` in decimal, computed by the `adler32` crate: an oracle independent of
/// the server's SIMD implementation.
pub fn adler(bytes: &[u8]) -> String {
    adler32::RollingAdler32::from_buffer(bytes).hash().to_string()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub async fn prepare(
    client: &Client,
    file_name: &str,
    parent_node: &str,
    size: u64,
) -> Result<types::UploadPrepareData, ApiError> {
    client
        .upload_prepare()
        .body(
            types::UploadPrepareRequest::builder()
                .file_name(file_name)
                .parent_type("docx_file")
                .parent_node(types::ParentNode::from(parent_node.to_owned()))
                .size(size as i64),
        )
        .send()
        .await
        .into_data()
}

/// Sends block `seq` with its Adler-32 and the honest size.
pub async fn part(client: &Client, upload_id: &str, seq: u64, block: Bytes) -> Result<(), ApiError> {
    let size = block.len();
    part_with(client, upload_id, seq, size, Some(adler(&block)), block).await
}

/// Sends block `seq` with whatever size and checksum the test says.
pub async fn part_with(
    client: &Client,
    upload_id: &str,
    seq: u64,
    size: usize,
    checksum: Option<String>,
    block: Bytes,
) -> Result<(), ApiError> {
    let mut request = client
        .upload_part()
        .upload_id(upload_id)
        .seq(seq as i64)
        .size(size as i64)
        .file(block);
    if let Some(checksum) = checksum {
        request = request.checksum(checksum);
    }
    request.send().await.checked().map(drop)
}

pub async fn finish(client: &Client, upload_id: &str, block_num: i64) -> Result<String, ApiError> {
    let data = client
        .upload_finish()
        .body(
            types::UploadFinishRequest::builder()
                .upload_id(upload_id)
                .block_num(block_num),
        )
        .send()
        .await
        .into_data()?;
    Ok(data.file_token)
}

/// The blocks of `len` bytes at `block_size`: (seq, byte range).
pub fn blocks(len: usize, block_size: u64, block_num: i64) -> Vec<(u64, std::ops::Range<usize>)> {
    let block_size = block_size as usize;
    (0..block_num as u64)
        .map(|seq| {
            let start = seq as usize * block_size;
            (seq, start..(start + block_size).min(len))
        })
        .collect()
}

/// prepare → every block in the order `order` gives (by seq) → finish; returns the file token.
pub async fn upload_chunked(
    client: &Client,
    name: &str,
    bytes: &[u8],
    order: impl FnOnce(Vec<u64>) -> Vec<u64>,
) -> Result<String, ApiError> {
    let prepared = prepare(client, name, PARENT, bytes.len() as u64).await?;
    let upload_id = prepared.upload_id.to_string();
    let all = Bytes::copy_from_slice(bytes);
    let ranges = blocks(bytes.len(), prepared.block_size.get(), prepared.block_num);
    for seq in order(ranges.iter().map(|(seq, _)| *seq).collect()) {
        let range = ranges[seq as usize].1.clone();
        part(client, &upload_id, seq, all.slice(range)).await?;
    }
    finish(client, &upload_id, prepared.block_num).await
}

pub async fn upload_all(client: &Client, name: &str, bytes: &[u8]) -> Result<String, ApiError> {
    let data = client
        .upload_all()
        .file_name(name)
        .parent_type("docx_file")
        .parent_node(PARENT.to_owned())
        .size(bytes.len() as i64)
        .checksum(adler(bytes))
        .file(Bytes::copy_from_slice(bytes))
        .send()
        .await
        .into_data()?;
    Ok(data.file_token)
}

/// The bytes and headers `download` returns.
pub async fn download(
    client: &Client,
    file_token: &str,
) -> Result<(Vec<u8>, reqwest::header::HeaderMap), ApiError> {
    let response = client.download().file_token(file_token).send().await?;
    let headers = response.headers().clone();
    let bytes = response
        .into_inner_stream()
        .try_fold(Vec::new(), |mut all, chunk| {
            all.extend_from_slice(&chunk);
            async move { Ok(all) }
        })
        .await
        .map_err(ApiError::Transport)?;
    Ok((bytes, headers))
}

/// What the generated client makes of an error answer to a request it refuses to build itself
/// (an empty file name, a missing field): the same conversion its `send()` applies.
pub async fn surfaced(response: reqwest::Response) -> ApiError {
    assert!(
        !response.status().is_success(),
        "expected an error status, got {}",
        response.status()
    );
    let value = ResponseValue::<ErrorEnvelope>::from_response::<ErrorEnvelope>(response)
        .await
        .expect("an error envelope");
    ApiError::from(Error::ErrorResponse(value))
}

/// The HTTP status each error code arrives with, written here from the official sources rather
/// than read from the spec's table (which the server answers from, so a wrong status there would
/// pass a test that compares the server with it): the 35 rows of the upload_part doc page's
/// table (`shared/seed/upload_part.zh.md`, status and code as the page gives them), then the
/// gateway's token codes, which no official page gives a status for: 400 is the spec's choice
/// (`unverified: [http_status]` there), pinned here so that changing it is a visible decision.
pub const DOCUMENTED_STATUS: &[(i64, u16)] = &[
    (1061001, 200), // internal error.
    (1061002, 400), // params error.
    (1061003, 404), // not found.
    (1061004, 403), // forbidden.
    (1061005, 401), // auth failed.
    (1061006, 200), // internal time out.
    (1061007, 404), // file has been delete.
    (1061008, 400), // invalid file name.
    (1061021, 400), // upload id expire.
    (1061041, 400), // parent node has been deleted.
    (1061042, 400), // parent node out of limit.
    (1061043, 400), // file size beyond limit.
    (1061044, 400), // parent node not exist.
    (1061045, 200), // can retry.
    (1061109, 400), // file name cqc not passed.
    (1061113, 400), // file cqc not passed.
    (1061101, 400), // file quota exceeded.
    (1062004, 202), // cover generating.
    (1062005, 202), // file type not support cover.
    (1062006, 202), // cover no exist.
    (1062007, 400), // upload user not match.
    (1062008, 400), // checksum param Invalid.
    (1062009, 400), // the actual size is inconsistent with the parameter declaration size.
    (1062010, 400), // block missing, please upload all blocks.
    (1062011, 400), // block num out of bounds.
    (1061547, 400), // attachment parent-child relation number exceed.
    (1061061, 400), // user quota exceeded.
    (1061073, 403), // no scope auth.
    (1062012, 400), // file copying.
    (1062013, 400), // file damaged.
    (1062014, 403), // dedupe no support.
    (1062051, 400), // client connect close.
    (1062505, 400), // parent node out of size.
    (1062506, 400), // parent node out of depth.
    (1062507, 400), // parent node out of sibling num.
    // Not in the seed; status unconfirmed by an official page (official-sources.md, item 5).
    (99991661, 400), // Missing access token for authorization.
    (99991663, 400), // Invalid access token for authorization.
    (99991668, 400), // user_access_token invalid or expired.
];

/// The status [`DOCUMENTED_STATUS`] gives `code`.
pub fn documented_status(code: i64) -> Option<u16> {
    DOCUMENTED_STATUS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, status)| *status)
}

/// Asserts the error's typed code, and that it came with the status the official sources give
/// it ([`DOCUMENTED_STATUS`]).
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, ApiError>, code: ErrorCode) -> ApiError {
    let error = result.expect_err("the request must fail");
    assert_eq!(error.code(), Some(code), "{error}");
    let documented = documented_status(code.code())
        .unwrap_or_else(|| panic!("{code}: no status in DOCUMENTED_STATUS; add it from an official source"));
    assert_eq!(
        error.status().map(|s| s.as_u16()),
        Some(documented),
        "{code} must arrive with the status the official sources give it: {error}"
    );
    error
}
