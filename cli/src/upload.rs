//! `feishu-drive upload`: files and directory trees, one after another over one client (one
//! token cache, one budget), each resumable through its journal, the batch resumable through
//! its record.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use feishu_drive::Client;
use feishu_drive::upload::{UploadError, UploadOutcome};

use crate::args::{Cli, UploadArgs};
use crate::config::{self, Settings};
use crate::connect::{self, Connection, MediaTarget, Transfer, UploadOptions};
use crate::exit::{CliError, Exit};
use crate::output::{Event, Reporter, Summary};
use crate::signals::Interrupt;
use crate::state::{BatchState, default_journal_dir};
use crate::walk::{self, FileItem};
use feishu_drive::upload::Family;

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

/// Uploads with resolved settings; returns the exit code and the files uploaded in this run
/// (path, file token).
pub async fn upload_with(
    settings: Settings,
    args: &UploadArgs,
    reporter: Arc<Reporter>,
    interrupt: &Interrupt,
) -> Result<(Exit, Vec<(PathBuf, String)>), CliError> {
    let target = media_target(args)?;
    let files = walk::collect(&args.paths)?;
    let transfer = Transfer {
        concurrency: usize::try_from(args.concurrency).unwrap_or(1),
        chunked_over: args.chunked_over,
    };
    let connection = Connection::open(settings, transfer, reporter.clone())?;
    let scope = format!(
        "{}|{}|{}",
        connection.base_url(),
        target.parent_type,
        target.parent_node
    );
    let journal_dir = match (&args.journal, args.no_journal) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => default_journal_dir(),
    };
    let keys: Vec<_> = files.iter().map(|f| f.canonical.clone()).collect();
    let state = journal_dir
        .as_deref()
        .map(|dir| BatchState::open(dir, &scope, &keys))
        .transpose()?;
    if let Some(done) = state.as_ref().map(BatchState::done_count).filter(|n| *n > 0) {
        reporter.say(format_args!(
            "resuming: {done} of {} files were uploaded by an earlier run of this command",
            files.len()
        ));
    }
    let batch = Batch {
        client: connection.client(),
        target: &target,
        refuse_duplicates: args.refuse_duplicates,
        reporter: &reporter,
        interrupt,
    };
    let started = Instant::now();
    let mut ran = batch.upload_each(&files, state).await?;
    let end = End {
        files: files.len(),
        started,
        journals: journal_dir.as_deref(),
        signal: interrupt.received(),
    };
    let uploaded = std::mem::take(&mut ran.uploaded);
    Ok((finish(ran, &end, &reporter), uploaded))
}

/// The upload target of the flags: a Drive folder (`--folder`, the files family) or a doc,
/// sheet or base (`--parent-type`, `--parent-node`, the media family).
fn media_target(args: &UploadArgs) -> Result<MediaTarget, CliError> {
    if args.if_exists.is_some() {
        return Err(CliError::Usage(
            "--if-exists is not supported yet: it needs the folder listing compared by name and \
             size, which this version does not do; a re-run of the same command skips the files \
             its batch journal records as done"
                .to_owned(),
        ));
    }
    if let Some(folder) = &args.folder {
        return Ok(MediaTarget {
            parent_type: DRIVE_FOLDER_PARENT_TYPE.to_owned(),
            parent_node: folder.clone(),
            family: Family::Files,
        });
    }
    Ok(MediaTarget {
        parent_type: args.parent_type.clone().unwrap_or_default(),
        parent_node: args.parent_node.clone().unwrap_or_default(),
        family: Family::Media,
    })
}

/// The files family's `parent_type` for a Drive folder (the first value the spec documents).
const DRIVE_FOLDER_PARENT_TYPE: &str = "explorer";

/// What one batch shares.
struct Batch<'a> {
    client: &'a Client,
    target: &'a MediaTarget,
    refuse_duplicates: bool,
    reporter: &'a Arc<Reporter>,
    interrupt: &'a Interrupt,
}

/// How a batch went.
struct Ran {
    summary: Summary,
    credentials_refused: bool,
    /// The journal of the file a signal stopped, if it had one.
    interrupted_journal: Option<PathBuf>,
    /// The files uploaded in this run, with their tokens.
    uploaded: Vec<(PathBuf, String)>,
}

impl Batch<'_> {
    /// Uploads the files one after another. The one place that iterates over a batch: the
    /// library's batch scheduler replaces this loop when it lands.
    async fn upload_each(&self, files: &[FileItem], mut state: Option<BatchState>) -> Result<Ran, CliError> {
        let mut ran = Ran {
            summary: Summary {
                command: "upload".to_owned(),
                total: files.len() as u64,
                ..Summary::default()
            },
            credentials_refused: false,
            interrupted_journal: None,
            uploaded: Vec::new(),
        };
        let summary = &mut ran.summary;
        for (index, file) in files.iter().enumerate() {
            if self.interrupt.token().is_cancelled() || ran.credentials_refused {
                summary.not_started = (files.len() - index) as u64;
                break;
            }
            let label = file.path.display().to_string();
            if let Some(token) = state.as_ref().and_then(|s| s.done(&file.canonical)) {
                self.reporter.emit(&Event::Skipped {
                    file: label.clone(),
                    file_token: token.to_owned(),
                    reason: "an earlier run of this batch uploaded it".to_owned(),
                });
                self.reporter.result(format_args!("{token}\t{label}"));
                summary.skipped += 1;
                continue;
            }
            let journal = state.as_ref().map(|s| s.journal_for(&file.canonical));
            let request = connect::upload_request(
                &file.canonical,
                &label,
                self.target,
                UploadOptions {
                    journal: journal.as_deref(),
                    refuse_duplicates: self.refuse_duplicates,
                    cancel: self.interrupt.token().child_token(),
                },
                self.reporter.clone(),
            );
            match self.client.upload(request).await {
                Ok(outcome) => {
                    if let Some(state) = &mut state {
                        state.record_done(&file.canonical, &outcome.file_token)?;
                    }
                    self.finished(label, &outcome, summary);
                    ran.uploaded.push((file.canonical.clone(), outcome.file_token));
                }
                Err(error) if connect::is_cancelled(&error) => {
                    summary.not_started = (files.len() - index) as u64;
                    ran.interrupted_journal = journal.filter(|j| j.exists());
                    break;
                }
                Err(error) => {
                    ran.credentials_refused |= self.failed(label, &error);
                    summary.failed += 1;
                }
            }
        }
        let complete = summary.finished + summary.skipped == summary.total;
        if let Some(state) = state.filter(|_| complete) {
            state.remove()?;
        }
        Ok(ran)
    }
}

/// What the end of a run reports besides the batch's outcome.
struct End<'a> {
    files: usize,
    started: Instant,
    journals: Option<&'a Path>,
    signal: Option<&'static str>,
}

impl Batch<'_> {
    /// Reports a finished file.
    fn finished(&self, label: String, outcome: &UploadOutcome, summary: &mut Summary) {
        // The event first: on a terminal it clears the bar the result line would break.
        self.reporter.emit(&Event::Finished {
            file: label.clone(),
            file_token: outcome.file_token.clone(),
            size: outcome.size,
            blocks_sent: Some(outcome.blocks_sent),
            retries: outcome.retries,
        });
        self.reporter
            .result(format_args!("{}\t{label}", outcome.file_token));
        summary.finished += 1;
        summary.bytes += outcome.size;
        summary.blocks_sent += outcome.blocks_sent;
        summary.blocks_resumed += outcome.blocks_resumed;
        summary.retries += outcome.retries;
        summary.possible_duplicates += u64::from(outcome.possible_duplicates);
    }

    /// Reports a failed file; returns whether the credentials were refused.
    fn failed(&self, label: String, error: &UploadError) -> bool {
        let failure = connect::upload_failure(error);
        self.reporter.emit(&Event::Failed {
            file: label,
            file_token: None,
            code: failure.code,
            log_id: failure.log_id,
            error: failure.message,
        });
        failure.credentials_refused
    }
}

/// Reports the end of the run and picks its exit code.
fn finish(mut ran: Ran, end: &End<'_>, reporter: &Reporter) -> Exit {
    reporter.clear();
    let interrupted = end.signal;
    let exit = if interrupted.is_some() {
        Exit::Interrupted
    } else if ran.credentials_refused {
        Exit::CredentialsRefused
    } else if ran.summary.failed > 0 {
        Exit::TransfersFailed
    } else {
        Exit::Done
    };
    let summary = &mut ran.summary;
    summary.interrupted = interrupted.is_some();
    summary.exit_code = exit.code();
    summary.elapsed_secs = end.started.elapsed().as_secs_f64();
    if let Some(signal) = interrupted {
        let progress = reporter.last_progress();
        let kept = kept_text(summary, ran.interrupted_journal.as_deref(), end, progress);
        let resume = crate::resume_command();
        reporter.say(format_args!("interrupted by {signal}: {kept}"));
        reporter.say(format_args!("resume with: {resume}"));
        reporter.emit(&Event::Interrupted {
            signal: signal.to_owned(),
            kept,
            resume,
        });
    } else if ran.credentials_refused {
        reporter.say(
            "the credentials were refused: check LARK_APP_ID / LARK_APP_SECRET (or LARK_ACCESS_TOKEN) and --base-url",
        );
    }
    if reporter.is_json() {
        reporter.emit(&Event::Summary(summary.clone()));
    } else {
        reporter.say(format_args!(
            "{} of {} files uploaded ({} by an earlier run), {} failed, {} not started; {} bytes, {} blocks sent, {} resumed, {} retries in {:.1} s",
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
    summary: &Summary,
    journal: Option<&Path>,
    end: &End<'_>,
    progress: Option<(String, u64, u64)>,
) -> String {
    let done = summary.finished + summary.skipped;
    let files = end.files;
    let Some(dir) = end.journals else {
        return format!("{done} of {files} files done; no journal (--no-journal): the rest starts over");
    };
    match (journal, progress) {
        (Some(journal), Some((file, confirmed, blocks))) => format!(
            "{done} of {files} files done; {file}: {confirmed} of {blocks} blocks confirmed, kept in {}",
            journal.display()
        ),
        (Some(journal), None) => format!(
            "{done} of {files} files done; the file in progress is journaled in {}",
            journal.display()
        ),
        (None, _) => format!("{done} of {files} files done, recorded in {}", dir.display()),
    }
}
