//! What the server did, for tests and benchmarks: counters, and a log of the parts it received.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::lock;
use crate::config::Operation;

/// Counts of what the server did, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Blocks stored by `upload_part` (re-sent blocks count again).
    pub parts_stored: u64,
    /// Files finished, by `upload_finish` or `upload_all`.
    pub files_finished: u64,
    /// Requests answered with an injected retryable code.
    pub injected_errors: u64,
    /// Connections dropped on purpose.
    pub dropped_connections: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
    /// Requests refused by the daily quota.
    pub quota_exceeded: u64,
    /// Requests handled whose answer was then lost ([`FaultKind::LoseResponse`](crate::FaultKind)).
    pub lost_responses: u64,
    /// Requests answered with a failure that is not Feishu JSON (HTML, plain text, empty 429).
    pub foreign_failures: u64,
    /// Requests answered by a fault rule with a Feishu envelope (200, 202, refused credentials).
    pub injected_envelopes: u64,
    /// Requests delayed by a fault rule.
    pub delayed_requests: u64,
    /// Connections refused because [`Limits::max_connections`](crate::Limits) were open.
    pub connections_refused: u64,
    /// Upload bodies refused because [`Limits::max_uploads_in_flight`](crate::Limits) were being
    /// received.
    pub uploads_refused: u64,
    /// Connections closed because a request body sent nothing for
    /// [`Limits::body_idle_timeout`](crate::Limits).
    pub idle_timeouts: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) parts_stored: AtomicU64,
    pub(crate) files_finished: AtomicU64,
    pub(crate) injected_errors: AtomicU64,
    pub(crate) dropped_connections: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) quota_exceeded: AtomicU64,
    pub(crate) lost_responses: AtomicU64,
    pub(crate) foreign_failures: AtomicU64,
    pub(crate) injected_envelopes: AtomicU64,
    pub(crate) delayed_requests: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    pub(crate) uploads_refused: AtomicU64,
    pub(crate) idle_timeouts: AtomicU64,
    /// Requests received per operation, whatever then happened to them.
    pub(crate) requests: Mutex<BTreeMap<Operation, u64>>,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request to `op`.
    pub(crate) fn request(&self, op: Operation) {
        *lock(&self.requests).entry(op).or_default() += 1;
    }

    /// Requests received per operation.
    pub(crate) fn requests(&self) -> BTreeMap<Operation, u64> {
        lock(&self.requests).clone()
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            parts_stored: get(&self.parts_stored),
            files_finished: get(&self.files_finished),
            injected_errors: get(&self.injected_errors),
            dropped_connections: get(&self.dropped_connections),
            rate_limited: get(&self.rate_limited),
            quota_exceeded: get(&self.quota_exceeded),
            lost_responses: get(&self.lost_responses),
            foreign_failures: get(&self.foreign_failures),
            injected_envelopes: get(&self.injected_envelopes),
            delayed_requests: get(&self.delayed_requests),
            connections_refused: get(&self.connections_refused),
            uploads_refused: get(&self.uploads_refused),
            idle_timeouts: get(&self.idle_timeouts),
        }
    }
}

/// One upload body the server received (`upload_part` or `upload_all`, of either family), as it
/// arrived, whether or not it was then accepted: for a test to see what a client sends, for
/// example that every part carries its Adler-32.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedPart {
    /// The operation it was sent to.
    pub operation: Operation,
    /// The `upload_id` field (parts only), as sent.
    pub upload_id: Option<String>,
    /// The `seq` field (parts only), as sent.
    pub seq: Option<String>,
    /// The `checksum` field: `None` when the form had no such field, `Some("")` for an empty
    /// one (the Python SDK sends that), else its text as sent.
    pub checksum: Option<String>,
    /// The bytes of the `file` part (0 without one).
    pub len: u64,
    /// The Adler-32 of the `file` part's bytes, computed by the server.
    pub adler32: u32,
}

/// The received parts, the newest [`RECEIVED_KEPT`] of them.
#[derive(Debug, Default)]
pub(crate) struct Received {
    parts: Mutex<VecDeque<ReceivedPart>>,
}

/// How many received parts the log keeps: enough for any test's upload (a 40 GiB file in
/// 4 MiB blocks), and a bound on the memory a long-running server spends on it (a few MB).
pub(crate) const RECEIVED_KEPT: usize = 16 * 1024;

impl Received {
    pub(crate) fn record(&self, part: ReceivedPart) {
        let mut parts = lock(&self.parts);
        if parts.len() == RECEIVED_KEPT {
            parts.pop_front();
        }
        parts.push_back(part);
    }

    pub(crate) fn snapshot(&self) -> Vec<ReceivedPart> {
        lock(&self.parts).iter().cloned().collect()
    }
}
