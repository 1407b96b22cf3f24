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

mod config;
mod in_process;
#[cfg(feature = "redis")]
mod redis;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::{ApiError, Verdict};
#[cfg(feature = "redis")]
pub use config::StoreError;
pub use config::{
    BudgetConfig, BudgetEvent, DEFAULT_DAY_OFFSET, EventFn, Group, QuotaExceeded, SPACING_MARGIN, WaitReason,
};
use in_process::LocalBudget;

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

    /// A failure that already is the budget's refusal comes back as it is, and does not mark the
    /// group's quota used up: only the server's quota answer does that.
    #[tokio::test]
    async fn a_failure_that_is_a_quota_refusal_is_handed_back_unchanged() {
        let budget = Budget::in_process(
            BudgetConfig::new("app")
                .daily_quota(Some(10))
                .requests_per_second(1000),
        );
        let refusal = QuotaExceeded {
            group: Group::UploadPart,
            needed: 5,
            remaining: 3,
            resets_at: SystemTime::now(),
        };
        let permit = budget.acquire(Group::UploadPart).await.expect("a permit");
        let back = permit
            .failed(&ApiError::QuotaExceeded(refusal.clone()))
            .await
            .expect("a quota error");
        assert_eq!(
            (back.needed, back.remaining, back.resets_at),
            (5, 3, refusal.resets_at)
        );
        let _next = budget
            .acquire(Group::UploadPart)
            .await
            .expect("the group is not marked used up");
    }
}
