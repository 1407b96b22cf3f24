//! Injected faults (retryable answers, dropped connections) and the per-app rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use feishu_drive::ErrorCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{Identity, lock};
use crate::config::{Faults, Operation, RateLimitStyle};
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
    windows: Mutex<HashMap<(Identity, Operation), Window>>,
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
        Self {
            faults,
            rng: Mutex::new(rng),
            windows: Mutex::new(HashMap::new()),
        }
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

    /// Counts the request against `who`'s limit for `op`, and answers as configured when it is
    /// over: fixed one-second windows, like the gateway's `x-ogw-ratelimit-reset` in seconds.
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
            .entry((who.clone(), op))
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
        assert!(i.check_rate(&a, Operation::UploadPart).is_ok());
        assert!(i.check_rate(&a, Operation::UploadPart).is_ok());
        let over = i
            .check_rate(&a, Operation::UploadPart)
            .expect_err("third in a second");
        assert_eq!(over.code(), ErrorCode::RateLimited);
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
}
