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
//!   reported and made. stdout is line-buffered, so each line is out before the next event.

use std::time::Duration;

use feishu_drive::Client;
use feishu_drive::auth::AppCredentials;
use feishu_drive::upload::{ProgressEvent, RetryPolicy, UploadRequest};

struct Options {
    parent_node: String,
    upload_all_max: u64,
    fast_retries: bool,
    events: bool,
}

fn options(rest: &[String]) -> Result<Options, String> {
    let mut options = Options {
        parent_node: "doxcnKillTest".to_owned(),
        upload_all_max: 0,
        fast_retries: false,
        events: false,
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
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    const USAGE: &str = "usage: upload-child BASE_URL FILE JOURNAL CONCURRENCY [--parent-node NODE] \
                         [--upload-all-max BYTES] [--fast-retries] [--events]";
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
    if options.events {
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
    match uploader.upload(request).await {
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
