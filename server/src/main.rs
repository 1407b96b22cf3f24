//! `feishu-drive-server`: a local Feishu-compatible drive upload server (media and Drive files).
//!
//! ```sh
//! cargo run -p feishu-drive-server -- --addr 127.0.0.1:8787 --app-id cli_local --app-secret local-secret
//! ```

use anyhow::Context;
use clap::Parser;
use feishu_drive_server::Server;
use feishu_drive_server::cli::ServeArgs;

/// A local Feishu-compatible drive upload server: tenant tokens, the chunked and one-shot
/// uploads and the downloads of media and of Drive files, folders and their listing, with the
/// documented checks and error codes, and optional faults. It prints its root folder's token.
/// Any bearer token `u-<name>` is accepted as the user `<name>`.
#[derive(Debug, Parser)]
#[command(name = "feishu-drive-server", version)]
struct Command {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Command::parse().serve;
    let server = Server::start(args.config())
        .await
        .context("starting the server")?;
    println!("feishu-drive-server {}", args.banner(&server));
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    eprintln!("shutting down");
    server.shutdown().await.context("shutting down")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{Args, CommandFactory};

    use super::{Command, ServeArgs};

    /// The binary takes `ServeArgs` and nothing else (besides `--help` and `--version`), so it
    /// takes what `feishu-drive serve` takes (the CLI's test compares the other side).
    #[test]
    fn the_binary_takes_the_shared_flags_alone() {
        let ids = |command: &clap::Command| -> Vec<String> {
            command
                .get_arguments()
                .map(|arg| arg.get_id().to_string())
                .collect()
        };
        let mut binary = Command::command();
        binary.build();
        let mut shared = ServeArgs::augment_args(clap::Command::new("feishu-drive-server").version("0"));
        shared.build();
        assert_eq!(ids(&binary), ids(&shared));
        assert!(ids(&binary).contains(&"faults".to_owned()), "{:?}", ids(&binary));
    }
}
