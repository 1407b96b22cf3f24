//! `feishu-drive download`: media (or, with `--drive-file`, Drive files) by file token, one
//! after another over one client, each ranged and resumed from the partial file an interrupted
//! run left.

use std::sync::Arc;
use std::time::Instant;

use feishu_drive::Client;
use feishu_drive::upload::Family;

use crate::args::{Cli, DownloadArgs};
use crate::config;
use crate::connect::{self, Connection, Transfer};
use crate::exit::{CliError, Exit};
use crate::output::{Event, Reporter, Summary};
use crate::signals::Interrupt;

/// Runs `download`.
pub async fn run(
    cli: &Cli,
    args: &DownloadArgs,
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
    let connection = Connection::open(settings, Transfer::default(), reporter.clone())?;
    let output = &args.output;
    let names_dir =
        output.is_dir() || args.tokens.len() > 1 || output.as_os_str().to_string_lossy().ends_with('/');
    if names_dir {
        std::fs::create_dir_all(output).map_err(|source| CliError::Io {
            path: output.clone(),
            source,
        })?;
    }
    let started = Instant::now();
    let (summary, refused) = download_each(connection.client(), args, names_dir, &reporter, interrupt).await;
    Ok(report_end(summary, refused, started, &reporter, interrupt))
}

/// Downloads the media one after another; stops at a signal or a refusal of the credentials.
async fn download_each(
    client: &Client,
    args: &DownloadArgs,
    names_dir: bool,
    reporter: &Arc<Reporter>,
    interrupt: &Interrupt,
) -> (Summary, bool) {
    let output = &args.output;
    let mut summary = Summary {
        command: "download".to_owned(),
        total: args.tokens.len() as u64,
        ..Summary::default()
    };
    let mut refused = false;
    for (index, token) in args.tokens.iter().enumerate() {
        if interrupt.token().is_cancelled() || refused {
            summary.not_started = (args.tokens.len() - index) as u64;
            break;
        }
        let family = if args.drive_file {
            Family::Files
        } else {
            Family::Media
        };
        let mut request = connect::download_request(
            token,
            output,
            names_dir,
            interrupt.token().child_token(),
            reporter.clone(),
        )
        .family(family);
        if !args.overwrite {
            request = request.keep_existing();
        }
        match client.download_media(request).await {
            Ok(outcome) => {
                let path = outcome.path.display().to_string();
                reporter.emit(&Event::Finished {
                    file: path.clone(),
                    file_token: token.clone(),
                    size: outcome.size,
                    blocks_sent: None,
                    retries: outcome.retries,
                });
                reporter.result(&path);
                summary.finished += 1;
                summary.bytes += outcome.size;
                summary.retries += outcome.retries;
            }
            Err(error) if connect::is_download_cancelled(&error) => {
                summary.not_started = (args.tokens.len() - index) as u64;
                break;
            }
            Err(error) => {
                let failure = connect::download_failure(&error);
                refused |= failure.credentials_refused;
                reporter.emit(&failure.event(output.display().to_string(), Some(token.clone())));
                summary.failed += 1;
            }
        }
    }
    (summary, refused)
}

/// Reports the end of the run and picks its exit code.
fn report_end(
    mut summary: Summary,
    refused: bool,
    started: Instant,
    reporter: &Reporter,
    interrupt: &Interrupt,
) -> Exit {
    reporter.clear();
    let exit = match interrupt.received() {
        Some(_) => Exit::Interrupted,
        None if refused => Exit::CredentialsRefused,
        None if summary.failed > 0 => Exit::TransfersFailed,
        None => Exit::Done,
    };
    summary.interrupted = interrupt.received().is_some();
    summary.exit_code = exit.code();
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    if let Some(signal) = interrupt.received() {
        let kept = format!(
            "{} of {} media downloaded; a partial file stays beside its destination (.NAME.TOKEN.part) and is resumed",
            summary.finished, summary.total
        );
        let resume = crate::resume_command();
        reporter.say(format_args!("interrupted by {signal}: {kept}"));
        reporter.say(format_args!("resume with: {resume}"));
        reporter.emit(&Event::Interrupted {
            signal: signal.to_owned(),
            kept,
            resume,
        });
    }
    if reporter.is_json() {
        reporter.emit(&Event::Summary(summary));
    } else {
        reporter.say(format_args!(
            "{} of {} media downloaded, {} failed, {} not started; {} bytes, {} retries in {:.1} s",
            summary.finished,
            summary.total,
            summary.failed,
            summary.not_started,
            summary.bytes,
            summary.retries,
            summary.elapsed_secs
        ));
    }
    exit
}
