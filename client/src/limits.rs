//! The documented limits of the upload endpoints, each in one place.
//!
//! The block size is not here: it comes from each `upload_prepare` response. A test checks every
//! value below against `spec/feishu-drive.yaml`, so the spec stays their source.

use std::time::Duration;

/// The largest file `upload_all` takes (the spec's `UploadAllRequest.size.maximum`, 20 MiB);
/// larger files go through `upload_prepare` / `upload_part` / `upload_finish`.
pub const UPLOAD_ALL_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The longest file name, in characters (the spec's `FileName.maxLength`).
pub const FILE_NAME_MAX_CHARS: usize = 250;

/// The block size `upload_prepare` answers (4 MiB in the documented examples): what the
/// uploader assumes to count a file's parts against the daily quota before asking.
pub const UPLOAD_BLOCK_SIZE: u64 = 4 * 1024 * 1024;

/// Requests per second per app that each media operation allows (`x-feishu-rate-limit`).
pub const REQUESTS_PER_SECOND: u32 = 5;

/// Calls per app per day that each media operation allows (`x-feishu-rate-limit`): 10,000 parts
/// of 4 MiB cap one app's chunked uploads at about 39 GiB a day.
pub const CALLS_PER_DAY: u32 = 10_000;

/// The operations these limits apply to, each separately (`x-feishu-rate-limit.operations`).
pub const RATE_LIMITED_OPERATIONS: [&str; 5] = [
    "upload_prepare",
    "upload_part",
    "upload_finish",
    "upload_all",
    "download",
];

/// How long an upload id and its blocks can be resumed.
pub const UPLOAD_ID_TTL: Duration = Duration::from_secs(24 * 60 * 60);
