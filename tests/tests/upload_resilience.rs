//! The uploader under hostile conditions: a killed process, chaos, rejected tokens, and secrets.

mod upload_support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use feishu_drive::Client;
use feishu_drive::auth::{AccessToken, AppCredentials, AuthError, StaticToken, TokenSource};
use feishu_drive::upload::{JOURNAL_BATCH_BLOCKS, RetryPolicy, UploadRequest};
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, Faults, Operation};
use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use upload_support::{BLOCK, assert_round_trip, random_file, server, sha256_file, uploader};

/// Kill -9 a real process mid-upload, start it again with the same journal: the bytes arrive
/// intact and few blocks are sent twice — those in flight at the kill (at most `concurrency`)
/// and those confirmed since the journal's last batch was written (at most
/// `JOURNAL_BATCH_BLOCKS - 1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_resumes_from_its_journal() {
    const CONCURRENCY: u64 = 3;
    // The journal is written in batches, so a kill can lose up to `JOURNAL_BATCH_BLOCKS - 1`
    // confirmations; the server also stored up to `CONCURRENCY` blocks whose answers the killed
    // process never read. Both are re-sent, harmlessly (a part re-sent replaces the stored one);
    // more than that would mean the journal lost what it promised to keep.
    const RESENT_BOUND: u64 = CONCURRENCY + JOURNAL_BATCH_BLOCKS - 1;
    let faults = Faults::default().latency(Duration::from_millis(40));
    let server = server(Config::default().faults(faults)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "big.bin", 120 * BLOCK + 17, 21);
    let journal = dir.path().join("big.journal");
    let args = [
        server.base_url(),
        file.to_str().expect("utf-8").to_owned(),
        journal.to_str().expect("utf-8").to_owned(),
    ];
    let child = move |_: ()| {
        Command::new(env!("CARGO_BIN_EXE_upload-child"))
            .args(&args)
            .arg(CONCURRENCY.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn upload-child")
    };

    let mut first = child(());
    let deadline = Instant::now() + Duration::from_secs(30);
    let confirmed_before_kill = loop {
        let confirmed = confirmed_in(&journal);
        if confirmed >= 20 {
            break confirmed;
        }
        assert!(
            Instant::now() < deadline,
            "the first run confirmed only {confirmed} blocks"
        );
        assert!(
            first.try_wait().expect("poll child").is_none(),
            "the first run ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The journal was just written; a little later (a few 40 ms blocks, less than a batch) some
    // confirmations are pending in the child's memory, which is when a kill costs the most.
    tokio::time::sleep(Duration::from_millis(60)).await;
    first.kill().expect("SIGKILL the child");
    first.wait().expect("reap the child");
    let stored_at_kill = server.stats().parts_stored;
    let confirmed_before_kill = confirmed_in(&journal).max(confirmed_before_kill);
    assert!(confirmed_before_kill < 121, "killed mid-upload");

    let second = {
        let child = child.clone();
        tokio::task::spawn_blocking(move || child(()).wait_with_output())
            .await
            .expect("join")
            .expect("run")
    };
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "resumed run failed: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let token = stdout
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("file_token: "))
        .expect("a file token")
        .to_owned();
    let resent = server.stats().parts_stored - 121;
    eprintln!(
        "kill -9 after {confirmed_before_kill} confirmed blocks ({stored_at_kill} stored); the resumed run re-sent {resent} of 121"
    );
    assert!(
        resent <= RESENT_BOUND,
        "{resent} blocks sent twice, more than {RESENT_BOUND} (stored {stored_at_kill} before the kill)"
    );
    assert!(!journal.exists(), "the finished upload removed its journal");

    let reader = Client::builder(server.base_url())
        .token_source(AppCredentials::new(
            &server.base_url(),
            DEFAULT_APP_ID,
            DEFAULT_APP_SECRET,
        ))
        .build()
        .expect("uploader");
    assert_round_trip(&reader, &token, &file).await;
}

fn confirmed_in(journal: &std::path::Path) -> usize {
    std::fs::read_to_string(journal)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        // Journal format 2: confirmed blocks map to the Adler-32 of what was sent.
        .and_then(|json| json.get("confirmed")?.as_object().map(serde_json::Map::len))
        .unwrap_or(0)
}

/// Many uploads of random sizes at once, with 10 % retryable errors, dropped connections and an
/// expired upload id: every one finishes and reads back byte-exact. `SOAK_UPLOADS=N` runs more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_uploads_all_arrive_intact() {
    let uploads: u64 = std::env::var("SOAK_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let faults = Faults::default()
        .retryable_errors(0.10)
        .dropped_connections(0.03)
        .on([
            Operation::UploadPrepare,
            Operation::UploadPart,
            Operation::UploadFinish,
            Operation::UploadAll,
        ])
        .seed(1234);
    let server = Arc::new(server(Config::default().faults(faults)).await);
    let policy = RetryPolicy {
        max_retries: 12,
        min_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(50),
    };
    let uploader = Arc::new(upload_support::uploader(&server, |b| {
        b.concurrency(4).retry_policy(policy).upload_all_max(BLOCK)
    }));
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(77);
    let sizes: Vec<u64> = (0..uploads).map(|_| rng.random_range(0..=24 * BLOCK)).collect();

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, size) in sizes.iter().copied().enumerate() {
        let (server, uploader, dir) = (Arc::clone(&server), Arc::clone(&uploader), Arc::clone(&dir));
        tasks.spawn(async move {
            let path = random_file(dir.path(), &format!("c{i}.bin"), size, i as u64);
            let expired = AtomicU32::new(0);
            // Every seventh upload has its id expire after its second block.
            let request = UploadRequest::file(&path, "docx_file", "doxcn1").progress(move |event| {
                use feishu_drive::upload::ProgressEvent::*;
                if let Started {
                    upload_id: Some(id), ..
                } = event
                    && i % 7 == 0
                    && expired.fetch_add(1, Ordering::SeqCst) == 0
                {
                    server.expire_upload(id);
                }
            });
            let outcome = uploader
                .upload(request)
                .await
                .unwrap_or_else(|e| panic!("upload {i} of {size} bytes: {e}"));
            assert_round_trip(&uploader, &outcome.file_token, &path).await;
            outcome
        });
    }
    let (mut retries, mut restarts) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.expect("upload task");
        retries += outcome.retries;
        restarts += outcome.restarts;
    }
    let stats = server.stats();
    eprintln!(
        "chaos: {uploads} uploads, {} bytes, in {:.1?}: {retries} retries, {restarts} restarts, {} injected errors, {} dropped connections",
        sizes.iter().sum::<u64>(),
        started.elapsed(),
        stats.injected_errors,
        stats.dropped_connections
    );
    assert!(
        stats.injected_errors > 0 && stats.dropped_connections > 0,
        "{stats:?}"
    );
    assert!(restarts > 0, "some upload ids expired");
}

/// A source that hands out a rejected token until told it was rejected, then a real one.
#[derive(Debug)]
struct StaleThenFresh {
    fresh: AppCredentials,
    invalidated: AtomicU32,
}

impl TokenSource for StaleThenFresh {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            if self.invalidated.load(Ordering::SeqCst) == 0 {
                Ok(AccessToken::new("t-stale-token"))
            } else {
                self.fresh.token().await
            }
        })
    }

    fn invalidate(&self, _token: &AccessToken) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once() {
    let server = server(Config::default()).await;
    let base = server.base_url();
    let source = Arc::new(StaleThenFresh {
        fresh: AppCredentials::new(&base, DEFAULT_APP_ID, DEFAULT_APP_SECRET),
        invalidated: AtomicU32::new(0),
    });
    let uploader = Client::builder(&base)
        .token_source(SharedSource(Arc::clone(&source)))
        .requests_per_second(None)
        .build()
        .expect("uploader");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 1000, 1);
    let token = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .map(|outcome| outcome.file_token)
        .expect("upload after one refresh");
    assert_eq!(source.invalidated.load(Ordering::SeqCst), 1);
    assert_eq!(
        sha256_file(&file),
        upload_support::download(&uploader, &token).await.1
    );
}

#[derive(Debug)]
struct SharedSource(Arc<StaleThenFresh>);

impl TokenSource for SharedSource {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        self.0.token()
    }
    fn invalidate(&self, token: &AccessToken) {
        self.0.invalidate(token);
    }
}

/// A writer that keeps everything the tracing subscriber prints.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tokens_never_appear_in_debug_errors_or_logs() {
    const SECRET: &str = "t-never-print-me-7f3a";
    const APP_SECRET: &str = "app-secret-never-print-me";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (error, app_error, debug) = runtime.block_on(async {
        let server = server(Config::default()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let file = random_file(dir.path(), "f.bin", 100, 1);
        let policy = RetryPolicy {
            max_retries: 1,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let with_token = uploader(&server, |b| b.access_token(SECRET).retry_policy(policy));
        let error = with_token
            .upload(UploadRequest::file(&file, "docx_file", "n"))
            .await
            .map(|outcome| outcome.file_token)
            .expect_err("the server rejects the token");
        let bad_app = AppCredentials::new(&server.base_url(), DEFAULT_APP_ID, APP_SECRET);
        let debug = format!("{bad_app:?} {:?} {:?}", StaticToken::new(SECRET), with_token);
        let app_error = bad_app.token().await.expect_err("wrong secret");
        (error, app_error, debug)
    });
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    assert!(!logs.is_empty(), "the subscriber captured the requests");
    for secret in [SECRET, APP_SECRET] {
        for (what, text) in [
            ("error Display", error.to_string()),
            ("error Debug", format!("{error:?}")),
            ("auth error", format!("{app_error} {app_error:?}")),
            ("Debug", debug.clone()),
            ("logs", logs.clone()),
        ] {
            assert!(!text.contains(secret), "{what} contains a secret: {text}");
        }
    }
    assert!(
        error.api_error().is_some_and(|e| e.is_token_rejected()),
        "{error:?}"
    );
}
