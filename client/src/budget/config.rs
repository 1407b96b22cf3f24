//! What a budget is set up with ([`BudgetConfig`]), what it reports ([`BudgetEvent`]) and how
//! it refuses ([`QuotaExceeded`]): plain data every backend reads and `ApiError` can hold, so
//! neither the backends nor the error type import the [`Budget`](super::Budget) itself.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::limits::{CALLS_PER_DAY, REQUESTS_PER_SECOND};

/// The endpoint groups Feishu limits separately: every operation with its own
/// `x-feishu-rate-limit` in the spec (generated, so a new endpoint is a new group with no hand
/// edit). [`Group::as_str`] names it as Feishu's docs and the Redis keys do.
pub use crate::operations::RateGroup as Group;

/// The assumed start of Feishu's quota day: midnight at UTC+8 (Beijing). Not documented by
/// Feishu; see the module docs.
pub const DEFAULT_DAY_OFFSET: Duration = Duration::from_secs(8 * 60 * 60);

/// A quota day's seconds: a day, not the upload-id lifetime that happens to be one too (the
/// spec-facts tidy check allows this one const).
const SECS_PER_DAY: i64 = 24 * 60 * 60;

/// Each request's share of a second is stretched by this much. With exact `1 s / n` spacing,
/// requests `i` and `i + n` are exactly one second apart, so one that arrives a little late puts
/// `n + 1` requests into a server's one-second window and earns a 429 (measured: 0–4 refusals
/// per 200 MiB at 5 QPS without the margin, none with it, at a cost of 2.5 % of the ceiling).
pub const SPACING_MARGIN: Duration = Duration::from_millis(25);

/// The lowest the rate goes when the server refuses requests without saying for how long
/// (multiplicative decrease), as a fraction in thousandths: 1/8 of the configured rate.
pub(super) const MIN_FRACTION: u32 = 125;
/// What each success gives back (additive increase), in thousandths of the configured rate.
pub(super) const FRACTION_STEP: u32 = 25;
pub(super) const FULL: u32 = 1000;
/// At most one multiplicative decrease per this long: several requests in flight refused at
/// once are one signal, not several.
pub(super) const DECREASE_HOLDOFF: Duration = Duration::from_secs(1);

/// The daily quota of a group cannot cover the calls asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "daily quota of {group} exhausted: {needed} call(s) needed, {remaining} left until {}",
    unix_secs(*resets_at)
)]
pub struct QuotaExceeded {
    /// The endpoint group.
    pub group: Group,
    /// Calls asked for.
    pub needed: u64,
    /// Calls left today.
    pub remaining: u64,
    /// When the quota day ends (see the module docs for the assumed boundary).
    pub resets_at: SystemTime,
}

pub(super) fn unix_secs(t: SystemTime) -> String {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => format!("unix time {}", d.as_secs()),
        Err(_) => "an unknown time".to_owned(),
    }
}

/// Why a request is waiting, in [`BudgetEvent::Waiting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// The group's rate: other requests (of this or other processes) hold the next slots.
    Rate,
    /// A server's rate-limit answer paused every participant until its reset.
    Blocked,
}

/// What the budget tells its observer (and `tracing`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BudgetEvent {
    /// A request waits at least [`BudgetConfig::report_waits_over`] for its permit.
    Waiting {
        /// The endpoint group.
        group: Group,
        /// How long it waits.
        delay: Duration,
        /// Why.
        reason: WaitReason,
    },
    /// The server refused a request for its rate: with a reset every participant pauses until
    /// then; without one the rate is cut to `rate_fraction` of the configured rate.
    Throttled {
        /// The endpoint group.
        group: Group,
        /// The server's reset, if it sent one.
        reset: Option<Duration>,
        /// The group's rate now, as a fraction of the configured rate (1.0 after a reset-style
        /// pause, which does not slow the rate down).
        rate_fraction: f64,
    },
    /// Successes brought a slowed-down group back to the configured rate.
    RateRestored {
        /// The endpoint group.
        group: Group,
    },
    /// The daily quota of a group is used up until `resets_at`.
    QuotaExhausted {
        /// The endpoint group.
        group: Group,
        /// When the quota day ends.
        resets_at: SystemTime,
    },
    /// The shared store (Redis) failed; this process continues on a local limiter at its share
    /// of the rate.
    StoreUnavailable {
        /// What failed.
        error: String,
        /// Requests per second this process allows itself until the store is back.
        fallback_rate: f64,
    },
    /// The shared store answers again; this process is back on the shared budget.
    StoreRestored,
}

/// Receives [`BudgetEvent`]s; called from the task that caused them, so it should be quick.
pub type EventFn = Arc<dyn Fn(&BudgetEvent) + Send + Sync>;

/// The limits a [`Budget`](super::Budget) keeps, and how.
#[derive(Clone)]
pub struct BudgetConfig {
    pub(super) app_id: String,
    pub(super) requests_per_second: NonZeroU32,
    pub(super) daily_quota: Option<u64>,
    pub(super) day_offset_secs: i64,
    pub(super) spacing_margin: Duration,
    pub(super) store_timeout: Duration,
    pub(super) store_retry_interval: Duration,
    pub(super) key_prefix: String,
    pub(super) report_waits_over: Duration,
    pub(super) events: Option<EventFn>,
}

impl fmt::Debug for BudgetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetConfig")
            .field("app_id", &self.app_id)
            .field("requests_per_second", &self.requests_per_second)
            .field("daily_quota", &self.daily_quota)
            .field("day_offset_secs", &self.day_offset_secs)
            .field("spacing_margin", &self.spacing_margin)
            .field("store_timeout", &self.store_timeout)
            .field("store_retry_interval", &self.store_retry_interval)
            .field("key_prefix", &self.key_prefix)
            .field("report_waits_over", &self.report_waits_over)
            .field("events", &self.events.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl BudgetConfig {
    /// Feishu's documented limits for `app_id`: 5 requests per second and 10,000 calls a day per
    /// endpoint group, the day starting at midnight UTC+8.
    pub fn new(app_id: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            requests_per_second: NonZeroU32::new(REQUESTS_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            daily_quota: Some(CALLS_PER_DAY),
            day_offset_secs: DEFAULT_DAY_OFFSET.as_secs() as i64,
            spacing_margin: SPACING_MARGIN,
            store_timeout: Duration::from_millis(500),
            store_retry_interval: Duration::from_secs(5),
            key_prefix: "feishu-drive:budget".to_owned(),
            report_waits_over: Duration::from_secs(1),
            events: None,
        }
    }

    /// Requests per second per endpoint group (5 by default; 0 is taken as 1).
    pub fn requests_per_second(mut self, rate: u32) -> Self {
        self.requests_per_second = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// Calls per day per endpoint group (10,000 by default); `None` counts nothing.
    pub fn daily_quota(mut self, quota: Option<u64>) -> Self {
        self.daily_quota = quota;
        self
    }

    /// Where the quota day starts: midnight at this offset east of UTC (`+8 h` by default;
    /// negative for west of UTC). Offsets beyond ±24 h are clamped.
    pub fn day_starts_at_utc_offset(mut self, offset_secs: i64) -> Self {
        self.day_offset_secs = offset_secs.clamp(-SECS_PER_DAY, SECS_PER_DAY);
        self
    }

    /// Extra spacing per request ([`SPACING_MARGIN`] by default).
    pub fn spacing_margin(mut self, margin: Duration) -> Self {
        self.spacing_margin = margin;
        self
    }

    /// The longest one call to the shared store may take before the budget falls back to its
    /// local limiter (500 ms by default).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// How often a budget that fell back asks the shared store again (5 s by default).
    pub fn store_retry_interval(mut self, interval: Duration) -> Self {
        self.store_retry_interval = interval;
        self
    }

    /// The prefix of the Redis keys (`feishu-drive:budget` by default); the app id and group
    /// follow it.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Waits at least this long are reported as [`BudgetEvent::Waiting`] (1 s by default);
    /// shorter ones are the normal spacing of requests.
    pub fn report_waits_over(mut self, threshold: Duration) -> Self {
        self.report_waits_over = threshold;
        self
    }

    /// Receives the budget's events (also logged through `tracing`).
    pub fn on_event(mut self, events: impl Fn(&BudgetEvent) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(events));
        self
    }

    /// The least time between two requests of one group: a second and the spacing margin,
    /// shared by the requests a second allows (what a batch plan counts time in).
    pub fn spacing(&self) -> Duration {
        (Duration::from_secs(1) + self.spacing_margin) / self.requests_per_second.get()
    }

    /// Each group's daily call quota (`None`: not counted).
    pub fn quota(&self) -> Option<u64> {
        self.daily_quota
    }

    /// The app id the budget belongs to.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The spacing of one group's requests at the full rate.
    pub(crate) fn interval(&self) -> Duration {
        self.spacing()
    }

    pub(crate) fn emit(&self, event: BudgetEvent) {
        match &event {
            BudgetEvent::Waiting { group, delay, reason } => {
                tracing::debug!(%group, ?delay, ?reason, "waiting for budget");
            }
            BudgetEvent::Throttled {
                group,
                reset,
                rate_fraction,
            } => {
                tracing::info!(%group, ?reset, rate_fraction, "server refused for rate; budget slows down");
            }
            BudgetEvent::RateRestored { group } => tracing::info!(%group, "budget back at full rate"),
            BudgetEvent::QuotaExhausted { group, resets_at } => {
                tracing::warn!(%group, resets_at = %unix_secs(*resets_at), "daily quota exhausted");
            }
            BudgetEvent::StoreUnavailable { error, fallback_rate } => {
                tracing::warn!(%error, fallback_rate, "shared budget store unavailable; using a local limiter");
            }
            BudgetEvent::StoreRestored => tracing::info!("shared budget store available again"),
        }
        if let Some(events) = &self.events {
            events(&event);
        }
    }

    /// The quota day `now` falls in, and when it ends.
    pub(crate) fn quota_day(&self, now: SystemTime) -> (i64, SystemTime) {
        quota_day(now, self.day_offset_secs)
    }
}

/// The index of the quota day `now` falls in (days since the epoch at the offset), and its end.
pub(super) fn quota_day(now: SystemTime, offset_secs: i64) -> (i64, SystemTime) {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let day = (secs + offset_secs).div_euclid(SECS_PER_DAY);
    let end = (day + 1) * SECS_PER_DAY - offset_secs;
    let resets_at = u64::try_from(end).map_or(UNIX_EPOCH, |s| UNIX_EPOCH + Duration::from_secs(s));
    (day, resets_at)
}

/// Why a Redis budget could not be created.
#[cfg(feature = "redis")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The Redis URL is not valid.
    #[error("invalid Redis URL: {0}")]
    Url(#[source] ::redis::RedisError),
    /// The connection manager could not be set up.
    #[error("setting up the Redis connection failed: {0}")]
    Setup(#[source] ::redis::RedisError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_day_ends_at_midnight_beijing_by_default() {
        // 2026-11-25 15:59:59 UTC = 23:59:59 in Beijing; one second later a new day starts.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_622_399);
        let offset = DEFAULT_DAY_OFFSET.as_secs() as i64;
        let (day, end) = quota_day(t, offset);
        assert_eq!(end, t + Duration::from_secs(1));
        let (next, next_end) = quota_day(end, offset);
        assert_eq!(next, day + 1);
        assert_eq!(next_end, end + Duration::from_secs(86_400));
        // At UTC the same instant is mid-afternoon: the day ends 8 h later.
        let (_, utc_end) = quota_day(t, 0);
        assert_eq!(utc_end, end + Duration::from_secs(8 * 3600));
    }
}
