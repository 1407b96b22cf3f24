//! `feishu-drive`: upload files to Feishu / Lark drive and download them, resumable and within
//! the documented limits, from a terminal or a script. See `feishu-drive --help`.

#![forbid(unsafe_code)]

mod args;
mod config;
mod connect;
mod demo;
mod docs;
mod download;
mod exit;
mod output;
mod plan;
mod serve;
mod signals;
mod state;
mod upload;
mod walk;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use args::{Cli, Command};
use exit::{CliError, Exit};
use output::Reporter;
use signals::Interrupt;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let reporter = Arc::new(Reporter::new(cli.json));
    let result = match &cli.command {
        Command::Completions(args) => Ok(docs::completions(args)),
        Command::Man => docs::man(),
        Command::Plan(args) => plan::run(&cli, args, &reporter),
        _ => run_async(&cli, reporter.clone()),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            let failure = connect::run_failure(&error);
            reporter.clear();
            eprintln!("error: {}", failure.message);
            if let Some(hint) = failure.hint {
                eprintln!("  what to do: {hint}");
            }
            if reporter.is_json() {
                reporter.emit(&failure.event(String::new(), None));
            }
            error.exit().into()
        }
    }
}

/// The commands that talk to a server, on a Tokio runtime with the signal handlers installed.
fn run_async(cli: &Cli, reporter: Arc<Reporter>) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Signals)?;
    let interrupt = Interrupt::install()?;
    runtime.block_on(async {
        match &cli.command {
            Command::Upload(args) => upload::run(cli, args, reporter, &interrupt).await,
            Command::Download(args) => download::run(cli, args, reporter, &interrupt).await,
            Command::Serve(args) => serve::run(args, &interrupt).await,
            Command::Demo(args) => demo::run(args, reporter, &interrupt).await,
            Command::Plan(_) | Command::Completions(_) | Command::Man => Ok(Exit::Done),
        }
    })
}

/// The command line that continues this run: this one, as given, quoted for a POSIX shell.
pub fn resume_command() -> String {
    std::env::args_os()
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn arguments_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("--parent-node=doxcn1"), "--parent-node=doxcn1");
        assert_eq!(shell_quote("my file.bin"), "'my file.bin'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
