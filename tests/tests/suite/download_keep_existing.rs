//! `DownloadRequest::keep_existing`: a file already at the destination is never replaced,
//! whether its name is known before the download (a file path: nothing is sent) or only from the
//! server's answer (a directory: the finished download is discarded, the file there kept).

use feishu_drive::download::{DownloadError, DownloadRequest};
use feishu_drive_server::Operation;

use crate::e2e_download::{downloader_for, no_partial_files, upload_to_server};
use crate::kit::e2e::data;

#[tokio::test]
async fn a_file_path_that_exists_is_kept_and_nothing_is_sent() {
    let bytes = data(10_000, 3);
    let (server, token, _keep) = upload_to_server(&bytes, "m.bin").await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("mine.txt");
    std::fs::write(&target, b"the user's own file").expect("write");
    let before = server.requests().get(&Operation::Download).copied().unwrap_or(0);
    let client = downloader_for(&server.base_url(), None);
    let error = client
        .download_media(DownloadRequest::to_file(&token, &target).keep_existing())
        .await
        .expect_err("kept");
    assert!(
        matches!(&error, DownloadError::Exists { path } if path == &target),
        "{error:?}"
    );
    assert_eq!(std::fs::read(&target).expect("read"), b"the user's own file");
    let after = server.requests().get(&Operation::Download).copied().unwrap_or(0);
    assert_eq!(after, before, "nothing was downloaded");
    // Without it, the file is replaced, as documented.
    client
        .download_media(DownloadRequest::to_file(&token, &target))
        .await
        .expect("replaced");
    assert_eq!(std::fs::read(&target).expect("read"), bytes);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_server_given_name_that_exists_is_kept_and_the_download_discarded() {
    let bytes = data(10_000, 4);
    let (server, token, _keep) = upload_to_server(&bytes, "report.pdf").await;
    let out = tempfile::tempdir().expect("tempdir");
    let there = out.path().join("report.pdf");
    std::fs::write(&there, b"an older report").expect("write");
    let error = downloader_for(&server.base_url(), None)
        .download_media(DownloadRequest::into_dir(&token, out.path()).keep_existing())
        .await
        .expect_err("kept");
    assert!(
        matches!(&error, DownloadError::Exists { path } if path == &there),
        "{error:?}"
    );
    assert_eq!(std::fs::read(&there).expect("read"), b"an older report");
    assert_eq!(no_partial_files(out.path()), Vec::<String>::new());
    let names: Vec<_> = std::fs::read_dir(out.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the kept file: {names:?}");
    server.shutdown().await.expect("shutdown");
}
