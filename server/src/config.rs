//! What a server is started with: credentials, limits, where the bytes go, and which faults to
//! inject.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The app id of [`Config::default`].
pub const DEFAULT_APP_ID: &str = "cli_local";
/// The app secret of [`Config::default`].
pub const DEFAULT_APP_SECRET: &str = "local-secret";
/// The block size Feishu hands out in `upload_prepare` (4 MiB).
pub const DEFAULT_BLOCK_SIZE: u64 = 4 * 1024 * 1024;
/// The most `upload_all` takes: 20 MiB (20971520 bytes), as the spec documents.
pub const UPLOAD_ALL_LIMIT: u64 = 20 * 1024 * 1024;
/// How long an upload id stays valid: the docs promise 24 hours.
pub const DEFAULT_UPLOAD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a tenant token lives: Feishu's `expire` is 7200 seconds.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// Feishu's documented per-app limit of the upload endpoints.
pub const FEISHU_REQUESTS_PER_SECOND: u32 = 5;

/// A server's configuration. [`Config::default`] is a server anyone can try: one app
/// (`cli_local` / `local-secret`), 4 MiB blocks, 24 h upload ids, a temporary data directory that
/// is deleted on shutdown, and no faults.
///
/// ```
/// use std::time::Duration;
/// use feishu_drive_server::{Config, Faults};
///
/// let config = Config::default()
///     .block_size(64 * 1024)
///     .upload_ttl(Duration::from_secs(60))
///     .faults(Faults::default().retryable_errors(0.2).seed(7));
/// assert_eq!(config.block_size, 65536);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port; [`RunningServer::addr`](crate::RunningServer::addr)
    /// tells which. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// The apps whose credentials the token endpoint accepts. Each tenant token acts as its app.
    pub apps: Vec<AppCredentials>,
    /// Whether any bearer token `u-<name>` (non-empty name) is accepted as the user `<name>`,
    /// standing in for a `user_access_token` without an OAuth flow. Default `true`.
    pub accept_user_tokens: bool,
    /// Where uploaded bytes are kept. `None` (the default) makes a temporary directory that is
    /// deleted when the server is dropped; a given directory is kept, and the files finished in it
    /// can be downloaded again after a restart.
    pub data_dir: Option<PathBuf>,
    /// The block size `upload_prepare` hands out; every part but the last has exactly this size.
    pub block_size: u64,
    /// The largest file `upload_all` takes (answered with 1061043 beyond it).
    pub upload_all_limit: u64,
    /// How long an upload id is valid after `upload_prepare` (1061021 after that).
    pub upload_ttl: Duration,
    /// How long a tenant token is valid (99991668 after that).
    pub token_ttl: Duration,
    /// Parent nodes starting with this prefix "do not exist" (1061044). Default `Some("missing")`.
    pub missing_parent_prefix: Option<String>,
    /// Parent nodes that "do not exist" (1061044), besides those with the prefix above.
    pub missing_parents: BTreeSet<String>,
    /// Faults to inject. Default: none.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            apps: vec![AppCredentials::new(DEFAULT_APP_ID, DEFAULT_APP_SECRET)],
            accept_user_tokens: true,
            data_dir: None,
            block_size: DEFAULT_BLOCK_SIZE,
            upload_all_limit: UPLOAD_ALL_LIMIT,
            upload_ttl: DEFAULT_UPLOAD_TTL,
            token_ttl: DEFAULT_TOKEN_TTL,
            missing_parent_prefix: Some("missing".to_owned()),
            missing_parents: BTreeSet::new(),
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Accepts only this app's credentials (replacing the default app).
    pub fn app(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.apps = vec![AppCredentials::new(app_id, app_secret)];
        self
    }

    /// Accepts this app's credentials too, for example a second app to provoke 1062007.
    pub fn add_app(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.apps.push(AppCredentials::new(app_id, app_secret));
        self
    }

    /// Keeps the bytes in `dir` instead of a temporary directory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Hands out blocks of `bytes` (tests use small blocks to stay fast).
    pub fn block_size(mut self, bytes: u64) -> Self {
        self.block_size = bytes;
        self
    }

    /// Caps `upload_all` at `bytes`.
    pub fn upload_all_limit(mut self, bytes: u64) -> Self {
        self.upload_all_limit = bytes;
        self
    }

    /// Upload ids expire `ttl` after `upload_prepare`.
    pub fn upload_ttl(mut self, ttl: Duration) -> Self {
        self.upload_ttl = ttl;
        self
    }

    /// Tenant tokens expire `ttl` after they are issued.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Makes `parent_node` "not exist" (1061044).
    pub fn missing_parent(mut self, parent_node: impl Into<String>) -> Self {
        self.missing_parents.insert(parent_node.into());
        self
    }

    /// Injects these faults.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Whether `parent_node` is configured not to exist.
    pub(crate) fn parent_is_missing(&self, parent_node: &str) -> bool {
        self.missing_parents.contains(parent_node)
            || self
                .missing_parent_prefix
                .as_deref()
                .is_some_and(|prefix| parent_node.starts_with(prefix))
    }
}

/// An app the token endpoint knows: `app_id` and `app_secret` get a tenant token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppCredentials {
    /// The app id, e.g. `cli_local`.
    pub app_id: String,
    /// The app secret.
    pub app_secret: String,
}

impl AppCredentials {
    /// An app with these credentials.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
        }
    }
}

/// An operation of the API, to say which ones a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /open-apis/auth/v3/tenant_access_token/internal`.
    TenantAccessToken,
    /// `POST …/medias/upload_prepare`.
    UploadPrepare,
    /// `POST …/medias/upload_part`.
    UploadPart,
    /// `POST …/medias/upload_finish`.
    UploadFinish,
    /// `POST …/medias/upload_all`.
    UploadAll,
    /// `GET …/medias/{file_token}/download`.
    Download,
}

/// Faults the server injects, to exercise a client's retries. Random choices come from an RNG
/// seeded with [`Faults::seed`], so a run with the same requests in the same order is repeatable.
#[derive(Clone, Debug)]
pub struct Faults {
    /// The fraction (0.0–1.0) of requests to [`Faults::operations`] answered with one of the
    /// retryable codes 1061045, 1061001 or 1061006 (HTTP 200, as documented) instead of being
    /// served. The request body is read first, as a real server would.
    pub retryable_error_rate: f64,
    /// The fraction (0.0–1.0) of requests to [`Faults::operations`] whose connection is dropped
    /// after the first chunk of the body arrives, with no response.
    pub drop_connection_rate: f64,
    /// Which operations the two rates above apply to. Default: `upload_part` only.
    pub operations: BTreeSet<Operation>,
    /// Added to every request to the media endpoints before it is served.
    pub latency: Duration,
    /// A per-app limit of requests per second to each media endpoint, like Feishu's.
    pub rate_limit: Option<RateLimit>,
    /// The seed of the fault RNG.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            retryable_error_rate: 0.0,
            drop_connection_rate: 0.0,
            operations: BTreeSet::from([Operation::UploadPart]),
            latency: Duration::ZERO,
            rate_limit: None,
            seed: 0,
        }
    }
}

impl Faults {
    /// Answers this fraction of requests with a retryable code.
    pub fn retryable_errors(mut self, rate: f64) -> Self {
        self.retryable_error_rate = rate;
        self
    }

    /// Drops the connection of this fraction of requests mid-request.
    pub fn dropped_connections(mut self, rate: f64) -> Self {
        self.drop_connection_rate = rate;
        self
    }

    /// Applies the two rates to these operations instead of `upload_part` alone.
    pub fn on(mut self, operations: impl IntoIterator<Item = Operation>) -> Self {
        self.operations = operations.into_iter().collect();
        self
    }

    /// Delays every media request by `latency`.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Limits each app to `requests_per_second` per media endpoint, answered in `style`.
    pub fn rate_limit(mut self, requests_per_second: u32, style: RateLimitStyle) -> Self {
        self.rate_limit = Some(RateLimit {
            requests_per_second,
            style,
        });
        self
    }

    /// Seeds the fault RNG.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// A request-rate limit, counted per app (per user for user tokens) and per operation over
/// one-second windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in each one-second window.
    pub requests_per_second: u32,
    /// How requests beyond the limit are answered.
    pub style: RateLimitStyle,
}

/// How a request beyond the rate limit is answered; Feishu documents both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RateLimitStyle {
    /// The gateway's answer: HTTP 429, code 99991400, and the headers `x-ogw-ratelimit-limit`
    /// and `x-ogw-ratelimit-reset` (seconds until the window resets).
    #[default]
    Gateway,
    /// The upload endpoints' answer: HTTP 200 with code 1061045 ("can retry").
    CanRetry,
}
