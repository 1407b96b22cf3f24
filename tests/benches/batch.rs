//! A tree of 300 files (0 B to 60 MiB, nested folders, non-ASCII names) into a Drive folder of
//! the local server enforcing Feishu's 5 requests per second per operation, with faults on: the
//! batch scheduler (`Client::upload_batch`) side by side with one `Client::upload` call per file
//! (folders made first, then file after file, as the official CLI's `drive +push` does).
//!
//! `cargo bench -p feishu-drive-tests --bench batch` (`BATCH_FILES=60` for a quick run,
//! `BATCH_MODES=batch` for one mode, `BATCH_VERIFY=0` to skip reading every file back).
//!
//! The ceiling: each operation is paced on its own, so the busiest one (here `file_upload_all`)
//! sets the least time, its requests / 5 s. The figure is that time over the measured one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use feishu_drive::Client;
use feishu_drive::batch::{BatchRequest, FileResult};
use feishu_drive::download::DownloadRequest;
use feishu_drive::operations::OperationId;
use feishu_drive::upload::{Family, UploadRequest};
use feishu_drive::{FeishuResult, types};
use feishu_drive_server::{
    Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, FaultKind, FaultRule, Faults, RateLimitStyle, RunningServer,
    Server,
};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;
/// Feishu's documented rate per operation.
const RPS: u32 = 5;

/// One local file of the tree.
struct File {
    path: PathBuf,
    /// Its folder under the target (`a/b`), empty for the target itself.
    folder: Vec<String>,
    sha256: String,
}

/// The sizes: a few empty files, many small ones, some up to upload_all's 20 MiB, a few
/// chunked ones up to 60 MiB. Log-uniform inside each band.
fn size(rng: &mut rand::rngs::StdRng, index: usize, files: usize) -> u64 {
    let band = index * 100 / files;
    let log_uniform = |rng: &mut rand::rngs::StdRng, low: u64, high: u64| -> u64 {
        let (low, high) = ((low as f64).ln(), (high as f64).ln());
        rng.random_range(low..high).exp() as u64
    };
    match band {
        0..=1 => 0,
        2..=81 => log_uniform(rng, 1, MIB),
        82..=95 => log_uniform(rng, MIB, 20 * MIB),
        _ => log_uniform(rng, 20 * MIB + 1, 60 * MIB),
    }
}

/// Writes the tree: `files` files spread over nested folders with non-ASCII names.
fn write_tree(root: &Path, files: usize) -> Vec<File> {
    let folders: [&[&str]; 7] = [
        &[],
        &["报告"],
        &["报告", "2026 年"],
        &["报告", "2026 年", "十二月"],
        &["images"],
        &["images", "缩略图"],
        &["données", "é"],
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(300);
    (0..files)
        .map(|i| {
            let folder: Vec<String> = folders[i % folders.len()]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            let dir = folder.iter().fold(root.to_owned(), |d, part| d.join(part));
            std::fs::create_dir_all(&dir).expect("folders");
            let path = dir.join(format!("文件 {i:03}.bin"));
            let len = size(&mut rng, i, files);
            let mut bytes = vec![0_u8; len as usize];
            rng.fill(&mut bytes[..]);
            std::fs::write(&path, &bytes).expect("a file");
            let sha256 = hex(&Sha256::digest(&bytes));
            File { path, folder, sha256 }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The server: 4 MiB blocks, 5 requests per second per operation, and faults: 2 % of parts and
/// one-shot uploads answered by an HTML 502 from a "proxy", 1 % of one-shot uploads handled and
/// their answer lost.
async fn server(data: &Path) -> RunningServer {
    let faults = Faults::default()
        .rate_limit(RPS, RateLimitStyle::Gateway)
        .rule(
            FaultRule::new(
                FaultKind::Html(502),
                [OperationId::FileUploadPart, OperationId::FileUploadAll],
            )
            .rate(0.02),
        )
        .rule(FaultRule::new(FaultKind::LoseResponse, [OperationId::FileUploadAll]).rate(0.01));
    Server::start(Config::default().data_dir(data).faults(faults))
        .await
        .expect("the server starts")
}

fn client(server: &RunningServer) -> Client {
    Client::builder(server.base_url())
        .app_credentials(DEFAULT_APP_ID, DEFAULT_APP_SECRET)
        .build()
        .expect("a client")
}

/// The batch: one call.
async fn by_batch(client: &Client, root: &str, tree: &Path) -> (BTreeMap<PathBuf, String>, u64) {
    let request = BatchRequest::to_folder(root).tree(tree).expect("the tree walks");
    let plan = client.plan_batch(&request);
    let outcome = client.upload_batch(request).await.expect("the batch runs");
    assert!(outcome.is_complete(), "failed: {}", outcome.failed());
    let busiest = plan.operations.iter().map(|o| o.requests).max().unwrap_or(0);
    let mut duplicates = 0;
    let tokens = outcome
        .files
        .iter()
        .map(|f| {
            if let FileResult::Uploaded(o) = &f.result {
                duplicates += u64::from(o.possible_duplicates);
            }
            (
                f.path.clone(),
                f.result.file_token().expect("in Drive").to_owned(),
            )
        })
        .collect();
    eprintln!(
        "  plan: busiest operation {busiest} requests, {:.1} s at the budget's spacing",
        plan.seconds_at_rate
    );
    (tokens, duplicates)
}

/// One call per file: the folders first, then each file after the last.
async fn by_file(client: &Client, root: &str, files: &[File]) -> (BTreeMap<PathBuf, String>, u64) {
    let mut folders: BTreeMap<Vec<String>, String> = BTreeMap::new();
    folders.insert(Vec::new(), root.to_owned());
    let mut tokens = BTreeMap::new();
    let mut duplicates = 0;
    for file in files {
        for depth in 1..=file.folder.len() {
            let path = file.folder[..depth].to_vec();
            if folders.contains_key(&path) {
                continue;
            }
            let parent = folders[&path[..depth - 1]].clone();
            let body = types::CreateFolderRequest::builder()
                .folder_token(types::FolderToken::from(parent))
                .name(types::FolderName::try_from(path[depth - 1].clone()).expect("a name"));
            let made = client
                .retrying(false, || async {
                    client.create_folder().body(body.clone()).send().await.into_data()
                })
                .await
                .expect("create_folder");
            folders.insert(path, made.token);
        }
        let outcome = client
            .upload(UploadRequest::to_folder(&file.path, &folders[&file.folder]))
            .await
            .expect("the file uploads");
        duplicates += u64::from(outcome.possible_duplicates);
        tokens.insert(file.path.clone(), outcome.file_token);
    }
    (tokens, duplicates)
}

/// Reads every file back and compares it with the local one.
async fn verify(client: &Client, files: &[File], tokens: &BTreeMap<PathBuf, String>, dir: &Path) {
    for (i, file) in files.iter().enumerate() {
        let back = dir.join(format!("back-{i}"));
        client
            .download_media(DownloadRequest::to_file(&tokens[&file.path], &back).family(Family::Files))
            .await
            .expect("the file downloads");
        let bytes = std::fs::read(&back).expect("read back");
        assert_eq!(
            hex(&Sha256::digest(&bytes)),
            file.sha256,
            "{}",
            file.path.display()
        );
        std::fs::remove_file(&back).expect("clean up");
    }
}

async fn measure(mode: &str, files: &[File], tree: &Path, scratch: &Path, check: bool) {
    let data = tempfile::tempdir_in(scratch).expect("server data");
    let server = server(data.path()).await;
    let root = server.root_folder().to_owned();
    let client = client(&server);
    let started = Instant::now();
    let (tokens, duplicates) = match mode {
        "batch" => by_batch(&client, &root, tree).await,
        _ => by_file(&client, &root, files).await,
    };
    let elapsed = started.elapsed();
    let requests = server.requests();
    let stats = server.stats();
    let busiest = requests
        .iter()
        .filter(|(op, _)| op.rate_group().is_some())
        .max_by_key(|(_, n)| **n)
        .map(|(op, n)| (*op, *n))
        .unwrap_or((OperationId::FileUploadAll, 0));
    let ceiling = Duration::from_secs_f64(busiest.1 as f64 / f64::from(RPS));
    println!(
        "{mode:>13}: {} files in {:.1} s; busiest {} {} requests (ceiling {:.1} s at {RPS}/s): {:.1} % of the ceiling; \
         {} rate-limit refusals, {} token fetches, {} faults hit, {} possible duplicates",
        files.len(),
        elapsed.as_secs_f64(),
        busiest.0.as_str(),
        busiest.1,
        ceiling.as_secs_f64(),
        100.0 * ceiling.as_secs_f64() / elapsed.as_secs_f64(),
        stats.rate_limited,
        requests
            .get(&OperationId::TenantAccessTokenInternal)
            .copied()
            .unwrap_or(0),
        stats.foreign_failures + stats.lost_responses,
        duplicates,
    );
    let sent: Vec<String> = requests
        .iter()
        .map(|(op, n)| format!("{} {n}", op.as_str()))
        .collect();
    println!("{:>13}  requests: {}", "", sent.join(", "));
    if check {
        let verify_started = Instant::now();
        verify(&client, files, &tokens, scratch).await;
        println!(
            "{:>13}  every file read back byte-exact ({:.1} s)",
            "",
            verify_started.elapsed().as_secs_f64()
        );
    }
    server.shutdown().await.expect("the server stops");
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("BATCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let modes = std::env::var("BATCH_MODES").unwrap_or_else(|_| "batch,one-per-file".to_owned());
    let check = std::env::var("BATCH_VERIFY").map_or(true, |v| v != "0");
    let scratch = tempfile::tempdir().expect("scratch");
    let tree = scratch.path().join("tree");
    let files = write_tree(&tree, count);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
        .sum();
    println!(
        "tree: {} files, {:.1} MiB, {} folders",
        files.len(),
        bytes as f64 / MIB as f64,
        9
    );
    for mode in modes.split(',') {
        measure(mode, &files, &tree, scratch.path(), check).await;
    }
}
