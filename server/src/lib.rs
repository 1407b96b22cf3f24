//! A local Feishu-compatible drive media-upload server.
//!
//! It answers the paths and envelopes of Feishu's media-upload API — the tenant-token endpoint,
//! `upload_prepare`, `upload_part`, `upload_finish`, `upload_all` and `download` — with the
//! documented block size, expiry, checks and error codes, so end-to-end tests, benchmarks and a
//! first try of the client need no Feishu account. Faults (retryable answers, dropped
//! connections, latency, a rate limit) can be injected to exercise a client's retries.
//!
//! It is an independent peer of the client: it shares the generated wire types and the
//! [`feishu_drive::ErrorCode`] table (every code, status and message it sends comes from there),
//! never the uploader's logic.
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
//! acts as the user `<name>` (turn off with [`Config::accept_user_tokens`]). An upload belongs
//! to whoever prepared it; a part or finish from anyone else gets 1062007.

#![forbid(unsafe_code)]

mod auth;
mod config;
mod error;
mod faults;
mod form;
mod routes;
mod server;
mod state;
mod storage;

pub use config::{
    AppCredentials, Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_BLOCK_SIZE, DEFAULT_TOKEN_TTL,
    DEFAULT_UPLOAD_TTL, FEISHU_REQUESTS_PER_SECOND, Faults, Operation, RateLimit, RateLimitStyle,
    UPLOAD_ALL_LIMIT,
};
pub use error::ServerError;
pub use server::{RunningServer, Server};
pub use state::Stats;
