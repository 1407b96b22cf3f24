//! What a server is started with: credentials, limits, where the bytes go, and which faults to
//! inject.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use feishu_drive::limits;

/// The app id of [`Config::default`].
pub const DEFAULT_APP_ID: &str = "cli_local";
/// The app secret of [`Config::default`].
pub const DEFAULT_APP_SECRET: &str = "local-secret";
/// The block size Feishu hands out in `upload_prepare` (4 MiB, the spec's `x-feishu-limits`).
pub const DEFAULT_BLOCK_SIZE: u64 = limits::BLOCK_SIZE;
/// The most `upload_all` takes: 20 MiB (20971520 bytes), the spec's `maximum` of its `size`.
pub const UPLOAD_ALL_LIMIT: u64 = limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM;
/// How long an upload id stays valid: the docs promise 24 hours.
pub const DEFAULT_UPLOAD_TTL: Duration = limits::UPLOAD_ID_LIFETIME;
/// How long a tenant token lives: Feishu's `expire` is 7200 seconds.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// Feishu's documented per-app limit of the upload endpoints.
pub const FEISHU_REQUESTS_PER_SECOND: u32 = limits::REQUESTS_PER_SECOND;

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
    /// Limits that keep the server safe to run on a real machine: idle body reads, connections
    /// and uploads in flight.
    pub limits: Limits,
    /// The Drive's documented node limits (folder size, depth, total nodes).
    pub drive_limits: DriveLimits,
}

/// Drive's documented limits on the folder tree (the create_folder and upload doc pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DriveLimits {
    /// Nodes (files and folders) one folder, or the root, holds: 1500 (1062507 beyond).
    pub max_children: usize,
    /// How deep folders nest: 15 (1062506 beyond).
    pub max_depth: u32,
    /// Nodes in the whole drive: 400,000 (1062505 beyond).
    pub max_nodes: usize,
}

impl Default for DriveLimits {
    /// The documented limits (the spec's `x-feishu-limits`).
    fn default() -> Self {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            max_children: count(limits::FOLDER_CHILDREN),
            max_depth: u32::try_from(limits::FOLDER_DEPTH).unwrap_or(u32::MAX),
            max_nodes: count(limits::DRIVE_NODES),
        }
    }
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
            limits: Limits::default(),
            drive_limits: DriveLimits::default(),
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

    /// Applies these limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Applies these Drive limits (small ones make the limits cheap to test).
    pub fn drive_limits(mut self, limits: DriveLimits) -> Self {
        self.drive_limits = limits;
        self
    }

    /// Refuses values that cannot work (rather than panic later on them).
    pub(crate) fn validate(&self) -> Result<(), crate::ServerError> {
        let invalid = |what: String| Err(crate::ServerError::InvalidConfig(what));
        if self.block_size == 0 {
            return invalid("block_size must be at least 1".to_owned());
        }
        let f = &self.faults;
        let rates = [
            ("retryable_error_rate", f.retryable_error_rate),
            ("drop_connection_rate", f.drop_connection_rate),
        ]
        .into_iter()
        .chain(f.rules.iter().map(|r| ("a fault rule's rate", r.rate)));
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return invalid(format!("{name} must be within 0.0–1.0, not {rate}"));
            }
        }
        for rule in &f.rules {
            if let FaultKind::Html(status) | FaultKind::PlainText(status) = rule.kind
                && !(100..=599).contains(&status)
            {
                return invalid(format!("HTTP status {status} of a fault rule is not 100–599"));
            }
        }
        if f.daily_quota.is_some_and(|q| q.day.as_secs() == 0) {
            return invalid("the quota day must be at least a second".to_owned());
        }
        let l = &self.limits;
        if l.max_connections == 0 || l.max_uploads_in_flight == 0 {
            return invalid("max_connections and max_uploads_in_flight must be at least 1".to_owned());
        }
        if l.max_uploads_in_flight > tokio::sync::Semaphore::MAX_PERMITS
            || l.max_connections > tokio::sync::Semaphore::MAX_PERMITS
        {
            return invalid(format!(
                "max_connections and max_uploads_in_flight must be at most {}",
                tokio::sync::Semaphore::MAX_PERMITS
            ));
        }
        if l.body_idle_timeout.is_zero() || l.header_timeout.is_zero() {
            return invalid("body_idle_timeout and header_timeout must not be zero".to_owned());
        }
        Ok(())
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

/// An operation of the API, to say which ones a fault applies to: the generated operation
/// table's id (one variant per `operationId` of the spec).
pub use feishu_drive::operations::OperationId as Operation;

/// Faults the server injects, to exercise a client's retries. Random choices come from an RNG
/// seeded with [`Faults::seed`], so a run with the same requests in the same order is repeatable;
/// [`FaultRule::first`] counts make a fault hit an exact request whatever the order.
///
/// ```
/// use feishu_drive_server::{FaultKind, FaultRule, Faults, Operation};
///
/// // The first upload_finish is handled, then its answer is lost; one upload_part in ten meets
/// // a proxy's HTML 502 page.
/// let faults = Faults::default()
///     .rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1))
///     .rule(FaultRule::new(FaultKind::Html(502), [Operation::UploadPart]).rate(0.1))
///     .seed(7);
/// assert_eq!(faults.rules.len(), 2);
/// ```
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
    /// A per-app limit of calls per day to each media endpoint (Feishu: 10,000).
    pub daily_quota: Option<Quota>,
    /// More faults, checked in order before the request reaches the endpoint; the first that
    /// fires decides. See [`FaultKind`].
    pub rules: Vec<FaultRule>,
    /// A slow link: request bodies are read, and download bodies sent, at about this many bytes
    /// per second. `None`: as fast as the machine goes.
    pub link_bytes_per_second: Option<u64>,
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
            daily_quota: None,
            rules: Vec::new(),
            link_bytes_per_second: None,
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

    /// Limits each app to `calls` per day per media endpoint (see [`Quota`]).
    pub fn daily_quota(mut self, calls: u64) -> Self {
        self.daily_quota = Some(Quota::per_day(calls));
        self
    }

    /// Adds a fault rule (after those already there).
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// A slow link of `bytes_per_second` both ways.
    pub fn slow_link(mut self, bytes_per_second: u64) -> Self {
        self.link_bytes_per_second = Some(bytes_per_second);
        self
    }

    /// Seeds the fault RNG.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// One kind of fault a [`FaultRule`] injects. The failures that are not Feishu JSON are what a
/// proxy or load balancer in front of Feishu answers; the rest are Feishu's own answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// The request is handled in full (a part stored, an upload finished, a file stored), then
    /// the connection is closed without an answer: the client cannot tell whether it happened.
    LoseResponse,
    /// The connection is closed after the first chunk of the body arrives, before the request is
    /// handled.
    DropRequest,
    /// An HTML error page with this HTTP status (500, 502, 503…), `Content-Type: text/html`, as
    /// a proxy sends it. The request is not handled.
    Html(u16),
    /// A `text/plain` body with this HTTP status (a 5xx). The request is not handled.
    PlainText(u16),
    /// HTTP 429 with an empty body and none of the gateway's rate-limit headers.
    Empty429,
    /// A JSON error envelope with HTTP 200, one of the table's codes documented with 200
    /// (1061001, 1061006, 1061045; all retryable). The request is not handled.
    Envelope200,
    /// A JSON error envelope with HTTP 202, one of the table's 202 rows (1062004 cover
    /// generating, 1062005 file type not support cover, 1062006 cover no exist).
    Accepted202,
    /// A refusal of the credentials: 10014 (app secret invalid, HTTP 400) or 99991543
    /// (app_id or app_secret wrong, HTTP 400). Meant for the token endpoint.
    RefuseCredentials,
    /// The request waits this long before it is handled (a slow answer).
    Delay(Duration),
}

/// The kind as `--fault` spells it: `lose-response`, `html-502`, `delay-50`…
impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultKind::LoseResponse => f.write_str("lose-response"),
            FaultKind::DropRequest => f.write_str("drop-request"),
            FaultKind::Html(status) => write!(f, "html-{status}"),
            FaultKind::PlainText(status) => write!(f, "text-{status}"),
            FaultKind::Empty429 => f.write_str("empty-429"),
            FaultKind::Envelope200 => f.write_str("json-200"),
            FaultKind::Accepted202 => f.write_str("json-202"),
            FaultKind::RefuseCredentials => f.write_str("refuse-credentials"),
            FaultKind::Delay(delay) => write!(f, "delay-{}", delay.as_millis()),
        }
    }
}

/// Which requests a [`FaultKind`] hits: the first [`FaultRule::first`] requests to its
/// operations, then each with probability [`FaultRule::rate`].
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// What happens to a request it hits.
    pub kind: FaultKind,
    /// The operations it applies to.
    pub operations: BTreeSet<Operation>,
    /// It hits the first this many requests to its operations (counted from when the server
    /// starts, or from when the rule is added with
    /// [`RunningServer::add_fault`](crate::RunningServer::add_fault)).
    pub first: u64,
    /// After those, it hits each request with this probability (0.0–1.0).
    pub rate: f64,
}

impl FaultRule {
    /// A rule that hits nothing yet: set [`FaultRule::first`] or [`FaultRule::rate`].
    pub fn new(kind: FaultKind, operations: impl IntoIterator<Item = Operation>) -> Self {
        Self {
            kind,
            operations: operations.into_iter().collect(),
            first: 0,
            rate: 0.0,
        }
    }

    /// Hits the first `count` requests.
    pub fn first(mut self, count: u64) -> Self {
        self.first = count;
        self
    }

    /// Hits requests with probability `rate` (after the first ones).
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }
}

/// A request-rate limit, counted per app and per operation over one-second windows. A user
/// token counts against its app: ten user names share the app's limit.
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

/// A call quota per app and per operation over fixed "days". Feishu documents 10,000 calls a
/// day for each media endpoint but neither the day's boundary nor the answer; this server's
/// days start at multiples of [`Quota::day`] since the Unix epoch (UTC midnight for 24 h), and a
/// call over the quota is answered with HTTP 429, code 99991403
/// ([`feishu_drive::ErrorCode::ApiCallQuotaExceeded`], a row with third-party evidence) and the gateway's
/// `x-ogw-ratelimit-limit` (the quota) and `x-ogw-ratelimit-reset` (seconds until the day ends)
/// headers. Every authenticated call that passes the rate limit counts, failed or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Calls allowed per app, per operation, per day.
    pub calls: u64,
    /// The length of a quota day (24 h; shorter for experiments).
    pub day: Duration,
}

impl Quota {
    /// `calls` per 24-hour day starting at UTC midnight.
    pub fn per_day(calls: u64) -> Self {
        Self {
            calls,
            day: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Bounds that keep a server from being held by slow or stalled clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A request body that sends nothing for this long has its connection closed (the request is
    /// not handled). Default 60 s.
    pub body_idle_timeout: Duration,
    /// A client that takes longer than this to send a request's headers has its connection
    /// closed. Default 30 s.
    pub header_timeout: Duration,
    /// Connections open at once; one more is answered with HTTP 503 and closed. Default 1024.
    pub max_connections: usize,
    /// `upload_part` and `upload_all` bodies being received at once; one more is answered with
    /// 1061045 (can retry) without reading its body. Default 256.
    pub max_uploads_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_idle_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_uploads_in_flight: 256,
        }
    }
}

impl Limits {
    /// Closes connections whose request body is idle for `timeout`.
    pub fn body_idle_timeout(mut self, timeout: Duration) -> Self {
        self.body_idle_timeout = timeout;
        self
    }

    /// Closes connections that take longer than `timeout` to send a request's headers.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Serves at most `count` connections at once.
    pub fn max_connections(mut self, count: usize) -> Self {
        self.max_connections = count;
        self
    }

    /// Receives at most `count` upload bodies at once.
    pub fn max_uploads_in_flight(mut self, count: usize) -> Self {
        self.max_uploads_in_flight = count;
        self
    }
}
