//! `feishu-drive serve`: the local Feishu-compatible server, until SIGINT or SIGTERM. Its flags
//! are `feishu-drive-server`'s own definition ([`ServeArgs`]), so the two take the same ones.

use feishu_drive_server::Server;

use crate::args::ServeArgs;
use crate::exit::{CliError, Exit};
use crate::signals::Interrupt;

/// Runs `serve`.
pub async fn run(args: &ServeArgs, interrupt: &Interrupt) -> Result<Exit, CliError> {
    let server = Server::start(args.config()).await?;
    // Scripts read the first line for the URL and the `root folder:` line for the token.
    println!("feishu-drive serve: {}", args.banner(&server));
    println!(
        "  try: feishu-drive --base-url {} --rps 0 upload FILE --folder {}",
        server.base_url(),
        server.root_folder()
    );
    interrupt.token().cancelled().await;
    server.shutdown().await?;
    Ok(Exit::Done)
}
