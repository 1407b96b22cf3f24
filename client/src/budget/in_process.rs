//! The budget kept in this process: one `governor` GCRA limiter per endpoint group (no burst),
//! a shared "blocked until" per group, AIMD slow-down through a second, slower limiter, and a
//! daily counter. Also the fallback of the Redis budget, at this process's share of the rate.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use governor::clock::Clock;
use tokio::time::Instant;

use super::Group;
use super::config::{
    BudgetConfig, BudgetEvent, DECREASE_HOLDOFF, FRACTION_STEP, FULL, MIN_FRACTION, QuotaExceeded, WaitReason,
};

/// On `std::time::Instant`, named here rather than `governor::DefaultClock`: a dependency that
/// turned on governor's `quanta` feature would otherwise switch the clock (and its calibration
/// spin when the first limiter is made) under us.
type Limiter = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    governor::clock::MonotonicClock,
    governor::middleware::NoOpMiddleware<std::time::Instant>,
>;

/// What a fallback budget inherits from the shared one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inherited {
    /// Calls this process may still make today, per group (its share of what was left).
    pub(crate) remaining: [Option<u64>; Group::COUNT],
    /// The groups' rate fractions (thousandths) when the store failed.
    pub(crate) fractions: [Option<u32>; Group::COUNT],
    /// Pauses known when the store failed.
    pub(crate) blocked_until: [Option<Instant>; Group::COUNT],
}

#[derive(Debug)]
pub(crate) struct LocalBudget {
    config: Arc<BudgetConfig>,
    /// The spacing of one group's requests at full rate: the configured one on its own, wider
    /// as the fallback of one of several participants.
    interval: Duration,
    /// The part of the daily quota this budget may spend: 1 on its own, 1/n as a fallback.
    share: f64,
    groups: [GroupState; Group::COUNT],
}

#[derive(Debug)]
struct GroupState {
    nominal: Limiter,
    slow: Mutex<Slow>,
    blocked_until: Mutex<Option<Instant>>,
    quota: Mutex<QuotaDay>,
}

#[derive(Debug)]
struct Slow {
    /// The rate in thousandths of the configured one.
    fraction: u32,
    last_decrease: Option<Instant>,
    /// Present while `fraction < FULL`: every request also waits for it.
    limiter: Option<Arc<Limiter>>,
}

#[derive(Debug)]
struct QuotaDay {
    day: i64,
    used: u64,
    limit: Option<u64>,
    /// The server said the quota is used up (for this day).
    exhausted: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A limiter spacing requests `period` apart with no burst. `empty`: its first permit is one
/// period away (a fallback must not add a burst to what the shared budget already granted).
fn limiter(period: Duration, empty: bool) -> Limiter {
    let period = period.max(Duration::from_nanos(1));
    let quota = governor::Quota::with_period(period)
        .unwrap_or_else(|| governor::Quota::per_second(std::num::NonZeroU32::MIN))
        .allow_burst(std::num::NonZeroU32::MIN);
    let limiter = governor::RateLimiter::direct_with_clock(quota, governor::clock::MonotonicClock);
    if empty {
        // Takes the one permit a new limiter holds.
        let _ = limiter.check();
    }
    limiter
}

impl LocalBudget {
    /// `interval`: the spacing at full rate; `share`: the part of the daily quota; `inherited`:
    /// present for a fallback, whose limiters start empty.
    pub(crate) fn new(
        config: Arc<BudgetConfig>,
        interval: Duration,
        share: f64,
        inherited: Option<Inherited>,
    ) -> Self {
        let share = if share.is_finite() && share > 0.0 {
            share.min(1.0)
        } else {
            1.0
        };
        let empty = inherited.is_some();
        let inherited = inherited.unwrap_or_default();
        let (today, _) = config.quota_day(SystemTime::now());
        let groups = Group::ALL.map(|group| {
            let i = group.index();
            let fraction = inherited.fractions[i].unwrap_or(FULL).clamp(MIN_FRACTION, FULL);
            let limit = inherited.remaining[i].or_else(|| config.daily_quota.map(|q| scale(q, share)));
            GroupState {
                nominal: limiter(interval, empty),
                slow: Mutex::new(Slow {
                    fraction,
                    last_decrease: None,
                    limiter: (fraction < FULL).then(|| Arc::new(slow_limiter(interval, fraction))),
                }),
                blocked_until: Mutex::new(inherited.blocked_until[i]),
                quota: Mutex::new(QuotaDay {
                    day: today,
                    used: 0,
                    limit,
                    exhausted: false,
                }),
            }
        });
        Self {
            config,
            interval,
            share,
            groups,
        }
    }

    pub(crate) fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Requests per second this budget allows a group at full rate (the Redis fallback's share).
    #[cfg(feature = "redis")]
    pub(crate) fn rate(&self) -> f64 {
        1.0 / self.interval.as_secs_f64()
    }

    fn state(&self, group: Group) -> &GroupState {
        &self.groups[group.index()]
    }

    /// The group's quota state, rolled over to today.
    fn quota(&self, group: Group) -> (MutexGuard<'_, QuotaDay>, SystemTime) {
        let (today, resets_at) = self.config.quota_day(SystemTime::now());
        let mut quota = lock(&self.state(group).quota);
        if quota.day != today {
            *quota = QuotaDay {
                day: today,
                used: 0,
                limit: self.config.daily_quota.map(|q| scale(q, self.share)),
                exhausted: false,
            };
        }
        (quota, resets_at)
    }

    /// Counts `n` calls against today's quota, or says they do not fit.
    pub(crate) fn take_quota(&self, group: Group, n: u64) -> Result<(), QuotaExceeded> {
        let (mut quota, resets_at) = self.quota(group);
        let remaining = remaining(&quota);
        if remaining.is_some_and(|left| left < n) {
            return Err(QuotaExceeded {
                group,
                needed: n,
                remaining: remaining.unwrap_or(0),
                resets_at,
            });
        }
        quota.used += n;
        Ok(())
    }

    pub(crate) async fn acquire(&self, group: Group) -> Result<(), QuotaExceeded> {
        self.take_quota(group, 1)?;
        self.wait_for_rate(group).await;
        Ok(())
    }

    /// Waits for the group's pause to end and for a permit of its limiter(s).
    pub(crate) async fn wait_for_rate(&self, group: Group) {
        let state = self.state(group);
        loop {
            if let Some(until) = self.blocked_until(group) {
                self.report_wait(group, until - Instant::now(), WaitReason::Blocked);
                tokio::time::sleep_until(until).await;
                continue;
            }
            self.wait_permit(group, &state.nominal).await;
            let slow = lock(&state.slow).limiter.clone();
            if let Some(slow) = slow {
                self.wait_permit(group, &slow).await;
            }
            // A refusal reported while this request waited pauses it too.
            if self.blocked_until(group).is_none() {
                return;
            }
        }
    }

    /// The end of the group's pause, if it is in the future.
    pub(crate) fn blocked_until(&self, group: Group) -> Option<Instant> {
        lock(&self.state(group).blocked_until).filter(|until| *until > Instant::now())
    }

    async fn wait_permit(&self, group: Group, limiter: &Limiter) {
        loop {
            match limiter.check() {
                Ok(()) => return,
                Err(not_until) => {
                    let delay = not_until.wait_time_from(limiter.clock().now());
                    self.report_wait(group, delay, WaitReason::Rate);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    fn report_wait(&self, group: Group, delay: Duration, reason: WaitReason) {
        if delay >= self.config.report_waits_over {
            self.config.emit(BudgetEvent::Waiting { group, delay, reason });
        }
    }

    pub(crate) fn remaining(&self, group: Group) -> Option<u64> {
        remaining(&self.quota(group).0)
    }

    /// The group's rate fraction, in thousandths.
    pub(crate) fn fraction(&self, group: Group) -> u32 {
        lock(&self.state(group).slow).fraction
    }

    /// Pauses the group until `until` (a later pause already known wins).
    pub(crate) fn block_until(&self, group: Group, until: Instant) {
        let mut blocked = lock(&self.state(group).blocked_until);
        if blocked.is_none_or(|b| b < until) {
            *blocked = Some(until);
        }
    }

    pub(crate) fn report_throttled(&self, group: Group, reset: Option<Duration>) {
        let fraction = match reset {
            Some(reset) => {
                self.block_until(group, Instant::now() + reset);
                self.fraction(group)
            }
            None => {
                let mut slow = lock(&self.state(group).slow);
                let now = Instant::now();
                if slow
                    .last_decrease
                    .is_some_and(|last| now.duration_since(last) < DECREASE_HOLDOFF)
                {
                    return;
                }
                slow.last_decrease = Some(now);
                slow.fraction = (slow.fraction / 2).max(MIN_FRACTION);
                slow.limiter = Some(Arc::new(slow_limiter(self.interval, slow.fraction)));
                slow.fraction
            }
        };
        self.config.emit(BudgetEvent::Throttled {
            group,
            reset,
            rate_fraction: f64::from(fraction) / f64::from(FULL),
        });
    }

    pub(crate) fn report_success(&self, group: Group) {
        let mut slow = lock(&self.state(group).slow);
        if slow.fraction >= FULL {
            return;
        }
        slow.fraction = (slow.fraction + FRACTION_STEP).min(FULL);
        if slow.fraction == FULL {
            slow.limiter = None;
            drop(slow);
            self.config.emit(BudgetEvent::RateRestored { group });
        } else {
            slow.limiter = Some(Arc::new(slow_limiter(self.interval, slow.fraction)));
        }
    }

    pub(crate) fn report_quota_exhausted(&self, group: Group) -> QuotaExceeded {
        let (mut quota, resets_at) = self.quota(group);
        quota.exhausted = true;
        drop(quota);
        self.config.emit(BudgetEvent::QuotaExhausted { group, resets_at });
        QuotaExceeded {
            group,
            needed: 1,
            remaining: 0,
            resets_at,
        }
    }
}

/// The limiter of a group slowed down to `fraction` thousandths of the rate; it starts empty,
/// so a change of pace never lets a request through early.
fn slow_limiter(interval: Duration, fraction: u32) -> Limiter {
    limiter(
        interval.mul_f64(f64::from(FULL) / f64::from(fraction.max(1))),
        true,
    )
}

fn remaining(quota: &QuotaDay) -> Option<u64> {
    if quota.exhausted {
        return Some(0);
    }
    quota.limit.map(|limit| limit.saturating_sub(quota.used))
}

/// `share` of `quota`, rounded down: the fallback of one of n participants must not spend more
/// than its part.
fn scale(quota: u64, share: f64) -> u64 {
    (quota as f64 * share).floor() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(config: BudgetConfig) -> LocalBudget {
        let interval = config.interval();
        LocalBudget::new(Arc::new(config), interval, 1.0, None)
    }

    #[tokio::test]
    async fn the_quota_counts_every_permit_and_refuses_past_it() {
        let b = budget(
            BudgetConfig::new("app")
                .daily_quota(Some(3))
                .requests_per_second(1000),
        );
        for left in [2, 1, 0] {
            b.acquire(Group::UploadPart).await.expect("within quota");
            assert_eq!(b.remaining(Group::UploadPart), Some(left));
        }
        let err = b.acquire(Group::UploadPart).await.expect_err("quota used up");
        assert_eq!((err.needed, err.remaining), (1, 0));
        assert!(err.resets_at > SystemTime::now());
        assert_eq!(
            b.remaining(Group::UploadPrepare),
            Some(3),
            "groups count separately"
        );
        assert!(b.take_quota(Group::UploadPrepare, 4).is_err());
        assert_eq!(
            b.remaining(Group::UploadPrepare),
            Some(3),
            "a refusal counts nothing"
        );
    }

    #[tokio::test]
    async fn halving_happens_once_per_holdoff_and_recovers_additively() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let b = budget(BudgetConfig::new("app").on_event(move |e| lock(&sink).push(e.clone())));
        b.report_throttled(Group::UploadPart, None);
        b.report_throttled(Group::UploadPart, None);
        assert_eq!(
            b.fraction(Group::UploadPart),
            500,
            "two refusals at once are one signal"
        );
        tokio::time::sleep(DECREASE_HOLDOFF).await;
        b.report_throttled(Group::UploadPart, None);
        assert_eq!(b.fraction(Group::UploadPart), 250);
        for _ in 0..((FULL - 250) / FRACTION_STEP) {
            b.report_success(Group::UploadPart);
        }
        assert_eq!(b.fraction(Group::UploadPart), FULL);
        let events = lock(&events);
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(
            events.last(),
            Some(&BudgetEvent::RateRestored {
                group: Group::UploadPart
            })
        );
    }

    #[test]
    fn of_two_pauses_the_later_end_wins() {
        let b = budget(BudgetConfig::new("app"));
        let now = Instant::now();
        let (long, short) = (now + Duration::from_secs(20), now + Duration::from_secs(1));
        b.block_until(Group::UploadPart, long);
        b.block_until(Group::UploadPart, short);
        assert_eq!(
            b.blocked_until(Group::UploadPart),
            Some(long),
            "a shorter pause does not cut it"
        );
        let longer = long + Duration::from_secs(10);
        b.block_until(Group::UploadPart, longer);
        assert_eq!(
            b.blocked_until(Group::UploadPart),
            Some(longer),
            "a longer one extends it"
        );
    }
}
