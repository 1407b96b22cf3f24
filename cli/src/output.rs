//! What a run tells its user: a progress bar on a terminal, plain lines when stderr is piped,
//! or with `--json` one JSON object per event on stdout (NDJSON), ending with a summary.
//!
//! Results for scripts go to stdout in every mode (`--json`: the `finished` events and the
//! summary; otherwise one `<file_token>\t<path>` line per upload, one path per download);
//! everything for people goes to stderr.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// One event of a run. Field names are the NDJSON keys; `event` is the tag.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A transfer started.
    Started {
        /// The local file (upload) or the destination (download).
        file: String,
        /// The media's token (download).
        #[serde(skip_serializing_if = "Option::is_none")]
        file_token: Option<String>,
        /// Its size in bytes, if known.
        size: Option<u64>,
        /// Blocks of the upload (1 for upload_all).
        #[serde(skip_serializing_if = "Option::is_none")]
        blocks: Option<u64>,
        /// Bytes an earlier run had already sent or written.
        resumed_bytes: u64,
        /// Blocks an earlier run had already sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        resumed_blocks: Option<u64>,
    },
    /// The server confirmed a block.
    Block {
        /// The local file.
        file: String,
        /// The block's number.
        seq: u64,
        /// Blocks confirmed so far, resumed ones included.
        confirmed_blocks: u64,
        /// Blocks in all.
        blocks: u64,
        /// Bytes confirmed so far.
        confirmed_bytes: u64,
    },
    /// Bytes of a download were written (at most one event per MiB).
    Received {
        /// The media's token.
        file_token: String,
        /// Bytes in the file so far.
        written_bytes: u64,
        /// The media's size, if known.
        size: Option<u64>,
    },
    /// A request failed with a retryable error and is sent again.
    Retrying {
        /// The local file or the media's token.
        file: String,
        /// The operation.
        operation: String,
        /// The error (never contains a secret).
        error: String,
        /// The wait before the next attempt.
        delay_ms: u64,
    },
    /// A request waits for the rate limit or a pause of the shared budget.
    Waiting {
        /// The endpoint group.
        operation: String,
        /// How long.
        delay_ms: u64,
        /// `rate` or `blocked` (a server's rate-limit answer paused every request).
        reason: String,
    },
    /// A resumed upload re-read the blocks its journal confirmed; changed ones are sent again.
    Resumed {
        /// The local file.
        file: String,
        /// Blocks re-read and checked.
        checked_blocks: u64,
        /// Blocks whose bytes changed since they were sent.
        changed_blocks: u64,
    },
    /// A second media may exist (an answer to a finish was lost and the upload was made again).
    PossibleDuplicate {
        /// The local file.
        file: String,
        /// What happened.
        reason: String,
    },
    /// Something went wrong without stopping the run.
    Warning {
        /// What.
        message: String,
    },
    /// A transfer finished.
    Finished {
        /// The local file.
        file: String,
        /// The media's token.
        file_token: String,
        /// Its size in bytes.
        size: u64,
        /// Blocks sent in this run (upload).
        #[serde(skip_serializing_if = "Option::is_none")]
        blocks_sent: Option<u64>,
        /// Requests retried.
        retries: u64,
    },
    /// A Drive folder of the tree is ready: found, or made by this run.
    Folder {
        /// The folder, relative to the target (`a/b`).
        folder: String,
        /// Its token.
        folder_token: String,
        /// Made by this run.
        created: bool,
    },
    /// A file was not uploaded: it is already in Drive (an earlier run of the same batch
    /// finished it, the folder holds one of its name with `--if-exists skip`, or an earlier
    /// attempt made it without its answer arriving).
    Skipped {
        /// The local file.
        file: String,
        /// The token that run got.
        file_token: String,
        /// Why.
        reason: String,
    },
    /// A transfer failed.
    Failed {
        /// The local file or the destination.
        file: String,
        /// The media's token (download).
        #[serde(skip_serializing_if = "Option::is_none")]
        file_token: Option<String>,
        /// Feishu's error code, if there was one.
        code: Option<i64>,
        /// The log id Feishu support asks for, if the server sent one.
        log_id: Option<String>,
        /// The error.
        error: String,
        /// What to do about Feishu's code, from the spec's error table.
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// A signal stopped the run.
    Interrupted {
        /// SIGINT or SIGTERM.
        signal: String,
        /// What an earlier or the next run keeps.
        kept: String,
        /// The command that continues the run.
        resume: String,
    },
    /// The last object of a run.
    Summary(Summary),
}

/// The final object of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// `upload` or `download`.
    pub command: String,
    /// Files (upload) or media (download) asked for.
    pub total: u64,
    /// Done in this run.
    pub finished: u64,
    /// Done by an earlier run of the same batch.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Not started because the run was interrupted.
    pub not_started: u64,
    /// Bytes of the finished transfers.
    pub bytes: u64,
    /// Blocks the server confirmed in this run (upload), those of files that then failed or were
    /// interrupted included.
    pub blocks_sent: u64,
    /// Blocks an earlier run had sent (upload).
    pub blocks_resumed: u64,
    /// Requests retried.
    pub retries: u64,
    /// Uploads that may have left a second media.
    pub possible_duplicates: u64,
    /// Whether a signal stopped the run.
    pub interrupted: bool,
    /// The process's exit code.
    pub exit_code: u8,
    /// Seconds the run took.
    pub elapsed_secs: f64,
}

enum Mode {
    Json,
    Bar,
    Plain,
}

/// Shows events in the mode of the run; shared by every callback of the run.
pub struct Reporter {
    mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
    /// The file in progress: its label, blocks confirmed, blocks in all.
    progress: Mutex<Option<(String, u64, u64)>>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter")
    }
}

impl Reporter {
    /// `--json`, else a bar when stderr is a terminal, else plain lines.
    pub fn new(json: bool) -> Self {
        let mode = if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        };
        Self {
            mode,
            bar: Mutex::new(None),
            progress: Mutex::new(None),
        }
    }

    /// The last file that started or had a block confirmed: label, blocks confirmed, blocks.
    pub fn last_progress(&self) -> Option<(String, u64, u64)> {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn track(&self, event: &Event) {
        let progress = match event {
            Event::Started {
                file,
                blocks: Some(blocks),
                resumed_blocks,
                ..
            } => (file.clone(), resumed_blocks.unwrap_or(0), *blocks),
            Event::Block {
                file,
                confirmed_blocks,
                blocks,
                ..
            } => (file.clone(), *confirmed_blocks, *blocks),
            _ => return,
        };
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = Some(progress);
    }

    /// Whether events go to stdout as JSON.
    pub fn is_json(&self) -> bool {
        matches!(self.mode, Mode::Json)
    }

    /// Shows one event.
    pub fn emit(&self, event: &Event) {
        self.track(event);
        match self.mode {
            Mode::Json => {
                if let Ok(line) = serde_json::to_string(event) {
                    let mut out = std::io::stdout().lock();
                    // A closed stdout (a consumer that went away) must not end the upload.
                    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
                }
            }
            Mode::Bar => self.on_bar(event),
            Mode::Plain => {
                if let Some(line) = plain_line(event) {
                    eprintln!("{line}");
                }
            }
        }
    }

    /// A line for people, on stderr (above the bar).
    pub fn say(&self, line: impl std::fmt::Display) {
        let bar = self.bar.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// A result line for scripts on stdout (not in `--json` mode, whose events carry it).
    pub fn result(&self, line: impl std::fmt::Display) {
        if !self.is_json() {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    }

    fn on_bar(&self, event: &Event) {
        let mut slot = self.bar.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Started {
                file,
                size,
                resumed_bytes,
                ..
            } => {
                let bar = ProgressBar::new(size.unwrap_or(0));
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {prefix} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(file.clone());
                bar.set_position(*resumed_bytes);
                bar.enable_steady_tick(Duration::from_millis(200));
                *slot = Some(bar);
            }
            Event::Block { confirmed_bytes, .. } => {
                if let Some(bar) = &*slot {
                    bar.set_position(*confirmed_bytes);
                    bar.set_message("");
                }
            }
            Event::Received { written_bytes, .. } => {
                if let Some(bar) = &*slot {
                    bar.set_position(*written_bytes);
                }
            }
            Event::Retrying { .. } | Event::Waiting { .. } => {
                if let (Some(bar), Some(line)) = (&*slot, plain_line(event)) {
                    bar.set_message(line);
                }
            }
            Event::Finished { .. } | Event::Failed { .. } | Event::Skipped { .. } => {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
                if let Some(line) = plain_line(event) {
                    eprintln!("{line}");
                }
            }
            _ => {
                if let Some(line) = plain_line(event) {
                    match &*slot {
                        Some(bar) => bar.suspend(|| eprintln!("{line}")),
                        None => eprintln!("{line}"),
                    }
                }
            }
        }
    }

    /// Clears the bar before the last lines of a run.
    pub fn clear(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(PoisonError::into_inner).take() {
            bar.finish_and_clear();
        }
    }
}

/// The plain-text line of an event (`None`: not shown in plain mode).
fn plain_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Started {
            file,
            size,
            blocks,
            resumed_bytes,
            resumed_blocks,
            ..
        } => {
            let size = size.map_or_else(|| "? bytes".to_owned(), |s| format!("{s} bytes"));
            match (blocks, resumed_blocks) {
                (Some(b), Some(r)) => format!("{file}: started, {size} in {b} blocks ({r} resumed)"),
                _ => format!("{file}: started, {size} ({resumed_bytes} resumed)"),
            }
        }
        Event::Block {
            file,
            confirmed_blocks,
            blocks,
            ..
        } => format!("{file}: block {confirmed_blocks}/{blocks}"),
        Event::Received { .. } => return None,
        Event::Retrying {
            file,
            operation,
            error,
            delay_ms,
        } => format!("{file}: retrying {operation} in {delay_ms} ms: {error}"),
        Event::Waiting {
            operation,
            delay_ms,
            reason,
        } => format!("waiting {delay_ms} ms for the {operation} budget ({reason})"),
        Event::Resumed {
            file,
            checked_blocks,
            changed_blocks,
        } => format!(
            "{file}: resuming: re-read {checked_blocks} confirmed blocks, {changed_blocks} changed and are sent again"
        ),
        Event::PossibleDuplicate { file, reason } => {
            format!("{file}: warning: possible duplicate media: {reason}")
        }
        Event::Warning { message } => format!("warning: {message}"),
        Event::Finished { file, file_token, .. } => format!("{file}: finished, file_token {file_token}"),
        Event::Skipped {
            file,
            file_token,
            reason,
        } => format!("{file}: skipped ({reason}), file_token {file_token}"),
        Event::Folder {
            folder,
            folder_token,
            created,
        } => match created {
            true => format!("{folder}/: folder made, folder_token {folder_token}"),
            false => format!("{folder}/: folder found, folder_token {folder_token}"),
        },
        Event::Failed {
            file,
            error,
            log_id,
            hint,
            ..
        } => failed_line(file, error, log_id.as_deref(), hint.as_deref()),
        Event::Interrupted { .. } | Event::Summary(_) => return None,
    })
}

/// A failure for people: the error, its log id unless the error names it already (Feishu's do),
/// and the error table's advice on a line of its own.
fn failed_line(file: &str, error: &str, log_id: Option<&str>, hint: Option<&str>) -> String {
    let log_id = log_id
        .filter(|id| !error.contains(id))
        .map(|id| format!(" (log id {id})"))
        .unwrap_or_default();
    let hint = hint.map(|h| format!("\n  what to do: {h}")).unwrap_or_default();
    format!("{file}: failed: {error}{log_id}{hint}")
}
