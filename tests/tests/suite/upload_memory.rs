//! The uploader's memory: a real `upload-child` process uploads 64 MiB in 4 MiB blocks and
//! reports its peak resident set (`VmHWM`), which must stay within two blocks per worker (each
//! worker reads its next block while the current one is on the wire) over the same process's
//! peak for a one-block upload. An uploader that held the file, or a third block per worker,
//! would exceed it.

use crate::kit::upload as upload_support;

use std::process::Stdio;
use std::time::Duration;

use feishu_drive_server::{Config, Server};
use upload_support::random_file;

const MIB: u64 = 1024 * 1024;
/// The documented block size, which the server hands out by default.
const BLOCK_SIZE: u64 = 4 * MIB;
const CONCURRENCY: u64 = 4;
/// Allocator slack, socket buffers and the like, over the blocks themselves.
const SLACK: u64 = 8 * MIB;

/// Runs `upload-child` on `file` and returns its `VmHWM` in bytes.
async fn peak_rss(
    base_url: &str,
    file: &std::path::Path,
    journal: &std::path::Path,
    concurrency: u64,
) -> u64 {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_upload-child"))
        .args([
            base_url,
            file.to_str().expect("utf-8"),
            journal.to_str().expect("utf-8"),
        ])
        .arg(concurrency.to_string())
        .arg("--report-rss")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), child)
        .await
        .expect("the upload ends within the bound")
        .expect("upload-child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kib: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("vmhwm_kib "))
        .and_then(|v| v.parse().ok())
        .filter(|&kib| kib > 0)
        .expect("the child reports its VmHWM");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_within_two_blocks_per_worker() {
    let server = Server::start(Config::default().block_size(BLOCK_SIZE))
        .await
        .expect("the local server starts");
    let base_url = server.base_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let small = random_file(dir.path(), "small.bin", 1024, 1);
    let large = random_file(dir.path(), "large.bin", 64 * MIB, 2);

    let baseline = peak_rss(&base_url, &small, &dir.path().join("small.journal"), CONCURRENCY).await;
    let one_worker = peak_rss(&base_url, &large, &dir.path().join("one.journal"), 1).await;
    let peak = peak_rss(&base_url, &large, &dir.path().join("large.journal"), CONCURRENCY).await;
    let over = |rss: u64| rss.saturating_sub(baseline) as f64 / BLOCK_SIZE as f64;
    eprintln!(
        "VmHWM: one 1 KiB block {} KiB; 64 MiB in 4 MiB blocks: concurrency 1 {} KiB ({:.1} blocks over), concurrency {CONCURRENCY} {} KiB ({:.1} blocks over)",
        baseline / 1024,
        one_worker / 1024,
        over(one_worker),
        peak / 1024,
        over(peak),
    );
    let bound = baseline + 2 * CONCURRENCY * BLOCK_SIZE + SLACK;
    assert!(
        peak <= bound,
        "peak RSS {} KiB over the bound {} KiB (baseline + 2 × {CONCURRENCY} × 4 MiB + 8 MiB)",
        peak / 1024,
        bound / 1024
    );
    let bound_one = baseline + 2 * BLOCK_SIZE + SLACK;
    assert!(
        one_worker <= bound_one,
        "one worker: peak RSS {} KiB over {} KiB",
        one_worker / 1024,
        bound_one / 1024
    );
}
