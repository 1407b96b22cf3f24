//! A process that uploads one file with a journal, for the tests that kill -9 an upload: the
//! resume test and the soak.
//!
//! `upload-child BASE_URL FILE JOURNAL CONCURRENCY [OPTIONS]` prints `file_token: <token>` as its
//! last line on success. Options:
//!
//! - `--parent-node NODE` (default `doxcnKillTest`): a journal is only resumed for the same
//!   target, so a test that resumes in its own process must upload to the same node;
//! - `--upload-all-max BYTES` (default 0: every non-empty file chunked);
//! - `--fast-retries`: the soak's retry policy (12 retries, 5–100 ms) and a 5 s stall timeout,
//!   so a child meets faults as the soak's in-process uploader does;
//! - `--events`: a line on stdout per block confirmed (`confirmed <blocks so far>`), per
//!   possible duplicate reported (`possible_duplicate`) and when the upload finished
//!   (`finished <token>`), so the parent can kill at a chosen block and tell what a killed run
//!   reported and made. stdout is line-buffered, so each line is out before the next event;
//! - `--hold-before-batch MIN`: once at least MIN blocks are confirmed, at the first confirmation
//!   that leaves `JOURNAL_BATCH_BLOCKS - 1` of them unwritten in the journal (the next one
//!   writes the batch), print `holding <confirmed> <journaled>` and stop every worker (the
//!   workers share the task the callback runs in) for up to 60 s, then exit 3: the parent kills
//!   it there, at the worst point for the journal. A confirmation that finds
//!   `JOURNAL_BATCH_BLOCKS` or more unwritten prints `overdue <unwritten>`;
//! - `--report-rss`: at the end, print `vmhwm_kib <peak resident set>` from `/proc/self/status`.

use std::time::Duration;

use feishu_drive::Client;
use feishu_drive::auth::AppCredentials;
use feishu_drive::upload::{JOURNAL_BATCH_BLOCKS, ProgressEvent, RetryPolicy, UploadRequest};

struct Options {
    parent_node: String,
    upload_all_max: u64,
    fast_retries: bool,
    events: bool,
    hold_before_batch: Option<u64>,
    report_rss: bool,
}

fn options(rest: &[String]) -> Result<Options, String> {
    let mut options = Options {
        parent_node: "doxcnKillTest".to_owned(),
        upload_all_max: 0,
        fast_retries: false,
        events: false,
        hold_before_batch: None,
        report_rss: false,
    };
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--parent-node" => options.parent_node = rest.next().ok_or("--parent-node NODE")?.clone(),
            "--upload-all-max" => {
                options.upload_all_max = rest
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--upload-all-max BYTES")?;
            }
            "--fast-retries" => options.fast_retries = true,
            "--events" => options.events = true,
            "--hold-before-batch" => {
                let min = rest.next().and_then(|v| v.parse().ok());
                options.hold_before_batch = Some(min.ok_or("--hold-before-batch MIN")?);
            }
            "--report-rss" => options.report_rss = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    const USAGE: &str = "usage: upload-child BASE_URL FILE JOURNAL CONCURRENCY [--parent-node NODE] \
                         [--upload-all-max BYTES] [--fast-retries] [--events] \
                         [--hold-before-batch MIN] [--report-rss]";
    let args: Vec<String> = std::env::args().collect();
    let [_, base_url, file, journal, concurrency, rest @ ..] = args.as_slice() else {
        eprintln!("{USAGE}");
        return std::process::ExitCode::from(2);
    };
    let Ok(concurrency) = concurrency.parse() else {
        eprintln!("CONCURRENCY must be a positive integer");
        return std::process::ExitCode::from(2);
    };
    let options = match options(rest) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let credentials = AppCredentials::new(base_url, "cli_local", "local-secret");
    let mut builder = Client::builder(base_url.as_str())
        .token_source(credentials)
        .concurrency(concurrency)
        .requests_per_second(None)
        .upload_all_max(options.upload_all_max);
    if options.fast_retries {
        builder = builder
            .stall_timeout(Duration::from_secs(5))
            .retry_policy(RetryPolicy {
                max_retries: 12,
                min_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(100),
            });
    }
    let uploader = match builder.build() {
        Ok(uploader) => uploader,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut request = UploadRequest::file(file, "docx_file", &options.parent_node).journal(journal);
    if let Some(min) = options.hold_before_batch {
        let journal = std::path::PathBuf::from(journal);
        request = request.progress(move |event| {
            if let ProgressEvent::BlockConfirmed { confirmed_blocks, .. } = event {
                hold_before_batch(&journal, *confirmed_blocks, min);
            }
        });
    } else if options.events {
        request = request.progress(|event| match event {
            ProgressEvent::BlockConfirmed { confirmed_blocks, .. } => {
                println!("confirmed {confirmed_blocks}")
            }
            ProgressEvent::PossibleDuplicate { .. } => println!("possible_duplicate"),
            // The earliest the token is known outside the uploader (its journal is gone by now).
            ProgressEvent::Finished { file_token } => println!("finished {file_token}"),
            _ => {}
        });
    }
    let result = uploader.upload(request).await;
    if options.report_rss {
        println!("vmhwm_kib {}", peak_rss_kib().unwrap_or(0));
    }
    match result {
        Ok(outcome) => {
            println!(
                "blocks_sent: {} blocks_resumed: {} possible_duplicates: {}",
                outcome.blocks_sent, outcome.blocks_resumed, outcome.possible_duplicates
            );
            println!("file_token: {}", outcome.file_token);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Blocks the confirmed-block callback (and with it every worker of the upload, which share its
/// task) when the journal is one confirmation short of its next batch write.
fn hold_before_batch(journal: &std::path::Path, confirmed: u64, min: u64) {
    let journaled = std::fs::read(journal)
        .ok()
        .and_then(|text| serde_json::from_slice::<serde_json::Value>(&text).ok())
        .and_then(|json| Some(json.get("confirmed")?.as_object()?.len() as u64))
        .unwrap_or(0);
    let unwritten = confirmed.saturating_sub(journaled);
    if unwritten >= JOURNAL_BATCH_BLOCKS {
        println!("overdue {unwritten}");
    }
    if confirmed >= min && unwritten == JOURNAL_BATCH_BLOCKS - 1 {
        println!("holding {confirmed} {journaled}");
        // The parent kills this process now; if it does not, end without finishing.
        std::thread::sleep(Duration::from_secs(60));
        std::process::exit(3);
    }
}

/// The process's peak resident set size, in KiB (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
