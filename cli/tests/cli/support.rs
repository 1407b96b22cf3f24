//! Running the built `feishu-drive` binary as a user runs it, against a local server that runs
//! in this test process (so its counters are the oracle of what reached the server).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use feishu_drive_server::{Config, RunningServer, Server, Stats};

/// Bound on a whole CLI run.
pub const RUN_BOUND: Duration = Duration::from_secs(120);

/// The variable that names the installed binary to test (`.ci/run` sets it to what
/// `cargo install --path cli` installed).
pub const BIN_VAR: &str = "FEISHU_DRIVE_BIN";

/// The binary under test: the installed one `FEISHU_DRIVE_BIN` names, as a user runs it, or
/// else (a local `cargo test`) the one cargo built for this test. Under CI (`CI=true`) the
/// installed one is required: a missing one fails the test instead of silently testing the
/// build-tree binary.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        resolve_bin(std::env::var_os(BIN_VAR).map(PathBuf::from), ci)
            .unwrap_or_else(|message| panic!("{message}"))
    })
}

/// [`bin`]'s choice, given `FEISHU_DRIVE_BIN` and whether this is CI.
fn resolve_bin(installed: Option<PathBuf>, ci: bool) -> Result<PathBuf, String> {
    match installed {
        Some(path) if path.is_file() => Ok(path),
        Some(path) => Err(format!(
            "{BIN_VAR}={} is not a file: install it with `cargo install --locked --path cli --root DIR` \
             and set {BIN_VAR}=DIR/bin/feishu-drive",
            path.display()
        )),
        None if ci => Err(format!(
            "CI=true but {BIN_VAR} is not set: CI tests the installed binary (`.ci/run` installs it \
             with `cargo install --path cli` and sets {BIN_VAR})"
        )),
        None => Ok(PathBuf::from(env!("CARGO_BIN_EXE_feishu-drive"))),
    }
}

#[test]
fn under_ci_a_missing_installed_binary_is_a_failure_not_a_fallback() {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_feishu-drive"));
    assert_eq!(resolve_bin(None, false), Ok(built.clone()));
    assert!(resolve_bin(None, true).is_err());
    let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-feishu-drive");
    assert!(resolve_bin(Some(missing.clone()), false).is_err());
    assert!(resolve_bin(Some(missing), true).is_err());
    assert_eq!(resolve_bin(Some(built.clone()), true), Ok(built));
}

/// A local server on a runtime of its own, stopped when dropped.
pub struct LocalServer {
    server: Option<RunningServer>,
    runtime: tokio::runtime::Runtime,
}

impl LocalServer {
    /// Starts a server on a free loopback port.
    pub fn start(config: Config) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the server");
        let config = config.addr("127.0.0.1:0".parse().expect("an address"));
        let server = runtime
            .block_on(Server::start(config))
            .expect("the local server starts");
        Self {
            server: Some(server),
            runtime,
        }
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server runs")
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.server().base_url()
    }

    /// Its root folder's token.
    pub fn root_folder(&self) -> String {
        self.server().root_folder().to_owned()
    }

    /// The upload bodies it received, oldest first.
    pub fn received_parts(&self) -> Vec<feishu_drive_server::ReceivedPart> {
        self.server().received_parts()
    }

    /// What it has done so far.
    pub fn stats(&self) -> Stats {
        self.server().stats()
    }

    /// The children of `folder` (name, type, token), read through the API as the default app.
    pub fn children(&self, folder: &str) -> Vec<(String, String, String)> {
        use feishu_drive::FeishuResult;
        let base = self.url();
        let client = feishu_drive::Client::builder(&base)
            .app_credentials(
                feishu_drive_server::DEFAULT_APP_ID,
                feishu_drive_server::DEFAULT_APP_SECRET,
            )
            .requests_per_second(None)
            .build()
            .expect("a client");
        let data = self
            .runtime
            .block_on(client.list_files().folder_token(folder).send())
            .into_data()
            .expect("the folder lists");
        data.files
            .into_iter()
            .map(|n| (n.name, n.type_, n.token))
            .collect()
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}

/// A home of its own for one test: config and state directories, files.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file of `len` pattern bytes (different block to block) and returns its path.
    pub fn file(&self, name: &str, len: usize, seed: u32) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent directory");
        }
        std::fs::write(&path, pattern(len, seed)).expect("the file is written");
        path
    }

    /// The CLI with no credentials or settings from the environment, its config and state
    /// under this home.
    pub fn command(&self) -> Command {
        let mut command = Command::new(bin());
        for var in [
            "LARK_APP_ID",
            "LARK_APP_SECRET",
            "LARK_ACCESS_TOKEN",
            "FEISHU_BASE_URL",
            "FEISHU_REDIS_URL",
            "FEISHU_DRIVE_CONFIG",
            "RUST_LOG",
        ] {
            command.env_remove(var);
        }
        command
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_STATE_HOME", self.path().join("state"))
            .current_dir(self.path());
        command
    }
}

/// Bytes that differ block to block, so a block stored in the wrong place changes the file.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout's lines, each parsed as JSON.
    pub fn events(&self) -> Vec<serde_json::Value> {
        parse_events(&self.stdout)
    }
}

/// Every stdout line as a JSON object (panics on a line that is not one).
pub fn parse_events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON: {e}"));
            assert!(value["event"].is_string(), "no `event` in {line}");
            value
        })
        .collect()
}

/// The events named `name`.
pub fn named<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// Runs the command to its end, bounded.
pub fn run(mut command: Command) -> Finished {
    let running = Running::spawn(&mut command, true);
    running.wait(RUN_BOUND)
}

/// A CLI process in progress: stdout lines arrive on a channel (unless not read), stderr is
/// collected.
pub struct Running {
    child: Child,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    lines: Option<Receiver<String>>,
    stdout_seen: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Spawns `command`; with `read_stdout` false nobody reads its stdout until it ends, so a
    /// chatty run fills the pipe and blocks.
    pub fn spawn(command: &mut Command, read_stdout: bool) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the CLI starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().expect("stderr is piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("stderr")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let lines = read_stdout.then(|| {
            let out = child.stdout.take().expect("stdout is piped");
            let (send, receive) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
            receive
        });
        Self {
            child,
            stderr_reader: Some(stderr_reader),
            lines,
            stdout_seen: Arc::new(Mutex::new(String::new())),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (bounded) for a stdout JSON line for which `want` holds; returns it.
    pub fn wait_for_event(
        &self,
        bound: Duration,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let line = self.wait_for_line(bound, |line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON: {e}"));
            want(&value)
        });
        serde_json::from_str(&line).expect("checked above")
    }

    /// Waits (bounded) for a stdout line for which `want` holds; returns it.
    pub fn wait_for_line(&self, bound: Duration, want: impl Fn(&str) -> bool) -> String {
        let lines = self.lines.as_ref().expect("stdout is read");
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let mut seen = self.stdout_seen.lock().expect("stdout");
                    seen.push_str(&line);
                    seen.push('\n');
                    drop(seen);
                    if want(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no such stdout line within {bound:?}; stderr: {}", self.stderr())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("stdout ended without such a line; stderr: {}", self.stderr())
                }
            }
        }
    }

    /// Waits (bounded) until `count` stdout JSON lines satisfied `want`; false when stdout ended
    /// first (the run finished).
    pub fn saw_events(
        &self,
        count: usize,
        bound: Duration,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> bool {
        let lines = self.lines.as_ref().expect("stdout is read");
        let deadline = Instant::now() + bound;
        let mut seen_count = 0;
        while seen_count < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let value: serde_json::Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON: {e}"));
                    let mut seen = self.stdout_seen.lock().expect("stdout");
                    seen.push_str(&line);
                    seen.push('\n');
                    seen_count += usize::from(want(&value));
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{seen_count} of {count} events within {bound:?}; stderr: {}",
                        self.stderr()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        true
    }

    /// Waits (bounded) until stderr contains `text`.
    pub fn wait_for_stderr(&self, bound: Duration, text: &str) {
        let deadline = Instant::now() + bound;
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "stderr did not show {text:?} within {bound:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Sends a signal with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Whether a thread of the process is blocked writing to a pipe (Linux's wchan).
    pub fn blocked_on_pipe(&self) -> bool {
        let tasks = format!("/proc/{}/task", self.pid());
        std::fs::read_dir(tasks)
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| {
                std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write"))
            })
    }

    /// Waits (bounded) for the end; kills the process if the bound passes.
    pub fn wait(mut self, bound: Duration) -> Finished {
        let deadline = Instant::now() + bound;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the CLI did not end within {bound:?}; stderr: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = self.stdout_seen.lock().expect("stdout").clone();
        match self.lines.take() {
            Some(lines) => {
                // The reader thread ends with the pipe; take what it read.
                while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
            }
            None => {
                if let Some(mut out) = self.child.stdout.take() {
                    let _ = out.read_to_string(&mut stdout);
                }
            }
        }
        // The stderr reader ends with the pipe, which closed with the process.
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        Finished {
            status,
            stdout,
            stderr: self.stderr(),
        }
    }
}
