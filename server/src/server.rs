//! Listening, serving connections, and stopping cleanly.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures::StreamExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::{Config, FaultRule};
use crate::conn::{ConnControl, throttled};
use crate::error::ServerError;
use crate::routes;
use crate::state::App;
use crate::stats::{Counters, ReceivedPart, Stats};

/// How long shutdown waits for requests in flight before closing their connections.
const GRACE: Duration = Duration::from_secs(5);
/// Timeouts beyond a year are a year: no configured value can overflow a timer.
const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Starts servers. See [`Server::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Server;

impl Server {
    /// Binds `config.addr` (port 0 picks a free port) and serves in the background until
    /// [`RunningServer::shutdown`] (or drop).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), feishu_drive_server::ServerError> {
    /// use feishu_drive_server::{Config, Server};
    ///
    /// let server = Server::start(Config::default()).await?;
    /// println!("try {}", server.base_url());
    /// server.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
        let addr = config.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Self::start_on(listener, config).await
    }

    /// Serves on a listener the caller bound (`config.addr` is ignored).
    pub async fn start_on(listener: TcpListener, config: Config) -> Result<RunningServer, ServerError> {
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
        let sweep_every = (config.upload_ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        // Opening the data directory reads and deletes files: blocking work, off the runtime.
        let base_url = format!("http://{addr}");
        let app = Arc::new(tokio::task::spawn_blocking(move || App::new(config, base_url)).await??);
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, app.clone(), stop.clone(), sweep_every));
        tracing::info!(
            %addr,
            data_dir = %app.storage.root().display(),
            root_folder = app.drive.root(),
            "feishu-drive-server listening"
        );
        Ok(RunningServer {
            addr,
            app,
            stop,
            task: Some(task),
        })
    }
}

/// A server serving in the background. Dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    app: Arc<App>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token of the Drive root folder: files can be uploaded into it (`parent_type`
    /// `explorer`, this as `parent_node`) and folders made in it by anyone. A kept data
    /// directory keeps its root folder across restarts.
    pub fn root_folder(&self) -> &str {
        self.app.drive.root()
    }

    /// The upload bodies received so far (`upload_part` and `upload_all` of both families), the
    /// newest 16,384, oldest first: what each carried, before any check. For example, whether
    /// every part came with its `checksum`.
    pub fn received_parts(&self) -> Vec<ReceivedPart> {
        self.app.received.snapshot()
    }

    /// The data directory holding the uploaded bytes.
    pub fn data_dir(&self) -> &Path {
        self.app.storage.root()
    }

    /// Makes the upload id expire now, as if its TTL had passed: its next part or finish gets
    /// 1061021. Returns whether the id was live.
    pub fn expire_upload(&self, upload_id: &str) -> bool {
        self.app.expire_upload(upload_id)
    }

    /// Loses block `seq` of an upload in progress, so that `upload_finish` reports it missing
    /// (1062010) until it is sent again: a fault for testing a client's recovery. Returns whether
    /// the block had arrived.
    pub fn lose_block(&self, upload_id: &str, seq: u64) -> bool {
        self.app.lose_block(upload_id, seq)
    }

    /// Adds a fault rule, after those of the configuration: its `first` count starts now, so
    /// `FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1)` loses the
    /// answer of the next `upload_finish`.
    pub fn add_fault(&self, rule: FaultRule) {
        self.app.faults.add_rule(rule);
    }

    /// Every fault rule, in order (the configuration's, then those added), with the number of
    /// requests it has hit so far: per kind of fault, when each kind has one rule.
    pub fn fault_hits(&self) -> Vec<(FaultRule, u64)> {
        self.app.faults.rule_hits()
    }

    /// Requests received per operation (every one, whether it was then served, refused or
    /// answered by a fault rule): what a client sent, counted by its peer.
    pub fn requests(&self) -> std::collections::BTreeMap<crate::Operation, u64> {
        self.app.counters.requests()
    }

    /// What the server has done so far.
    pub fn stats(&self) -> Stats {
        self.app.counters.snapshot()
    }

    /// Stops accepting, lets requests in flight finish (up to 5 seconds), and waits.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await?;
        }
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve(listener: TcpListener, app: Arc<App>, stop: CancellationToken, sweep_every: Duration) {
    let router = routes::router(app.clone());
    let graceful = GracefulShutdown::new();
    let limits = app.config.limits;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Connection tasks, so that those still running after the grace period can be ended.
    let mut connections = tokio::task::JoinSet::new();
    let mut sweep = tokio::time::interval(sweep_every);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = sweep.tick() => app.sweep(),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    while connections.try_join_next().is_some() {}
                    let _ = stream.set_nodelay(true);
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        Counters::bump(&app.counters.connections_refused);
                        connections.spawn(refuse(stream));
                        continue;
                    };
                    let kill = CancellationToken::new();
                    let control = ConnControl { kill: kill.clone() };
                    let router = router.clone();
                    let body_app = app.clone();
                    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                        request.extensions_mut().insert(control.clone());
                        let request = request.map(|body| guard_body(body, &body_app, &control));
                        router.clone().oneshot(request)
                    });
                    // Title-Case header names, as Feishu sends them: the official Python SDK
                    // copies headers into a plain dict and looks up `Content-Disposition` and
                    // `Content-Type` case-sensitively, so lowercase names would lose the
                    // download's file name and the error envelopes.
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        // A client that never finishes its headers does not hold a connection.
                        .header_read_timeout(limits.header_timeout.min(YEAR))
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
                        let _slot = slot;
                        tokio::select! {
                            result = connection => {
                                if let Err(e) = result {
                                    tracing::debug!(error = %e, "connection ended with an error");
                                }
                            }
                            // Dropping the connection closes the socket mid-request.
                            () = kill.cancelled() => {}
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: the listener
                    // itself is fine; back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after {GRACE:?}; closing their connections");
    }
    connections.shutdown().await;
}

/// Answers a connection over [`Limits::max_connections`](crate::Limits) with a plain 503 and
/// closes it. What the client already sent is read (briefly) first, so it reads the answer
/// rather than a reset.
async fn refuse(mut stream: TcpStream) {
    const ANSWER: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
        Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";
    let mut sink = [0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut sink)).await;
    if stream.write_all(ANSWER).await.is_ok() && stream.shutdown().await.is_ok() {
        let drain = async {
            let mut seen = 0usize;
            while let Ok(n @ 1..) = stream.read(&mut sink).await {
                seen += n;
                if seen > 1 << 20 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}

/// A request body with the server's bounds: a body that sends nothing for the idle timeout
/// closes its connection (the handler reading it sees an error, the client a closed socket),
/// and a slow link reads it at its rate.
fn guard_body(body: Incoming, app: &Arc<App>, control: &ConnControl) -> Body {
    let idle = app.config.limits.body_idle_timeout.min(YEAR);
    let link = app.faults.link_bytes_per_second();
    let app = app.clone();
    let control = control.clone();
    let stream = Body::new(body).into_data_stream();
    let guarded = futures::stream::unfold(Some(stream), move |state| {
        let (app, control) = (app.clone(), control.clone());
        async move {
            let mut stream = state?;
            match tokio::time::timeout(idle, stream.next()).await {
                Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
                Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e)), None)),
                Ok(None) => None,
                Err(_) => {
                    Counters::bump(&app.counters.idle_timeouts);
                    control.drop_connection();
                    Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("the request body sent nothing for {idle:?}"),
                        )),
                        None,
                    ))
                }
            }
        }
    });
    match link {
        Some(bps) => Body::from_stream(throttled(guarded, bps)),
        None => Body::from_stream(guarded),
    }
}
