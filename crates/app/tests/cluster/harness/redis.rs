//! A `redis-server` of the test's own, on a free port, for tests that kill Redis: the
//! shared one at 127.0.0.1:6379 must never be stopped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::free_port;
use super::ready_line::ReadyLine;

/// The Redis every instance shares unless a test starts its own (CI runs one there).
pub const SHARED_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A `redis-server` child process that keeps nothing on disk, killed when dropped.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it answers `PING`. Panics with
    /// what to install when the binary is missing.
    pub fn start(log: PathBuf) -> Self {
        Self::start_on(free_port(), log)
    }

    /// [`RedisServer::start`] on `port`, for a test that pointed instances at that port
    /// before anything listened there.
    pub fn start_on(port: u16, log: PathBuf) -> Self {
        let mut server = Self {
            port,
            child: None,
            log,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server (its data is gone: it saves nothing) and waits for the exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty, and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let port = self.port.to_string();
        let spawned = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().unwrap())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "this test starts its own Redis, but `redis-server` is not on PATH: install \
                 it (Debian: `apt-get install redis-server`)"
            ),
            Err(error) => panic!("cannot start redis-server: {error}"),
        };
        let output = child.stdout.take().unwrap();
        self.child = Some(child);
        ReadyLine::watch(output, log, "Ready to accept connections").wait("redis-server", || {
            std::fs::read_to_string(&self.log).unwrap_or_default()
        });
        assert!(
            self.answers_ping(),
            "redis-server said it was ready but does not answer PING"
        );
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
