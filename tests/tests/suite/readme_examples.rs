//! The READMEs' programs, exactly as a user reads them (`tests/build.rs` compiles each
//! ```` ```rust ```` block with a `fn main` of `README.md` and `client/README.md` into the
//! `readme-examples` binary), run as processes against the local server: each finishes, with one
//! token fetch for everything it does on its one `Client` (issue 15's "done when"), and does what
//! the README says it does — the upload reads back byte for byte, the tree lands in the folder,
//! and run again the batch sends nothing.
//!
//! When a README's program changes, this runs the new one; when one is added, it runs too (with
//! the fixtures below and the server's root folder as its first argument), and when the program
//! this test checks in detail is gone, the test says so.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use feishu_drive::operations::OperationId;
use feishu_drive_server::{Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, RunningServer, Server};

use crate::kit::upload::{random_file, sha256_file};

const MIB: u64 = 1024 * 1024;
/// The most one program may take: a 21 MiB upload and download on loopback take about a second.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// What a program printed, and how many requests of each operation the server got meanwhile.
struct Run {
    stdout: String,
    requests: BTreeMap<OperationId, u64>,
}

/// Runs program `number` in `dir` against `server` as a user would: the base URL and the app's
/// credentials from the environment, the root folder as its argument.
async fn run(number: usize, dir: &Path, server: &RunningServer) -> Run {
    let before = server.requests();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_readme-examples"))
        .arg(server.root_folder())
        .current_dir(dir)
        .env("README_EXAMPLE", number.to_string())
        .env("FEISHU_BASE_URL", server.base_url())
        .env("LARK_APP_ID", DEFAULT_APP_ID)
        .env("LARK_APP_SECRET", DEFAULT_APP_SECRET)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_LIMIT, child)
        .await
        .unwrap_or_else(|_| panic!("program {number} ran over {RUN_LIMIT:?}"))
        .expect("the program starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "program {number} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let requests = server
        .requests()
        .into_iter()
        .map(|(operation, n)| (operation, n - before.get(&operation).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    Run { stdout, requests }
}

/// The programs the binary holds: where each is (`README.md:53`).
fn programs() -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_readme-examples"))
        .env_remove("README_EXAMPLE")
        .output()
        .expect("the examples binary runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| Some(line.split_once(' ')?.1.to_owned()))
        .collect()
}

/// Every file the README's programs read: `video.mp4` (over 20 MiB, so the chunked flow) and a
/// `site/` tree with a sub-folder and a non-ASCII name.
fn fixtures(dir: &Path) {
    random_file(dir, "video.mp4", 21 * MIB + 3, 1);
    std::fs::create_dir_all(dir.join("site/images")).expect("site/images");
    random_file(&dir.join("site"), "index.html", 2_000, 2);
    random_file(&dir.join("site"), "关于.html", 1_500, 3);
    random_file(&dir.join("site/images"), "logo.png", 40_000, 4);
}

/// The folder's children, name → token, through the server's own answers.
async fn listing(server: &RunningServer, folder: &str) -> BTreeMap<String, String> {
    let client = crate::kit::upload::uploader(server, |b| b);
    let data = feishu_drive::FeishuResult::into_data(client.list_files().folder_token(folder).send().await)
        .expect("the folder lists");
    data.files.into_iter().map(|f| (f.name, f.token)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_program_runs_against_the_local_server_with_one_token_fetch() {
    let server = Server::start(Config::default()).await.expect("the server starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    fixtures(dir.path());
    let programs = programs();
    assert!(
        programs.len() >= 2,
        "the READMEs hold two programs at least: {programs:?}"
    );
    let mut runs = Vec::new();
    for (i, origin) in programs.iter().enumerate() {
        let run = run(i + 1, dir.path(), &server).await;
        assert_eq!(
            run.requests.get(&OperationId::TenantAccessTokenInternal),
            Some(&1),
            "{origin}: one token fetch for everything on one Client: {:?}",
            run.requests
        );
        runs.push((origin, run));
    }

    // The upload, download and raw operation program: the copy is the file.
    let copy = dir.path().join("video-copy.mp4");
    assert!(
        copy.exists(),
        "no README program downloaded video-copy.mp4: {programs:?}"
    );
    assert_eq!(sha256_file(&copy), sha256_file(&dir.path().join("video.mp4")));
    let (origin, one_client) = runs
        .iter()
        .find(|(_, run)| run.requests.contains_key(&OperationId::Download))
        .expect("a program downloads");
    assert!(
        one_client.stdout.contains("no part sent yet"),
        "{origin}: the raw finish is refused with BlockMissing:\n{}",
        one_client.stdout
    );

    // The batch program: the tree is in the root folder, and a second run sends no file.
    let root = listing(&server, server.root_folder()).await;
    assert!(
        root.contains_key("index.html") && root.contains_key("关于.html") && root.contains_key("images"),
        "the site tree is in the folder: {root:?}"
    );
    let images = listing(&server, &root["images"]).await;
    assert!(images.contains_key("logo.png"), "{images:?}");
    let batch = runs
        .iter()
        .position(|(_, run)| run.requests.contains_key(&OperationId::CreateFolder))
        .expect("a program uploads the site tree");
    let finished = server.stats().files_finished;
    let again = run(batch + 1, dir.path(), &server).await;
    assert_eq!(
        server.stats().files_finished,
        finished,
        "the re-run uploads nothing:\n{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("0 uploaded, 3 already there, 0 failed"),
        "{}",
        again.stdout
    );
    server.shutdown().await.expect("the server stops");
}
