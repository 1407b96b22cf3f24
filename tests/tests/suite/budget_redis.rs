//! The Redis budget against a real `redis-server`: several `Budget`s (each with its own
//! connection, as separate processes would have) share one rate, one pause and one daily quota;
//! Redis dying mid-run or never reachable ends in the documented fallback, never a hang.
//!
//! Timing is asserted only as lower bounds (a slow machine can only make waits longer) and
//! generous upper bounds against hangs.

use crate::kit::budget as budget_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use budget_support::RedisServer;
use feishu_drive::budget::{Budget, BudgetConfig, BudgetEvent, Group};

/// Bound on anything that must not hang.
const HANG: Duration = Duration::from_secs(60);

fn config(app: &str, rps: u32) -> BudgetConfig {
    BudgetConfig::new(app).requests_per_second(rps)
}

fn budgets(redis: &RedisServer, n: usize, config: impl Fn() -> BudgetConfig) -> Vec<Budget> {
    (0..n)
        .map(|_| Budget::redis(&redis.url(), config()).expect("the Redis budget is created"))
        .collect()
}

async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {HANG:?}"))
}

fn recorder() -> (
    Arc<Mutex<Vec<BudgetEvent>>>,
    impl Fn(&BudgetEvent) + Send + Sync + 'static,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (events, move |e: &BudgetEvent| {
        sink.lock().expect("events").push(e.clone())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_of_one_app_share_one_rate() {
    let redis = RedisServer::start();
    // 4 per second: 1.025 s / 4 = 256 ms apart across all budgets of the app.
    let shared = budgets(&redis, 3, || config("cli_shared", 4));
    let start = Instant::now();
    bounded(
        "12 permits",
        futures::future::join_all(shared.iter().cycle().take(12).map(|b| async move {
            let _permit = b.acquire(Group::UploadPart).await.expect("no quota hit");
        })),
    )
    .await;
    let elapsed = start.elapsed();
    // 12 permits at 4 per second need 11 intervals; three in-process budgets would give them
    // in 3 intervals.
    assert!(
        elapsed >= Duration::from_millis(11 * 250),
        "12 permits in {elapsed:?}: the budgets did not share the rate"
    );

    // Another app and another group are budgeted apart: an immediate permit each.
    let other = Budget::redis(&redis.url(), config("cli_other", 4)).expect("budget");
    let start = Instant::now();
    let _permit = bounded("other app", other.acquire(Group::UploadPart))
        .await
        .expect("permit");
    let _permit = bounded("other group", shared[0].acquire(Group::Download))
        .await
        .expect("permit");
    assert!(
        start.elapsed() < Duration::from_millis(11 * 250),
        "other app / group waited {:?}",
        start.elapsed()
    );
    // Keys carry the app id and the group.
    let keys = redis.command("KEYS *\r\n").expect("KEYS");
    assert!(
        keys.contains("feishu-drive:budget:cli_shared:upload_part:tat"),
        "{keys}"
    );
    assert!(
        keys.contains("feishu-drive:budget:cli_other:upload_part:quota"),
        "{keys}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_pauses_every_participant_and_aimd_is_shared() {
    let redis = RedisServer::start();
    let (events, sink) = recorder();
    let sink = Arc::new(sink);
    let pair = budgets(&redis, 2, || {
        let sink = sink.clone();
        config("cli_pause", 10).on_event(move |e| sink(e))
    });
    let _permit = bounded("first permit", pair[0].acquire(Group::UploadPart))
        .await
        .expect("permit");

    // A refuses with a 1.5 s reset: B, which was refused nothing, waits too.
    pair[0]
        .report_throttled(Group::UploadPart, Some(Duration::from_millis(1500)))
        .await;
    let start = Instant::now();
    let _permit = bounded("permit after the pause", pair[1].acquire(Group::UploadPart))
        .await
        .expect("permit");
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "B was not paused: {:?}",
        start.elapsed()
    );

    // A is refused without a reset: the shared rate halves, so B's permits come at most 5 a second.
    pair[0].report_throttled(Group::UploadPart, None).await;
    let _permit = pair[1].acquire(Group::UploadPart).await.expect("permit");
    let start = Instant::now();
    for _ in 0..4 {
        let _permit = bounded("slowed permit", pair[1].acquire(Group::UploadPart))
            .await
            .expect("permit");
    }
    assert!(
        start.elapsed() >= Duration::from_millis(4 * 200),
        "4 permits at half of 10/s in {:?}",
        start.elapsed()
    );
    // Successes bring it back: 20 steps of 2.5 % from 50 %.
    for _ in 0..20 {
        pair[1].report_success(Group::UploadPart).await;
    }
    let events = events.lock().expect("events").clone();
    assert!(
        events.iter().any(|e| matches!(e, BudgetEvent::Throttled { reset: None, rate_fraction, .. } if *rate_fraction == 0.5)),
        "{events:?}"
    );
    assert!(
        events.contains(&BudgetEvent::RateRestored {
            group: Group::UploadPart
        }),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_is_one_per_app_and_group() {
    let redis = RedisServer::start();
    let pair = budgets(&redis, 2, || config("cli_quota", 1000).daily_quota(Some(5)));
    for b in pair.iter().cycle().take(5) {
        let _permit = bounded("permit", b.acquire(Group::UploadPart))
            .await
            .expect("within the quota");
    }
    assert_eq!(pair[1].remaining(Group::UploadPart).await, Some(0));
    assert_eq!(pair[0].remaining(Group::UploadPrepare).await, Some(5));
    let err = pair[1]
        .acquire(Group::UploadPart)
        .await
        .expect_err("the sixth call of the day");
    assert_eq!((err.group, err.needed, err.remaining), (Group::UploadPart, 1, 0));
    // The day ends at a midnight of UTC+8, within a day from now.
    let ends = err
        .resets_at
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert_eq!((ends + 8 * 3600) % 86_400, 0, "not a Beijing midnight: {ends}");
    let now = SystemTime::now();
    assert!(err.resets_at > now && err.resets_at <= now + Duration::from_secs(86_400));

    // check_fits: a 3-call job does not fit a group with 2 left.
    let b = Budget::redis(&redis.url(), config("cli_quota", 1000).daily_quota(Some(2))).expect("budget");
    let err = b.check_fits(Group::UploadFinish, 3).await.expect_err("3 > 2");
    assert_eq!((err.needed, err.remaining), (3, 2));
    b.check_fits(Group::UploadFinish, 2).await.expect("2 fit");
    assert_eq!(
        b.remaining(Group::UploadFinish).await,
        Some(2),
        "checking counts nothing"
    );

    // A quota answer from the server ends the day for every participant.
    let err = pair[0].report_quota_exhausted(Group::Download).await;
    assert_eq!(err.remaining, 0);
    assert_eq!(pair[1].remaining(Group::Download).await, Some(0));
    assert!(pair[1].acquire(Group::Download).await.is_err());

    // With UTC as the day boundary the day ends at a UTC midnight.
    let utc = Budget::redis(
        &redis.url(),
        config("cli_quota_utc", 1000)
            .daily_quota(Some(1))
            .day_starts_at_utc_offset(0),
    )
    .expect("budget");
    let _permit = utc.acquire(Group::UploadAll).await.expect("first");
    let err = utc.acquire(Group::UploadAll).await.expect_err("second");
    let ends = err
        .resets_at
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert_eq!(ends % 86_400, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_mid_run_falls_back_empty_then_comes_back() {
    let mut redis = RedisServer::start();
    let (events, sink) = recorder();
    let sink = Arc::new(sink);
    let make = || {
        let sink = sink.clone();
        config("cli_dies", 5)
            .store_timeout(Duration::from_millis(300))
            .store_retry_interval(Duration::from_millis(500))
            .on_event(move |e| sink(e))
    };
    let pair = budgets(&redis, 2, make);
    // Both take part, B first, so A's last answer from Redis counts two participants.
    for b in pair.iter().rev() {
        let _permit = bounded("permit", b.acquire(Group::UploadPart))
            .await
            .expect("permit");
    }
    let port = redis.url();
    redis.kill();

    // The next permits come from the local fallback: 2 participants of 5/s → 2 per window
    // each, 512 ms apart, and the limiter starts empty, so 3 permits take at least 3 intervals.
    let start = Instant::now();
    for _ in 0..3 {
        let _permit = bounded("fallback permit", pair[0].acquire(Group::UploadPart))
            .await
            .expect("fallback permits");
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(3 * 500),
        "fallback burst: 3 permits in {elapsed:?}"
    );
    let unavailable: Vec<f64> = events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            BudgetEvent::StoreUnavailable { fallback_rate, .. } => Some(*fallback_rate),
            _ => None,
        })
        .collect();
    assert_eq!(unavailable.len(), 1, "warned once: {unavailable:?}");
    assert!(
        unavailable[0] < 2.5,
        "fallback rate {} is over half of 5/s",
        unavailable[0]
    );

    // Redis comes back on the same port: the budget returns to it within a retry interval.
    let redis = RedisServer::start_at(&port);
    let start = Instant::now();
    while !events
        .lock()
        .expect("events")
        .contains(&BudgetEvent::StoreRestored)
    {
        assert!(start.elapsed() < HANG, "never returned to Redis");
        let _permit = bounded("permit", pair[0].acquire(Group::UploadPart))
            .await
            .expect("permit");
    }
    let keys = redis.command("KEYS *\r\n").expect("KEYS");
    assert!(keys.contains("cli_dies:upload_part:tat"), "{keys}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_never_hangs() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let (events, sink) = recorder();
    let budget = Budget::redis(
        &format!("redis://127.0.0.1:{port}/"),
        config("cli_nowhere", 5)
            .store_timeout(Duration::from_millis(200))
            .on_event(sink),
    )
    .expect("a lazy budget needs no server");
    for _ in 0..3 {
        let _permit = bounded("permit", budget.acquire(Group::UploadPrepare))
            .await
            .expect("the fallback grants permits");
    }
    assert_eq!(
        bounded("remaining", budget.remaining(Group::UploadPrepare)).await,
        Some(10_000 - 3)
    );
    let events = events.lock().expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, BudgetEvent::StoreUnavailable { .. }))
            .count(),
        1,
        "{events:?}"
    );
    // An invalid URL is a typed error, not a panic.
    assert!(Budget::redis("not a url", config("x", 5)).is_err());
}

/// The server's own daily quota (the local server: 3 calls per app and endpoint, answered with
/// HTTP 429 / 99991403): a budget that did not know it gets a typed `Quota` error from the
/// server's answer, and then refuses locally, for every participant, without sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_answer_from_the_server_ends_the_day_for_everyone() {
    use feishu_drive::{ApiError, Client, FeishuResult, types};
    use feishu_drive_server::{Config, Faults, Server};

    let redis = RedisServer::start();
    let server = Server::start(Config::default().faults(Faults::default().daily_quota(3)))
        .await
        .expect("server");
    let base = server.base_url();
    // The budgets allow more than the server does: only the server's answer can stop them. Each
    // is a participant with a client of its own; the hooks draw every request's permit.
    let pair = budgets(&redis, 2, || config("cli_local", 1000).daily_quota(Some(100)));
    let clients: Vec<Client> = pair
        .iter()
        .map(|b| {
            Client::builder(&base)
                .app_credentials(
                    feishu_drive_server::DEFAULT_APP_ID,
                    feishu_drive_server::DEFAULT_APP_SECRET,
                )
                .budget(b.clone())
                .build()
                .expect("a client")
        })
        .collect();
    async fn prepare(client: &Client) -> Result<(), ApiError> {
        let request = client.upload_prepare().body(
            types::UploadPrepareRequest::builder()
                .file_name("q.bin")
                .parent_type("docx_file")
                .parent_node(types::ParentNode::from("doxcnQuota".to_owned()))
                .size(64_i64 * 1024 * 1024),
        );
        request.send().await.checked().map(drop)
    }
    let mut answers = Vec::new();
    for client in clients.iter().cycle().take(4) {
        answers.push(bounded("call", prepare(client)).await);
    }
    assert!(answers[..3].iter().all(Result::is_ok), "{answers:?}");
    match &answers[3] {
        Err(ApiError::QuotaExceeded(q)) => {
            assert_eq!((q.group, q.remaining), (Group::UploadPrepare, 0));
        }
        other => panic!("expected the server's quota answer, typed: {other:?}"),
    }
    // Both participants now refuse before sending: the server sees no fifth call.
    let before = server.stats();
    for (b, client) in pair.iter().zip(&clients) {
        assert!(matches!(prepare(client).await, Err(ApiError::QuotaExceeded(_))));
        assert_eq!(b.remaining(Group::UploadPrepare).await, Some(0));
    }
    assert_eq!(before.quota_exceeded, 1, "{before:?}");
    assert_eq!(server.stats(), before, "a refused call reached the server");
    // Other endpoints keep their own quota.
    assert_eq!(pair[0].remaining(Group::UploadPart).await, Some(100));
    server.shutdown().await.expect("shutdown");
}

/// `is_shared` tells the two backends apart: only the Redis budget is shared by other processes.
#[tokio::test]
async fn only_a_redis_budget_is_shared() {
    assert!(!Budget::in_process(config("cli_local", 5)).is_shared());
    let shared = Budget::redis("redis://127.0.0.1:1/", config("cli_shared", 5)).expect("a lazy budget");
    assert!(shared.is_shared());
}
