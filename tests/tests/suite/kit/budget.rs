//! A real `redis-server` for the budget tests: started on a free loopback port with a temporary
//! directory and no persistence, stopped (and its directory removed) when dropped.
//! `tools/install.sh` installs Debian's `redis-server`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits (at most 20 s) until it answers PING.
    pub fn start() -> Self {
        let mut last_error = String::new();
        // A port picked free can be taken before redis binds it: try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            match Self::spawn(port) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// Starts `redis-server` again at the URL of one that was killed (same port).
    pub fn start_at(url: &str) -> Self {
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a redis://127.0.0.1:PORT/ URL");
        let mut last_error = String::new();
        for _ in 0..20 {
            match Self::spawn(port) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("redis-server did not restart on {port}: {last_error}");
    }

    fn spawn(port: u16) -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting redis-server failed ({e}); install it with tools/install.sh")
            });
        let mut server = Self {
            child: Some(child),
            port,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(20))?;
        Ok(server)
    }

    fn wait_ready(&mut self, bound: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < bound {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("redis-server exited: {status}"));
            }
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("no PONG within the bound".to_owned())
    }

    /// Whether the server answers PING.
    pub fn ping(&self) -> bool {
        self.command("PING\r\n")
            .is_some_and(|reply| reply.starts_with("+PONG"))
    }

    /// Sends one inline command and returns the first reply chunk.
    pub fn command(&self, line: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(line.as_bytes()).ok()?;
        let mut buf = [0_u8; 4096];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it: Redis "dies mid-run".
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
