#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// Generated from spec/feishu-drive.yaml by `cargo xtask codegen`; never edited by hand.
// `rustfmt::skip` keeps `cargo fmt` from reformatting what prettyplease wrote, so the committed
// files always equal a fresh generation. typify compiles each `pattern` with `Regex::new(..)
// .unwrap()` (the patterns are the spec's, checked when it is generated), hence the one lint
// allowed here.
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
pub mod batch;
#[cfg(feature = "upload")]
pub mod budget;
mod checked;
pub mod checksum;
mod client;
mod context;
mod crate_error;
#[cfg(feature = "upload")]
pub mod download;
mod error;
mod hooks;
mod retry;
#[cfg(feature = "upload")]
pub mod upload;
mod verdict;

pub use api::{Client, Envelope, EnvelopeData, builder, prelude, types};
pub use checked::FeishuResult;
pub use client::{BuildError, ClientBuilder};
pub use context::{CONNECT_TIMEOUT, ClientContext, DEFAULT_STALL_TIMEOUT};
pub use crate_error::Error;
pub use error::{
    ApiError, BODY_SNIPPET_BYTES, Diagnostics, FieldViolation, LOG_ID_HEADER, PermissionViolation,
    RATE_LIMIT_RESET_HEADER,
};
pub use error_codes::{ErrorCode, UnknownCode};
pub use hooks::BodyStalled;
pub use retry::RetryPolicy;
pub use verdict::Verdict;

/// progenitor's runtime types, as the generated operations return them: their `send()` answers
/// `Result<raw::ResponseValue<T>, raw::Error<types::ErrorEnvelope>>`, which
/// [`FeishuResult::checked`] turns into this crate's [`ApiError`]. Most callers never name them.
pub mod raw {
    pub use progenitor_client::{ByteStream, ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue};
}
