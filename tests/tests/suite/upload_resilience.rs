//! The uploader under hostile conditions: chaos, rejected tokens, and secrets (a killed process:
//! `upload_journal.rs`).

use crate::kit::upload as upload_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use feishu_drive::auth::{AccessToken, AppCredentials, AuthError, StaticToken, TokenSource};
use feishu_drive::upload::{RetryPolicy, UploadRequest};
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, Faults, Operation};
use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use upload_support::{BLOCK, assert_round_trip, random_file, server, sha256_file, uploader};

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
    let uploader = upload_support::default_uploader(&base, |b| {
        b.token_source(SharedSource(Arc::clone(&source)))
            .requests_per_second(None)
    });
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
