//! The journal's promises: written durably (file and directory fsynced) before the finish is
//! sent, a kill -9 at its worst point costs at most `concurrency` + 7 blocks, a journal whose
//! upload id expired is discarded, and one that says the finish was sent makes the next run
//! report a possible duplicate.

use crate::kit::upload as upload_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_drive::upload::{
    JOURNAL_BATCH_BLOCKS, JOURNAL_BATCH_INTERVAL, ProgressEvent, RetryPolicy, UploadError, UploadRequest,
};
use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;
use upload_support::{BLOCK, assert_round_trip, random_file, server, uploader};

/// Every wait on a child process ends within this.
const CHILD_BOUND: Duration = Duration::from_secs(60);

#[test]
fn the_journal_batch_is_8_blocks_or_1_s() {
    // The README's "a kill -9 costs at most 7 confirmed blocks" rests on these values.
    assert_eq!(JOURNAL_BATCH_BLOCKS, 8);
    assert_eq!(JOURNAL_BATCH_INTERVAL, Duration::from_secs(1));
}

fn journal_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the journal exists")).expect("the journal is JSON")
}

/// An `upload-child` run, reading its stdout line by line; every wait is bounded.
struct Child {
    process: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Child {
    fn spawn(args: &[&str]) -> Self {
        let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_upload-child"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn upload-child");
        let stdout = process.stdout.take().expect("stdout");
        Self {
            process,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line, or `None` at the end of the output.
    async fn line(&mut self) -> Option<String> {
        tokio::time::timeout(CHILD_BOUND, self.lines.next_line())
            .await
            .expect("the child writes or ends within the bound")
            .expect("reading the child's stdout")
    }

    /// Reads to the end; returns the lines and whether the child exited successfully.
    async fn finish(mut self) -> (Vec<String>, bool) {
        let mut lines = Vec::new();
        while let Some(line) = self.line().await {
            lines.push(line);
        }
        let status = tokio::time::timeout(CHILD_BOUND, self.process.wait())
            .await
            .expect("the child exits within the bound")
            .expect("wait");
        (lines, status.success())
    }

    async fn kill(mut self) {
        self.process.start_kill().expect("SIGKILL");
        tokio::time::timeout(CHILD_BOUND, self.process.wait())
            .await
            .expect("a killed child is reaped within the bound")
            .expect("wait");
    }
}

/// Kill -9 at the worst point for the journal: `JOURNAL_BATCH_BLOCKS - 1` confirmations not yet
/// written (the next one would write them) while other workers' parts are in flight. The resumed
/// run re-sends at most `concurrency` + 7 blocks, the README's bound, written here rather than
/// derived from the constant it bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_just_before_a_batch_write_costs_at_most_concurrency_plus_7_blocks() {
    const CONCURRENCY: u64 = 3;
    const BOUND: u64 = CONCURRENCY + 7;
    const BLOCKS: u64 = 121;
    let server = server(Config::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "big.bin", (BLOCKS - 1) * BLOCK + 17, 21);
    let journal = dir.path().join("big.journal");
    let base_url = server.base_url();
    let (file_arg, journal_arg) = (file.to_str().expect("utf-8"), journal.to_str().expect("utf-8"));
    let concurrency = CONCURRENCY.to_string();
    let args = [base_url.as_str(), file_arg, journal_arg, concurrency.as_str()];

    let mut first = Child::spawn(&[&args[..], &["--hold-before-batch", "20"]].concat());
    let (confirmed, journaled) = loop {
        let line = first.line().await.expect("the first run holds before it ends");
        assert!(
            !line.starts_with("overdue"),
            "a batch was not written in time: {line}"
        );
        if let Some(rest) = line.strip_prefix("holding ") {
            let (c, j) = rest.split_once(' ').expect("holding <confirmed> <journaled>");
            break (
                c.parse::<u64>().expect("a count"),
                j.parse::<u64>().expect("a count"),
            );
        }
    };
    assert_eq!(
        confirmed - journaled,
        JOURNAL_BATCH_BLOCKS - 1,
        "held at the worst point"
    );
    assert_eq!(
        journal_json(&journal)["confirmed"]
            .as_object()
            .map(serde_json::Map::len),
        Some(journaled as usize)
    );
    first.kill().await;
    let stored_at_kill = server.stats().parts_stored;

    let (lines, ok) = Child::spawn(&args).finish().await;
    assert!(ok, "the resumed run succeeds: {lines:?}");
    let token = lines
        .last()
        .and_then(|l| l.strip_prefix("file_token: "))
        .expect("a file token");
    let resent = server.stats().parts_stored - BLOCKS;
    eprintln!(
        "kill -9 with {confirmed} confirmed, {journaled} journaled, {stored_at_kill} stored; the resumed run re-sent {resent} of {BLOCKS}"
    );
    assert!(
        resent >= confirmed - journaled,
        "the unjournaled confirmations were sent again"
    );
    assert!(resent <= BOUND, "{resent} blocks sent twice, more than {BOUND}");
    assert_round_trip(&uploader(&server, |b| b), token, &file).await;
}

/// On a slow link (each part answered at least 1.1 s after it was sent) every confirmation comes
/// more than `JOURNAL_BATCH_INTERVAL` after the journal's last write, so each is written at once:
/// at every confirmation the journal on disk already holds it. The delay is a lower bound, so a
/// loaded machine only makes the gaps longer.
#[tokio::test]
async fn on_a_slow_link_every_confirmation_is_journaled_at_once() {
    let slow = FaultRule::new(
        FaultKind::Delay(Duration::from_millis(1100)),
        [Operation::UploadPart],
    )
    .rate(1.0);
    let server = server(Config::default().faults(Faults::default().rule(slow))).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 3 * BLOCK, 44);
    let journal = dir.path().join("f.journal");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (record, path) = (seen.clone(), journal.clone());
    uploader
        .upload(
            UploadRequest::file(&file, "docx_file", "doxcn1")
                .journal(&journal)
                .progress(move |event| {
                    if let ProgressEvent::BlockConfirmed { confirmed_blocks, .. } = event {
                        let on_disk = journal_json(&path)["confirmed"]
                            .as_object()
                            .map_or(0, serde_json::Map::len) as u64;
                        record.lock().expect("seen").push((*confirmed_blocks, on_disk));
                    }
                }),
        )
        .await
        .expect("upload");
    assert_eq!(
        *seen.lock().expect("seen"),
        vec![(1, 1), (2, 2), (3, 3)],
        "(confirmed, journaled) at each confirmation"
    );
}

/// Cancels an upload of `file` after its first confirmed block, leaving its journal.
async fn leave_a_journal(uploader: &feishu_drive::Client, file: &Path, journal: &Path) -> String {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let request = UploadRequest::file(file, "docx_file", "doxcn1")
        .journal(journal)
        .cancel_on(cancel)
        .progress(move |event| {
            if let ProgressEvent::BlockConfirmed { .. } = event {
                trigger.cancel();
            }
        });
    assert!(matches!(
        uploader.upload(request).await,
        Err(UploadError::Cancelled)
    ));
    let json = journal_json(journal);
    json["upload_id"].as_str().expect("an upload id").to_owned()
}

/// Makes the journal's upload id older than a day.
fn age_journal(journal: &Path) {
    let mut json = journal_json(journal);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    json["prepared_at"] = serde_json::json!(now - 24 * 60 * 60 - 60);
    std::fs::write(journal, json.to_string()).expect("rewrite the journal");
}

/// Runs an upload with the journal; returns the outcome, the `Restarted` reasons and the upload
/// ids it started.
async fn run_with_journal(
    uploader: &feishu_drive::Client,
    file: &Path,
    journal: &Path,
) -> (feishu_drive::upload::UploadOutcome, Vec<String>, Vec<String>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let outcome = uploader
        .upload(
            UploadRequest::file(file, "docx_file", "doxcn1")
                .journal(journal)
                .progress(move |e| seen.lock().expect("events").push(e.clone())),
        )
        .await
        .expect("the upload completes");
    let events = events.lock().expect("events").clone();
    let restarted = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Restarted { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    let started = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Started {
                upload_id: Some(id), ..
            } => Some(id.clone()),
            _ => None,
        })
        .collect();
    (outcome, restarted, started)
}

#[tokio::test]
async fn a_journal_whose_upload_id_expired_is_discarded_even_if_the_file_also_changed() {
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 6 * BLOCK, 41);
    let journal = dir.path().join("f.journal");

    // The server still knows the id (its own expiry is a day of real time): only the journal's
    // age says it expired, so resuming it would "work" and the test would see it.
    let old_id = leave_a_journal(&uploader, &file, &journal).await;
    age_journal(&journal);
    let (outcome, restarted, started) = run_with_journal(&uploader, &file, &journal).await;
    assert_eq!(outcome.blocks_resumed, 0, "{outcome:?}");
    assert!(
        restarted.iter().any(|r| r.contains("expired")),
        "Restarted says why: {restarted:?}"
    );
    assert!(
        !started.contains(&old_id),
        "a fresh upload id: {started:?} vs {old_id}"
    );
    assert!(!outcome.possible_duplicate, "its finish was never sent");
    assert!(!journal.exists());
    assert_round_trip(&uploader, &outcome.file_token, &file).await;

    // Expired and changed: the expiry is checked first, and is the reason given.
    leave_a_journal(&uploader, &file, &journal).await;
    age_journal(&journal);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(SystemTime::now() + Duration::from_secs(120)))
        .expect("a new mtime");
    let (_, restarted, _) = run_with_journal(&uploader, &file, &journal).await;
    assert!(
        restarted.iter().any(|r| r.contains("expired"))
            && !restarted.iter().any(|r| r.contains("file changed")),
        "{restarted:?}"
    );
}

#[tokio::test]
async fn a_journal_that_says_the_finish_was_sent_reports_a_possible_duplicate_next_run() {
    // The first finish is handled, then its answer is lost; the first run does not retry.
    let faults =
        Faults::default().rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1));
    let server = server(Config::default().faults(faults)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 3 * BLOCK, 42);
    let journal = dir.path().join("f.journal");
    let once = uploader(&server, |b| {
        b.retry_policy(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        })
    });
    let result = once
        .upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal))
        .await;
    assert!(result.is_err(), "the lost answer ends the first run: {result:?}");
    assert_eq!(server.stats().files_finished, 1, "the server finished it");
    assert!(
        journal_json(&journal)["finish_sent_at"].is_u64(),
        "the journal says the finish was sent"
    );

    let next = uploader(&server, |b| b);
    let (outcome, _, _) = run_with_journal(&next, &file, &journal).await;
    assert!(outcome.possible_duplicate, "{outcome:?}");
    assert_eq!(outcome.possible_duplicates, 1);
    assert_eq!(
        server.stats().files_finished,
        2,
        "the second media the report is about"
    );
    assert_round_trip(&next, &outcome.file_token, &file).await;
}

// ---- The journal is durable before the finish is sent: watched with strace ----

/// One system call of an strace log (`-f -y`): its name and the text of its arguments.
struct Syscall {
    name: String,
    args: String,
}

fn syscalls(log: &str) -> Vec<Syscall> {
    log.lines()
        .filter_map(|line| {
            // `<pid> name(args) = result`, or `<pid> name(args <unfinished ...>`.
            let rest = line.split_once(' ').map_or(line, |(_, r)| r).trim_start();
            let (name, args) = rest.split_once('(')?;
            let name = name.trim();
            (!name.starts_with('<') && !name.is_empty()).then(|| Syscall {
                name: name.to_owned(),
                args: args.to_owned(),
            })
        })
        .collect()
}

/// The path strace `-y` shows for the call's first file descriptor: `5</a/b>` → `/a/b`.
fn fd_path(args: &str) -> Option<&str> {
    let start = args.find('<')? + 1;
    let end = start + args[start..].find('>')?;
    Some(&args[start..end])
}

/// Decodes the first string literal of strace's output: `"a\"b\n"` → `a"b` + newline.
fn first_string(args: &str) -> Vec<u8> {
    let Some(start) = args.find('"') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut chars = args[start + 1..].bytes();
    while let Some(c) = chars.next() {
        match c {
            b'"' => break,
            b'\\' => match chars.next() {
                Some(b'n') => out.push(b'\n'),
                Some(b't') => out.push(b'\t'),
                Some(b'r') => out.push(b'\r'),
                Some(b'x') => {
                    let hex: Vec<u8> = chars.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).expect("hex digits");
                    out.push(u8::from_str_radix(hex, 16).expect("a hex escape"));
                }
                Some(other) => out.push(other),
                None => break,
            },
            other => out.push(other),
        }
    }
    out
}

fn strace_child(trace: &Path, args: &[&str]) -> std::process::Output {
    let child = std::process::Command::new("strace")
        .args(["-f", "-qq", "-y", "-s", "65536", "-o"])
        .arg(trace)
        .args([
            "-e",
            "trace=write,writev,sendto,sendmsg,fsync,fdatasync,rename,renameat,renameat2",
        ])
        .arg(env!("CARGO_BIN_EXE_upload-child"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace runs (tools/install.sh installs it)");
    let (done, wait) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(CHILD_BOUND) {
        Ok(output) => output.expect("the traced child ran"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the traced upload took over {CHILD_BOUND:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_fsynced_file_and_directory_before_the_finish_is_sent() {
    let server = server(Config::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "f.bin", 3 * BLOCK, 43);
    let journal_dir = dir.path().join("journals");
    std::fs::create_dir(&journal_dir).expect("mkdir");
    let journal: PathBuf = journal_dir.join("f.journal");
    let trace = dir.path().join("trace.txt");
    let base_url = server.base_url();
    let args = [
        base_url.as_str(),
        file.to_str().expect("utf-8"),
        journal.to_str().expect("utf-8"),
        "2",
    ];
    let output = tokio::task::spawn_blocking({
        let trace = trace.clone();
        let args = args.map(str::to_owned);
        move || strace_child(&trace, &args.each_ref().map(String::as_str))
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = std::fs::read_to_string(&trace).expect("the trace");
    let calls = syscalls(&log);
    let (journal_text, dir_text) = (
        journal.to_str().expect("utf-8"),
        journal_dir.to_str().expect("utf-8"),
    );

    let finish = calls
        .iter()
        .position(|c| {
            matches!(c.name.as_str(), "write" | "writev" | "sendto" | "sendmsg")
                && c.args.contains("POST /open-apis/drive/v1/medias/upload_finish")
        })
        .expect("the finish request is in the trace");
    let rename = calls[..finish]
        .iter()
        .rposition(|c| c.name.starts_with("rename") && c.args.contains(&format!("\"{journal_text}\"")))
        .expect("the journal was renamed into place before the finish");
    let temp = calls[rename]
        .args
        .split('"')
        .nth(1)
        .expect("the renamed file")
        .to_owned();
    assert!(temp.starts_with(dir_text) && temp != journal_text, "{temp}");
    let written: Vec<u8> = calls[..rename]
        .iter()
        .filter(|c| c.name == "write" && fd_path(&c.args) == Some(temp.as_str()))
        .flat_map(|c| first_string(&c.args))
        .collect();
    let record: serde_json::Value =
        serde_json::from_slice(&written).expect("the journal written to the temp file");
    assert!(
        record["finish_sent_at"].is_u64(),
        "the journal renamed into place before the finish says it was sent: {record}"
    );
    let last_write = calls[..rename]
        .iter()
        .rposition(|c| c.name == "write" && fd_path(&c.args) == Some(temp.as_str()))
        .expect("writes of the temp file");
    assert!(
        calls[last_write..rename]
            .iter()
            .any(|c| matches!(c.name.as_str(), "fsync" | "fdatasync")
                && fd_path(&c.args) == Some(temp.as_str())),
        "the temp file is fsynced after its last write and before the rename"
    );
    assert!(
        calls[rename..finish]
            .iter()
            .any(|c| c.name == "fsync" && fd_path(&c.args) == Some(dir_text)),
        "the directory is fsynced after the rename and before the finish is sent"
    );
}

/// The journal's identity samples the file's first and last MiB: a byte changed anywhere in
/// them, with size and mtime kept (`cp -p`, `touch -r`), discards the journal for a fresh upload,
/// even where no confirmed block covers it.
#[tokio::test]
async fn a_change_in_the_first_or_last_mib_with_size_and_mtime_kept_discards_the_journal() {
    const MIB: u64 = 1024 * 1024;
    let server = server(Config::default()).await;
    let uploader = uploader(&server, |b| b.concurrency(1));
    let dir = tempfile::tempdir().expect("temp dir");
    // 40 blocks (2.5 MiB): both offsets below are well inside the sampled MiB and far from its
    // first and last KiB, and only block 0 is confirmed when the first run stops.
    let size = 40 * BLOCK;
    let file = random_file(dir.path(), "f.bin", size, 43);
    let journal = dir.path().join("f.journal");
    for at in [MIB / 2, size - MIB / 2] {
        let old_id = leave_a_journal(&uploader, &file, &journal).await;
        let mtime = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .expect("mtime");
        let mut bytes = std::fs::read(&file).expect("read");
        bytes[usize::try_from(at).expect("fits")] ^= 0xff;
        std::fs::write(&file, &bytes).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(mtime))
            .expect("restoring the mtime");
        let (outcome, restarted, started) = run_with_journal(&uploader, &file, &journal).await;
        assert!(
            restarted.iter().any(|r| r.contains("file changed")),
            "byte {at}: Restarted says why: {restarted:?}"
        );
        assert!(!started.contains(&old_id), "byte {at}: a fresh upload id");
        assert_eq!(outcome.blocks_resumed, 0, "byte {at}: {outcome:?}");
        assert_round_trip(&uploader, &outcome.file_token, &file).await;
    }
}
