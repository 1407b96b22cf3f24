//! Shell completions and the man page, generated from the clap definition.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::exit::{CliError, Exit};

/// Prints the completion script of a shell.
pub fn completions(args: &CompletionsArgs) -> Exit {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "feishu-drive", &mut std::io::stdout());
    Exit::Done
}

/// Prints the man page (roff).
pub fn man() -> Result<Exit, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|source| CliError::Io {
            path: "man page".into(),
            source,
        })?;
    std::io::stdout()
        .write_all(&page)
        .map_err(|source| CliError::Io {
            path: "stdout".into(),
            source,
        })?;
    Ok(Exit::Done)
}
