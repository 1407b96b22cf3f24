//! `feishu-drive demo`: the whole round trip with no account and no second terminal. A local
//! server starts in this process, the files are uploaded to it as `upload` would (blocks,
//! budget, events), read back with `download`'s client, and compared byte for byte (SHA-256).

use std::path::Path;
use std::sync::Arc;

use feishu_drive::download::DownloadRequest;
use feishu_drive_server::{Config, Server};
use sha2::{Digest, Sha256};

use crate::args::{DemoArgs, UploadArgs};
use crate::config::{Credentials, Settings};
use crate::connect::{self, Connection, Transfer};
use crate::exit::{CliError, Exit};
use crate::output::Reporter;
use crate::signals::Interrupt;
use crate::upload;

/// Runs `demo`.
pub async fn run(args: &DemoArgs, reporter: Arc<Reporter>, interrupt: &Interrupt) -> Result<Exit, CliError> {
    let server = Server::start(Config::default()).await?;
    let base_url = server.base_url();
    reporter.say(format_args!(
        "demo: a local Feishu-compatible server runs in this process at {base_url} (gone when this command ends)"
    ));
    let settings = || Settings {
        base_url: base_url.clone(),
        credentials: Credentials::App {
            id: feishu_drive_server::DEFAULT_APP_ID.to_owned(),
            secret: feishu_drive_server::DEFAULT_APP_SECRET.to_owned(),
        },
        redis: None,
        rps: 0,
        note: None,
    };
    let upload_args = UploadArgs {
        paths: args.paths.clone(),
        folder: None,
        parent_type: Some("docx_file".to_owned()),
        parent_node: Some("doxcnDemo".to_owned()),
        journal: None,
        no_journal: true,
        concurrency: feishu_drive::upload::DEFAULT_CONCURRENCY as u64,
        if_exists: None,
        files: feishu_drive::batch::DEFAULT_FILES_IN_FLIGHT as u64,
        fail_fast: false,
        chunked_over: args.chunked_over,
        refuse_duplicates: false,
    };
    let (exit, uploaded) = upload::upload_with(settings(), &upload_args, reporter.clone(), interrupt).await?;
    if exit != Exit::Done {
        return Ok(exit);
    }
    let connection = Connection::open(settings(), Transfer::default(), reporter.clone())?;
    let dir = tempfile::tempdir().map_err(|source| CliError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut exit = Exit::Done;
    for (index, (path, token)) in uploaded.iter().enumerate() {
        let copy = dir.path().join(index.to_string());
        let request = DownloadRequest::to_file(token, &copy).cancel_on(interrupt.token().child_token());
        if let Err(error) = connection.client().download_media(request).await {
            let failure = connect::download_failure(&error);
            reporter.emit(&failure.event(path.display().to_string(), Some(token.clone())));
            exit = Exit::TransfersFailed;
            continue;
        }
        let (original, read_back) = (digest(path)?, digest(&copy)?);
        if original == read_back {
            reporter.say(format_args!(
                "verified: {} read back from {token}: {} bytes, sha256 {}",
                path.display(),
                original.0,
                original.1
            ));
        } else {
            reporter.say(format_args!(
                "MISMATCH: {} read back from {token} differs (sha256 {} vs {})",
                path.display(),
                read_back.1,
                original.1
            ));
            exit = Exit::TransfersFailed;
        }
    }
    server.shutdown().await?;
    Ok(exit)
}

/// A file's size and SHA-256 (hex).
fn digest(path: &Path) -> Result<(u64, String), CliError> {
    let io = |source| CliError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(io)?;
    let hex = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}
