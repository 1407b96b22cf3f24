//! The uploader against the local server, over loopback: real files, real HTTP, bytes read back.
//!
//! Why this file is long: 16 uploader flows against one local server, sharing the resume and journal helpers defined here.

use crate::kit::upload as upload_support;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_drive::ErrorCode;
use feishu_drive::upload::{ProgressEvent, UploadError, UploadRequest};
use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation, RateLimitStyle};
use tokio_util::sync::CancellationToken;
use upload_support::{BLOCK, assert_round_trip, random_file, server, uploader};

#[tokio::test]
async fn chunked_uploads_of_every_edge_size_read_back_exactly() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(3));
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, size) in [1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7, 40 * BLOCK + 3]
        .into_iter()
        .enumerate()
    {
        let path = random_file(dir.path(), &format!("f{i}.bin"), size, i as u64);
        let outcome = uploader
            .upload(UploadRequest::file(&path, "docx_file", "doxcn1"))
            .await
            .expect("upload");
        assert!(outcome.chunked, "size {size} goes through the chunked flow");
        assert_eq!(outcome.blocks_sent, size.div_ceil(BLOCK), "size {size}");
        assert_round_trip(&uploader, &outcome.file_token, &path).await;
    }
}

#[tokio::test]
async fn small_and_empty_files_go_through_upload_all() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.upload_all_max(u64::MAX));
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, size) in [("small.bin", 1000), ("empty.bin", 0)] {
        let path = random_file(dir.path(), name, size, 9);
        let outcome = uploader
            .upload(UploadRequest::file(&path, "docx_image", "doxcn1"))
            .await
            .expect("upload");
        assert!(!outcome.chunked, "{name} goes through upload_all");
        assert_round_trip(&uploader, &outcome.file_token, &path).await;
    }
}

#[tokio::test]
async fn streams_of_known_size_upload_and_wrong_sizes_are_refused() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = random_file(dir.path(), "stream.bin", 5 * BLOCK + 11, 3);
    let bytes = std::fs::read(&path).expect("read");
    let size = bytes.len() as u64;

    let token = uploader
        .upload(UploadRequest::reader(
            std::io::Cursor::new(bytes.clone()),
            size,
            "stream.bin",
            "docx_file",
            "doxcn1",
        ))
        .await
        .expect("stream upload")
        .file_token;
    assert_round_trip(&uploader, &token, &path).await;

    let short = uploader
        .upload(UploadRequest::reader(
            std::io::Cursor::new(bytes.clone()),
            size + 1,
            "s.bin",
            "docx_file",
            "n",
        ))
        .await;
    assert!(
        matches!(short, Err(UploadError::ReaderSize(ref m)) if m.contains("ended before")),
        "{short:?}"
    );
    let long = uploader
        .upload(UploadRequest::reader(
            std::io::Cursor::new(bytes),
            size - 1,
            "l.bin",
            "docx_file",
            "n",
        ))
        .await
        .map(|outcome| outcome.file_token);
    assert!(
        matches!(long, Err(UploadError::ReaderSize(ref m)) if m.contains("more than")),
        "{long:?}"
    );
}

#[tokio::test]
async fn bad_input_gets_typed_errors_before_any_request() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "ok.bin", 10, 1);
    let up = |request| uploader.upload(request);

    let missing = up(UploadRequest::file(dir.path().join("nope"), "docx_file", "n")).await;
    assert!(
        matches!(missing, Err(UploadError::FileNotFound { .. })),
        "{missing:?}"
    );
    let directory = up(UploadRequest::file(dir.path(), "docx_file", "n")).await;
    assert!(
        matches!(directory, Err(UploadError::IsDirectory { .. })),
        "{directory:?}"
    );
    // A path through a regular file fails with ENOTDIR: unreadable, even as root.
    let unreadable = up(UploadRequest::file(file.join("child"), "docx_file", "n")).await;
    assert!(
        matches!(unreadable, Err(UploadError::Unreadable { .. })),
        "{unreadable:?}"
    );
    let empty_name = up(UploadRequest::file(&file, "docx_file", "n").file_name("")).await;
    assert!(
        matches!(empty_name, Err(UploadError::InvalidFileName { .. })),
        "{empty_name:?}"
    );
    let long_name = up(UploadRequest::file(&file, "docx_file", "n").file_name("x".repeat(251))).await;
    assert!(
        matches!(long_name, Err(UploadError::InvalidFileName { ref reason, .. }) if reason.contains("251")),
        "{long_name:?}"
    );
    let parent = up(UploadRequest::file(&file, "Docx File", "n")).await;
    assert!(
        matches!(parent, Err(UploadError::InvalidParentType { .. })),
        "{parent:?}"
    );
    assert_eq!(server.stats().files_finished, 0, "nothing reached the server");

    // 250 characters is the documented maximum, and it is accepted.
    let name = "é".repeat(250);
    let ok = up(UploadRequest::file(&file, "docx_file", "n").file_name(name))
        .await
        .expect("250 characters upload");
    assert_round_trip(&uploader, &ok.file_token, &file).await;
}

#[tokio::test]
async fn permanent_server_errors_are_not_retried() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 2 * BLOCK, 1);
    // Counted, not timed: a loaded machine makes any time bound a guess.
    let retries = Arc::new(AtomicUsize::new(0));
    let seen = retries.clone();
    let result = uploader
        .upload(
            UploadRequest::file(&file, "docx_file", "missing-node").progress(move |event| {
                if let ProgressEvent::Retrying { .. } = event {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }),
        )
        .await;
    let error = result.expect_err("the parent does not exist");
    assert_eq!(
        error.api_error().and_then(|e| e.code()),
        Some(ErrorCode::ParentNodeNotExist),
        "{error}"
    );
    assert_eq!(
        retries.load(Ordering::SeqCst),
        0,
        "a permanent error is not retried"
    );
}

#[tokio::test]
async fn retryable_errors_and_dropped_connections_are_retried() {
    let faults = Faults::default()
        .retryable_errors(0.25)
        .dropped_connections(0.1)
        .on([
            Operation::UploadPrepare,
            Operation::UploadPart,
            Operation::UploadFinish,
        ])
        .seed(11);
    let server = server(Config::default().faults(faults)).await;
    let uploader = uploader(&server, |b| b.concurrency(4).retry_policy(fast_retries()));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 30 * BLOCK + 5, 2);
    let outcome = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    assert!(
        outcome.retries > 0,
        "faults were injected: {outcome:?} {:?}",
        server.stats()
    );
    assert!(server.stats().injected_errors + server.stats().dropped_connections > 0);
    assert_round_trip(&uploader, &outcome.file_token, &file).await;
}

fn fast_retries() -> feishu_drive::upload::RetryPolicy {
    feishu_drive::upload::RetryPolicy {
        max_retries: 10,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn an_expired_upload_id_restarts_the_upload() {
    let server = Arc::new(server(Config::default()).await);
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 8 * BLOCK, 4);
    let expired = Arc::new(AtomicU32::new(0));
    let upload_id = Arc::new(Mutex::new(None::<String>));
    let (server_cb, expired_cb) = (Arc::clone(&server), Arc::clone(&expired));
    let request = UploadRequest::file(&file, "docx_file", "doxcn1").progress(move |event| match event {
        ProgressEvent::Started {
            upload_id: Some(id), ..
        } => *upload_id.lock().expect("lock") = Some(id.clone()),
        ProgressEvent::BlockConfirmed {
            confirmed_blocks: 3, ..
        } if expired_cb.load(Ordering::SeqCst) == 0 => {
            let id = upload_id.lock().expect("lock").clone().expect("started first");
            assert!(server_cb.expire_upload(&id), "the id was live");
            expired_cb.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    });
    let outcome = uploader.upload(request).await.expect("upload");
    assert_eq!(expired.load(Ordering::SeqCst), 1);
    assert_eq!(outcome.restarts, 1, "{outcome:?}");
    assert_round_trip(&uploader, &outcome.file_token, &file).await;
}

#[tokio::test]
async fn a_file_that_changes_during_the_upload_is_refused() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, new_len) in [("grows.bin", 12 * BLOCK), ("shrinks.bin", 2 * BLOCK)] {
        let file = random_file(dir.path(), name, 8 * BLOCK, 5);
        let path = file.clone();
        let request = UploadRequest::file(&file, "docx_file", "doxcn1").progress(move |event| {
            if let ProgressEvent::BlockConfirmed {
                confirmed_blocks: 1, ..
            } = event
            {
                let f = std::fs::OpenOptions::new().write(true).open(&path).expect("open");
                f.set_len(new_len).expect("resize");
            }
        });
        let result = uploader.upload(request).await;
        assert!(
            matches!(result, Err(UploadError::FileChanged { .. })),
            "{name}: {result:?}"
        );
    }
}

#[tokio::test]
async fn cancellation_stops_promptly() {
    let server =
        server(Config::default().faults(Faults::default().latency(Duration::from_millis(300)))).await;
    let uploader = uploader(&server, |b| b.concurrency(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 50 * BLOCK, 6);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let request = UploadRequest::file(&file, "docx_file", "doxcn1")
        .cancel_on(cancel)
        .progress(move |event| {
            if let ProgressEvent::BlockConfirmed { .. } = event {
                trigger.cancel();
            }
        });
    // 50 blocks at 300 ms, 2 at a time, would take 7.5 s: the bound only keeps a hang from
    // passing; the assertion is on what was sent.
    let result = tokio::time::timeout(Duration::from_secs(30), uploader.upload(request))
        .await
        .expect("the cancelled upload returns");
    assert!(matches!(result, Err(UploadError::Cancelled)), "{result:?}");
    // The first confirmed block cancels: the parts then in flight (2 workers, each of which may
    // have started its next part as the first was confirmed) may still be stored, never the
    // rest of the 50.
    let stored = server.stats().parts_stored;
    assert!(stored <= 4, "{stored} of 50 parts stored after the cancel");
}

#[tokio::test]
async fn a_journal_resumes_only_the_unconfirmed_blocks() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 20 * BLOCK + 9, 7);
    let journal = dir.path().join("f.journal");

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let first = UploadRequest::file(&file, "docx_file", "doxcn1")
        .journal(&journal)
        .cancel_on(cancel)
        .progress(move |event| {
            if let ProgressEvent::BlockConfirmed {
                confirmed_blocks: 6..,
                ..
            } = event
            {
                trigger.cancel();
            }
        });
    assert!(matches!(
        uploader.upload(first).await,
        Err(UploadError::Cancelled)
    ));
    assert!(journal.exists(), "the journal outlives the cancelled run");

    let outcome = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
        .await
        .expect("resume");
    assert!(outcome.blocks_resumed >= 6, "{outcome:?}");
    assert_eq!(
        outcome.blocks_sent + outcome.blocks_resumed,
        21,
        "every block exactly once: {outcome:?}"
    );
    assert!(!journal.exists(), "a finished upload removes its journal");
    assert_round_trip(&uploader, &outcome.file_token, &file).await;
}

/// A finished upload returns its token even when its journal cannot be removed: the media
/// exists, and a caller needs its token more than a tidy directory. The removal is made to fail
/// for both flows by putting a non-empty directory where the journal was, at the one moment
/// between "finish sent" being recorded and the journal's removal: the first finish (or
/// `upload_all`) meets a retryable fault, and its `Retrying` event comes after the journal
/// recorded the finish. The warning must reach the outcome and the progress callback.
#[tokio::test]
async fn a_finished_upload_returns_its_token_when_its_journal_cannot_be_removed() {
    let faults = Faults::default()
        .rule(FaultRule::new(FaultKind::Envelope200, [Operation::UploadFinish]).first(1))
        .rule(FaultRule::new(FaultKind::Envelope200, [Operation::UploadAll]).first(1));
    let server = server(Config::default().faults(faults)).await;
    let uploader = uploader(&server, |b| {
        b.concurrency(2)
            .upload_all_max(BLOCK)
            .retry_policy(fast_retries())
    });
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, size, operation) in [
        ("chunked.bin", 6 * BLOCK + 3, "upload_finish"),
        ("small.bin", BLOCK / 2, "upload_all"),
    ] {
        let file = random_file(dir.path(), name, size, 31);
        let journal = dir.path().join(format!("{name}.journal"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let (seen, in_the_way) = (Arc::clone(&events), journal.clone());
        let request = UploadRequest::file(&file, "docx_file", "doxcn1")
            .journal(&journal)
            .progress(move |event| {
                if let ProgressEvent::Retrying { operation: op, .. } = event
                    && op.as_str() == operation
                    && in_the_way.is_file()
                {
                    let text = std::fs::read_to_string(&in_the_way).expect("the journal");
                    assert!(
                        !text.contains("\"finish_sent_at\":null"),
                        "the finish is recorded before it is sent: {text}"
                    );
                    std::fs::remove_file(&in_the_way).expect("remove the journal");
                    std::fs::create_dir(&in_the_way).expect("a directory in its place");
                    std::fs::write(in_the_way.join("keep"), b"not the uploader's").expect("a file in it");
                }
                seen.lock().expect("events").push(event.clone());
            });
        let outcome = uploader
            .upload(request)
            .await
            .unwrap_or_else(|e| panic!("{name}: a finished upload returns its token: {e}"));
        assert!(journal.is_dir(), "{name}: the fault was set up");
        assert!(
            journal.join("keep").exists(),
            "{name}: what is in the way is left alone"
        );
        assert_eq!(outcome.warnings.len(), 1, "{name}: {outcome:?}");
        let warning = &outcome.warnings[0];
        assert!(
            warning.contains("removing its journal failed") && warning.contains(&format!("{name}.journal")),
            "{name}: the warning says what failed, and where: {warning}"
        );
        let events = events.lock().expect("events").clone();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ProgressEvent::Warning { message } if message == warning)),
            "{name}: the callback saw the warning: {events:?}"
        );
        // The token reaches the callback before the journal goes (and before the warning).
        let finished = events.iter().position(
            |e| matches!(e, ProgressEvent::Finished { file_token } if *file_token == outcome.file_token),
        );
        let warned = events
            .iter()
            .position(|e| matches!(e, ProgressEvent::Warning { .. }));
        assert!(finished.is_some() && finished < warned, "{name}: {events:?}");
        assert_round_trip(&uploader, &outcome.file_token, &file).await;
    }
}

#[tokio::test]
async fn a_journal_refuses_another_target_and_starts_afresh_for_a_changed_file() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 10 * BLOCK, 8);
    let journal = dir.path().join("f.journal");
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let first = UploadRequest::file(&file, "docx_file", "doxcn1")
        .journal(&journal)
        .cancel_on(cancel)
        .progress(move |event| {
            if let ProgressEvent::BlockConfirmed { .. } = event {
                trigger.cancel();
            }
        });
    assert!(matches!(
        uploader.upload(first).await,
        Err(UploadError::Cancelled)
    ));

    let other = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn2").journal(&journal))
        .await;
    assert!(
        matches!(other, Err(UploadError::JournalMismatch { .. })),
        "{other:?}"
    );

    // Same size, different bytes and modification time: the journal is of no use any more, so
    // the upload starts afresh (and says so) rather than failing on every run.
    random_file(dir.path(), "f.bin", 10 * BLOCK, 99);
    let restarted = Arc::new(Mutex::new(Vec::new()));
    let seen = restarted.clone();
    let changed = uploader
        .upload(
            UploadRequest::file(&file, "docx_file", "doxcn1")
                .journal(&journal)
                .progress(move |event| {
                    if let ProgressEvent::Restarted { reason } = event {
                        seen.lock().expect("reasons").push(reason.clone());
                    }
                }),
        )
        .await
        .expect("a changed file starts afresh");
    assert_eq!(changed.blocks_resumed, 0);
    assert!(
        restarted
            .lock()
            .expect("reasons")
            .iter()
            .any(|r| r.contains("the file changed")),
        "{restarted:?}"
    );
    assert_round_trip(&uploader, &changed.file_token, &file).await;
}

/// The client-side limit against a server limiting each endpoint to 5 requests per second in
/// fixed one-second windows. What is asserted holds with both cores busy: the uploader's own
/// default budget (5 per second) is checked by a lower bound on time (6 parts at 5 per second
/// span at least a second; load only makes it longer), and "no refusal" is asked of a budget
/// whose permits are spaced with a 100 ms margin, more than scheduling jitter on a loaded
/// machine (the default 25 ms margin is calibrated for throughput on an idle one).
#[tokio::test]
async fn the_client_rate_limit_keeps_the_server_from_refusing() {
    use feishu_drive::budget::{Budget, BudgetConfig};
    let faults = Faults::default().rate_limit(5, RateLimitStyle::Gateway);
    let server = server(Config::default().faults(faults)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 6 * BLOCK, 10);

    let budget = Budget::in_process(
        BudgetConfig::new(feishu_drive_server::DEFAULT_APP_ID)
            .requests_per_second(5)
            .spacing_margin(std::time::Duration::from_millis(100))
            .daily_quota(None),
    );
    let limited = uploader(&server, |b| b.budget(budget).concurrency(4));
    let outcome = limited
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    // First on this server: a fresh budget cannot know of requests in the server's window.
    assert_eq!(server.stats().rate_limited, 0, "the client stayed under 5 QPS");
    assert_eq!(outcome.retries, 0);

    // On a server of its own that refuses nothing, so that only the client's limit takes time.
    let unlimited_server = upload_support::server(Config::default()).await;
    let default_rate = uploader(&unlimited_server, |b| {
        b.requests_per_second(Some(5))
            .concurrency(4)
            .retry_policy(fast_retries())
    });
    let started = std::time::Instant::now();
    default_rate
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "6 parts at 5 per second take a second or more: {:?}",
        started.elapsed()
    );

    // Without the client-side limit the server refuses some requests; the uploader waits out the
    // reset the gateway announces and still finishes.
    let unlimited = uploader(&server, |b| b.concurrency(4).retry_policy(fast_retries()));
    let outcome = unlimited
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await
        .expect("upload");
    assert!(
        server.stats().rate_limited > 0,
        "the burst tripped the server's limit"
    );
    assert!(outcome.retries > 0);
    assert_round_trip(&unlimited, &outcome.file_token, &file).await;
}

#[tokio::test]
async fn blocks_missing_at_finish_are_sent_again() {
    let server = Arc::new(server(Config::default()).await);
    let uploader = uploader(&server, |b| b.concurrency(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 6 * BLOCK + 1, 12);
    let upload_id = Arc::new(Mutex::new(None::<String>));
    let lost = Arc::new(AtomicU32::new(0));
    let (server_cb, lost_cb) = (Arc::clone(&server), Arc::clone(&lost));
    let request = UploadRequest::file(&file, "docx_file", "doxcn1").progress(move |event| match event {
        ProgressEvent::Started {
            upload_id: Some(id), ..
        } => *upload_id.lock().expect("lock") = Some(id.clone()),
        // Once every block is confirmed, the server "loses" one before finish sees it.
        ProgressEvent::BlockConfirmed {
            confirmed_blocks: 7, ..
        } if lost_cb.load(Ordering::SeqCst) == 0 => {
            let id = upload_id.lock().expect("lock").clone().expect("started first");
            assert!(server_cb.lose_block(&id, 2), "block 2 had arrived");
            lost_cb.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    });
    let outcome = uploader.upload(request).await.expect("upload recovers");
    assert_eq!(lost.load(Ordering::SeqCst), 1);
    assert_eq!(outcome.restarts, 1, "{outcome:?}");
    assert_eq!(
        outcome.blocks_sent, 14,
        "every block went twice: the server cannot say which it lacks"
    );
    assert_round_trip(&uploader, &outcome.file_token, &file).await;
}

#[tokio::test]
async fn wrong_app_credentials_are_a_typed_auth_error() {
    use feishu_drive::auth::{AppCredentials, AuthError};
    let server = server(Config::default()).await;
    let base = server.base_url();
    let uploader = upload_support::default_uploader(&base, |b| {
        b.token_source(AppCredentials::new(
            &base,
            feishu_drive_server::DEFAULT_APP_ID,
            "wrong-secret",
        ))
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 10, 1);
    let result = uploader
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1"))
        .await;
    assert!(
        matches!(
            result,
            Err(UploadError::Auth(AuthError::Refused {
                code: ErrorCode::AuthFailed,
                ..
            }))
        ),
        "{result:?}"
    );
}

/// The daily quota, against the local server's own (2 calls per app and endpoint, answered
/// with 99991403): an upload whose parts do not fit is refused before `upload_prepare`, and a
/// quota answer from the server mid-run ends the upload typed instead of being retried.
#[tokio::test]
async fn the_daily_quota_refuses_before_prepare_and_a_quota_answer_is_not_retried() {
    use feishu_drive::budget::{Budget, BudgetConfig, Group};
    use feishu_drive_server::{DEFAULT_APP_ID, Server};

    const MIB4: u64 = 4 * 1024 * 1024;
    // The server's default (documented) 4 MiB blocks, not the tests' small ones.
    let server = Server::start(Config::default().faults(Faults::default().daily_quota(2)))
        .await
        .expect("server");
    let budget = |quota| {
        Budget::in_process(
            BudgetConfig::new(DEFAULT_APP_ID)
                .requests_per_second(1000)
                .daily_quota(Some(quota)),
        )
    };
    // A budget that knows the server's quota.
    let knowing = uploader(&server, |b| b.budget(budget(2)));
    let dir = tempfile::tempdir().expect("temp dir");
    let three_parts = random_file(dir.path(), "three.bin", 2 * MIB4 + 1, 21);
    match knowing
        .upload(UploadRequest::file(&three_parts, "docx_file", "doxcn1"))
        .await
    {
        Err(UploadError::QuotaExceeded(q)) => {
            assert_eq!((q.group, q.needed, q.remaining), (Group::UploadPart, 3, 2), "{q}");
            assert!(q.resets_at > std::time::SystemTime::now(), "{q}");
        }
        other => panic!("expected a typed quota refusal before prepare: {other:?}"),
    }
    let two_parts = random_file(dir.path(), "two.bin", 2 * MIB4, 22);
    let outcome = knowing
        .upload(UploadRequest::file(&two_parts, "docx_file", "doxcn1"))
        .await
        .expect("two parts fit");
    assert_eq!(outcome.blocks_sent, 2);
    assert_eq!(server.stats().quota_exceeded, 0, "{:?}", server.stats());

    // A budget that allows more than the server: the server has one prepare left (only if the
    // refused upload sent none) and no part left, and says so once.
    let unknowing = uploader(&server, |b| b.budget(budget(100)));
    let one_part = random_file(dir.path(), "one.bin", MIB4, 23);
    match unknowing
        .upload(UploadRequest::file(&one_part, "docx_file", "doxcn1"))
        .await
    {
        Err(UploadError::QuotaExceeded(q)) => {
            assert_eq!((q.group, q.remaining), (Group::UploadPart, 0), "{q}")
        }
        other => panic!("expected the server's quota answer on upload_part, typed: {other:?}"),
    }
    let stats = server.stats();
    assert_eq!((stats.quota_exceeded, stats.parts_stored), (1, 2), "{stats:?}");
    server.shutdown().await.expect("shutdown");
}
