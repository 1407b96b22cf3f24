//! Listening, serving connections, and stopping cleanly.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::Config;
use crate::error::ServerError;
use crate::routes;
use crate::state::{App, Stats};

/// How long shutdown waits for requests in flight before closing their connections.
const GRACE: Duration = Duration::from_secs(5);
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Lets a handler drop its own connection (fault injection): the connection task closes the
/// socket when this is triggered.
#[derive(Clone, Debug)]
pub(crate) struct ConnControl {
    kill: CancellationToken,
}

impl ConnControl {
    pub(crate) fn drop_connection(&self) {
        self.kill.cancel();
    }
}

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
        let app = Arc::new(tokio::task::spawn_blocking(move || App::new(config)).await??);
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, app.clone(), stop.clone(), sweep_every));
        tracing::info!(%addr, data_dir = %app.storage.root().display(), "feishu-drive-server listening");
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
                    let kill = CancellationToken::new();
                    let control = ConnControl { kill: kill.clone() };
                    let router = router.clone();
                    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                        request.extensions_mut().insert(control.clone());
                        router.clone().oneshot(request.map(Body::new))
                    });
                    // Title-Case header names, as Feishu sends them: the official Python SDK
                    // copies headers into a plain dict and looks up `Content-Disposition` and
                    // `Content-Type` case-sensitively, so lowercase names would lose the
                    // download's file name and the error envelopes.
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        // A client that never finishes its headers does not hold a connection.
                        .header_read_timeout(HEADER_TIMEOUT)
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
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
