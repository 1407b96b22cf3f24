//! The client's schedules and timeouts, on tokio's paused clock so that minutes pass at once and
//! nothing depends on how loaded the machine is: the token refresh 25 minutes before expiry and
//! 15 s after a failed refresh, the 10 s connect and 30 s stall timeout defaults.
//!
//! The clock is paused only between requests (`skip`): a paused clock jumps to the next timer
//! whenever the runtime waits for I/O, so requests run on the unpaused clock, while the tests of
//! the timeouts, which wait for nothing but those timers, start paused.

use crate::kit::upload as upload_support;
use crate::kit::wire as wire_support;

use std::time::Duration;

use feishu_drive::auth::{AppCredentials, TokenSource};
use feishu_drive::upload::{RetryPolicy, UploadError, UploadRequest};
use feishu_drive::{ApiError, CONNECT_TIMEOUT, DEFAULT_STALL_TIMEOUT};
use feishu_drive_server::{
    Config, DEFAULT_APP_ID, DEFAULT_APP_SECRET, FaultKind, FaultRule, Operation, Server,
};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use upload_support::default_uploader;
use wire_support::Proxy;

const TOKEN: &str = "tenant_access_token/internal";

/// Lets `by` pass on tokio's clock at once.
async fn skip(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

fn no_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 0,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    }
}

/// The server's tokens live this long (Feishu's: 2 hours).
const LIFETIME: Duration = Duration::from_secs(7200);
/// The README's figures, written here rather than read from the client.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(25 * 60);
const RETRY_AFTER_FAILED_REFRESH: Duration = Duration::from_secs(15);
const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn the_token_is_refreshed_25_minutes_before_it_expires() {
    let server = Server::start(Config::default().token_ttl(LIFETIME))
        .await
        .expect("server");
    let proxy = Proxy::start(&server.base_url()).await;
    let credentials =
        AppCredentials::new(&proxy.base_url, DEFAULT_APP_ID, DEFAULT_APP_SECRET).retry_policy(no_retries());
    let fetches = || proxy.to(TOKEN).len();
    let first = credentials.token().await.expect("a token");
    assert_eq!(fetches(), 1);

    skip(LIFETIME - REFRESH_BEFORE_EXPIRY - SECOND).await;
    let cached = credentials.token().await.expect("the cached token");
    assert_eq!(cached.expose(), first.expose());
    assert_eq!(fetches(), 1, "no refresh a second before the refresh point");

    skip(2 * SECOND).await;
    credentials.token().await.expect("a refreshed token");
    assert_eq!(fetches(), 2, "refreshed a second after it");
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_cached_token_and_is_tried_again_15_s_later() {
    let server = Server::start(Config::default().token_ttl(LIFETIME))
        .await
        .expect("server");
    let proxy = Proxy::start(&server.base_url()).await;
    let credentials =
        AppCredentials::new(&proxy.base_url, DEFAULT_APP_ID, DEFAULT_APP_SECRET).retry_policy(no_retries());
    let fetches = || proxy.to(TOKEN).len();
    let first = credentials.token().await.expect("a token");

    server.add_fault(FaultRule::new(FaultKind::Html(503), [Operation::TenantAccessTokenInternal]).first(1));
    skip(LIFETIME - REFRESH_BEFORE_EXPIRY + SECOND).await;
    let kept = credentials
        .token()
        .await
        .expect("the refresh failed, the cached token is still valid");
    assert_eq!(kept.expose(), first.expose());
    assert_eq!(fetches(), 2, "the refresh was tried");

    skip(RETRY_AFTER_FAILED_REFRESH - SECOND).await;
    credentials.token().await.expect("the cached token");
    assert_eq!(fetches(), 2, "not tried again within 15 s");

    skip(2 * SECOND).await;
    credentials.token().await.expect("a refreshed token");
    assert_eq!(fetches(), 3, "tried again after 15 s");
    assert_eq!(server.stats().foreign_failures, 1, "{:?}", server.stats());
}

/// Five bytes: one `upload_all`.
fn hello() -> UploadRequest {
    UploadRequest::reader(&b"hello"[..], 5, "a.txt", "docx_file", "doxcn1")
}

/// How long the upload took on tokio's clock, and its error.
async fn failing_upload(
    base_url: &str,
    configure: impl FnOnce(feishu_drive::ClientBuilder) -> feishu_drive::ClientBuilder,
) -> (Duration, ApiError) {
    let uploader = default_uploader(base_url, |b| configure(b.retry_policy(no_retries())));
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(3600), uploader.upload(hello()))
        .await
        .expect("a timeout ends the upload, not the test's bound");
    let elapsed = started.elapsed();
    match result {
        Err(UploadError::Api { source, .. }) => (elapsed, source),
        other => panic!("expected a failed request, got {other:?}"),
    }
}

/// A listener whose accept queue is full: a connection to it is never established (Linux drops
/// the SYN), which only the connect timeout ends.
fn unconnectable() -> (tokio::net::TcpListener, std::net::TcpStream, String) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("a loopback port");
    let listener = socket.listen(0).expect("listening with no backlog");
    let addr = listener.local_addr().expect("an address");
    // The one connection a backlog of 0 holds, never accepted.
    let filler = std::net::TcpStream::connect(addr).expect("the first connection is queued");
    (listener, filler, format!("http://{addr}"))
}

#[tokio::test(start_paused = true)]
async fn the_connect_timeout_defaults_to_10_s() {
    assert_eq!(CONNECT_TIMEOUT, Duration::from_secs(10), "the README's figure");
    let (_listener, _filler, base_url) = unconnectable();
    let (elapsed, error) = failing_upload(&base_url, |b| b).await;
    assert!(
        matches!(&error, ApiError::Transport(e) if e.is_connect() || e.is_timeout()),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(10) && elapsed < Duration::from_secs(11),
        "the connection was given up after {elapsed:?}"
    );

    let (elapsed, _) = failing_upload(&base_url, |b| b.connect_timeout(Duration::from_secs(3))).await;
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(4),
        "a configured connect timeout is used: {elapsed:?}"
    );
}

/// Accepts connections and reads what comes, but never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 64 * 1024];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    base_url
}

#[tokio::test(start_paused = true)]
async fn the_stall_timeout_defaults_to_30_s() {
    assert_eq!(
        DEFAULT_STALL_TIMEOUT,
        Duration::from_secs(30),
        "the README's figure"
    );
    let base_url = silent_server().await;
    let (elapsed, error) = failing_upload(&base_url, |b| b).await;
    assert!(matches!(error, ApiError::Stalled { .. }), "{error:?}");
    assert!(
        elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(31),
        "stalled after {elapsed:?}"
    );

    let (elapsed, error) = failing_upload(&base_url, |b| b.stall_timeout(Duration::from_secs(5))).await;
    assert!(matches!(error, ApiError::Stalled { .. }), "{error:?}");
    assert!(
        elapsed >= Duration::from_secs(5) && elapsed < Duration::from_secs(6),
        "a configured stall timeout is used: {elapsed:?}"
    );
}
