//! `feishu-drive-server`: a local Feishu-compatible drive media-upload server.
//!
//! ```sh
//! cargo run -p feishu-drive-server -- --addr 127.0.0.1:8787 --app-id cli_local --app-secret local-secret
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use feishu_drive_server::{
    Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_BLOCK_SIZE, Faults, Operation, RateLimitStyle, Server,
};

/// A local Feishu-compatible drive media-upload server: tenant tokens, upload_prepare /
/// upload_part / upload_finish, upload_all and download, with the documented checks and error
/// codes, and optional faults. Any bearer token `u-<name>` is accepted as the user `<name>`.
#[derive(Debug, Parser)]
#[command(name = "feishu-drive-server", version)]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// The app id the token endpoint accepts.
    #[arg(long, default_value = DEFAULT_APP_ID)]
    app_id: String,
    /// The app secret the token endpoint accepts.
    #[arg(long, default_value = DEFAULT_APP_SECRET)]
    app_secret: String,
    /// Keep uploaded bytes here (finished files survive a restart). Default: a temporary
    /// directory, deleted on exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Block size handed out by upload_prepare, in bytes.
    #[arg(long, default_value_t = DEFAULT_BLOCK_SIZE)]
    block_size: u64,
    /// Seconds an upload id stays valid.
    #[arg(long, default_value_t = 24 * 60 * 60)]
    upload_ttl_secs: u64,
    /// Seconds a tenant token stays valid.
    #[arg(long, default_value_t = 7200)]
    token_ttl_secs: u64,
    /// Refuse `u-<name>` user tokens.
    #[arg(long)]
    no_user_tokens: bool,
    /// Parent nodes starting with this "do not exist" (1061044); empty for none.
    #[arg(long, default_value = "missing")]
    missing_parent_prefix: String,
    /// Fraction of faulted requests answered with a retryable code (1061045/1061001/1061006).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Fraction of faulted requests whose connection is dropped mid-request.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Operations the two rates apply to (repeatable).
    #[arg(long = "fault-on", value_enum, default_values_t = [Op::UploadPart])]
    fault_on: Vec<Op>,
    /// Milliseconds added to every media request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Per-app requests per second to each media endpoint (Feishu: 5); unlimited if absent.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// How requests beyond the rate limit are answered.
    #[arg(long, value_enum, default_value_t = Style::Gateway)]
    rate_limit_style: Style,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Op {
    Token,
    UploadPrepare,
    UploadPart,
    UploadFinish,
    UploadAll,
    Download,
}

impl From<Op> for Operation {
    fn from(op: Op) -> Self {
        match op {
            Op::Token => Operation::TenantAccessToken,
            Op::UploadPrepare => Operation::UploadPrepare,
            Op::UploadPart => Operation::UploadPart,
            Op::UploadFinish => Operation::UploadFinish,
            Op::UploadAll => Operation::UploadAll,
            Op::Download => Operation::Download,
        }
    }
}

/// `gateway`: HTTP 429, code 99991400, x-ogw-ratelimit-* headers; `can-retry`: HTTP 200, 1061045.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Style {
    Gateway,
    CanRetry,
}

impl Args {
    fn config(self) -> Config {
        let mut faults = Faults::default()
            .retryable_errors(self.fail_rate)
            .dropped_connections(self.drop_rate)
            .on(self.fault_on.into_iter().map(Operation::from))
            .latency(Duration::from_millis(self.latency_ms))
            .seed(self.seed);
        if let Some(qps) = self.rate_limit {
            let style = match self.rate_limit_style {
                Style::Gateway => RateLimitStyle::Gateway,
                Style::CanRetry => RateLimitStyle::CanRetry,
            };
            faults = faults.rate_limit(qps, style);
        }
        let mut config = Config::default()
            .addr(self.addr)
            .app(self.app_id, self.app_secret)
            .block_size(self.block_size)
            .upload_ttl(Duration::from_secs(self.upload_ttl_secs))
            .token_ttl(Duration::from_secs(self.token_ttl_secs))
            .faults(faults);
        config.accept_user_tokens = !self.no_user_tokens;
        config.missing_parent_prefix = Some(self.missing_parent_prefix).filter(|p| !p.is_empty());
        config.data_dir = self.data_dir;
        config
    }
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
    let args = Args::parse();
    let (app_id, app_secret) = (args.app_id.clone(), args.app_secret.clone());
    let server = Server::start(args.config())
        .await
        .context("starting the server")?;
    println!("feishu-drive-server listening on {}", server.base_url());
    println!(
        "  app id {app_id}, app secret {app_secret}; data in {}",
        server.data_dir().display()
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    eprintln!("shutting down");
    server.shutdown().await.context("shutting down")?;
    Ok(())
}
