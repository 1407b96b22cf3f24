//! `feishu-drive upload`: files and directory trees through the library's batch scheduler
//! (`Client::upload_batch`): one client (one token cache, one budget), files in flight at once,
//! sub-folders made in Drive, resumable through the batch journal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use feishu_drive::batch::{
    self, BatchEvent, BatchOutcome, BatchRequest, FileReport, FileResult, OnFailure, Stopped,
};
use feishu_drive::upload::ProgressEvent;

use crate::args::{Cli, IfExists, UploadArgs};
use crate::config::{self, Settings};
use crate::connect::{self, Connection, Transfer};
use crate::exit::{CliError, Exit};
use crate::output::{Event, Reporter, Summary};
use crate::signals::Interrupt;
use crate::state::default_journal_dir;
use crate::walk;

/// Runs `upload`.
pub async fn run(
    cli: &Cli,
    args: &UploadArgs,
    reporter: Arc<Reporter>,
    interrupt: &Interrupt,
) -> Result<Exit, CliError> {
    let settings = config::resolve(
        cli.base_url.as_deref(),
        cli.config.as_deref(),
        cli.redis.as_deref(),
        cli.rps,
    )?;
    if let Some(note) = &settings.note {
        reporter.say(note);
    }
    Ok(upload_with(settings, args, reporter, interrupt).await?.0)
}

/// Uploads with resolved settings; returns the exit code and the files in Drive after this run
/// (path, file token).
pub async fn upload_with(
    settings: Settings,
    args: &UploadArgs,
    reporter: Arc<Reporter>,
    interrupt: &Interrupt,
) -> Result<(Exit, Vec<(PathBuf, String)>), CliError> {
    let journal_dir = match (&args.journal, args.no_journal) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => default_journal_dir(),
    };
    let request = batch_request(args, journal_dir.as_deref())?;
    let transfer = Transfer {
        concurrency: usize::try_from(args.concurrency).unwrap_or(1),
        chunked_over: args.chunked_over,
    };
    let connection = Connection::open(settings, transfer, reporter.clone())?;
    // Blocks sent in this run, by every file: a file that failed or was interrupted sent some
    // too, and its report does not say how many.
    let blocks_sent = Arc::new(AtomicU64::new(0));
    let request = request
        .cancel_on(interrupt.token().child_token())
        .on_event(events(reporter.clone(), blocks_sent.clone()));
    let started = Instant::now();
    let outcome = connection
        .client()
        .upload_batch(request)
        .await
        .map_err(CliError::Batch)?;
    let uploaded = outcome
        .files
        .iter()
        .filter_map(|f| Some((f.path.clone(), f.result.file_token()?.to_owned())))
        .collect();
    let exit = finish(
        &outcome,
        blocks_sent.load(Ordering::Relaxed),
        started,
        journal_dir.as_deref(),
        interrupt.received(),
        &reporter,
    );
    Ok((exit, uploaded))
}

/// The batch the flags and paths describe: into a Drive folder (`--folder`, directories
/// mirrored as sub-folders) or attached to a doc, sheet or base (directories walked, files
/// only).
fn batch_request(args: &UploadArgs, journal_dir: Option<&Path>) -> Result<BatchRequest, CliError> {
    let mut request = match &args.folder {
        Some(folder) => BatchRequest::to_folder(folder.clone()),
        None => BatchRequest::to_parent(
            args.parent_type.clone().unwrap_or_default(),
            args.parent_node.clone().unwrap_or_default(),
        ),
    };
    request = walk::add_paths(request, &args.paths, args.folder.is_some())?;
    if request.is_empty() {
        return Err(CliError::Usage(
            "nothing to upload: the directories given hold no file (and, with --folder, no folder)"
                .to_owned(),
        ));
    }
    request = match args.if_exists {
        None => request,
        Some(_) if args.folder.is_none() => {
            return Err(CliError::Usage(
                "--if-exists decides from a Drive folder's listing: use it with --folder".to_owned(),
            ));
        }
        Some(IfExists::Skip) => request.if_exists(batch::IfExists::Skip),
        Some(IfExists::Version) => request.if_exists(batch::IfExists::Version),
        Some(IfExists::Overwrite) => {
            return Err(CliError::Usage(
                "--if-exists overwrite: Drive has no in-place overwrite (and deleting is not an operation \
                 this tool sends); use --if-exists version, which replaces the content and keeps the \
                 file's token, links and history"
                    .to_owned(),
            ));
        }
    };
    if let Some(dir) = journal_dir {
        request = request.journal_dir(dir);
    }
    if args.refuse_duplicates {
        request = request.refuse_duplicates();
    }
    if args.fail_fast {
        request = request.on_failure(OnFailure::Stop);
    }
    Ok(request.files_in_flight(usize::try_from(args.files).unwrap_or(1)))
}

/// The batch's events as the CLI's: each file labelled by its local path.
fn events(
    reporter: Arc<Reporter>,
    blocks_sent: Arc<AtomicU64>,
) -> impl Fn(&BatchEvent<'_>) + Send + Sync + 'static {
    // index -> (label, blocks): block confirmations do not repeat the number of blocks.
    let files: Mutex<HashMap<usize, (String, u64)>> = Mutex::new(HashMap::new());
    move |event| {
        let mut files = files.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            BatchEvent::FolderReady {
                folder,
                token,
                created,
            } => reporter.emit(&Event::Folder {
                folder: (*folder).to_owned(),
                folder_token: (*token).to_owned(),
                created: *created,
            }),
            BatchEvent::Started { index, path, .. } => {
                files.insert(*index, (path.display().to_string(), 0));
            }
            BatchEvent::Progress { index, event } => {
                let Some((label, blocks)) = files.get_mut(index) else {
                    return;
                };
                match event {
                    ProgressEvent::Started { total_blocks, .. } => *blocks = *total_blocks,
                    ProgressEvent::BlockConfirmed { .. } => {
                        blocks_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
                if let Some(event) = connect::upload_event(label, event, *blocks) {
                    reporter.emit(&event);
                }
            }
            BatchEvent::Finished(report) => {
                files.remove(&report.index);
                finished(&reporter, report);
            }
            _ => {}
        }
    }
}

/// Reports one file's end.
fn finished(reporter: &Reporter, report: &FileReport) {
    let label = report.path.display().to_string();
    match &report.result {
        FileResult::Uploaded(outcome) => {
            // The event first: on a terminal it clears the bar the result line would break.
            reporter.emit(&Event::Finished {
                file: label.clone(),
                file_token: outcome.file_token.clone(),
                size: outcome.size,
                blocks_sent: Some(outcome.blocks_sent),
                retries: outcome.retries,
            });
            reporter.result(format_args!("{}\t{label}", outcome.file_token));
        }
        FileResult::Skipped { file_token, reason } => {
            reporter.emit(&Event::Skipped {
                file: label.clone(),
                file_token: file_token.clone(),
                reason: reason.to_string(),
            });
            reporter.result(format_args!("{file_token}\t{label}"));
        }
        FileResult::Adopted { file_token } => {
            reporter.emit(&Event::Skipped {
                file: label.clone(),
                file_token: file_token.clone(),
                reason: "an earlier attempt uploaded it without its answer arriving; found in the folder"
                    .to_owned(),
            });
            reporter.result(format_args!("{file_token}\t{label}"));
        }
        FileResult::Failed(error) => {
            let failure = match &**error {
                batch::FileError::Upload(error) => connect::upload_failure(error),
                other => connect::error_failure(other),
            };
            reporter.emit(&failure.event(label, None));
        }
        _ => {}
    }
}

/// The summary of a batch's outcome (the blocks sent come from the run's events).
fn summary(outcome: &BatchOutcome) -> Summary {
    let mut summary = Summary {
        command: "upload".to_owned(),
        total: outcome.files.len() as u64,
        failed: outcome.failed() as u64,
        not_started: outcome.not_started() as u64,
        skipped: outcome.already_there() as u64,
        ..Summary::default()
    };
    for report in &outcome.files {
        if let FileResult::Uploaded(upload) = &report.result {
            summary.finished += 1;
            summary.bytes += upload.size;
            summary.blocks_resumed += upload.blocks_resumed;
            summary.retries += upload.retries;
            summary.possible_duplicates += u64::from(upload.possible_duplicates);
        }
    }
    summary
}

/// Reports the end of the run and picks its exit code.
fn finish(
    outcome: &BatchOutcome,
    blocks_sent: u64,
    started: Instant,
    journals: Option<&Path>,
    signal: Option<&'static str>,
    reporter: &Reporter,
) -> Exit {
    reporter.clear();
    for warning in &outcome.warnings {
        reporter.emit(&Event::Warning {
            message: warning.clone(),
        });
    }
    let credentials_refused = outcome.stopped == Some(Stopped::CredentialsRefused);
    let exit = if signal.is_some() {
        Exit::Interrupted
    } else if credentials_refused {
        Exit::CredentialsRefused
    } else if outcome.failed() > 0 {
        Exit::TransfersFailed
    } else {
        Exit::Done
    };
    let mut summary = summary(outcome);
    summary.blocks_sent = blocks_sent;
    summary.interrupted = signal.is_some();
    summary.exit_code = exit.code();
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    if let Some(signal) = signal {
        let kept = kept_text(outcome, journals, reporter.last_progress());
        let resume = crate::resume_command();
        reporter.say(format_args!("interrupted by {signal}: {kept}"));
        reporter.say(format_args!("resume with: {resume}"));
        reporter.emit(&Event::Interrupted {
            signal: signal.to_owned(),
            kept,
            resume,
        });
    } else if credentials_refused {
        reporter.say(
            "the credentials were refused: check LARK_APP_ID / LARK_APP_SECRET (or LARK_ACCESS_TOKEN) and --base-url",
        );
    } else if outcome.stopped == Some(Stopped::TokenUnavailable) {
        reporter.say(
            "stopped: no access token could be had (the token endpoint did not answer after retries); check the network and --base-url, then run the same command again",
        );
    }
    if reporter.is_json() {
        reporter.emit(&Event::Summary(summary));
    } else {
        reporter.say(format_args!(
            "{} of {} files in Drive ({} already there), {} failed, {} not started; {} bytes, {} blocks sent, {} resumed, {} retries in {:.1} s",
            summary.finished + summary.skipped,
            summary.total,
            summary.skipped,
            summary.failed,
            summary.not_started,
            summary.bytes,
            summary.blocks_sent,
            summary.blocks_resumed,
            summary.retries,
            summary.elapsed_secs,
        ));
    }
    exit
}

/// What an interrupted batch keeps, in words.
fn kept_text(
    outcome: &BatchOutcome,
    journals: Option<&Path>,
    progress: Option<(String, u64, u64)>,
) -> String {
    let files = outcome.files.len();
    let done = files - outcome.not_started() - outcome.failed();
    let Some(dir) = journals else {
        return format!("{done} of {files} files done; no journal (--no-journal): the rest starts over");
    };
    let half_sent: Vec<&Path> = outcome
        .files
        .iter()
        .filter_map(|f| match &f.result {
            FileResult::Interrupted {
                journal: Some(journal),
            } => Some(journal.as_path()),
            _ => None,
        })
        .collect();
    let record = outcome
        .journal
        .as_deref()
        .map_or_else(|| dir.display().to_string(), |j| j.display().to_string());
    match (half_sent.first(), progress) {
        (Some(journal), Some((file, confirmed, blocks))) => format!(
            "{done} of {files} files done, recorded in {record}; {file}: {confirmed} of {blocks} blocks confirmed, kept in {}",
            journal.display()
        ),
        (Some(_), None) => format!(
            "{done} of {files} files done, recorded in {record}; {} files in progress journaled in {}",
            half_sent.len(),
            dir.display()
        ),
        (None, _) => format!("{done} of {files} files done, recorded in {record}"),
    }
}
