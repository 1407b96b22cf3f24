//! `feishu-drive serve`: the local Feishu-compatible server, until SIGINT or SIGTERM.

use std::time::Duration;

use feishu_drive_server::{Config, Faults, Server};

use crate::args::ServeArgs;
use crate::exit::{CliError, Exit};
use crate::signals::Interrupt;

/// Runs `serve`.
pub async fn run(args: &ServeArgs, interrupt: &Interrupt) -> Result<Exit, CliError> {
    let mut config = Config::default()
        .addr(args.addr)
        .app(&args.app_id, &args.app_secret)
        .block_size(args.block_size)
        .faults(Faults::default().latency(Duration::from_millis(args.latency_ms)));
    config.data_dir = args.data_dir.clone();
    let server = Server::start(config).await?;
    let base = server.base_url();
    // Scripts read the first line for the URL.
    println!("feishu-drive serve: listening on {base}");
    println!(
        "  app id {}, app secret {}; data in {}",
        args.app_id,
        args.app_secret,
        server.data_dir().display()
    );
    println!(
        "  try: feishu-drive --base-url {base} upload FILE --parent-type docx_file --parent-node doxcnLocal"
    );
    interrupt.token().cancelled().await;
    server.shutdown().await?;
    Ok(Exit::Done)
}
