//! Many files under one scheduler (`Client::upload_batch`): a local tree mirrored into a Drive
//! folder of the local server, read back byte for byte; the plan against the requests the
//! server counted; re-runs that skip what is done and version what changed; a cancelled batch
//! resumed without a duplicate; a lost answer adopted instead of uploaded twice; `if_exists`;
//! the failure policy; names that would clash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::kit::upload::{BLOCK, random_file, server, sha256_file, uploader};
use feishu_drive::batch::{
    BatchError, BatchEvent, BatchOutcome, BatchRequest, FileResult, IfExists, OnFailure, SkipReason, Stopped,
};
use feishu_drive::download::DownloadRequest;
use feishu_drive::operations::OperationId;
use feishu_drive::upload::{Family, UploadRequest};
use feishu_drive::{Client, FeishuResult};
use feishu_drive_server::{Config, DEFAULT_BLOCK_SIZE, FaultKind, FaultRule, RunningServer, Server};
use tokio_util::sync::CancellationToken;

mod guards;

/// Files up to this go through `upload_all`; the kit's blocks are 64 KiB.
const ONE_SHOT_MAX: u64 = 256 * 1024;

fn client(server: &RunningServer) -> Client {
    uploader(server, |b| b.upload_all_max(ONE_SHOT_MAX))
}

/// A tree with nested and empty folders, non-ASCII names, an empty file, one-shot and chunked
/// files. Returns the files by their path relative to `dir`.
fn tree(dir: &Path, block: u64) -> BTreeMap<String, PathBuf> {
    let files = [
        ("a.txt", 1000),
        ("空.bin", 0),
        ("big.bin", 2 * block + 17),
        ("子目录/c.bin", 100 * 1024),
        ("子目录/深/d.bin", block + 5),
        ("子目录/深/e e.txt", 3),
    ];
    std::fs::create_dir_all(dir.join("empty")).expect("an empty folder");
    files
        .iter()
        .enumerate()
        .map(|(seed, (name, len))| {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
            let made = random_file(
                path.parent().expect("a parent"),
                &file_name(&path),
                *len,
                seed as u64,
            );
            ((*name).to_owned(), made)
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("a name")
        .to_owned()
}

/// The folder's children: name → tokens (several when a name is there twice).
async fn children(client: &Client, folder: &str) -> BTreeMap<String, Vec<String>> {
    let data = client
        .list_files()
        .folder_token(folder)
        .send()
        .await
        .into_data()
        .expect("the folder lists");
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in data.files {
        by_name.entry(node.name).or_default().push(node.token);
    }
    by_name
}

/// The Drive file `token`'s SHA-256, downloaded.
async fn read_back(client: &Client, token: &str, dir: &Path) -> String {
    let path = dir.join(format!("back-{token}"));
    client
        .download_media(DownloadRequest::to_file(token, &path).family(Family::Files))
        .await
        .expect("the file downloads");
    sha256_file(&path)
}

/// Requests the server counted, per operation, without the token endpoint.
fn sent(server: &RunningServer) -> BTreeMap<OperationId, u64> {
    let mut requests = server.requests();
    requests.remove(&OperationId::TenantAccessTokenInternal);
    requests
}

fn minus(
    after: &BTreeMap<OperationId, u64>,
    before: &BTreeMap<OperationId, u64>,
) -> BTreeMap<OperationId, u64> {
    after
        .iter()
        .map(|(op, n)| (*op, n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn tokens(outcome: &BatchOutcome) -> BTreeMap<String, String> {
    outcome
        .files
        .iter()
        .map(|f| {
            (
                f.remote_path.clone(),
                f.result.file_token().expect("in Drive").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_tree_lands_byte_exact_in_nested_folders_and_the_plan_counts_every_request() {
    // The platform's 4 MiB blocks, which the plan assumes.
    let server = Server::start(Config::default()).await.expect("the server starts");
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("site");
    let files = tree(&local, DEFAULT_BLOCK_SIZE);
    let journals = dir.path().join("journals");
    let client = client(&server);
    let request = BatchRequest::to_folder(&root)
        .tree(&local)
        .expect("the tree walks")
        .journal_dir(&journals);
    let plan = client.plan_batch(&request);
    let outcome = client.upload_batch(request).await.expect("the batch runs");

    assert!(outcome.is_complete(), "{outcome:#?}");
    assert_eq!(outcome.uploaded(), files.len());
    assert_eq!(outcome.folders_created, 3, "子目录, 子目录/深 and empty");
    // The plan is what the server received, operation by operation.
    let planned: BTreeMap<OperationId, u64> = plan
        .operations
        .iter()
        .map(|o| (o.operation, o.requests))
        .collect();
    assert_eq!(planned, sent(&server), "plan {plan:#?}");
    assert_eq!(planned.get(&OperationId::FileUploadPart), Some(&(3 + 2)));

    // The folders are where the tree says, each file in its folder, byte for byte.
    let top = children(&client, &root).await;
    for name in ["a.txt", "空.bin", "big.bin", "子目录", "empty"] {
        assert_eq!(top.get(name).map(Vec::len), Some(1), "{name} in {top:?}");
    }
    let sub = children(&client, &top["子目录"][0]).await;
    let deep = children(&client, &sub["深"][0]).await;
    assert_eq!(sub.keys().collect::<Vec<_>>(), ["c.bin", "深"]);
    assert_eq!(deep.keys().collect::<Vec<_>>(), ["d.bin", "e e.txt"]);
    assert!(children(&client, &top["empty"][0]).await.is_empty());
    let tokens = tokens(&outcome);
    assert_eq!(tokens["子目录/深/d.bin"], deep["d.bin"][0]);
    for (remote, path) in &files {
        assert_eq!(
            read_back(&client, &tokens[remote], dir.path()).await,
            sha256_file(path),
            "{remote}"
        );
    }
}

#[tokio::test]
async fn a_second_run_sends_only_its_listings_and_a_changed_file_becomes_a_new_version() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("site");
    let files = tree(&local, BLOCK);
    let journals = dir.path().join("journals");
    let client = client(&server);
    let batch = || {
        BatchRequest::to_folder(&root)
            .tree(&local)
            .expect("the tree walks")
            .journal_dir(&journals)
    };
    let first = client.upload_batch(batch()).await.expect("first run");
    assert!(first.is_complete());

    let before = sent(&server);
    let again = client.upload_batch(batch()).await.expect("second run");
    assert!(
        again.files.iter().all(|f| matches!(
            f.result,
            FileResult::Skipped {
                reason: SkipReason::DoneEarlier,
                ..
            }
        )),
        "{again:#?}"
    );
    assert_eq!(tokens(&again), tokens(&first));
    let delta = minus(&sent(&server), &before);
    assert_eq!(
        delta.keys().collect::<Vec<_>>(),
        [&OperationId::ListFiles],
        "{delta:?}"
    );

    // Edited between runs: the next run sends it as a new version of the same Drive file.
    let edited = &files["子目录/c.bin"];
    std::fs::write(edited, b"new content").expect("edit");
    let third = client.upload_batch(batch()).await.expect("third run");
    let report = third
        .files
        .iter()
        .find(|f| f.remote_path == "子目录/c.bin")
        .expect("reported");
    let FileResult::Uploaded(outcome) = &report.result else {
        panic!("the edited file is uploaded again: {report:#?}");
    };
    assert_eq!(
        outcome.file_token,
        tokens(&first)["子目录/c.bin"],
        "same Drive file"
    );
    assert!(outcome.version.is_some());
    assert_eq!(third.uploaded(), 1, "only the edited file: {third:#?}");
    assert_eq!(
        read_back(&client, &outcome.file_token, dir.path()).await,
        sha256_file(edited)
    );
    let sub = children(&client, &children(&client, &root).await["子目录"][0]).await;
    assert_eq!(sub["c.bin"].len(), 1, "no second file of the name");
}

#[tokio::test]
async fn a_cancelled_batch_resumes_with_no_duplicate_and_nothing_done_sent_again() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("many");
    std::fs::create_dir_all(local.join("sub")).expect("dirs");
    for i in 0..30_u64 {
        let folder = if i % 3 == 0 {
            local.join("sub")
        } else {
            local.clone()
        };
        random_file(&folder, &format!("文件-{i:02}.bin"), 500 + i * 997, i);
    }
    random_file(&local, "large-1.bin", 9 * BLOCK, 100);
    random_file(&local, "large-2.bin", 7 * BLOCK + 3, 101);
    let journals = dir.path().join("journals");
    let client = uploader(&server, |b| b.upload_all_max(ONE_SHOT_MAX).concurrency(2));
    let cancel = CancellationToken::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let request = {
        let (cancel, finished) = (cancel.clone(), finished.clone());
        BatchRequest::to_folder(&root)
            .tree(&local)
            .expect("walks")
            .journal_dir(&journals)
            .files_in_flight(3)
            .cancel_on(cancel.clone())
            .on_event(move |event| {
                if let BatchEvent::Finished(_) = event
                    && finished.fetch_add(1, Ordering::SeqCst) + 1 == 10
                {
                    cancel.cancel();
                }
            })
    };
    let first = client.upload_batch(request).await.expect("first run");
    assert_eq!(first.stopped, Some(Stopped::Cancelled));
    assert!(first.not_started() > 0, "{first:#?}");
    let done_first: BTreeMap<String, String> = first
        .files
        .iter()
        .filter_map(|f| Some((f.remote_path.clone(), f.result.file_token()?.to_owned())))
        .collect();

    let resumed = client
        .upload_batch(
            BatchRequest::to_folder(&root)
                .tree(&local)
                .expect("walks")
                .journal_dir(&journals),
        )
        .await
        .expect("second run");
    assert!(resumed.is_complete(), "{resumed:#?}");
    for report in &resumed.files {
        if let Some(token) = done_first.get(&report.remote_path) {
            assert!(
                matches!(&report.result, FileResult::Skipped { file_token, .. } if file_token == token),
                "done in the first run, not sent again: {report:#?}"
            );
        }
    }
    // Every name once: nothing uploaded twice, the sub-folder made once.
    let top = children(&client, &root).await;
    let sub = children(&client, &top["sub"][0]).await;
    assert!(
        top.values().chain(sub.values()).all(|t| t.len() == 1),
        "{top:?} {sub:?}"
    );
    assert_eq!(top.len() + sub.len(), 32 + 1);
}

#[tokio::test]
async fn an_upload_whose_answer_was_lost_is_found_in_the_listing_not_sent_twice() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let a = random_file(dir.path(), "a.bin", 2000, 1);
    let b = random_file(dir.path(), "b.bin", 3000, 2);
    let client = client(&server);
    // The server stores the first upload_all, and its answer never arrives.
    server.add_fault(FaultRule::new(FaultKind::LoseResponse, [OperationId::FileUploadAll]).first(1));
    let request = BatchRequest::to_folder(&root)
        .file(&a)
        .and_then(|r| r.file(&b))
        .expect("files")
        .files_in_flight(1);
    let outcome = client.upload_batch(request).await.expect("runs");
    let FileResult::Adopted { file_token } = &outcome.files[0].result else {
        panic!("the file the lost request made is taken: {outcome:#?}");
    };
    assert!(matches!(outcome.files[1].result, FileResult::Uploaded(_)));
    assert_eq!(
        sent(&server)[&OperationId::FileUploadAll],
        2,
        "a.bin was not sent again"
    );
    let top = children(&client, &root).await;
    assert_eq!(
        top["a.bin"],
        std::slice::from_ref(file_token),
        "one a.bin, the adopted one"
    );
    assert_eq!(read_back(&client, file_token, dir.path()).await, sha256_file(&a));
}

#[tokio::test]
async fn a_file_an_interrupted_run_made_without_learning_so_is_adopted_by_the_next_run() {
    let server = Arc::new(server(Config::default()).await);
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let a = random_file(dir.path(), "a.bin", 2000, 1);
    let b = random_file(dir.path(), "b.bin", 3000, 2);
    let journals = dir.path().join("journals");
    let client = client(&server);
    server.add_fault(FaultRule::new(FaultKind::LoseResponse, [OperationId::FileUploadAll]).first(1));
    // Once a.bin has started, listings are refused: the first run cannot learn what its lost
    // request did, and stops (refused credentials stop a batch) with a.bin started, not done.
    let refuse_listings = {
        let server = server.clone();
        move |event: &BatchEvent<'_>| {
            if let BatchEvent::Started { index: 0, .. } = event {
                server.add_fault(
                    FaultRule::new(FaultKind::RefuseCredentials, [OperationId::ListFiles]).first(1),
                );
            }
        }
    };
    let batch = || {
        BatchRequest::to_folder(&root)
            .file(&a)
            .and_then(|r| r.file(&b))
            .expect("files")
            .journal_dir(&journals)
            .files_in_flight(1)
    };
    let first = client
        .upload_batch(batch().on_event(refuse_listings))
        .await
        .expect("first run");
    assert!(
        matches!(first.files[0].result, FileResult::Failed(_)),
        "{first:#?}"
    );
    assert_eq!(first.stopped, Some(Stopped::CredentialsRefused));
    assert!(matches!(first.files[1].result, FileResult::NotStarted));

    let second = client.upload_batch(batch()).await.expect("second run");
    let FileResult::Adopted { file_token } = &second.files[0].result else {
        panic!("the journal's started file, found in the folder, is adopted: {second:#?}");
    };
    assert_eq!(
        sent(&server)[&OperationId::FileUploadAll],
        2,
        "a.bin once, b.bin once"
    );
    assert_eq!(
        children(&client, &root).await["a.bin"],
        std::slice::from_ref(file_token)
    );
}

#[tokio::test]
async fn if_exists_skips_or_versions_the_files_a_folder_already_holds() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    std::fs::create_dir_all(&old).expect("dir");
    std::fs::create_dir_all(&new).expect("dir");
    let client = client(&server);
    let there = client
        .upload(UploadRequest::to_folder(
            random_file(&old, "report.pdf", 5000, 1),
            &root,
        ))
        .await
        .expect("a file already in the folder");
    let local = random_file(&new, "report.pdf", 7000, 2);
    random_file(&new, "other.txt", 10, 3);

    let skipped = client
        .upload_batch(
            BatchRequest::to_folder(&root)
                .tree(&new)
                .expect("walks")
                .if_exists(IfExists::Skip),
        )
        .await
        .expect("skip");
    let report = skipped
        .files
        .iter()
        .find(|f| f.remote_path == "report.pdf")
        .expect("reported");
    assert!(
        matches!(&report.result, FileResult::Skipped { file_token, reason: SkipReason::NameExists } if *file_token == there.file_token),
        "{report:#?}"
    );
    assert_eq!(skipped.uploaded(), 1, "other.txt");

    let versioned = client
        .upload_batch(
            BatchRequest::to_folder(&root)
                .file(&local)
                .expect("file")
                .if_exists(IfExists::Version),
        )
        .await
        .expect("version");
    let FileResult::Uploaded(outcome) = &versioned.files[0].result else {
        panic!("{versioned:#?}");
    };
    assert_eq!(
        outcome.file_token, there.file_token,
        "a new version of the same file"
    );
    assert_ne!(outcome.version, there.version);
    assert_eq!(
        read_back(&client, &there.file_token, dir.path()).await,
        sha256_file(&local)
    );
    assert_eq!(children(&client, &root).await["report.pdf"].len(), 1);
}

#[tokio::test]
async fn stop_at_failure_starts_nothing_after_the_first_failure() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    // 251 characters: one more than a Drive file name may have, refused before any request.
    let too_long = random_file(dir.path(), &"n".repeat(251), 10, 1);
    let rest: Vec<PathBuf> = (0..4)
        .map(|i| random_file(dir.path(), &format!("f{i}"), 10, i))
        .collect();
    let client = client(&server);
    let mut request = BatchRequest::to_folder(&root).file(&too_long).expect("file");
    for path in &rest {
        request = request.file(path).expect("file");
    }
    let outcome = client
        .upload_batch(request.files_in_flight(1).on_failure(OnFailure::Stop))
        .await
        .expect("runs");
    assert!(
        matches!(outcome.files[0].result, FileResult::Failed(_)),
        "{outcome:#?}"
    );
    assert_eq!(outcome.stopped, Some(Stopped::AtFailure));
    assert_eq!(outcome.not_started(), 4, "{outcome:#?}");
    assert!(children(&client, &root).await.is_empty());
}

#[tokio::test]
async fn two_files_of_one_name_in_one_folder_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("a")).expect("dir");
    std::fs::create_dir_all(dir.path().join("b")).expect("dir");
    let one = random_file(&dir.path().join("a"), "x.txt", 1, 1);
    let two = random_file(&dir.path().join("b"), "x.txt", 1, 2);
    let server = server(Config::default()).await;
    let request = BatchRequest::to_folder(server.root_folder())
        .file(&one)
        .and_then(|r| r.file(&two))
        .expect("files");
    let error = client(&server).upload_batch(request).await.expect_err("a clash");
    assert!(matches!(error, BatchError::NameClash { .. }), "{error}");
    assert!(error.to_string().contains("x.txt"), "{error}");
    assert!(sent(&server).is_empty(), "nothing sent");
    // A doc has no folders: a tree into one is refused, with what to do.
    let error = BatchRequest::to_parent("docx_file", "doxcn1")
        .tree(dir.path())
        .expect_err("no folders");
    assert!(error.to_string().contains("Drive folder"), "{error}");
}

/// A tree of empty folders is not an empty batch: its folders are made (once: a second run
/// finds them), and `is_empty` says so; a tree with nothing at all is empty.
#[tokio::test]
async fn a_tree_of_empty_folders_makes_its_folders_once() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("a/b")).expect("folders");
    std::fs::create_dir_all(tree.join("空")).expect("folders");
    let client = client(&server);
    let request = || BatchRequest::to_folder(&root).tree(&tree).expect("a tree");
    assert!(!request().is_empty());
    let first = client.upload_batch(request()).await.expect("runs");
    assert_eq!((first.files.len(), first.folders_created), (0, 3), "{first:#?}");
    let again = client.upload_batch(request()).await.expect("runs");
    assert_eq!(again.folders_created, 0, "found, not made again");
    let top = children(&client, &root).await;
    assert_eq!(top.keys().collect::<Vec<_>>(), ["a", "空"], "{top:?}");
    let a = &top["a"][0];
    assert_eq!(children(&client, a).await.keys().collect::<Vec<_>>(), ["b"]);
    let nothing = dir.path().join("nothing");
    std::fs::create_dir_all(&nothing).expect("a folder");
    assert!(
        BatchRequest::to_folder(&root)
            .tree(&nothing)
            .expect("a tree")
            .is_empty()
    );
}
