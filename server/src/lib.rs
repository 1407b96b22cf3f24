//! A local Feishu-compatible drive upload server.
//!
//! It answers the paths and envelopes of Feishu's drive upload API — the tenant-token endpoint,
//! the media family (`upload_prepare`, `upload_part`, `upload_finish`, `upload_all`, `download`
//! under `drive/v1/medias/`) and the files family (the same five under `drive/v1/files/`, for
//! files in Drive folders and new versions of them, plus `create_folder` and `list_files`) —
//! with the documented block size, expiry, checks, limits and error codes, so end-to-end tests,
//! benchmarks and a first try of the client need no Feishu account. It routes from the
//! generated operation table and sends only codes of the spec's error table. Faults can be
//! injected to exercise a client:
//! retryable answers, dropped requests, answers lost after the request was handled, failures
//! that are not Feishu JSON (a proxy's HTML 502, an empty 429), 202 and 200 error envelopes,
//! refused credentials, delays, a slow link, a rate limit and a daily quota per app. Its
//! [`Limits`] keep slow or stalled clients from holding it.
//!
//! It is an independent peer of the client: it shares the generated wire types and the
//! [`feishu_drive::ErrorCode`] table (every code, status and message it sends comes from there),
//! never the uploader's logic.
//!
//! Drive: one root folder ([`RunningServer::root_folder`], printed at start as
//! `root folder: <token>`) that anyone may upload into; a folder or Drive file belongs to whoever
//! made it. [`RunningServer::received_parts`] tells a test what each upload body carried.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use feishu_drive_server::{Config, Server};
//!
//! let server = Server::start(Config::default().block_size(64 * 1024)).await?;
//! // Get a token with app id `cli_local` and secret `local-secret`, or use `u-<name>` as a
//! // user token, then point a client at server.base_url().
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Identities: a tenant token acts as the app it was issued to; any bearer token `u-<name>`
//! acts as the user `<name>` of the first configured app (turn off with
//! [`Config::accept_user_tokens`]). An upload belongs to whoever prepared it; a part or finish
//! from anyone else gets 1062007, and a download of the file 1061004. Rate limits and quotas
//! count per app: a user's requests count against their app.

#![forbid(unsafe_code)]

/// The README's examples (the crate's page on crates.io), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod auth;
pub mod cli;
mod config;
mod conn;
mod drive;
mod error;
mod faults;
mod form;
mod routes;
mod server;
mod state;
mod stats;
mod storage;

pub use config::{
    AppCredentials, Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_BLOCK_SIZE, DEFAULT_TOKEN_TTL,
    DEFAULT_UPLOAD_TTL, DriveLimits, FEISHU_REQUESTS_PER_SECOND, FaultKind, FaultRule, Faults, Limits,
    Operation, Quota, RateLimit, RateLimitStyle, UPLOAD_ALL_LIMIT,
};
pub use error::ServerError;
pub use server::{RunningServer, Server};
pub use stats::{ReceivedPart, Stats};
