//! Uploads into a Drive folder (the `files` family) through the same uploader as media: the
//! chunked flow and upload_all, a new version of a file, resume from a journal, and the bytes
//! read back through the family's download.

use crate::kit::upload as upload_support;

use feishu_drive::download::DownloadRequest;
use feishu_drive::operations::OperationId;
use feishu_drive::upload::{Family, UploadRequest};
use feishu_drive::{FeishuResult, types};
use feishu_drive_server::Config;
use upload_support::{BLOCK, random_file, server, sha256_file, uploader};

/// Downloads the Drive file `token` (optionally one `version`) and returns its SHA-256.
async fn read_back(
    client: &feishu_drive::Client,
    token: &str,
    version: Option<&str>,
    dir: &std::path::Path,
) -> String {
    let path = dir.join(format!("back-{token}-{}", version.unwrap_or("latest")));
    let mut request = DownloadRequest::to_file(token, &path).family(Family::Files);
    if let Some(version) = version {
        request = request.version(version);
    }
    client.download_media(request).await.expect("the file downloads");
    sha256_file(&path)
}

#[tokio::test]
async fn chunked_and_one_shot_uploads_land_in_a_folder_byte_exact() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    // Chunked (the kit's uploader sends every non-empty file through prepare/parts/finish).
    let chunked = uploader(&server, |b| b);
    let big = random_file(dir.path(), "大文件.bin", 5 * BLOCK + 17, 1);
    let outcome = chunked
        .upload(UploadRequest::to_folder(&big, &root))
        .await
        .expect("chunked upload into the folder");
    assert_eq!(outcome.family, Family::Files);
    assert!(outcome.chunked);
    assert!(outcome.version.is_some(), "the files family answers a version");
    assert_eq!(
        read_back(&chunked, &outcome.file_token, None, dir.path()).await,
        sha256_file(&big)
    );
    // The parts went to the files family's endpoint, each with its Adler-32.
    let parts: Vec<_> = server
        .received_parts()
        .into_iter()
        .filter(|p| p.operation == OperationId::FileUploadPart)
        .collect();
    assert_eq!(parts.len(), 6, "{parts:?}");
    assert!(
        parts
            .iter()
            .all(|p| p.checksum.as_deref() == Some(p.adler32.to_string().as_str()))
    );

    // One shot, into a sub-folder made through the raw operation on the same client.
    let folder = chunked
        .create_folder()
        .body(
            types::CreateFolderRequest::builder()
                .folder_token(types::FolderToken::from(root.clone()))
                .name(types::FolderName::try_from("报告".to_owned()).expect("a folder name")),
        )
        .send()
        .await
        .into_data()
        .expect("create_folder");
    let one_shot = uploader(&server, |b| b.upload_all_max(1024 * 1024));
    let small = random_file(dir.path(), "small.txt", 999, 2);
    let outcome = one_shot
        .upload(UploadRequest::to_folder(&small, folder.token.to_string()))
        .await
        .expect("upload_all into the sub-folder");
    assert!(!outcome.chunked);
    assert_eq!(
        read_back(&one_shot, &outcome.file_token, None, dir.path()).await,
        sha256_file(&small)
    );
    assert!(
        server
            .received_parts()
            .iter()
            .any(|p| p.operation == OperationId::FileUploadAll)
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_new_version_keeps_the_token_and_both_versions_read_back() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let client = uploader(&server, |b| b);
    let first = random_file(dir.path(), "notes.bin", 3 * BLOCK, 3);
    let v1 = client
        .upload(UploadRequest::to_folder(&first, &root))
        .await
        .expect("first version");
    let second = random_file(dir.path(), "notes-v2.bin", 2 * BLOCK + 5, 4);
    let v2 = client
        .upload(
            UploadRequest::to_folder(&second, &root)
                .file_name("notes.bin")
                .new_version_of(&v1.file_token),
        )
        .await
        .expect("second version");
    assert_eq!(v2.file_token, v1.file_token, "a version keeps the file's token");
    assert_ne!(v2.version, v1.version);
    assert_eq!(
        read_back(&client, &v1.file_token, None, dir.path()).await,
        sha256_file(&second)
    );
    let old = v1.version.as_deref().expect("a version");
    assert_eq!(
        read_back(&client, &v1.file_token, Some(old), dir.path()).await,
        sha256_file(&first)
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_cancelled_folder_upload_resumes_from_its_journal() {
    let server = server(Config::default()).await;
    let root = server.root_folder().to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let client = uploader(&server, |b| b.concurrency(1));
    let file = random_file(dir.path(), "resume.bin", 40 * BLOCK, 5);
    let journal = dir.path().join("resume.journal");
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let first = client
        .upload(
            UploadRequest::to_folder(&file, &root)
                .journal(&journal)
                .cancel_on(cancel)
                .progress(move |event| {
                    if let feishu_drive::upload::ProgressEvent::BlockConfirmed {
                        confirmed_blocks: 10, ..
                    } = event
                    {
                        stop.cancel();
                    }
                }),
        )
        .await;
    assert!(first.is_err(), "the first run was cancelled: {first:?}");
    assert!(journal.is_file(), "the journal stays for the next run");
    let outcome = client
        .upload(UploadRequest::to_folder(&file, &root).journal(&journal))
        .await
        .expect("the resumed run finishes");
    assert!(outcome.blocks_resumed >= 8, "{outcome:?}");
    assert_eq!(outcome.family, Family::Files);
    assert_eq!(
        read_back(&client, &outcome.file_token, None, dir.path()).await,
        sha256_file(&file)
    );
    server.shutdown().await.expect("shutdown");
}
