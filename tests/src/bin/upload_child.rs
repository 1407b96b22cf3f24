//! A process that uploads one file with a journal, for the kill -9 resume test.
//!
//! `upload-child BASE_URL FILE JOURNAL CONCURRENCY` prints `file_token: <token>` on success.

use feishu_drive::auth::AppCredentials;
use feishu_drive::upload::{UploadRequest, Uploader};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, base_url, file, journal, concurrency] = args.as_slice() else {
        eprintln!("usage: upload-child BASE_URL FILE JOURNAL CONCURRENCY");
        return std::process::ExitCode::from(2);
    };
    let Ok(concurrency) = concurrency.parse() else {
        eprintln!("CONCURRENCY must be a positive integer");
        return std::process::ExitCode::from(2);
    };
    let credentials = AppCredentials::new(base_url, "cli_local", "local-secret");
    let uploader = match Uploader::builder(base_url.as_str())
        .credentials(credentials)
        .concurrency(concurrency)
        .requests_per_second(None)
        .upload_all_max(0)
        .build()
    {
        Ok(uploader) => uploader,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match uploader
        .upload(UploadRequest::file(file, "docx_file", "doxcnKillTest").journal(journal))
        .await
    {
        Ok(outcome) => {
            println!(
                "blocks_sent: {} blocks_resumed: {}",
                outcome.blocks_sent, outcome.blocks_resumed
            );
            println!("file_token: {}", outcome.file_token);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
