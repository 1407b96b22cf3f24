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

/// Requests per second per app that the upload endpoints allow (`x-feishu-rate-limit`).
pub const REQUESTS_PER_SECOND: u32 = 5;

/// How long an upload id and its blocks can be resumed.
pub const UPLOAD_ID_TTL: Duration = Duration::from_secs(24 * 60 * 60);
