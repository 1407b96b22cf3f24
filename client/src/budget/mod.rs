//! One request budget per app: the rate limit and the daily quota of each endpoint group, shared
//! by every request that draws from it.
//!
//! Feishu's limits belong to the **app**, not to a connection or a process: 5 requests per second
//! and 10,000 calls per day for *each* of `upload_prepare`, `upload_part`, `upload_finish`,
//! `upload_all` and `download`. A [`Budget`] is one app's view of them:
//!
//! - [`Budget::in_process`] (the default): a `governor` GCRA limiter per endpoint group, shared by
//!   everything in this process that holds a clone of the `Budget`.
//! - `Budget::redis` (cargo feature `redis`): the same limits kept in Redis by an atomic Lua
//!   script (GCRA on the Redis server's clock, so clock skew between hosts does not matter), shared
//!   by any number of processes on any number of hosts that use the same app id.
//!
//! Every request first waits for a [`Permit`] ([`Budget::acquire`]); what the server answers is
//! reported back through it ([`Permit::failed`], [`Permit::succeeded`]): a rate-limit answer with
//! a reset pauses every participant until then, one without halves the rate, which recovers
//! additively on each success; a quota answer stops the group for the day. A
//! [`Client`](crate::Client)'s hooks do this for every attempt of every request it sends.
//!
//! ## The daily quota's day
//!
//! Feishu does not publish when its daily counters reset. The budget assumes **midnight in
//! Beijing (UTC+8)**, the platform's home time zone; [`BudgetConfig::day_starts_at_utc_offset`]
//! changes it. Calls are counted when their permit is granted, including calls whose request
//! then fails, since the server may have counted them too.
//!
//! ## When Redis fails
//!
//! Every Redis call has a timeout ([`BudgetConfig::store_timeout`], 500 ms by default). When one
//! fails or times out, the budget warns once (a `tracing` warning and
//! [`BudgetEvent::StoreUnavailable`]) and falls back to an in-process limiter that **starts
//! empty** (its first permit is one interval away, never a burst) at this process's share of the
//! rate: the rate divided by the number of participants Redis last reported, with the quota left
//! divided the same way. It asks Redis again every [`BudgetConfig::store_retry_interval`] and
//! returns to the shared budget when Redis answers ([`BudgetEvent::StoreRestored`]). An upload
//! never hangs on Redis and never fails because of it.
//!
//! ```no_run
//! use feishu_drive::budget::{Budget, BudgetConfig};
//! use feishu_drive::{Client, FeishuResult};
//!
//! # async fn run() -> Result<(), feishu_drive::Error> {
//! // One budget for two clients (two apps' tokens, say, or two base URLs of one app): every
//! // request of either draws from it, and a refusal slows both.
//! let budget = Budget::in_process(BudgetConfig::new("cli_a1b2c3"));
//! let client = Client::builder("https://open.feishu.cn")
//!     .access_token("t-…")
//!     .budget(budget.clone())
//!     .build()?;
//! let block = bytes::Bytes::from_static(b"hello");
//! let response = client
//!     .upload_part()
//!     .upload_id("upload-id")
//!     .seq(0)
//!     .size(block.len())
//!     .file(block.clone())
//!     .send()
//!     .await
//!     .checked()?;
//! # let _ = response; Ok(()) }
//! ```

mod in_process;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::limits::{CALLS_PER_DAY, REQUESTS_PER_SECOND};
use crate::{ApiError, Verdict};
use in_process::LocalBudget;

/// The assumed start of Feishu's quota day: midnight at UTC+8 (Beijing). Not documented by
/// Feishu; see the module docs.
pub const DEFAULT_DAY_OFFSET: Duration = Duration::from_secs(8 * 60 * 60);

/// Each request's share of a second is stretched by this much. With exact `1 s / n` spacing,
/// requests `i` and `i + n` are exactly one second apart, so one that arrives a little late puts
/// `n + 1` requests into a server's one-second window and earns a 429 (measured: 0–4 refusals
/// per 200 MiB at 5 QPS without the margin, none with it, at a cost of 2.5 % of the ceiling).
pub const SPACING_MARGIN: Duration = Duration::from_millis(25);

/// The lowest the rate goes when the server refuses requests without saying for how long
/// (multiplicative decrease), as a fraction in thousandths: 1/8 of the configured rate.
const MIN_FRACTION: u32 = 125;
/// What each success gives back (additive increase), in thousandths of the configured rate.
const FRACTION_STEP: u32 = 25;
const FULL: u32 = 1000;
/// At most one multiplicative decrease per this long: several requests in flight refused at
/// once are one signal, not several.
const DECREASE_HOLDOFF: Duration = Duration::from_secs(1);

/// The endpoint groups Feishu limits separately: every operation with its own
/// `x-feishu-rate-limit` in the spec (generated, so a new endpoint is a new group with no hand
/// edit). [`Group::as_str`] names it as Feishu's docs and the Redis keys do.
pub use crate::operations::RateGroup as Group;

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

fn unix_secs(t: SystemTime) -> String {
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

/// The limits a [`Budget`] keeps, and how.
#[derive(Clone)]
pub struct BudgetConfig {
    app_id: String,
    requests_per_second: NonZeroU32,
    daily_quota: Option<u64>,
    day_offset_secs: i64,
    spacing_margin: Duration,
    store_timeout: Duration,
    store_retry_interval: Duration,
    key_prefix: String,
    report_waits_over: Duration,
    events: Option<EventFn>,
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
        self.day_offset_secs = offset_secs.clamp(-86_400, 86_400);
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
        (Duration::from_secs(1) + self.spacing_margin) / self.requests_per_second.get()
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
fn quota_day(now: SystemTime, offset_secs: i64) -> (i64, SystemTime) {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let day = (secs + offset_secs).div_euclid(86_400);
    let end = (day + 1) * 86_400 - offset_secs;
    let resets_at = u64::try_from(end).map_or(UNIX_EPOCH, |s| UNIX_EPOCH + Duration::from_secs(s));
    (day, resets_at)
}

/// One app's request budget; clones share it.
#[derive(Clone, Debug)]
pub struct Budget {
    backend: Arc<Backend>,
}

#[derive(Debug)]
enum Backend {
    Local(LocalBudget),
    #[cfg(feature = "redis")]
    Redis(redis::RedisBudget),
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

impl Budget {
    /// A budget kept in this process: every clone of it shares one limiter per group.
    pub fn in_process(config: BudgetConfig) -> Self {
        Self {
            backend: Arc::new(Backend::Local(LocalBudget::new(
                Arc::new(config.clone()),
                config.interval(),
                1.0,
                None,
            ))),
        }
    }

    /// An uploader's or downloader's own budget: `rate` requests per second per group with the
    /// documented daily quota; with `None` no rate limit and no quota (a local server), but
    /// still the pause of every request after a refusal with a reset.
    pub(crate) fn own(app_id: &str, rate: Option<NonZeroU32>) -> Self {
        let config = BudgetConfig::new(app_id);
        Self::in_process(match rate {
            Some(rate) => config.requests_per_second(rate.get()),
            None => config
                .requests_per_second(u32::MAX)
                .spacing_margin(Duration::ZERO)
                .daily_quota(None),
        })
    }

    /// A budget shared through the Redis server at `url` (`redis://host:port/db`) by every
    /// process that uses the same app id and key prefix. Does not connect yet: the first request
    /// does, and falls back to a local limiter if Redis cannot be reached (see the module docs).
    #[cfg(feature = "redis")]
    pub fn redis(url: &str, config: BudgetConfig) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Arc::new(Backend::Redis(redis::RedisBudget::new(url, Arc::new(config))?)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BudgetConfig {
        match &*self.backend {
            Backend::Local(b) => b.config(),
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.config(),
        }
    }

    /// Whether this budget is shared through a store (Redis) rather than kept in this process.
    pub fn is_shared(&self) -> bool {
        !matches!(&*self.backend, Backend::Local(_))
    }

    /// Waits until a request to `group` may be sent, and counts it against the daily quota.
    /// Fails only when the quota is used up. The [`Permit`] stands for one request: send it, and
    /// report what the server answered through it.
    pub async fn acquire(&self, group: Group) -> Result<Permit, QuotaExceeded> {
        match &*self.backend {
            Backend::Local(b) => b.acquire(group).await,
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.acquire(group).await,
        }?;
        Ok(Permit {
            budget: self.clone(),
            group,
        })
    }

    /// Calls left today in `group` (`None` when no quota is configured).
    pub async fn remaining(&self, group: Group) -> Option<u64> {
        match &*self.backend {
            Backend::Local(b) => b.remaining(group),
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.remaining(group).await,
        }
    }

    /// Checks that `needed` more calls to `group` fit in today's quota, without counting them.
    pub async fn check_fits(&self, group: Group, needed: u64) -> Result<(), QuotaExceeded> {
        let Some(remaining) = self.remaining(group).await else {
            return Ok(());
        };
        if needed <= remaining {
            return Ok(());
        }
        let (_, resets_at) = self.config().quota_day(SystemTime::now());
        Err(QuotaExceeded {
            group,
            needed,
            remaining,
            resets_at,
        })
    }

    /// The server refused a request to `group` for its rate. With `reset` (the gateway's
    /// `x-ogw-ratelimit-reset`) every participant pauses until then; without it the group's rate
    /// is halved (at most once a second, down to 1/8) and recovers with each success.
    pub async fn report_throttled(&self, group: Group, reset: Option<Duration>) {
        match &*self.backend {
            Backend::Local(b) => b.report_throttled(group, reset),
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.report_throttled(group, reset).await,
        }
    }

    /// A request to `group` succeeded: a slowed-down rate recovers a step.
    pub async fn report_success(&self, group: Group) {
        match &*self.backend {
            Backend::Local(b) => b.report_success(group),
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.report_success(group).await,
        }
    }

    /// The server answered that `group`'s daily quota is used up: nothing more is granted until
    /// the quota day ends. Returns the error to hand to the caller.
    pub async fn report_quota_exhausted(&self, group: Group) -> QuotaExceeded {
        match &*self.backend {
            Backend::Local(b) => b.report_quota_exhausted(group),
            #[cfg(feature = "redis")]
            Backend::Redis(b) => b.report_quota_exhausted(group).await,
        }
    }
}

/// One granted request of one group, from [`Budget::acquire`]: the request it stands for is
/// sent, and what the server answered is reported back, so that a rate refusal slows every
/// participant and a quota answer stops them. Every attempt of every request of a
/// [`Client`](crate::Client) takes one (its hooks do), retries included.
#[must_use = "a permit stands for one request: send it, then report the answer"]
#[derive(Debug)]
pub struct Permit {
    budget: Budget,
    group: Group,
}

impl Permit {
    /// The group the request counts against.
    pub fn group(&self) -> Group {
        self.group
    }

    /// The request succeeded: a slowed-down rate recovers a step.
    pub async fn succeeded(self) {
        self.budget.report_success(self.group).await;
    }

    /// The request failed with `error`: a rate refusal pauses (with a reset) or slows (without)
    /// every participant; a quota answer stops the group until the quota day ends, and is
    /// returned as the error to hand to the caller. Other failures say nothing about the budget.
    pub async fn failed(self, error: &ApiError) -> Option<QuotaExceeded> {
        match error.verdict() {
            Verdict::Throttled { reset } => {
                self.budget.report_throttled(self.group, reset).await;
                None
            }
            Verdict::QuotaExhausted => match error {
                ApiError::QuotaExceeded(quota) => Some(quota.clone()),
                _ => Some(self.budget.report_quota_exhausted(self.group).await),
            },
            _ => None,
        }
    }
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
