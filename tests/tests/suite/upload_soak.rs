//! A seeded soak: uploads through two fault models at once, interrupted by cancellation and by
//! `kill -9` of a real child process, with their files modified between runs.
//!
//! Faults come from a proxy in this test (per request: an HTML 503 or an empty 429 without
//! forwarding, or forwarded and handled and *the answer dropped*) and from the local server's own
//! fault model behind it (`FaultRule`s at a rate on every upload operation: lose-response,
//! html-502, text-503, empty-429, json-200, drop-request, delay). json-202 is left out: the
//! table's 202 codes are `download`'s (covers), and the verification reads must not meet faults.
//!
//! Each upload, drawn from a seeded RNG, is one of:
//! - run in `upload-child` processes (`tests/src/bin/upload_child.rs`, through the proxy, with a
//!   journal) that are SIGKILLed after a random number of confirmed blocks or a random delay, once
//!   or twice, the file then maybe changed (a middle block rewritten with the mtime restored, or
//!   bytes appended), and finished in this process or in one more child;
//! - cancelled in this process after a random number of blocks, maybe changed, then resumed;
//! - run once.
//!
//! Invariants, each upload in turn (one at a time, so the server's count of finished media
//! belongs to it): the bytes behind the returned token equal the file as of its last run; every
//! media finished beyond the one returned was reported as a possible duplicate by some run of
//! that upload (a killed child's reports count: it printed them before it died); a child exits
//! 0, 1 (a typed error) or by the kill, never by a panic; no run exceeds [`RUN_BOUND`]. A child
//! prints the token when `ProgressEvent::Finished` arrives, which is before its journal is
//! removed: there is no moment at which a kill leaves a media that neither the printed output
//! nor the journal knows about. Figures per fault kind are printed.
//!
//! CI runs `SOAK_UPLOADS` = 40 (about 10 s on the 2-core machine); `SOAK_UPLOADS=N SOAK_SEED=S`
//! runs more, `SOAK_CHILD_BIN=PATH` another `upload-child` build.
//!
//! Why this file is long: one seeded soak: its two fault models, the child-process orchestration and the modify-between-runs steps are one scenario.

use crate::kit::upload as upload_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feishu_drive::Client;
use feishu_drive::upload::{ProgressEvent, RetryPolicy, UploadError, UploadOutcome, UploadRequest};
use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation, RunningServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use upload_support::{BLOCK, download, random_file, server, sha256_file};

/// No run of an upload (in this process or a child) may take longer.
const RUN_BOUND: Duration = Duration::from_secs(60);
/// Requests a killed child left in flight through the proxy must end within this.
const SETTLE_BOUND: Duration = Duration::from_secs(15);
const PARENT_NODE: &str = "doxcn1";
/// Files up to this size go through `upload_all`, in this process and in the children.
const UPLOAD_ALL_MAX: u64 = 2 * BLOCK;
const CONCURRENCY: usize = 3;

#[derive(Default, Debug)]
struct Injected {
    forwarded: AtomicU64,
    html_503: AtomicU64,
    empty_429: AtomicU64,
    lost_answers: AtomicU64,
    /// Requests forwarded to the server whose answer (or closed connection) has not come back:
    /// after a kill, the child's requests may still be handled, and must be before the server's
    /// counts are read.
    in_flight: AtomicU64,
}

/// Decrements `in_flight` however the forwarding ends.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads one HTTP/1.1 message (headers + `content-length` body); `None` at end of stream.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut byte = [0_u8; 1];
    while !message.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        message.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&message).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    let start = message.len();
    message.resize(start + length, 0);
    stream.read_exact(&mut message[start..]).await?;
    Ok(Some(message))
}

async fn proxy(listener: TcpListener, upstream: String, seed: u64, injected: Arc<Injected>) {
    let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
    while let Ok((mut client, _)) = listener.accept().await {
        let (upstream, rng, injected) = (upstream.clone(), rng.clone(), injected.clone());
        tokio::spawn(async move {
            while let Ok(Some(request)) = read_message(&mut client).await {
                let token_request =
                    String::from_utf8_lossy(&request[..request.len().min(200)]).contains("/auth/");
                let roll: f64 = if token_request {
                    1.0
                } else {
                    rng.lock().expect("rng").random()
                };
                if roll < 0.04 {
                    injected.html_503.fetch_add(1, Ordering::Relaxed);
                    let body = "<html><body>503 Service Temporarily Unavailable</body></html>";
                    let answer = format!(
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if client.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    continue;
                }
                if roll < 0.07 {
                    injected.empty_429.fetch_add(1, Ordering::Relaxed);
                    if client
                        .write_all(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                let answer = {
                    injected.in_flight.fetch_add(1, Ordering::SeqCst);
                    let _guard = InFlight(&injected.in_flight);
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    if server.write_all(&request).await.is_err() {
                        return;
                    }
                    let Ok(Some(answer)) = read_message(&mut server).await else {
                        return;
                    };
                    answer
                };
                if roll < 0.12 {
                    // Handled by the server; the answer never arrives.
                    injected.lost_answers.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                injected.forwarded.fetch_add(1, Ordering::Relaxed);
                if client.write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The server's own fault model, on every upload operation (not the token endpoint, whose
/// retries are `AppCredentials`' business and tested elsewhere; not `download`, which verifies).
fn server_faults(seed: u64) -> Faults {
    let upload_ops = [
        Operation::UploadPrepare,
        Operation::UploadPart,
        Operation::UploadFinish,
        Operation::UploadAll,
    ];
    [
        (FaultKind::LoseResponse, 0.02),
        (FaultKind::Html(502), 0.01),
        (FaultKind::PlainText(503), 0.01),
        (FaultKind::Empty429, 0.01),
        (FaultKind::Envelope200, 0.015),
        (FaultKind::DropRequest, 0.01),
        (FaultKind::Delay(Duration::from_millis(30)), 0.03),
    ]
    .into_iter()
    .fold(Faults::default().seed(seed), |faults, (kind, rate)| {
        faults.rule(FaultRule::new(kind, upload_ops).rate(rate))
    })
}

/// When a child is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after it says this many blocks are confirmed (resumed ones included). The last
    /// block and a few milliseconds aim at the finish: the journal records it, then it is sent.
    Blocks(u64, Duration),
    /// This long after it starts.
    After(Duration),
}

/// What one child run did.
#[derive(Debug)]
struct ChildRun {
    /// The token it printed: the upload finished (even if the kill came afterwards).
    token: Option<String>,
    killed: bool,
    /// Possible duplicates it reported (its outcome's count, or its events' if it did not finish).
    duplicates: u64,
}

/// Figures for the summary.
#[derive(Default, Debug)]
struct Tally {
    completed: u64,
    completed_by_child: u64,
    failed_typed: u64,
    child_runs: u64,
    kills_at_block: u64,
    kills_after_last_block: u64,
    kills_after_delay: u64,
    kills_after_finish_sent: u64,
    kills_without_journal: u64,
    cancelled: u64,
    changed_middle: u64,
    appended: u64,
    duplicates_reported: u64,
    extra_media: u64,
    blocks_changed: u64,
    corruptions: u64,
    longest_run: Duration,
    silent_duplicates: Vec<String>,
}

struct Soak {
    server: RunningServer,
    injected: Arc<Injected>,
    proxy_url: String,
    through_proxy: Client,
    /// Straight to the server, for reading media back.
    reader: Client,
    child_bin: PathBuf,
    tally: Tally,
}

impl Soak {
    fn finished(&self) -> u64 {
        self.server.stats().files_finished
    }

    /// Waits until nothing is in flight through the proxy (a killed child's last requests have
    /// been handled or dropped by the server), so the server's counts are final.
    async fn settle(&self) {
        let deadline = Instant::now() + SETTLE_BOUND;
        while self.injected.in_flight.load(Ordering::SeqCst) > 0 {
            assert!(
                Instant::now() < deadline,
                "requests still in flight {SETTLE_BOUND:?} after a kill"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn time(&mut self, started: Instant) {
        let took = started.elapsed();
        assert!(took <= RUN_BOUND, "a run took {took:?}, over {RUN_BOUND:?}");
        self.tally.longest_run = self.tally.longest_run.max(took);
    }

    /// Runs `upload-child` on `file`, killing it as `kill_at` says; every wait is bounded.
    async fn child(&mut self, file: &Path, journal: &Path, kill_at: Option<KillAt>) -> ChildRun {
        self.tally.child_runs += 1;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&self.child_bin)
            .arg(&self.proxy_url)
            .arg(file)
            .arg(journal)
            .arg(CONCURRENCY.to_string())
            .args(["--parent-node", PARENT_NODE, "--upload-all-max"])
            .arg(UPLOAD_ALL_MAX.to_string())
            .args(["--fast-retries", "--events"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn upload-child");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let mut kill_deadline = match kill_at {
            Some(KillAt::After(delay)) => Some(started + delay),
            _ => None,
        };
        let mut out = Vec::new();
        let mut killed = false;
        loop {
            let deadline = kill_deadline.unwrap_or(started + RUN_BOUND);
            let line = tokio::select! {
                line = lines.next_line() => line.expect("reading the child's stdout"),
                () = tokio::time::sleep_until(deadline.into()), if !killed => {
                    assert!(kill_deadline.is_some(), "a child run took over {RUN_BOUND:?}");
                    child.start_kill().expect("SIGKILL");
                    killed = true;
                    continue;
                }
            };
            let Some(line) = line else { break };
            if let (Some(KillAt::Blocks(at, delay)), Some(confirmed)) =
                (kill_at, line.strip_prefix("confirmed "))
                && kill_deadline.is_none()
                && confirmed.parse::<u64>().expect("a count") >= at
            {
                kill_deadline = Some(Instant::now() + delay);
            }
            out.push(line);
        }
        // stdout closed: the process is gone or going.
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("the child exits once its stdout closed")
            .expect("wait for the child");
        let stderr = tokio::time::timeout(Duration::from_secs(10), stderr)
            .await
            .expect("the child's stderr closes")
            .expect("stderr reader");
        self.time(started);
        assert!(!stderr.contains("panicked"), "the child panicked: {stderr}");
        use std::os::unix::process::ExitStatusExt;
        let killed = killed && status.signal() == Some(9);
        assert!(
            killed || matches!(status.code(), Some(0 | 1)),
            "the child ended by {status:?}, neither a result nor the kill: {stderr}"
        );
        let token = out
            .iter()
            .find_map(|l| {
                l.strip_prefix("finished ")
                    .or_else(|| l.strip_prefix("file_token: "))
            })
            .map(str::to_owned);
        let outcome_duplicates = out.iter().find_map(|l| {
            l.split("possible_duplicates: ")
                .nth(1)
                .map(|n| n.trim().parse::<u64>().expect("a count"))
        });
        let event_duplicates = out.iter().filter(|l| *l == "possible_duplicate").count() as u64;
        if status.code() == Some(1) {
            assert!(stderr.starts_with("error: "), "a typed error: {stderr}");
        }
        ChildRun {
            token,
            killed,
            duplicates: outcome_duplicates.unwrap_or(event_duplicates),
        }
    }

    /// One in-process run, cancelled once `cancel_after` blocks are confirmed if given; returns
    /// its result and the possible duplicates it reported.
    async fn in_process(
        &mut self,
        file: &Path,
        journal: &Path,
        cancel_after: Option<u64>,
    ) -> (Result<UploadOutcome, UploadError>, u64) {
        let events = Arc::new(AtomicU64::new(0));
        let seen = events.clone();
        let cancel = tokio_util::sync::CancellationToken::new();
        let trigger = cancel.clone();
        let request = request(file, journal)
            .cancel_on(cancel)
            .progress(move |e| match e {
                ProgressEvent::PossibleDuplicate { .. } => {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
                ProgressEvent::BlockConfirmed { confirmed_blocks, .. }
                    if cancel_after.is_some_and(|at| *confirmed_blocks >= at) =>
                {
                    trigger.cancel()
                }
                _ => {}
            });
        let started = Instant::now();
        let result = tokio::time::timeout(RUN_BOUND, self.through_proxy.upload(request))
            .await
            .unwrap_or_else(|_| panic!("an upload ran over {RUN_BOUND:?}"));
        self.time(started);
        let reported = match &result {
            Ok(outcome) => {
                assert_eq!(outcome.possible_duplicate, outcome.possible_duplicates > 0);
                u64::from(outcome.possible_duplicates)
            }
            Err(_) => events.load(Ordering::Relaxed),
        };
        (result, reported)
    }

    /// Changes the file between runs, as the RNG says: nothing, a middle byte with the
    /// modification time restored (only the per-block check can see it), or bytes appended.
    fn maybe_change(&mut self, file: &Path, rng: &mut StdRng) {
        match rng.random_range(0..3) {
            0 => {
                self.tally.changed_middle += 1;
                let mtime = std::fs::metadata(file).and_then(|m| m.modified()).expect("mtime");
                let mut bytes = std::fs::read(file).expect("read");
                let at = bytes.len() / 2;
                bytes[at] = bytes[at].wrapping_add(1);
                std::fs::write(file, &bytes).expect("write");
                std::fs::File::options()
                    .write(true)
                    .open(file)
                    .and_then(|f| f.set_modified(mtime))
                    .expect("mtime restored");
            }
            1 => {
                self.tally.appended += 1;
                let mut f = std::fs::File::options().append(true).open(file).expect("open");
                std::io::Write::write_all(&mut f, b"appended between runs").expect("append");
            }
            _ => {}
        }
    }

    /// Whether the media behind `token` is the file as it is now.
    async fn reads_back(&self, token: &str, file: &Path) -> bool {
        let (len, digest) = tokio::time::timeout(RUN_BOUND, download(&self.reader, token))
            .await
            .expect("a download within its bound");
        len == std::fs::metadata(file).expect("the file").len() && digest == sha256_file(file)
    }

    async fn one_upload(&mut self, i: u64, seed: u64, dir: &Path, rng: &mut StdRng) {
        // Up to 3 MiB: a middle block of a file over 2 MiB lies outside the first and last MiB the
        // journal's identity samples, so only the per-block check can catch its change.
        let blocks = rng.random_range(1..=48_u64);
        let size = blocks * BLOCK - rng.random_range(0..BLOCK);
        let file = random_file(dir, &format!("f{i}.bin"), size, seed + i);
        let journal = dir.join(format!("f{i}.journal"));
        let finished_before = self.finished();
        let mut reported = 0;
        let mut token = None;

        let mode = rng.random_range(0..100);
        if mode < 40 {
            token = self
                .killed_children(&file, &journal, blocks, rng, &mut reported)
                .await;
        } else if mode < 70 && blocks > 4 {
            self.tally.cancelled += 1;
            let stop_after = rng.random_range(1..blocks);
            let (result, run_reported) = self.in_process(&file, &journal, Some(stop_after)).await;
            reported += run_reported;
            match result {
                // It may finish before the cancellation lands: then that is the upload.
                Ok(outcome) => token = Some(outcome.file_token),
                Err(e) => assert!(
                    matches!(e, UploadError::Cancelled)
                        || e.is_retryable()
                        || matches!(e, UploadError::Api { .. }),
                    "{e:?}"
                ),
            }
            if token.is_none() {
                self.maybe_change(&file, rng);
            }
        }

        // The last run: in a child that is left alone, or here; a typed failure is run again, as
        // a caller would, up to twice.
        if token.is_none() && mode < 40 && rng.random_bool(0.3) {
            let run = self.child(&file, &journal, None).await;
            reported += run.duplicates;
            token = run.token;
        }
        let mut attempts = 0;
        while token.is_none() && attempts < 3 {
            attempts += 1;
            let (result, run_reported) = self.in_process(&file, &journal, None).await;
            reported += run_reported;
            match result {
                Ok(outcome) => {
                    self.tally.blocks_changed += outcome.blocks_changed;
                    token = Some(outcome.file_token);
                }
                // Retries can run out under this many faults; the failure must be typed, and
                // retryable (nothing permanent was injected).
                Err(e) => assert!(e.is_retryable() || matches!(e, UploadError::Api { .. }), "{e:?}"),
            }
        }
        self.settle().await;
        let finished = self.finished() - finished_before;
        self.tally.duplicates_reported += reported;
        let Some(token) = token else {
            self.tally.failed_typed += 1;
            return;
        };
        self.tally.completed += 1;
        if !self.reads_back(&token, &file).await {
            self.tally.corruptions += 1;
        }
        let extra = finished.saturating_sub(1);
        self.tally.extra_media += extra;
        if extra > reported {
            self.tally.silent_duplicates.push(format!(
                "upload {i} ({size} bytes): {finished} media finished, {reported} possible duplicates reported"
            ));
        }
    }

    /// One or two child runs, each SIGKILLed; the file maybe changed after each. Returns the token
    /// if a child finished before its kill landed.
    async fn killed_children(
        &mut self,
        file: &Path,
        journal: &Path,
        blocks: u64,
        rng: &mut StdRng,
        reported: &mut u64,
    ) -> Option<String> {
        let runs = if rng.random_bool(0.25) { 2 } else { 1 };
        for _ in 0..runs {
            // A block count applies to the chunked flow (upload_all confirms once, at the end); a
            // delay lands anywhere: before the journal exists, mid-way, around the finish.
            let kill_at = match rng.random_range(0..3) {
                0 if blocks > UPLOAD_ALL_MAX / BLOCK => {
                    KillAt::Blocks(rng.random_range(1..=blocks), Duration::ZERO)
                }
                1 if blocks > UPLOAD_ALL_MAX / BLOCK => {
                    KillAt::Blocks(blocks, Duration::from_millis(rng.random_range(0..40)))
                }
                _ => KillAt::After(Duration::from_millis(rng.random_range(0..300))),
            };
            let run = self.child(file, journal, Some(kill_at)).await;
            self.settle().await;
            *reported += run.duplicates;
            if let Some(token) = run.token {
                // Finished before the kill landed (or it never came): that is the upload.
                self.tally.completed_by_child += 1;
                return Some(token);
            }
            if run.killed {
                match kill_at {
                    KillAt::Blocks(at, _) if at == blocks => self.tally.kills_after_last_block += 1,
                    KillAt::Blocks(..) => self.tally.kills_at_block += 1,
                    KillAt::After(_) => self.tally.kills_after_delay += 1,
                }
                match journal_finish_sent(journal) {
                    Some(true) => self.tally.kills_after_finish_sent += 1,
                    Some(false) => {}
                    // Killed before the journal was written (token, prepare, or between a
                    // restart's removal and the new journal). A finished upload's journal goes
                    // only after its token was printed (`ProgressEvent::Finished` comes first),
                    // so a media made here unreported is counted as a silent duplicate below.
                    None => self.tally.kills_without_journal += 1,
                }
            }
            self.maybe_change(file, rng);
        }
        None
    }
}

fn request(file: &Path, journal: &Path) -> UploadRequest {
    UploadRequest::file(file, "docx_file", PARENT_NODE).journal(journal)
}

/// Whether the journal at `path` says its finish was sent; `None` if there is no journal.
fn journal_finish_sent(path: &Path) -> Option<bool> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("a journal is never torn");
    Some(!json["finish_sent_at"].is_null())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_soak_of_faults_kills_interruptions_and_changed_files() {
    let uploads: u64 = std::env::var("SOAK_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let started = Instant::now();
    let server = server(Config::default().faults(server_faults(seed))).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let proxy_url = format!("http://{}", listener.local_addr().expect("an address"));
    let upstream = server
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let injected = Arc::new(Injected::default());
    tokio::spawn(proxy(listener, upstream, seed, injected.clone()));

    let through_proxy = upload_support::uploader_at(&proxy_url, &server.base_url(), |b| {
        b.upload_all_max(UPLOAD_ALL_MAX)
            .concurrency(CONCURRENCY)
            .stall_timeout(Duration::from_secs(5))
            .retry_policy(RetryPolicy {
                max_retries: 12,
                min_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(100),
            })
    });
    let reader = upload_support::uploader(&server, |b| b);
    let mut soak = Soak {
        server,
        injected,
        proxy_url,
        through_proxy,
        reader,
        // Checkouts sharing one target directory overwrite each other's
        // `target/debug/upload-child`; SOAK_CHILD_BIN runs a copy of the right one.
        child_bin: std::env::var_os("SOAK_CHILD_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_upload-child")),
            PathBuf::from,
        ),
        tally: Tally::default(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = dir.path().to_owned();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    for i in 0..uploads {
        soak.one_upload(i, seed, &dir, &mut rng).await;
    }

    let t = &soak.tally;
    let server_faults: Vec<String> = soak
        .server
        .fault_hits()
        .iter()
        .map(|(rule, hits)| format!("{} {hits}", rule.kind))
        .collect();
    let stats = soak.server.stats();
    let injected = &soak.injected;
    let kills = t.kills_at_block + t.kills_after_last_block + t.kills_after_delay;
    println!(
        "soak (seed {seed}, {:.1?}): {uploads} uploads, {} completed ({} by a child that finished before its kill was due \
         or landed), {} failed typed\n\
         \x20 children: {} runs, {kills} killed ({} at a random block, {} within 40 ms of the last block, {} after a random \
         delay; {} after the finish was sent, {} before a journal was written), 0 panics\n\
         \x20 in-process: {} cancelled mid-way; files changed between runs: {} middle block with the mtime restored, {} appended\n\
         \x20 proxy faults: html-503 {}, empty-429 {}, lost answers {} ({} forwarded)\n\
         \x20 server faults: {} (stats: {} lost responses, {} foreign failures, {} envelopes, {} delayed, {} dropped)\n\
         \x20 media: {} finished for {} completed; {} possible duplicates reported, {} extra media; \
         {} changed blocks re-sent (in-process runs); silent duplicates: {}; corruptions: {}; longest run {:.1?} (bound {RUN_BOUND:?})",
        started.elapsed(),
        t.completed,
        t.completed_by_child,
        t.failed_typed,
        t.child_runs,
        t.kills_at_block,
        t.kills_after_last_block,
        t.kills_after_delay,
        t.kills_after_finish_sent,
        t.kills_without_journal,
        t.cancelled,
        t.changed_middle,
        t.appended,
        injected.html_503.load(Ordering::Relaxed),
        injected.empty_429.load(Ordering::Relaxed),
        injected.lost_answers.load(Ordering::Relaxed),
        injected.forwarded.load(Ordering::Relaxed),
        server_faults.join(", "),
        stats.lost_responses,
        stats.foreign_failures,
        stats.injected_envelopes,
        stats.delayed_requests,
        stats.dropped_connections,
        stats.files_finished,
        t.completed,
        t.duplicates_reported,
        t.extra_media,
        t.blocks_changed,
        t.silent_duplicates.len(),
        t.corruptions,
        t.longest_run,
    );
    assert_eq!(t.corruptions, 0, "media that are not the file as of its last run");
    assert!(
        t.silent_duplicates.is_empty(),
        "media finished twice without a report: {:#?}",
        t.silent_duplicates
    );
    assert!(
        kills > 0 && t.completed > 0,
        "the soak killed and completed uploads"
    );
}
