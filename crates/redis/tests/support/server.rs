//! A private `redis-server` on a free port, for tests that kill and restart Redis.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `redis-server` that keeps nothing on disk; killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Child,
}

impl RedisServer {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("no free port");
        Self::start_on(port).await
    }

    /// Starts one on `port`, returning once it accepts connections.
    pub async fn start_on(port: u16) -> Self {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "this test needs the `redis-server` binary on PATH \
                     (apt-get install redis-server): {error}"
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) if line.contains("Ready to accept connections") => break,
                Ok(Some(_)) => {}
                _ => panic!("redis-server on port {port} stopped before it was ready"),
            }
        }
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { port, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (no shutdown courtesy), returning once it is gone.
    pub async fn kill(mut self) -> u16 {
        let _ = self.child.kill().await;
        self.port
    }
}
