//! The server's command-line flags, as a clap [`Args`] definition that `feishu-drive-server`
//! and the `feishu-drive serve` subcommand of the CLI both flatten.
//!
//! ```
//! use clap::Parser;
//! use feishu_drive_server::cli::ServeArgs;
//!
//! #[derive(Parser)]
//! struct Command {
//!     #[command(flatten)]
//!     serve: ServeArgs,
//! }
//!
//! let command = Command::parse_from(["serve", "--block-size", "65536", "--fault-on", "token"]);
//! let config = command.serve.config();
//! assert_eq!(config.block_size, 65536);
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::{
    Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_BLOCK_SIZE, FaultKind, FaultRule, Faults, Limits,
    Operation, Quota, RateLimitStyle, RunningServer,
};

/// The flags of the local server, shared by `feishu-drive-server` and `feishu-drive serve`:
/// both flatten this one definition, so the two commands cannot drift apart.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// The app id the token endpoint accepts.
    #[arg(long, default_value = DEFAULT_APP_ID)]
    app_id: String,
    /// The app secret the token endpoint accepts.
    #[arg(long, default_value = DEFAULT_APP_SECRET)]
    app_secret: String,
    /// Keep uploaded bytes here (finished files survive a restart). It must be new, empty, or
    /// made by an earlier run (it then holds a `.feishu-drive-server` marker); any other
    /// directory is refused. Default: a temporary directory, deleted on exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Block size handed out by upload_prepare, in bytes.
    #[arg(long, default_value_t = DEFAULT_BLOCK_SIZE, value_parser = clap::value_parser!(u64).range(1..))]
    block_size: u64,
    /// Seconds an upload id stays valid.
    #[arg(long, default_value_t = crate::DEFAULT_UPLOAD_TTL.as_secs())]
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
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    fail_rate: f64,
    /// Fraction of faulted requests whose connection is dropped mid-request.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    drop_rate: f64,
    /// Operations the two rates apply to (repeatable; default: upload-part). An operation is
    /// named by its operation id with `-` for `_` (upload-part, file-upload-part, list-files…),
    /// or `token` for the token endpoint.
    #[arg(long = "fault-on", value_parser = operation)]
    fault_on: Vec<Operation>,
    /// Milliseconds added to every media request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Per-app requests per second to each media endpoint (Feishu: 5); unlimited if absent.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: Option<u32>,
    /// How requests beyond the rate limit are answered.
    #[arg(long, value_enum, default_value_t = Style::Gateway)]
    rate_limit_style: Style,
    /// Per-app calls per day to each media endpoint (Feishu: 10000); unlimited if absent. Over
    /// it: HTTP 429, code 99991403, x-ogw-ratelimit-reset = seconds until the day ends.
    #[arg(long)]
    daily_quota: Option<u64>,
    /// Length of a quota day in seconds; days start at multiples of it since the Unix epoch
    /// (86400: UTC midnight).
    #[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    quota_day_secs: u64,
    /// A fault rule (repeatable): `KIND:OPS[:first=N][:rate=R]`. KIND is lose-response,
    /// drop-request, html-NNN, text-NNN, empty-429, json-200, json-202, refuse-credentials or
    /// delay-MS; OPS a comma-separated list of operations named as for `--fault-on`
    /// (token, upload-part, file-upload-part…), or `all`. It hits the first N requests to OPS, then
    /// each with probability R. Example: `--fault lose-response:upload-finish:first=1`.
    #[arg(long = "fault", value_parser = fault_rule)]
    faults: Vec<FaultRule>,
    /// A slow link: read request bodies and send downloads at this many bytes per second.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    slow_link_bps: Option<u64>,
    /// Close a connection whose request body sends nothing for this many seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=YEAR_SECS))]
    body_idle_timeout_secs: u64,
    /// Close a connection that takes longer than this many seconds to send its headers.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=YEAR_SECS))]
    header_timeout_secs: u64,
    /// Connections served at once; more are answered with HTTP 503 and closed.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=MAX_PERMITS))]
    max_connections: u64,
    /// upload_part / upload_all bodies received at once; more get 1061045 (can retry).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=MAX_PERMITS))]
    max_uploads_in_flight: u64,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

const YEAR_SECS: u64 = 365 * 24 * 60 * 60;
/// The most permits a Tokio semaphore holds (`Semaphore::MAX_PERMITS`, `usize::MAX >> 3`), as
/// the bound of the two caps on any 64-bit target.
const MAX_PERMITS: u64 = u64::MAX >> 3;

/// A fraction within 0.0–1.0.
fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not within 0.0–1.0"))
    }
}

/// The name of the token endpoint on the command line (shorter than its operation id).
const TOKEN: &str = "token";

/// An operation's name on the command line: its operation id with `-` for `_`, or [`TOKEN`].
fn operation(name: &str) -> Result<Operation, String> {
    let spelled = |op: Operation| op.as_str().replace('_', "-");
    if name == TOKEN {
        return Ok(Operation::TenantAccessTokenInternal);
    }
    Operation::ALL
        .iter()
        .copied()
        .find(|&op| spelled(op) == name)
        .ok_or_else(|| {
            let known: Vec<String> = Operation::ALL.iter().map(|&op| spelled(op)).collect();
            format!("unknown operation {name:?}: one of {TOKEN}, {}", known.join(", "))
        })
}

/// `KIND:OPS[:first=N][:rate=R]`, see `--fault`.
fn fault_rule(text: &str) -> Result<FaultRule, String> {
    let mut pieces = text.split(':');
    let kind_text = pieces.next().unwrap_or_default();
    let status = |prefix: &str, range: std::ops::RangeInclusive<u16>| {
        kind_text
            .strip_prefix(prefix)
            .map(|n| {
                n.parse::<u16>()
                    .ok()
                    .filter(|s| range.contains(s))
                    .ok_or_else(|| format!("{kind_text}: the status must be within {range:?}"))
            })
            .transpose()
    };
    let kind = match kind_text {
        "lose-response" => FaultKind::LoseResponse,
        "drop-request" => FaultKind::DropRequest,
        "empty-429" => FaultKind::Empty429,
        "json-200" => FaultKind::Envelope200,
        "json-202" => FaultKind::Accepted202,
        "refuse-credentials" => FaultKind::RefuseCredentials,
        other => {
            if let Some(status) = status("html-", 400..=599)? {
                FaultKind::Html(status)
            } else if let Some(status) = status("text-", 400..=599)? {
                FaultKind::PlainText(status)
            } else if let Some(ms) = other.strip_prefix("delay-") {
                let ms: u64 = ms.parse().map_err(|e| format!("{other}: {e}"))?;
                FaultKind::Delay(Duration::from_millis(ms))
            } else {
                return Err(format!("unknown fault kind {other:?}"));
            }
        }
    };
    let ops_text = pieces
        .next()
        .ok_or("missing the operations: KIND:OPS[:first=N][:rate=R]")?;
    let operations: Vec<Operation> = if ops_text == "all" {
        Operation::ALL.to_vec()
    } else {
        ops_text.split(',').map(operation).collect::<Result<_, _>>()?
    };
    let mut rule = FaultRule::new(kind, operations);
    for piece in pieces {
        match piece.split_once('=') {
            Some(("first", n)) => rule.first = n.parse().map_err(|e| format!("first={n}: {e}"))?,
            Some(("rate", r)) => rule.rate = fraction(r)?,
            _ => return Err(format!("{piece:?}: expected first=N or rate=R")),
        }
    }
    if rule.first == 0 && rule.rate == 0.0 {
        return Err(format!("{text}: give first=N or rate=R, or it never fires"));
    }
    Ok(rule)
}

/// `gateway`: HTTP 429, code 99991400, x-ogw-ratelimit-* headers; `can-retry`: HTTP 200, 1061045.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Style {
    Gateway,
    CanRetry,
}

impl ServeArgs {
    /// The server [`Config`] these flags describe.
    pub fn config(&self) -> Config {
        let mut faults = Faults::default()
            .retryable_errors(self.fail_rate)
            .dropped_connections(self.drop_rate)
            .latency(Duration::from_millis(self.latency_ms))
            .seed(self.seed);
        if !self.fault_on.is_empty() {
            faults = faults.on(self.fault_on.iter().copied());
        }
        for rule in self.faults.iter().cloned() {
            faults = faults.rule(rule);
        }
        if let Some(calls) = self.daily_quota {
            faults.daily_quota = Some(Quota {
                calls,
                day: Duration::from_secs(self.quota_day_secs),
            });
        }
        faults.link_bytes_per_second = self.slow_link_bps;
        if let Some(qps) = self.rate_limit {
            let style = match self.rate_limit_style {
                Style::Gateway => RateLimitStyle::Gateway,
                Style::CanRetry => RateLimitStyle::CanRetry,
            };
            faults = faults.rate_limit(qps, style);
        }
        let mut config = Config::default()
            .addr(self.addr)
            .app(&self.app_id, &self.app_secret)
            .block_size(self.block_size)
            .upload_ttl(Duration::from_secs(self.upload_ttl_secs))
            .token_ttl(Duration::from_secs(self.token_ttl_secs))
            .faults(faults)
            .limits(
                Limits::default()
                    .body_idle_timeout(Duration::from_secs(self.body_idle_timeout_secs))
                    .header_timeout(Duration::from_secs(self.header_timeout_secs))
                    .max_connections(usize::try_from(self.max_connections).unwrap_or(usize::MAX))
                    .max_uploads_in_flight(usize::try_from(self.max_uploads_in_flight).unwrap_or(usize::MAX)),
            );
        config.accept_user_tokens = !self.no_user_tokens;
        config.missing_parent_prefix = Some(self.missing_parent_prefix.clone()).filter(|p| !p.is_empty());
        config.data_dir = self.data_dir.clone();
        config
    }

    /// What a started server prints, after the command's name: its URL, its app's credentials
    /// (the local, public ones: nothing secret), its data directory, and its root folder's token
    /// on a line of its own, so that a script can upload into it with no set-up.
    pub fn banner(&self, server: &RunningServer) -> String {
        format!(
            "listening on {}\n  app id {}, app secret {}; data in {}\nroot folder: {}",
            server.base_url(),
            self.app_id,
            self.app_secret,
            server.data_dir().display(),
            server.root_folder()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FaultKind`'s `Display` (what the soak prints) is the spelling `--fault` reads.
    #[test]
    fn every_fault_kind_prints_as_the_flag_spells_it() {
        for kind in [
            FaultKind::LoseResponse,
            FaultKind::DropRequest,
            FaultKind::Html(502),
            FaultKind::PlainText(503),
            FaultKind::Empty429,
            FaultKind::Envelope200,
            FaultKind::Accepted202,
            FaultKind::RefuseCredentials,
            FaultKind::Delay(Duration::from_millis(250)),
        ] {
            let rule = fault_rule(&format!("{kind}:upload-part:first=1")).expect("parses");
            assert_eq!(rule.kind, kind, "{kind}");
        }
    }
}
