#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// Generated from spec/feishu-drive.yaml by `cargo xtask codegen`; never edited by hand.
// `rustfmt::skip` keeps `cargo fmt` from reformatting what prettyplease wrote, so the committed
// files always equal a fresh generation. progenitor's `Client::new` unwraps the reqwest client
// builder (it fails only without a TLS backend), hence the one lint allowed here.
#[rustfmt::skip]
#[allow(clippy::unwrap_used)]
#[path = "generated/api.rs"]
mod api;
#[rustfmt::skip]
#[path = "generated/error_codes.rs"]
mod error_codes;
#[rustfmt::skip]
#[path = "generated/limits.rs"]
pub mod limits;
#[rustfmt::skip]
#[path = "generated/operations.rs"]
pub mod operations;

pub mod auth;
#[cfg(feature = "upload")]
pub mod budget;
pub mod checksum;
mod context;
#[cfg(feature = "upload")]
pub mod download;
mod error;
mod hooks;
mod retry_policy;
#[cfg(feature = "upload")]
pub mod upload;

pub use api::*;
pub use context::{CONNECT_TIMEOUT, ClientContext, DEFAULT_STALL_TIMEOUT, http_client_builder};
pub use error::{
    ApiError, BODY_SNIPPET_BYTES, Diagnostics, FeishuResult, FieldViolation, LOG_ID_HEADER,
    PermissionViolation, RATE_LIMIT_RESET_HEADER,
};
pub use error_codes::{ErrorCode, UnknownCode};
pub use hooks::BodyStalled;
pub use retry_policy::RetryPolicy;
