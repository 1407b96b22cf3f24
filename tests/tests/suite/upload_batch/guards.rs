//! The scheduler's guards, each a test a mutant of `client/src/batch/` made fail: the memory
//! bound (both ways), and what a lost or ambiguous answer into a listed folder leads to.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{ONE_SHOT_MAX, client, read_back, sent};
use crate::kit::upload::{BLOCK, random_file, server, sha256_file, uploader};
use feishu_drive::batch::{BatchEvent, BatchRequest, FileResult, Stopped};
use feishu_drive::operations::OperationId;
use feishu_drive::upload::UploadRequest;
use feishu_drive_server::{
    Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_BLOCK_SIZE, FaultKind, FaultRule, Faults,
    RunningServer,
};

/// Uploads two chunked files of five blocks with one worker each, two files in flight and
/// `memory_limit`, and returns how many uploads were in flight at most. Counted by events, not
/// timed: an upload's own `Finished` comes before its memory is given back, so under the bound no
/// second `Started` can come between them.
async fn most_in_flight(server: &RunningServer, memory_limit: u64) -> usize {
    use feishu_drive::upload::ProgressEvent;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let a = random_file(dir.path(), "a.bin", 5 * BLOCK, 1);
    let b = random_file(dir.path(), "b.bin", 5 * BLOCK, 2);
    let client = uploader(server, |b| b.upload_all_max(ONE_SHOT_MAX).concurrency(1));
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let count = {
        let (in_flight, most) = (in_flight.clone(), most.clone());
        move |event: &BatchEvent<'_>| match event {
            BatchEvent::Started { .. } => {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
            }
            BatchEvent::Progress {
                event: ProgressEvent::Finished { .. },
                ..
            } => {
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
    };
    let request = BatchRequest::to_folder(&root)
        .file(&a)
        .and_then(|r| r.file(&b))
        .expect("files")
        .files_in_flight(2)
        .memory_limit(memory_limit)
        .on_event(count);
    let outcome = client.upload_batch(request).await.expect("runs");
    assert!(
        outcome
            .files
            .iter()
            .all(|f| matches!(f.result, FileResult::Uploaded(_))),
        "{outcome:#?}"
    );
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);
    most.load(Ordering::SeqCst)
}

/// The memory bound holds files back: with room for one chunked upload (two blocks per worker,
/// one worker), two chunked files upload one after the other although two may be in flight.
/// Feishu's block size (4 MiB), not the test server's: the scheduler budgets for the real one.
#[tokio::test]
async fn the_memory_limit_admits_one_chunked_file_at_a_time_when_it_fits_one() {
    let server = server(Config::default()).await;
    let most = most_in_flight(&server, 2 * DEFAULT_BLOCK_SIZE).await;
    assert_eq!(most, 1, "one chunked upload in flight at a time");
}

/// With room for exactly two uploads of one worker (two blocks each), both run at once: the
/// bound costs an upload two blocks per worker, not more. Each part answers after 150 ms, so
/// the first upload (five parts) is still in flight when the second, admitted with it, starts.
#[tokio::test]
async fn the_memory_limit_admits_two_chunked_files_at_once_when_it_fits_two() {
    let slow = FaultRule::new(
        FaultKind::Delay(Duration::from_millis(150)),
        [OperationId::FileUploadPart],
    )
    .rate(1.0);
    let server = server(Config::default().faults(Faults::default().rule(slow))).await;
    let most = most_in_flight(&server, 4 * DEFAULT_BLOCK_SIZE).await;
    assert_eq!(most, 2, "two chunked uploads in flight together");
}

/// A lost answer into a folder that already held a file of that name: the listing's file from
/// before the batch is not the lost request's, so the one adopted is the new one.
#[tokio::test]
async fn a_lost_answer_adopts_the_new_file_not_one_the_folder_held_before() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("old");
    std::fs::create_dir_all(&old).expect("dir");
    let client = client(&server);
    let there = client
        .upload(UploadRequest::to_folder(
            random_file(&old, "a.bin", 1000, 3),
            &root,
        ))
        .await
        .expect("a file already in the folder");
    let a = random_file(dir.path(), "a.bin", 2000, 1);
    server.add_fault(FaultRule::new(FaultKind::LoseResponse, [OperationId::FileUploadAll]).first(1));
    let request = BatchRequest::to_folder(&root).file(&a).expect("a file");
    let outcome = client.upload_batch(request).await.expect("runs");
    let FileResult::Adopted { file_token } = &outcome.files[0].result else {
        panic!("the file the lost request made is taken: {outcome:#?}");
    };
    assert_ne!(
        file_token, &there.file_token,
        "not the file from before the batch"
    );
    assert_eq!(read_back(&client, file_token, dir.path()).await, sha256_file(&a));
}

/// An ambiguous failure the listing shows made nothing (a proxy's 502, the request never
/// handled): sent again, unless the batch refuses duplicates, which fails the file instead.
#[tokio::test]
async fn an_ambiguous_failure_that_made_nothing_is_sent_again_unless_duplicates_are_refused() {
    for refuse in [false, true] {
        let server = server(Config::default()).await;
        let root = server.root_folder().to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        let a = random_file(dir.path(), "a.bin", 2000, 1);
        let client = client(&server);
        server.add_fault(FaultRule::new(FaultKind::Html(502), [OperationId::FileUploadAll]).first(1));
        let mut request = BatchRequest::to_folder(&root).file(&a).expect("a file");
        if refuse {
            request = request.refuse_duplicates();
        }
        let outcome = client.upload_batch(request).await.expect("runs");
        let result = &outcome.files[0].result;
        match refuse {
            false => assert!(matches!(result, FileResult::Uploaded(_)), "{outcome:#?}"),
            true => assert!(matches!(result, FileResult::Failed(_)), "{outcome:#?}"),
        }
        let expected = if refuse { 1 } else { 2 };
        assert_eq!(
            sent(&server)[&OperationId::FileUploadAll],
            expected,
            "refuse_duplicates: {refuse}"
        );
    }
}

/// An ambiguous failure the listing shows made nothing, into a folder where the batch has made
/// a sub-folder: only a file of the lost file's name can be what the lost request made, so the
/// new folder (not there before, owned by no file) is not taken for it and the file is sent again.
#[tokio::test]
async fn an_ambiguous_failure_beside_a_folder_the_batch_made_sends_the_file_again() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).expect("an empty sub-folder");
    let a = random_file(&tree, "a.bin", 2000, 1);
    let client = client(&server);
    server.add_fault(FaultRule::new(FaultKind::Html(502), [OperationId::FileUploadAll]).first(1));
    let request = BatchRequest::to_folder(&root).tree(&tree).expect("a tree");
    let outcome = client.upload_batch(request).await.expect("runs");
    assert_eq!(outcome.folders_created, 1, "{outcome:#?}");
    let FileResult::Uploaded(uploaded) = &outcome.files[0].result else {
        panic!("sent again, not adopted: {outcome:#?}");
    };
    assert_eq!(sent(&server)[&OperationId::FileUploadAll], 2);
    assert_eq!(
        read_back(&client, &uploaded.file_token, dir.path()).await,
        sha256_file(&a)
    );
}

/// A token endpoint that stays down stops the batch at the first file that could get no token:
/// every other file would wait for the same endpoint, each through the token source's whole
/// backoff in turn, since files share the token cache (about 9 s each with the default policy:
/// 45 minutes for 300 files). What is left is not started, for a later run of the same batch.
#[tokio::test]
async fn a_token_endpoint_that_stays_down_stops_the_batch() {
    use feishu_drive::RetryPolicy;
    use feishu_drive::auth::AppCredentials;
    let server = server(Config::default()).await;
    server
        .add_fault(FaultRule::new(FaultKind::Html(503), [OperationId::TenantAccessTokenInternal]).rate(1.0));
    let policy = RetryPolicy {
        max_retries: 2,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    let base = server.base_url();
    let tokens = AppCredentials::new(&base, DEFAULT_APP_ID, DEFAULT_APP_SECRET).retry_policy(policy);
    let client = uploader(&server, |b| b.token_source(tokens).upload_all_max(ONE_SHOT_MAX));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut request = BatchRequest::to_parent("docx_file", "doxcnLocal").files_in_flight(2);
    for i in 0..6 {
        let file = random_file(dir.path(), &format!("{i}.bin"), 100, i);
        request = request.file(&file).expect("a file");
    }
    let outcome = client.upload_batch(request).await.expect("runs");
    assert_eq!(outcome.stopped, Some(Stopped::TokenUnavailable), "{outcome:#?}");
    assert_eq!(outcome.uploaded(), 0);
    assert!(outcome.failed() >= 1, "{outcome:#?}");
    assert_eq!(
        outcome.failed() + outcome.not_started(),
        6,
        "each file failed or left for the next run: {outcome:#?}"
    );
    // At most one token fetch (three attempts) per file in flight, not one per file.
    let fetches = server.requests()[&OperationId::TenantAccessTokenInternal];
    assert!(fetches <= 2 * 3, "{fetches} token requests");
}
