//! The budget shared through Redis: `budget.lua` keeps each group's GCRA slot, pause, AIMD rate
//! and daily counter atomically on the Redis server's clock; this side sleeps until the slot it
//! was given, and falls back to a [`LocalBudget`] at its share of the rate when Redis fails.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use super::Group;
use super::config::{
    BudgetConfig, BudgetEvent, DECREASE_HOLDOFF, FRACTION_STEP, FULL, MIN_FRACTION, QuotaExceeded,
    StoreError, WaitReason,
};
use super::in_process::{Inherited, LocalBudget};

const SCRIPT: &str = include_str!("budget.lua");

/// The reply of `budget.lua`.
#[derive(Debug, Clone, Copy)]
struct Reply {
    quota_exhausted: bool,
    wait: Duration,
    remaining: Option<u64>,
    resets_at: SystemTime,
    fraction: u32,
    participants: u32,
}

impl Reply {
    fn parse(values: &[i64]) -> Option<Self> {
        let [status, wait_us, remaining, day_end, fraction, participants] = *values else {
            return None;
        };
        Some(Self {
            quota_exhausted: status == 1,
            wait: Duration::from_micros(u64::try_from(wait_us).ok()?),
            remaining: u64::try_from(remaining).ok(),
            resets_at: UNIX_EPOCH + Duration::from_secs(u64::try_from(day_end).ok()?),
            fraction: u32::try_from(fraction).ok()?.clamp(MIN_FRACTION, FULL),
            participants: u32::try_from(participants).unwrap_or(0),
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Command {
    Acquire,
    Throttle(Option<Duration>),
    Success,
    QuotaExhausted,
    Remaining,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Acquire => "acquire",
            Command::Throttle(_) => "throttle",
            Command::Success => "success",
            Command::QuotaExhausted => "quota_exhausted",
            Command::Remaining => "remaining",
        }
    }
}

enum Mode {
    Shared,
    Fallback {
        local: Arc<LocalBudget>,
        next_probe: Instant,
    },
}

impl std::fmt::Debug for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::Shared => f.write_str("Shared"),
            Mode::Fallback { next_probe, .. } => f
                .debug_struct("Fallback")
                .field("next_probe", next_probe)
                .finish(),
        }
    }
}

/// What the last replies said, for a fallback to start from.
#[derive(Debug, Default)]
struct LastSeen {
    remaining: [Option<u64>; Group::COUNT],
    /// This process's own pauses (from its reports), so a slot granted before a pause waits too.
    blocked_until: [Option<Instant>; Group::COUNT],
    /// The latest slot Redis granted this process, per group.
    last_slot: [Option<Instant>; Group::COUNT],
}

/// The spacing of one of `participants` processes on its own: with `k = rate / participants`
/// (rounded down) requests per window each, no one-second window of the server can see more
/// than the rate, whatever the processes' phases. With more participants than the rate allows
/// per second, each takes `1 / participants` of it: the average stays under the limit, a window
/// may not (and the server's refusals pause the process as usual).
fn fallback_interval(config: &BudgetConfig, participants: u32) -> Duration {
    let rate = config.requests_per_second.get();
    let per_window = rate / participants.max(1);
    if per_window >= 1 {
        (Duration::from_secs(1) + config.spacing_margin) / per_window
    } else {
        config.interval() * participants
    }
}

pub(crate) struct RedisBudget {
    config: Arc<BudgetConfig>,
    conn: ConnectionManager,
    script: redis::Script,
    /// Per group: tat, blocked-until, AIMD, quota. Then the participants key.
    keys: [[String; 4]; Group::COUNT],
    participants_key: String,
    member: String,
    mode: Mutex<Mode>,
    probing: AtomicBool,
    participants: AtomicU32,
    fractions: [AtomicU32; Group::COUNT],
    last: Mutex<LastSeen>,
}

impl std::fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBudget")
            .field("config", &self.config)
            .field("member", &self.member)
            .field("mode", &*lock(&self.mode))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A participant id unique enough across hosts and processes: host-independent parts (pid,
/// start time in ns, a per-process counter) hashed with std's randomly keyed hasher.
fn participant_id() -> String {
    use std::hash::{BuildHasher, Hash, Hasher};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    std::process::id().hash(&mut hasher);
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
        .hash(&mut hasher);
    COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut hasher);
    format!("{}-{:016x}", std::process::id(), hasher.finish())
}

impl RedisBudget {
    pub(crate) fn new(url: &str, config: Arc<BudgetConfig>) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::Url)?;
        let timeout = config.store_timeout;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        let conn =
            ConnectionManager::new_lazy_with_config(client, manager_config).map_err(StoreError::Setup)?;
        let base = format!("{}:{}", config.key_prefix, config.app_id);
        let keys = Group::ALL
            .map(|g| ["tat", "blocked", "aimd", "quota"].map(|k| format!("{base}:{}:{k}", g.as_str())));
        Ok(Self {
            participants_key: format!("{base}:participants"),
            config,
            conn,
            script: redis::Script::new(SCRIPT),
            keys,
            member: participant_id(),
            mode: Mutex::new(Mode::Shared),
            probing: AtomicBool::new(false),
            participants: AtomicU32::new(1),
            fractions: std::array::from_fn(|_| AtomicU32::new(FULL)),
            last: Mutex::new(LastSeen::default()),
        })
    }

    pub(crate) fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Runs one command of the script, within the store timeout.
    async fn invoke(&self, command: Command, group: Group) -> Result<Reply, String> {
        let mut invocation = self.script.prepare_invoke();
        for key in &self.keys[group.index()] {
            invocation.key(key);
        }
        let reset_us = match command {
            Command::Throttle(Some(reset)) => reset.as_micros().max(1),
            _ => 0,
        };
        invocation
            .key(&self.participants_key)
            .arg(command.name())
            .arg(self.config.interval().as_micros() as u64)
            .arg(
                self.config
                    .daily_quota
                    .map_or(-1, |q| i64::try_from(q).unwrap_or(i64::MAX)),
            )
            .arg(self.config.day_offset_secs)
            .arg(&self.member)
            .arg(reset_us as u64)
            .arg(DECREASE_HOLDOFF.as_micros() as u64)
            .arg(MIN_FRACTION)
            .arg(FRACTION_STEP);
        let mut conn = self.conn.clone();
        let timeout = self.config.store_timeout;
        let values: Vec<i64> = match tokio::time::timeout(timeout, invocation.invoke_async(&mut conn)).await {
            Ok(Ok(values)) => values,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("no answer within {timeout:?}")),
        };
        let reply = Reply::parse(&values)
            .ok_or_else(|| format!("unexpected reply from the budget script: {values:?}"))?;
        self.fractions[group.index()].store(reply.fraction, Ordering::Relaxed);
        if reply.participants > 0 {
            self.participants.store(reply.participants, Ordering::Relaxed);
        }
        if reply.remaining.is_some() || reply.quota_exhausted {
            lock(&self.last).remaining[group.index()] = reply.remaining.or(Some(0));
        }
        Ok(reply)
    }

    /// The local budget to use now, or `None` while Redis is the budget. `probe` is set when it
    /// is time to ask Redis again (only one caller at a time probes).
    fn fallback(&self) -> Option<(Arc<LocalBudget>, bool)> {
        let mode = lock(&self.mode);
        match &*mode {
            Mode::Shared => None,
            Mode::Fallback { local, next_probe } => {
                let due = Instant::now() >= *next_probe && !self.probing.swap(true, Ordering::AcqRel);
                Some((local.clone(), due))
            }
        }
    }

    /// Redis failed: continue on a local limiter that starts empty, at this process's share.
    fn enter_fallback(&self, error: String) -> Arc<LocalBudget> {
        let mut mode = lock(&self.mode);
        if let Mode::Fallback { local, .. } = &*mode {
            return local.clone();
        }
        let participants = self.participants.load(Ordering::Relaxed).max(1);
        let interval = fallback_interval(&self.config, participants);
        let last = lock(&self.last);
        let inherited = Inherited {
            remaining: last
                .remaining
                .map(|left| left.map(|left| left / u64::from(participants))),
            fractions: std::array::from_fn(|i| Some(self.fractions[i].load(Ordering::Relaxed))),
            // Not before this process's own pauses, nor one fallback interval after the last
            // slot Redis gave it.
            blocked_until: std::array::from_fn(|i| {
                let after_slot = last.last_slot[i].map(|slot| slot + interval);
                last.blocked_until[i].max(after_slot)
            }),
        };
        drop(last);
        let share = 1.0 / f64::from(participants);
        let local = Arc::new(LocalBudget::new(
            self.config.clone(),
            interval,
            share,
            Some(inherited),
        ));
        let fallback_rate = local.rate();
        *mode = Mode::Fallback {
            local: local.clone(),
            next_probe: Instant::now() + self.config.store_retry_interval,
        };
        drop(mode);
        self.config
            .emit(BudgetEvent::StoreUnavailable { error, fallback_rate });
        local
    }

    fn probe_failed(&self) {
        if let Mode::Fallback { next_probe, .. } = &mut *lock(&self.mode) {
            *next_probe = Instant::now() + self.config.store_retry_interval;
        }
        self.probing.store(false, Ordering::Release);
    }

    fn leave_fallback(&self) {
        let mut mode = lock(&self.mode);
        let was_fallback = matches!(*mode, Mode::Fallback { .. });
        *mode = Mode::Shared;
        drop(mode);
        self.probing.store(false, Ordering::Release);
        if was_fallback {
            self.config.emit(BudgetEvent::StoreRestored);
        }
    }

    fn own_pause(&self, group: Group) -> Option<Instant> {
        lock(&self.last).blocked_until[group.index()].filter(|until| *until > Instant::now())
    }

    pub(crate) async fn acquire(&self, group: Group) -> Result<(), QuotaExceeded> {
        loop {
            if let Some((local, probe)) = self.fallback() {
                if !probe {
                    return local.acquire(group).await;
                }
                // The local permit first, so returning to Redis never sends two requests
                // closer than this process's share allows.
                let permit = local.acquire(group).await;
                match self.invoke(Command::Acquire, group).await {
                    Ok(reply) => {
                        self.leave_fallback();
                        return self.use_slot(group, reply).await;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "budget store still unavailable");
                        self.probe_failed();
                        return permit;
                    }
                }
            }
            match self.invoke(Command::Acquire, group).await {
                Ok(reply) => {
                    self.use_slot(group, reply).await?;
                    // A pause this process learned of while it slept voids the slot.
                    if self.own_pause(group).is_none() {
                        return Ok(());
                    }
                }
                Err(e) => {
                    self.enter_fallback(e);
                }
            }
        }
    }

    /// Sleeps until the slot Redis granted, or says the quota is used up.
    async fn use_slot(&self, group: Group, reply: Reply) -> Result<(), QuotaExceeded> {
        if reply.quota_exhausted {
            return Err(QuotaExceeded {
                group,
                needed: 1,
                remaining: 0,
                resets_at: reply.resets_at,
            });
        }
        if reply.wait >= self.config.report_waits_over {
            let reason = if self.own_pause(group).is_some() {
                WaitReason::Blocked
            } else {
                WaitReason::Rate
            };
            self.config.emit(BudgetEvent::Waiting {
                group,
                delay: reply.wait,
                reason,
            });
        }
        let slot = Instant::now() + reply.wait;
        {
            let mut last = lock(&self.last);
            let latest = &mut last.last_slot[group.index()];
            *latest = (*latest).max(Some(slot));
        }
        tokio::time::sleep_until(slot).await;
        Ok(())
    }

    pub(crate) async fn remaining(&self, group: Group) -> Option<u64> {
        if let Some((local, probe)) = self.fallback() {
            if probe {
                self.probe_failed();
            }
            return local.remaining(group);
        }
        match self.invoke(Command::Remaining, group).await {
            Ok(reply) => reply.remaining,
            Err(e) => self.enter_fallback(e).remaining(group),
        }
    }

    pub(crate) async fn report_throttled(&self, group: Group, reset: Option<Duration>) {
        if let Some(reset) = reset {
            let until = Instant::now() + reset;
            let mut last = lock(&self.last);
            let own = &mut last.blocked_until[group.index()];
            if own.is_none_or(|b| b < until) {
                *own = Some(until);
            }
        }
        if let Some((local, probe)) = self.fallback() {
            if probe {
                self.probe_failed();
            }
            return local.report_throttled(group, reset);
        }
        match self.invoke(Command::Throttle(reset), group).await {
            Ok(reply) => self.config.emit(BudgetEvent::Throttled {
                group,
                reset,
                rate_fraction: f64::from(reply.fraction) / f64::from(FULL),
            }),
            Err(e) => self.enter_fallback(e).report_throttled(group, reset),
        }
    }

    pub(crate) async fn report_success(&self, group: Group) {
        if let Some((local, probe)) = self.fallback() {
            if probe {
                self.probe_failed();
            }
            return local.report_success(group);
        }
        // Nothing to recover at full rate: no round trip.
        if self.fractions[group.index()].load(Ordering::Relaxed) >= FULL {
            return;
        }
        match self.invoke(Command::Success, group).await {
            Ok(reply) if reply.fraction >= FULL => self.config.emit(BudgetEvent::RateRestored { group }),
            Ok(_) => {}
            Err(e) => self.enter_fallback(e).report_success(group),
        }
    }

    pub(crate) async fn report_quota_exhausted(&self, group: Group) -> QuotaExceeded {
        if let Some((local, probe)) = self.fallback() {
            if probe {
                self.probe_failed();
            }
            return local.report_quota_exhausted(group);
        }
        match self.invoke(Command::QuotaExhausted, group).await {
            Ok(reply) => {
                self.config.emit(BudgetEvent::QuotaExhausted {
                    group,
                    resets_at: reply.resets_at,
                });
                QuotaExceeded {
                    group,
                    needed: 1,
                    remaining: 0,
                    resets_at: reply.resets_at,
                }
            }
            Err(e) => self.enter_fallback(e).report_quota_exhausted(group),
        }
    }
}
