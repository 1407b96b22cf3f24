//! Every library object the CLI makes is made here: the budget, the one [`Client`], its download
//! requests, the CLI events of an upload's progress, and the reading of errors. The uploads
//! themselves are one library batch (`upload.rs`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use feishu_drive::auth::AuthError;
use feishu_drive::budget::{Budget, BudgetConfig, BudgetEvent, WaitReason};
use feishu_drive::download::{DownloadError, DownloadEvent, DownloadRequest};
use feishu_drive::upload::{ProgressEvent, UploadError};
use feishu_drive::{ApiError, Client, ErrorCode};
use tokio_util::sync::CancellationToken;

use crate::config::{Credentials, Settings};
use crate::exit::CliError;
use crate::output::{Event, Reporter};

/// One run's link to the API: one [`Client`], so one token cache, one HTTP connection pool and
/// one budget (one rate limit and daily quota for every request of the run, shared through Redis
/// with other runs when asked).
#[derive(Debug)]
pub struct Connection {
    client: Client,
}

/// How uploads are sent.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Blocks in flight at once.
    pub concurrency: usize,
    /// Files larger than this go block by block.
    pub chunked_over: u64,
}

impl Default for Transfer {
    fn default() -> Self {
        Self {
            concurrency: feishu_drive::upload::DEFAULT_CONCURRENCY,
            chunked_over: feishu_drive::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM,
        }
    }
}

/// What a failed transfer reports.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Feishu's code, if there was one.
    pub code: Option<i64>,
    /// The log id, if the server sent one.
    pub log_id: Option<String>,
    /// The error and its causes, on one line.
    pub message: String,
    /// What to do about the code, from the spec's error table.
    pub hint: Option<&'static str>,
    /// The credentials were refused: every other transfer would fail the same way.
    pub credentials_refused: bool,
}

impl Failure {
    /// The `failed` event of `file` (and the media's token, for a download).
    pub fn event(self, file: String, file_token: Option<String>) -> Event {
        Event::Failed {
            file,
            file_token,
            code: self.code,
            log_id: self.log_id,
            error: self.message,
            hint: self.hint.map(str::to_owned),
        }
    }
}

/// What a run that could not go on reports: the Feishu error in `error`'s causes, if any (a
/// target folder that could not be listed, say), gives its code, log id and advice.
pub fn run_failure(error: &(dyn std::error::Error + 'static)) -> Failure {
    let api = std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<ApiError>());
    api_failure(api, error)
}

/// The error table's advice for `code`, when the table has the code.
fn hint(code: Option<i64>) -> Option<&'static str> {
    code.and_then(|code| ErrorCode::from_code(code).hint())
}

impl Connection {
    /// The client of the run. Its budget: `--rps` requests per second per operation with the
    /// daily quota, kept in Redis with `--redis`, in this process otherwise; none with `--rps 0`.
    pub fn open(settings: Settings, transfer: Transfer, reporter: Arc<Reporter>) -> Result<Self, CliError> {
        let budget = match (settings.rps, &settings.redis) {
            (0, Some(_)) => {
                return Err(CliError::Usage(
                    "--redis shares a rate limit; it cannot be used with --rps 0".to_owned(),
                ));
            }
            (0, None) => None,
            (rps, redis) => {
                let config = BudgetConfig::new(settings.credentials.budget_key())
                    .requests_per_second(rps)
                    .on_event(move |event| show_budget_event(&reporter, event));
                Some(match redis {
                    Some(url) => Budget::redis(url, config)?,
                    None => Budget::in_process(config),
                })
            }
        };
        let builder = Client::builder(&settings.base_url);
        let builder = match settings.credentials {
            Credentials::App { id, secret } => builder.app_credentials(id, secret),
            Credentials::Token(token) => builder.access_token(token),
        };
        let builder = builder
            .concurrency(transfer.concurrency)
            .upload_all_max(transfer.chunked_over);
        let builder = match budget {
            Some(budget) => builder.budget(budget),
            None => builder.requests_per_second(None),
        };
        let client = builder.build().map_err(|e| CliError::Build(e.to_string()))?;
        Ok(Self { client })
    }

    /// The client: `upload`, `download_media`.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The CLI's event for an uploader event (`None`: not shown).
pub fn upload_event(file: &str, event: &ProgressEvent, blocks: u64) -> Option<Event> {
    let file = file.to_owned();
    Some(match event {
        ProgressEvent::Started {
            total_bytes,
            total_blocks,
            resumed_bytes,
            resumed_blocks,
            ..
        } => Event::Started {
            file,
            file_token: None,
            size: Some(*total_bytes),
            blocks: Some(*total_blocks),
            resumed_bytes: *resumed_bytes,
            resumed_blocks: Some(*resumed_blocks),
        },
        ProgressEvent::BlockConfirmed {
            seq,
            confirmed_bytes,
            confirmed_blocks,
            ..
        } => Event::Block {
            file,
            seq: *seq,
            confirmed_blocks: *confirmed_blocks,
            blocks,
            confirmed_bytes: *confirmed_bytes,
        },
        ProgressEvent::Retrying {
            operation,
            error,
            delay,
        } => Event::Retrying {
            file,
            operation: operation.to_string(),
            error: error.clone(),
            delay_ms: millis(*delay),
        },
        ProgressEvent::Restarted { reason } => Event::Warning {
            message: format!("{file}: {reason}"),
        },
        ProgressEvent::ResumeVerified {
            checked_blocks,
            changed,
        } => Event::Resumed {
            file,
            checked_blocks: *checked_blocks,
            changed_blocks: changed.len() as u64,
        },
        ProgressEvent::PossibleDuplicate { reason } => Event::PossibleDuplicate {
            file,
            reason: reason.clone(),
        },
        ProgressEvent::Warning { message } => Event::Warning {
            message: format!("{file}: {message}"),
        },
        _ => return None,
    })
}

/// The request for one media, written to `destination` (a file, or a directory when `into_dir`).
pub fn download_request(
    file_token: &str,
    destination: &Path,
    into_dir: bool,
    cancel: CancellationToken,
    reporter: Arc<Reporter>,
) -> DownloadRequest {
    let request = if into_dir {
        DownloadRequest::into_dir(file_token, destination)
    } else {
        DownloadRequest::to_file(file_token, destination)
    };
    let token = file_token.to_owned();
    let file = destination.display().to_string();
    let last_mib = AtomicU64::new(u64::MAX);
    request.cancel_on(cancel).progress(move |event| {
        let event = match event {
            DownloadEvent::Started {
                total_bytes,
                resumed_bytes,
            } => Event::Started {
                file: file.clone(),
                file_token: Some(token.clone()),
                size: *total_bytes,
                blocks: None,
                resumed_bytes: *resumed_bytes,
                resumed_blocks: None,
            },
            DownloadEvent::Received {
                written_bytes,
                total_bytes,
            } => {
                // One event per MiB (and the last bytes): chunks arrive by the kilobyte.
                let mib = written_bytes >> 20;
                let last = Some(*written_bytes) == *total_bytes;
                if last_mib.swap(mib, Ordering::Relaxed) == mib && !last {
                    return;
                }
                Event::Received {
                    file_token: token.clone(),
                    written_bytes: *written_bytes,
                    size: *total_bytes,
                }
            }
            DownloadEvent::Retrying { error, delay } => Event::Retrying {
                file: token.clone(),
                operation: "download".to_owned(),
                error: error.clone(),
                delay_ms: millis(*delay),
            },
            DownloadEvent::Restarted { reason } => Event::Warning {
                message: format!("{token}: {reason}"),
            },
            _ => return,
        };
        reporter.emit(&event);
    })
}

/// Shows what the budget does.
fn show_budget_event(reporter: &Reporter, event: &BudgetEvent) {
    let event = match event {
        BudgetEvent::Waiting { group, delay, reason } => Event::Waiting {
            operation: group.to_string(),
            delay_ms: millis(*delay),
            reason: match reason {
                WaitReason::Blocked => "blocked",
                _ => "rate",
            }
            .to_owned(),
        },
        BudgetEvent::Throttled { group, .. } => Event::Warning {
            message: format!("the server refused {group} for its rate; slowing down"),
        },
        BudgetEvent::QuotaExhausted { group, .. } => Event::Warning {
            message: format!("the daily quota of {group} is used up"),
        },
        BudgetEvent::StoreUnavailable { error, .. } => Event::Warning {
            message: format!("shared budget unavailable ({error}); using a local limiter"),
        },
        BudgetEvent::StoreRestored => Event::Warning {
            message: "shared budget available again".to_owned(),
        },
        _ => return,
    };
    reporter.emit(&event);
}

fn millis(delay: std::time::Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// Whether the download stopped because the run was interrupted.
pub fn is_download_cancelled(error: &DownloadError) -> bool {
    matches!(error, DownloadError::Cancelled)
}

/// What a failed upload reports.
pub fn upload_failure(error: &UploadError) -> Failure {
    match error {
        UploadError::Auth(auth) => auth_failure(auth, error),
        _ => api_failure(error.api_error(), error),
    }
}

/// What a batch's file that failed outside its upload (its folder, a listing, the batch
/// journal) reports.
pub fn error_failure(error: &feishu_drive::batch::FileError) -> Failure {
    let api = match error {
        feishu_drive::batch::FileError::Folder { source, .. }
        | feishu_drive::batch::FileError::Listing { source, .. } => Some(&**source),
        _ => None,
    };
    api_failure(api, error)
}

/// What a failed download reports.
pub fn download_failure(error: &DownloadError) -> Failure {
    match error {
        DownloadError::Api { source, .. } => api_failure(Some(source), error),
        DownloadError::Exists { .. } => Failure {
            hint: Some("pass --overwrite to replace it, or -o another path"),
            ..api_failure(None, error)
        },
        _ => api_failure(None, error),
    }
}

fn auth_failure(auth: &AuthError, error: &dyn std::error::Error) -> Failure {
    let log_id = match auth {
        AuthError::Refused { log_id, .. } => log_id.clone(),
        _ => None,
    };
    let code = auth.code().map(ErrorCode::code);
    Failure {
        code,
        log_id,
        message: chain(error),
        hint: hint(code),
        credentials_refused: matches!(auth, AuthError::Refused { .. }),
    }
}

fn api_failure(api: Option<&ApiError>, error: &dyn std::error::Error) -> Failure {
    if let Some(ApiError::Auth(auth)) = api {
        return auth_failure(auth, error);
    }
    let code = api.and_then(ApiError::code).map(ErrorCode::code);
    Failure {
        code,
        log_id: api.and_then(ApiError::log_id).map(str::to_owned),
        message: chain(error),
        hint: hint(code),
        credentials_refused: api.is_some_and(ApiError::is_token_rejected),
    }
}

/// An error and its causes, on one line (causes a message already contains are left out).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}
