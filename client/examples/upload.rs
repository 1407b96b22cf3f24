//! Upload a file to Feishu / Lark drive, or download a media, with a progress bar.
//!
//! ```sh
//! # Try it with no account: a local Feishu-compatible server starts in-process, receives the
//! # upload, and the file is read back and verified.
//! cargo run --release -p feishu-drive --example upload -- some-file.bin
//!
//! # Against Feishu:
//! LARK_APP_ID=cli_… LARK_APP_SECRET=… cargo run --release -p feishu-drive --example upload -- \
//!     report.pdf --parent-type docx_file --parent-node doxcn…
//!
//! # Download a media into a directory (the name comes from the server) or to a file; a partial
//! # download left by an interrupted run is resumed.
//! LARK_APP_ID=cli_… LARK_APP_SECRET=… cargo run --release -p feishu-drive --example upload -- \
//!     downloads/ --download boxcn…
//! ```
//!
//! Several runs for one app (on one host or many) share one budget — 5 requests a second and
//! the daily quota per endpoint — with `--redis redis://host:6379` (or `FEISHU_REDIS_URL`; needs
//! `--features redis`); the progress bar says when a request is waiting for the budget.
//!
//! Credentials come from `LARK_APP_ID` / `LARK_APP_SECRET`, or `LARK_ACCESS_TOKEN`. The last line
//! on stdout is `file_token: <token>` (upload) or `path: <file>` (download). Warnings, and
//! `finished: file_token <token>` as soon as the media exists, go to stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use clap::Parser;
use feishu_drive::Client;
use feishu_drive::auth::AppCredentials;
use feishu_drive::budget::{Budget, BudgetConfig, BudgetEvent};
use feishu_drive::download::{DownloadEvent, DownloadRequest};
use feishu_drive::upload::{ProgressEvent, UploadRequest};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// The Feishu host used when credentials are given but no `--base-url`.
const FEISHU: &str = "https://open.feishu.cn";

#[derive(Debug, Parser)]
#[command(
    about = "Upload a file to Feishu / Lark drive (or to a local server when no credentials are set), or download a media with --download"
)]
struct Args {
    /// The file to upload; with --download, where to save the media (a directory: under the
    /// name the server gives).
    file: PathBuf,
    /// Download the media with this file token instead of uploading.
    #[arg(long, value_name = "FILE_TOKEN")]
    download: Option<String>,
    /// Where the media is attached: docx_image, docx_file, sheet_file, bitable_file, …
    #[arg(long, default_value = "docx_file")]
    parent_type: String,
    /// The token of the doc, sheet or base; leave it out for parent types that need none
    /// (ccm_import_open).
    #[arg(long)]
    parent_node: Option<String>,
    /// The API host, e.g. https://open.larksuite.com. Default: Feishu with credentials, else a
    /// local server started in-process.
    #[arg(long)]
    base_url: Option<String>,
    /// Blocks in flight at once.
    #[arg(long, default_value_t = feishu_drive::upload::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Keep a resume journal here; running again with it continues the upload.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Requests per second (0 for no client-side limit).
    #[arg(long, default_value_t = feishu_drive::limits::REQUESTS_PER_SECOND)]
    rps: u32,
    /// Share the budget (rate and daily quota per endpoint) with every run for the same app
    /// through this Redis server, e.g. redis://127.0.0.1:6379. Default: $FEISHU_REDIS_URL.
    /// Needs the `redis` feature.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
}

/// The progress bar on screen, for the budget's events.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn show_on_bar(bar: &ProgressBar) {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
}

/// Writes a line to stderr above the progress bar. `ProgressBar::println` would print nothing
/// when stderr is not a terminal (a pipe, a log file, CI), and these lines are warnings a user
/// must see there too.
fn say(bar: &ProgressBar, line: impl std::fmt::Display) {
    bar.suspend(|| eprintln!("{line}"));
}

/// Shows what the budget does on the progress bar.
fn show_budget_event(event: &BudgetEvent) {
    let Some(bar) = BAR.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
        return;
    };
    match event {
        BudgetEvent::Waiting { group, delay, .. } => {
            bar.set_message(format!("waiting for budget ({group}, {delay:.1?})"));
        }
        BudgetEvent::Throttled { group, .. } => {
            bar.set_message(format!("server refused {group} for rate; slowing down"))
        }
        BudgetEvent::RateRestored { .. } => bar.set_message(""),
        BudgetEvent::StoreUnavailable { error, .. } => {
            say(
                &bar,
                format_args!("warning: shared budget unavailable ({error}); using a local limiter"),
            );
        }
        BudgetEvent::StoreRestored => say(&bar, "shared budget available again"),
        _ => {}
    }
}

/// The budget of this run for `app_id`: shared through Redis with `--redis` / `FEISHU_REDIS_URL`,
/// else this process's own; `None` with `--rps 0`.
fn budget(args: &Args, app_id: &str) -> Result<Option<Budget>, BoxError> {
    let redis = args
        .redis
        .clone()
        .or_else(|| std::env::var("FEISHU_REDIS_URL").ok().filter(|v| !v.is_empty()));
    if args.rps == 0 {
        return match redis {
            Some(_) => Err("--redis shares a rate limit; it cannot be used with --rps 0".into()),
            None => Ok(None),
        };
    }
    let config = BudgetConfig::new(app_id)
        .requests_per_second(args.rps)
        .on_event(show_budget_event);
    match redis {
        None => Ok(Some(Budget::in_process(config))),
        #[cfg(feature = "redis")]
        Some(url) => Ok(Some(Budget::redis(&url, config)?)),
        #[cfg(not(feature = "redis"))]
        Some(_) => {
            Err("--redis needs the `redis` feature: cargo run --features redis --example upload".into())
        }
    }
}

/// How to authenticate, from the environment.
enum Credentials {
    App { id: String, secret: String },
    Token(String),
    None,
}

fn credentials() -> Credentials {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        var("LARK_APP_ID"),
        var("LARK_APP_SECRET"),
        var("LARK_ACCESS_TOKEN"),
    ) {
        (Some(id), Some(secret), _) => Credentials::App { id, secret },
        (_, _, Some(token)) => Credentials::Token(token),
        _ => Credentials::None,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(args: Args) -> Result<(), BoxError> {
    let creds = credentials();
    if matches!(creds, Credentials::None) && args.base_url.is_none() {
        return run_local(args).await;
    }
    let base_url = args.base_url.clone().unwrap_or_else(|| FEISHU.to_owned());
    // A fixed token does not say which app it belongs to: its runs share one budget key.
    let budget = budget(
        &args,
        match &creds {
            Credentials::App { id, .. } => id.as_str(),
            _ => "access-token",
        },
    )?;
    if let Some(file_token) = &args.download {
        let builder = Client::builder(&base_url);
        let builder = match creds {
            Credentials::App { id, secret } => {
                builder.token_source(AppCredentials::new(&base_url, id, secret))
            }
            Credentials::Token(token) => builder.access_token(token),
            Credentials::None => {
                return Err(
                    "set LARK_APP_ID and LARK_APP_SECRET, or LARK_ACCESS_TOKEN, to download from --base-url"
                        .into(),
                );
            }
        };
        let builder = builder.requests_per_second(None);
        let downloader = match budget {
            Some(budget) => builder.budget(budget),
            None => builder,
        }
        .build()?;
        let path = download(&downloader, file_token, &args.file).await?;
        println!("path: {}", path.display());
        return Ok(());
    }
    let builder = Client::builder(&base_url);
    let builder = match creds {
        Credentials::App { id, secret } => builder.token_source(AppCredentials::new(&base_url, id, secret)),
        Credentials::Token(token) => builder.access_token(token),
        Credentials::None => {
            return Err(
                "set LARK_APP_ID and LARK_APP_SECRET, or LARK_ACCESS_TOKEN, to upload to --base-url".into(),
            );
        }
    };
    let parent_node = args.parent_node.clone().unwrap_or_default();
    let uploader = configure(builder, &args, budget).build()?;
    let token = upload(&uploader, &args, &parent_node).await?;
    println!("file_token: {token}");
    Ok(())
}

/// No credentials and no base URL: upload to a local server, then read the file back.
async fn run_local(args: Args) -> Result<(), BoxError> {
    if args.download.is_some() {
        return Err(
            "--download needs credentials (LARK_APP_ID / LARK_APP_SECRET or LARK_ACCESS_TOKEN)".into(),
        );
    }
    let server = feishu_drive_server::Server::start(feishu_drive_server::Config::default()).await?;
    let base_url = server.base_url();
    eprintln!("no credentials set: uploading to a local Feishu-compatible server at {base_url}");
    let credentials = AppCredentials::new(
        &base_url,
        feishu_drive_server::DEFAULT_APP_ID,
        feishu_drive_server::DEFAULT_APP_SECRET,
    );
    let budget = budget(&args, feishu_drive_server::DEFAULT_APP_ID)?;
    let uploader = configure(
        Client::builder(&base_url).token_source(credentials),
        &args,
        budget.clone(),
    )
    .build()?;
    let parent_node = args
        .parent_node
        .clone()
        .unwrap_or_else(|| "doxcnLocalDemo".to_owned());
    let token = upload(&uploader, &args, &parent_node).await?;
    let downloader = Client::builder(&base_url)
        .token_source(AppCredentials::new(
            &base_url,
            feishu_drive_server::DEFAULT_APP_ID,
            feishu_drive_server::DEFAULT_APP_SECRET,
        ))
        .requests_per_second(None);
    let downloader = match budget {
        Some(budget) => downloader.budget(budget),
        None => downloader,
    }
    .build()?;
    let dir = tempfile::tempdir()?;
    let downloaded = download(&downloader, &token, dir.path()).await?;
    let (size, digest) = verify(&downloaded, &args.file)?;
    eprintln!("verified: downloaded {size} bytes, sha256 {digest} matches the file");
    server.shutdown().await?;
    println!("file_token: {token}");
    Ok(())
}

fn configure(
    builder: feishu_drive::ClientBuilder,
    args: &Args,
    budget: Option<Budget>,
) -> feishu_drive::ClientBuilder {
    let builder = builder.concurrency(args.concurrency).requests_per_second(None);
    match budget {
        Some(budget) => builder.budget(budget),
        None => builder,
    }
}

async fn upload(uploader: &Client, args: &Args, parent_node: &str) -> Result<String, BoxError> {
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    )?);
    show_on_bar(&bar);
    let events = bar.clone();
    let mut request =
        UploadRequest::file(&args.file, &args.parent_type, parent_node).progress(move |event| match event {
            ProgressEvent::Started {
                total_bytes,
                resumed_bytes,
                resumed_blocks,
                ..
            } => {
                events.set_length(*total_bytes);
                events.set_position(*resumed_bytes);
                if *resumed_blocks > 0 {
                    events.set_message(format!("resumed {resumed_blocks} blocks"));
                }
            }
            ProgressEvent::BlockConfirmed { confirmed_bytes, .. } => events.set_position(*confirmed_bytes),
            ProgressEvent::Retrying { operation, delay, .. } => {
                events.set_message(format!("retrying {operation} in {delay:.1?}"));
            }
            ProgressEvent::Restarted { reason } => events.set_message(reason.clone()),
            ProgressEvent::ResumeVerified {
                checked_blocks,
                changed,
            } => say(
                &events,
                format_args!(
                    "resume: re-read {checked_blocks} confirmed blocks; {} changed and will be sent again",
                    changed.len()
                ),
            ),
            ProgressEvent::PossibleDuplicate { reason } => {
                say(
                    &events,
                    format_args!("warning: possible duplicate media: {reason}"),
                );
            }
            ProgressEvent::Warning { message } => say(&events, format_args!("warning: {message}")),
            // Said the moment the media exists, before the journal is removed: a run killed
            // after this line has its token on stderr even though it never reached stdout.
            ProgressEvent::Finished { file_token } => {
                say(&events, format_args!("finished: file_token {file_token}"))
            }
            _ => {}
        });
    if let Some(journal) = &args.journal {
        request = request.journal(journal);
    }
    let started = Instant::now();
    let outcome = uploader.upload(request).await;
    bar.finish_and_clear();
    let outcome = outcome?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "uploaded {} bytes in {secs:.2} s ({:.1} MiB/s): {} blocks sent, {} resumed, {} retries, {} restarts",
        outcome.size,
        outcome.size as f64 / (1024.0 * 1024.0) / secs.max(1e-9),
        outcome.blocks_sent,
        outcome.blocks_resumed,
        outcome.retries,
        outcome.restarts,
    );
    if outcome.possible_duplicate {
        eprintln!(
            "warning: possible duplicate: an earlier finish may have created a second media; {} is this run's",
            outcome.file_token
        );
    }
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(outcome.file_token)
}

/// Downloads a media with a progress bar; returns where it is.
async fn download(downloader: &Client, file_token: &str, destination: &Path) -> Result<PathBuf, BoxError> {
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    )?);
    show_on_bar(&bar);
    let events = bar.clone();
    let request = if destination.is_dir() {
        DownloadRequest::into_dir(file_token, destination)
    } else {
        DownloadRequest::to_file(file_token, destination)
    };
    let request = request.progress(move |event| match event {
        DownloadEvent::Started {
            total_bytes,
            resumed_bytes,
        } => {
            events.set_length(total_bytes.unwrap_or(0));
            events.set_position(*resumed_bytes);
            if *resumed_bytes > 0 {
                events.set_message(format!("resumed after {resumed_bytes} bytes"));
            }
        }
        DownloadEvent::Received { written_bytes, .. } => events.set_position(*written_bytes),
        DownloadEvent::Retrying { delay, .. } => events.set_message(format!("retrying in {delay:.1?}")),
        DownloadEvent::Restarted { reason } => events.set_message(reason.clone()),
        _ => {}
    });
    let started = Instant::now();
    let outcome = downloader.download_media(request).await;
    bar.finish_and_clear();
    let outcome = outcome?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "downloaded {} bytes ({}) in {secs:.2} s ({:.1} MiB/s): name {:?}, {} resumed, {} requests, {} retries",
        outcome.size,
        outcome.media_type.as_deref().unwrap_or("no media type"),
        outcome.size as f64 / (1024.0 * 1024.0) / secs.max(1e-9),
        outcome.file_name.as_deref().unwrap_or("(none)"),
        outcome.resumed_bytes,
        outcome.requests,
        outcome.retries,
    );
    Ok(outcome.path)
}

/// Compares the SHA-256 of the downloaded file with the original's.
fn verify(downloaded: &Path, original: &Path) -> Result<(u64, String), BoxError> {
    let digest = |path: &Path| -> Result<(u64, String), BoxError> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)?;
        Ok((size, hex(&hasher.finalize())))
    };
    let (size, got) = digest(downloaded)?;
    let (_, want) = digest(original)?;
    if got != want {
        return Err(format!("the downloaded bytes differ from the file: sha256 {got} vs {want}").into());
    }
    Ok((size, want))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
