//! Real signals to a real process mid-upload, then the printed command resumes the batch: no
//! file twice, at most `concurrency` + 8 confirmed blocks sent again.

use std::process::Command;
use std::time::{Duration, Instant};

use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation};

use crate::support::{Home, LocalServer, RUN_BOUND, Running, bin, named, parse_events, pattern, run};

const KIB: usize = 1024;
const CONCURRENCY: u64 = 2;
/// What the journal's batching may lose to SIGKILL (`JOURNAL_BATCH_BLOCKS`); SIGINT and SIGTERM
/// lose none (the journal is written as the upload is dropped), and the bound allows it anyway.
const JOURNAL_SLACK: u64 = 8;

fn batch_args(url: &str) -> Vec<String> {
    [
        "--json",
        "--base-url",
        url,
        "--rps",
        "0",
        "upload",
        "batch",
        "--parent-type",
        "docx_file",
        "--parent-node",
        "doxcnSignals",
        "--chunked-over",
        "16384",
        "--concurrency",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([CONCURRENCY.to_string()])
    .collect()
}

fn interrupted_mid_upload_then_resumed(signal: &str) {
    // 16 KiB blocks, each part held 80 ms: 128 blocks take seconds, not milliseconds.
    let delay = FaultRule::new(
        FaultKind::Delay(Duration::from_millis(80)),
        [Operation::UploadPart],
    )
    .rate(1.0);
    let server = LocalServer::start(
        Config::default()
            .block_size(16 * KIB as u64)
            .faults(Faults::default().rule(delay)),
    );
    let home = Home::new();
    home.file("batch/a-small.txt", 1000, 7);
    home.file("batch/b-big.bin", 2048 * KIB, 8);
    let (confirmed, small_token, resume) = interrupted_run(&server, &home, signal);

    // The printed command, through a shell, exactly as printed.
    let shell = home.command();
    let mut resumed = Command::new("sh");
    resumed.arg("-c").arg(&resume).current_dir(home.path());
    for (key, value) in shell.get_envs() {
        match value {
            Some(value) => resumed.env(key, value),
            None => resumed.env_remove(key),
        };
    }
    let resumed = run(resumed);
    assert_eq!(resumed.code(), Some(0), "{}", resumed.stderr);
    let events = parse_events(&resumed.stdout);
    let skipped = named(&events, "skipped");
    assert_eq!(skipped.len(), 1, "the finished file is not uploaded again");
    assert_eq!(skipped[0]["file_token"], small_token);
    let started = named(&events, "started");
    assert_eq!(started.len(), 1);
    assert!(
        started[0]["resumed_blocks"].as_u64() >= Some(confirmed),
        "every block confirmed before the signal is kept: {} < {confirmed}",
        started[0]
    );

    let stats = server.stats();
    assert_eq!(stats.files_finished, 2, "each file made one media, no duplicate");
    let resent = stats.parts_stored - 128;
    eprintln!("SIG{signal}: {resent} blocks stored twice");
    assert!(
        resent <= CONCURRENCY + JOURNAL_SLACK,
        "{resent} blocks stored twice; at most {} allowed",
        CONCURRENCY + JOURNAL_SLACK
    );

    let big_token = named(&events, "finished")[0]["file_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let copy = home.path().join("copy.bin");
    let mut download = home.command();
    download
        .args([
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "download",
            &big_token,
            "-o",
        ])
        .arg(&copy);
    let downloaded = run(download);
    assert_eq!(downloaded.code(), Some(0), "{}", downloaded.stderr);
    assert_eq!(std::fs::read(&copy).expect("downloaded"), pattern(2048 * KIB, 8));
}

/// The first run, stopped by `signal` once 12 blocks of the big file are confirmed: returns the
/// blocks it saw confirmed, the small file's token and the printed resume command.
fn interrupted_run(server: &LocalServer, home: &Home, signal: &str) -> (u64, serde_json::Value, String) {
    let args = batch_args(&server.url());
    let first = Running::spawn(home.command().args(&args), true);
    first.wait_for_event(Duration::from_secs(60), |e| {
        e["event"] == "block" && e["file"] == "batch/b-big.bin" && e["confirmed_blocks"].as_u64() >= Some(12)
    });
    let signalled = Instant::now();
    first.signal(signal);
    let first = first.wait(Duration::from_secs(30));
    let stop = signalled.elapsed();
    assert_eq!(first.code(), Some(130), "{}", first.stderr);
    let events = first.events();
    let confirmed = named(&events, "block")
        .iter()
        .filter(|e| e["file"] == "batch/b-big.bin")
        .filter_map(|e| e["confirmed_blocks"].as_u64())
        .max()
        .expect("blocks were confirmed");
    assert!(confirmed < 128, "the upload ended before the signal");
    let small_token = named(&events, "finished")[0]["file_token"].clone();
    let interrupted = named(&events, "interrupted");
    assert_eq!(interrupted.len(), 1, "{}", first.stdout);
    assert_eq!(interrupted[0]["signal"], format!("SIG{signal}"));
    let resume = interrupted[0]["resume"]
        .as_str()
        .expect("a resume command")
        .to_owned();
    assert!(
        first.stderr.contains(&format!("resume with: {resume}")),
        "{}",
        first.stderr
    );
    assert!(resume.starts_with(&*bin().to_string_lossy()), "{resume}");
    let summary = events.last().expect("a summary");
    assert_eq!(
        (summary["event"].as_str(), summary["interrupted"].as_bool()),
        (Some("summary"), Some(true))
    );

    eprintln!("SIG{signal}: exited {stop:?} after the signal; {confirmed} of 128 blocks confirmed before it");
    (confirmed, small_token, resume)
}

#[test]
fn sigint_mid_upload_keeps_the_journal_and_the_printed_command_resumes() {
    interrupted_mid_upload_then_resumed("INT");
}

#[test]
fn sigterm_mid_upload_keeps_the_journal_and_the_printed_command_resumes() {
    interrupted_mid_upload_then_resumed("TERM");
}

/// A run stuck in a write to a stdout nobody reads: 2048 blocks of JSON events fill the pipe,
/// and a clean stop cannot finish.
fn stuck_upload(server: &LocalServer, home: &Home) -> Running {
    let file = home.file("chatty.bin", 8192 * KIB, 9);
    let mut command = home.command();
    command
        .args(["--json", "--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnStuck"])
        .args(["--chunked-over", "4096"]);
    let running = Running::spawn(&mut command, false);
    wait_until_blocked(&running, server);
    assert!(
        server.stats().files_finished == 0,
        "the upload ended; the pipe never filled"
    );
    running
}

#[test]
fn a_second_ctrl_c_exits_at_once_when_the_clean_stop_is_stuck() {
    let server = LocalServer::start(Config::default().block_size(4 * KIB as u64));
    let home = Home::new();
    let running = stuck_upload(&server, &home);
    running.signal("INT");
    running.wait_for_stderr(Duration::from_secs(30), "SIGINT: stopping");
    running.signal("INT");
    let finished = running.wait(Duration::from_secs(30));
    assert_eq!(finished.code(), Some(130), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("SIGINT again: exiting at once"),
        "{}",
        finished.stderr
    );
}

#[test]
fn a_stuck_clean_stop_ends_by_itself_after_its_bound() {
    let server = LocalServer::start(Config::default().block_size(4 * KIB as u64));
    let home = Home::new();
    let running = stuck_upload(&server, &home);
    running.signal("TERM");
    let finished = running.wait(Duration::from_secs(60));
    assert_eq!(finished.code(), Some(130), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("the clean stop took over 5 s: exiting"),
        "{}",
        finished.stderr
    );
}

/// Waits (bounded) until the run is blocked writing to its stdout pipe: Linux says so in the
/// thread's wait channel; where it does not, the server's part count standing still for 3 s.
fn wait_until_blocked(running: &Running, server: &LocalServer) {
    let deadline = Instant::now() + RUN_BOUND;
    let mut last = (server.stats().parts_stored, Instant::now());
    loop {
        assert!(Instant::now() < deadline, "the run never blocked on its stdout");
        if running.blocked_on_pipe() {
            return;
        }
        let parts = server.stats().parts_stored;
        if parts != last.0 {
            last = (parts, Instant::now());
        } else if parts > 0 && last.1.elapsed() > Duration::from_secs(3) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_interrupted_download_resumes_from_its_partial_file() {
    let data = tempfile::tempdir().expect("a data directory");
    let home = Home::new();
    let file = home.file("media.bin", 1024 * KIB, 14);
    let token = {
        let fast = LocalServer::start(Config::default().data_dir(data.path()));
        let mut upload = home.command();
        upload
            .args(["--base-url", &fast.url(), "--rps", "0", "upload"])
            .arg(&file)
            .args(["--parent-type", "docx_file", "--parent-node", "doxcnDl"]);
        let uploaded = run(upload);
        assert_eq!(uploaded.code(), Some(0), "{}", uploaded.stderr);
        uploaded.stdout.split('\t').next().expect("a token").to_owned()
    };
    let out = home.path().join("out");
    std::fs::create_dir(&out).expect("out");
    let download = |url: &str| {
        let mut command = home.command();
        command
            .args([
                "--json",
                "--base-url",
                url,
                "--rps",
                "0",
                "download",
                &token,
                "-o",
            ])
            .arg(&out);
        command
    };
    // The same files served over a 64 KiB/s link: 16 s for the media.
    let slow = LocalServer::start(
        Config::default()
            .data_dir(data.path())
            .faults(Faults::default().slow_link(64 * KIB as u64)),
    );
    let running = Running::spawn(&mut download(&slow.url()), true);
    let partial = wait_for_partial(&out, 128 * KIB as u64);
    running.signal("INT");
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.code(), Some(130), "{}", stopped.stderr);
    assert!(stopped.stderr.contains("resume with: "), "{}", stopped.stderr);
    drop(slow);

    let fast = LocalServer::start(Config::default().data_dir(data.path()));
    let resumed = run(download(&fast.url()));
    assert_eq!(resumed.code(), Some(0), "{}", resumed.stderr);
    let events = resumed.events();
    let started = named(&events, "started");
    assert!(
        started[0]["resumed_bytes"].as_u64() >= Some(partial),
        "the partial file of {partial} bytes was not resumed: {}",
        started[0]
    );
    assert_eq!(
        std::fs::read(out.join("media.bin")).expect("downloaded"),
        pattern(1024 * KIB, 14)
    );
}

/// Waits (bounded) until a partial download in `dir` holds at least `bytes`; returns its size.
fn wait_for_partial(dir: &std::path::Path, bytes: u64) -> u64 {
    let deadline = Instant::now() + RUN_BOUND;
    loop {
        assert!(
            Instant::now() < deadline,
            "no partial file of {bytes} bytes in {}",
            dir.display()
        );
        let size = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .max();
        if let Some(size) = size.filter(|s| *s >= bytes) {
            return size;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn after_sigkill_the_same_command_resends_at_most_concurrency_plus_8_blocks() {
    let delay = FaultRule::new(
        FaultKind::Delay(Duration::from_millis(80)),
        [Operation::UploadPart],
    )
    .rate(1.0);
    let server = LocalServer::start(
        Config::default()
            .block_size(16 * KIB as u64)
            .faults(Faults::default().rule(delay)),
    );
    let home = Home::new();
    home.file("batch/a-small.txt", 1000, 7);
    home.file("batch/b-big.bin", 2048 * KIB, 8);
    let args = batch_args(&server.url());
    let first = Running::spawn(home.command().args(&args), true);
    first.wait_for_event(Duration::from_secs(60), |e| {
        e["event"] == "block" && e["file"] == "batch/b-big.bin" && e["confirmed_blocks"].as_u64() >= Some(20)
    });
    // No chance to write anything: the journal has what its batching had written.
    first.signal("KILL");
    let killed = first.wait(Duration::from_secs(30));
    assert_eq!(killed.code(), None, "killed by a signal");
    let resumed = run({
        let mut command = home.command();
        command.args(&args);
        command
    });
    assert_eq!(resumed.code(), Some(0), "{}", resumed.stderr);
    let events = resumed.events();
    assert_eq!(
        named(&events, "skipped").len(),
        1,
        "the finished file is not uploaded again"
    );
    let stats = server.stats();
    assert_eq!(stats.files_finished, 2, "each file made one media, no duplicate");
    let resent = stats.parts_stored - 128;
    eprintln!("SIGKILL: {resent} blocks stored twice");
    assert!(
        resent <= CONCURRENCY + JOURNAL_SLACK,
        "{resent} blocks stored twice; at most {} allowed",
        CONCURRENCY + JOURNAL_SLACK
    );
}
