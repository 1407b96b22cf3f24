//! Injected faults (retryable answers, dropped connections, fault rules), the per-app rate
//! limit and the per-app daily quota.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use feishu_drive::ErrorCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{Identity, lock};
use crate::config::{FaultKind, FaultRule, Faults, Operation, RateLimitStyle};
use crate::error::Failure;

/// What to do to one request instead of serving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer with this retryable code (HTTP 200).
    Retryable(ErrorCode),
    /// Drop the connection mid-request.
    Drop,
}

/// The retryable codes the docs say arrive with HTTP 200.
const RETRYABLE: [ErrorCode; 3] = [
    ErrorCode::CanRetry,
    ErrorCode::InternalError,
    ErrorCode::InternalTimeout,
];

#[derive(Debug)]
pub(crate) struct Injector {
    faults: Faults,
    rng: Mutex<StdRng>,
    /// The rules, each with how many of its `first` requests it still has to hit.
    rules: Mutex<Vec<(FaultRule, u64)>>,
    /// How many requests each rule (same index as `rules`) has picked.
    hits: Mutex<Vec<u64>>,
    /// Rate-limit windows per app and operation.
    windows: Mutex<HashMap<(String, Operation), Window>>,
    /// Calls per app and operation in the current quota day: `(day number, calls)`.
    quota_days: Mutex<HashMap<(String, Operation), (u64, u64)>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

const WINDOW: Duration = Duration::from_secs(1);

impl Injector {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = StdRng::seed_from_u64(faults.seed);
        let rules = faults.rules.iter().map(|r| (r.clone(), r.first)).collect();
        let hits = vec![0; faults.rules.len()];
        Self {
            faults,
            rng: Mutex::new(rng),
            rules: Mutex::new(rules),
            hits: Mutex::new(hits),
            windows: Mutex::new(HashMap::new()),
            quota_days: Mutex::new(HashMap::new()),
        }
    }

    /// The slow link's rate, if any.
    pub(crate) fn link_bytes_per_second(&self) -> Option<u64> {
        self.faults.link_bytes_per_second.filter(|&bps| bps > 0)
    }

    /// Adds a rule after the others.
    pub(crate) fn add_rule(&self, rule: FaultRule) {
        let first = rule.first;
        let mut rules = lock(&self.rules);
        rules.push((rule, first));
        lock(&self.hits).resize(rules.len(), 0);
    }

    /// Every rule, in order, with the number of requests it has picked.
    pub(crate) fn rule_hits(&self) -> Vec<(FaultRule, u64)> {
        let rules = lock(&self.rules);
        let hits = lock(&self.hits);
        rules
            .iter()
            .zip(hits.iter())
            .map(|((rule, _), &hits)| (rule.clone(), hits))
            .collect()
    }

    /// The fault rule that hits this request to `op`, if any: the first rule (in order) that
    /// still has `first` requests to hit, or whose `rate` draw says so. Rules without a rate
    /// draw nothing from the RNG, so count-only schedules are exact.
    pub(crate) fn pick(&self, op: Operation) -> Option<FaultKind> {
        let mut rules = lock(&self.rules);
        for (i, (rule, left)) in rules.iter_mut().enumerate() {
            if !rule.operations.contains(&op) {
                continue;
            }
            let hit = if *left > 0 {
                *left -= 1;
                true
            } else {
                rule.rate > 0.0 && lock(&self.rng).random::<f64>() < rule.rate
            };
            if hit {
                if let Some(count) = lock(&self.hits).get_mut(i) {
                    *count += 1;
                }
                return Some(rule.kind);
            }
        }
        None
    }

    /// One of `options`, drawn from the seeded RNG.
    pub(crate) fn choose<T: Copy>(&self, options: &[T]) -> Option<T> {
        if options.is_empty() {
            return None;
        }
        let i = lock(&self.rng).random_range(0..options.len());
        options.get(i).copied()
    }

    pub(crate) fn latency(&self) -> Duration {
        self.faults.latency
    }

    /// Whether (and how) to fail this request to `op`. One draw per request keeps a seeded run
    /// repeatable.
    pub(crate) fn roll(&self, op: Operation) -> Option<Fault> {
        let f = &self.faults;
        if !f.operations.contains(&op) || (f.retryable_error_rate <= 0.0 && f.drop_connection_rate <= 0.0) {
            return None;
        }
        let mut rng = lock(&self.rng);
        let draw: f64 = rng.random();
        if draw < f.drop_connection_rate {
            Some(Fault::Drop)
        } else if draw < f.drop_connection_rate + f.retryable_error_rate {
            Some(Fault::Retryable(RETRYABLE[rng.random_range(0..RETRYABLE.len())]))
        } else {
            None
        }
    }

    /// Counts the request against the limit of `who`'s app for `op`, and answers as configured
    /// when it is over: fixed one-second windows, like the gateway's `x-ogw-ratelimit-reset` in
    /// seconds. A user token counts against its app.
    pub(crate) fn check_rate(&self, who: &Identity, op: Operation) -> Result<(), Failure> {
        let Some(limit) = self.faults.rate_limit else {
            return Ok(());
        };
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        // Windows that ended long ago say nothing; dropping them bounds the map by the number of
        // identities active in the last few seconds.
        if windows.len() > 1024 {
            windows.retain(|_, w| now.saturating_duration_since(w.start) < WINDOW);
        }
        let window = windows
            .entry((who.app_id().to_owned(), op))
            .or_insert(Window { start: now, count: 0 });
        if now.saturating_duration_since(window.start) >= WINDOW {
            *window = Window { start: now, count: 0 };
        }
        if window.count < limit.requests_per_second {
            window.count += 1;
            return Ok(());
        }
        let left = WINDOW.saturating_sub(now.saturating_duration_since(window.start));
        // The header is whole seconds; round up so a client that waits `reset` is not early.
        let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Err(match limit.style {
            RateLimitStyle::Gateway => Failure::rate_limited(limit.requests_per_second, reset.max(1)),
            RateLimitStyle::CanRetry => Failure::new(ErrorCode::CanRetry, "request rate limit exceeded"),
        })
    }

    /// Counts the call against the daily quota of `who`'s app for `op`; over it, the quota's
    /// answer (see [`crate::Quota`]).
    pub(crate) fn check_quota(&self, who: &Identity, op: Operation) -> Result<(), Failure> {
        let Some(quota) = self.faults.daily_quota else {
            return Ok(());
        };
        let day_secs = quota.day.as_secs().max(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let day = now / day_secs;
        let mut days = lock(&self.quota_days);
        let (counted_day, calls) = days.entry((who.app_id().to_owned(), op)).or_insert((day, 0));
        if *counted_day != day {
            *counted_day = day;
            *calls = 0;
        }
        if *calls < quota.calls {
            *calls += 1;
            return Ok(());
        }
        let reset = day
            .saturating_add(1)
            .saturating_mul(day_secs)
            .saturating_sub(now)
            .max(1);
        Err(Failure::quota_exceeded(
            quota.calls,
            reset,
            format!(
                "the daily quota of {} calls to this endpoint is used up; it resets in {reset} s",
                quota.calls
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_respected_and_seeded() {
        let faults = Faults::default()
            .retryable_errors(0.3)
            .dropped_connections(0.1)
            .seed(42);
        let draws = |i: &Injector| {
            (0..2000)
                .map(|_| i.roll(Operation::UploadPart))
                .collect::<Vec<_>>()
        };
        let a = draws(&Injector::new(faults.clone()));
        assert_eq!(a, draws(&Injector::new(faults)), "same seed, same faults");
        let drops = a.iter().filter(|f| **f == Some(Fault::Drop)).count();
        let errors = a
            .iter()
            .filter(|f| matches!(f, Some(Fault::Retryable(_))))
            .count();
        assert!((150..250).contains(&drops), "{drops} drops of 2000 at 10%");
        assert!((500..700).contains(&errors), "{errors} errors of 2000 at 30%");
        for f in a.iter().flatten() {
            if let Fault::Retryable(code) = f {
                assert!(code.is_retryable() && code.http_status() == Some(200), "{code}");
            }
        }
    }

    #[test]
    fn faults_only_hit_their_operations() {
        let i = Injector::new(Faults::default().retryable_errors(1.0));
        assert!(i.roll(Operation::UploadPart).is_some());
        assert!(i.roll(Operation::UploadPrepare).is_none());
    }

    #[test]
    fn rate_limit_per_identity_and_operation() {
        let i = Injector::new(Faults::default().rate_limit(2, RateLimitStyle::Gateway));
        let a = Identity::App("a".into());
        let b = Identity::App("b".into());
        // A user of app `a` shares its limit.
        let alice = Identity::User {
            app: "a".into(),
            name: "alice".into(),
        };
        assert!(i.check_rate(&a, Operation::UploadPart).is_ok());
        assert!(i.check_rate(&a, Operation::UploadPart).is_ok());
        let over = i
            .check_rate(&a, Operation::UploadPart)
            .expect_err("third in a second");
        assert_eq!(over.code(), ErrorCode::RateLimited);
        assert!(
            i.check_rate(&alice, Operation::UploadPart).is_err(),
            "a user counts against its app"
        );
        assert!(i.check_rate(&b, Operation::UploadPart).is_ok(), "other app");
        assert!(
            i.check_rate(&a, Operation::UploadPrepare).is_ok(),
            "other operation"
        );

        let i = Injector::new(Faults::default().rate_limit(1, RateLimitStyle::CanRetry));
        assert!(i.check_rate(&a, Operation::UploadAll).is_ok());
        let over = i.check_rate(&a, Operation::UploadAll).expect_err("second");
        assert_eq!(over.code(), ErrorCode::CanRetry);
    }

    #[test]
    fn ten_user_names_share_one_apps_limit() {
        let i = Injector::new(Faults::default().rate_limit(5, RateLimitStyle::Gateway));
        let allowed = (0..10)
            .flat_map(|n| {
                let who = Identity::User {
                    app: "cli_a".into(),
                    name: format!("user{n}"),
                };
                (0..5).map(move |_| who.clone())
            })
            .filter(|who| i.check_rate(who, Operation::UploadPart).is_ok())
            .count();
        // 50 requests within far less than a second (a slow machine could cross one window
        // boundary: at most twice the limit).
        assert!((5..=10).contains(&allowed), "{allowed} of 50 allowed");
    }

    #[test]
    fn count_rules_hit_exactly_the_first_requests_then_rates_apply() {
        let i = Injector::new(
            Faults::default()
                .rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(2))
                .rule(
                    FaultRule::new(
                        FaultKind::Html(502),
                        [Operation::UploadFinish, Operation::UploadPart],
                    )
                    .rate(1.0),
                ),
        );
        assert_eq!(i.pick(Operation::UploadFinish), Some(FaultKind::LoseResponse));
        assert_eq!(i.pick(Operation::UploadPrepare), None);
        assert_eq!(i.pick(Operation::UploadFinish), Some(FaultKind::LoseResponse));
        assert_eq!(i.pick(Operation::UploadFinish), Some(FaultKind::Html(502)));
        assert_eq!(i.pick(Operation::UploadPart), Some(FaultKind::Html(502)));
        i.add_rule(FaultRule::new(FaultKind::Empty429, [Operation::Download]).first(1));
        assert_eq!(i.pick(Operation::Download), Some(FaultKind::Empty429));
        assert_eq!(i.pick(Operation::Download), None);
        let hits: Vec<(FaultKind, u64)> = i.rule_hits().into_iter().map(|(r, n)| (r.kind, n)).collect();
        assert_eq!(
            hits,
            [
                (FaultKind::LoseResponse, 2),
                (FaultKind::Html(502), 2),
                (FaultKind::Empty429, 1)
            ]
        );
    }

    #[test]
    fn rate_rules_are_seeded() {
        let faults = Faults::default()
            .rule(FaultRule::new(FaultKind::PlainText(503), [Operation::UploadPart]).rate(0.25))
            .seed(9);
        let draws = |i: &Injector| {
            (0..400)
                .map(|_| i.pick(Operation::UploadPart))
                .collect::<Vec<_>>()
        };
        let a = draws(&Injector::new(faults.clone()));
        assert_eq!(a, draws(&Injector::new(faults)));
        let hits = a.iter().flatten().count();
        assert!((60..140).contains(&hits), "{hits} of 400 at 25%");
    }

    #[test]
    fn daily_quota_per_app_and_operation() {
        let i = Injector::new(Faults::default().daily_quota(3));
        let a = Identity::App("a".into());
        let bob = Identity::User {
            app: "a".into(),
            name: "bob".into(),
        };
        for who in [&a, &bob, &a] {
            assert!(i.check_quota(who, Operation::UploadPart).is_ok());
        }
        let over = i
            .check_quota(&bob, Operation::UploadPart)
            .expect_err("fourth call");
        assert_eq!(over.code(), ErrorCode::ApiCallQuotaExceeded);
        assert!(
            i.check_quota(&a, Operation::UploadFinish).is_ok(),
            "other operation"
        );
        assert!(
            i.check_quota(&Identity::App("b".into()), Operation::UploadPart)
                .is_ok(),
            "other app"
        );
    }
}
