//! One `whisper serve` child process: spawned (directly or through a wrapper), waited for
//! until ready, terminated or killed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use whisper_http::routes;

use super::DEADLINE;

const WHISPER: &str = env!("CARGO_BIN_EXE_whisper");

/// One `whisper serve` child process on a port of its own.
pub struct Instance {
    /// The port it listens on; a restart keeps it, so clients find it again.
    pub port: u16,
    pub(super) child: Option<Child>,
    pub(super) log: PathBuf,
}

impl Instance {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the process wrote to stderr, over all its restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(super) fn spawn(&mut self, env: &HashMap<String, String>, work: &Path, wrapper: &[String]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        // A wrapper (e.g. `unshare … sh -c '… exec "$@"' sh`) execs whisper in its place.
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(WHISPER);
                command
            }
            None => Command::new(WHISPER),
        };
        let child = command
            .arg("serve")
            .current_dir(work)
            .env_clear()
            .envs(env)
            .env("WHISPER_ADDR", format!("127.0.0.1:{}", self.port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Waits until `/health/ready` answers 200, failing if the process exits first.
    pub(super) async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = format!("{}{}", self.url(), routes::HEALTH_READY);
        let start = Instant::now();
        loop {
            if let Some(Ok(Some(exit))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "whisper exited with {exit} before it was ready:\n{}",
                    self.log()
                );
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "instance on port {} never became ready:\n{}",
                self.port,
                self.log()
            );
            // Readiness is a probe, as a load balancer sees it: an instance may start
            // before its database exists (faults_postgres) and turn ready whenever it
            // has migrated it, announcing nothing; its port is all there is to ask.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit: its status and how long it took.
    pub(super) async fn terminate(&mut self) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("the instance is running");
        let started = Instant::now();
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(
            sent.success(),
            "could not signal instance on port {}",
            self.port
        );
        // Waited for, not polled: the blocking wait returns the moment the process exits.
        let exited = tokio::task::spawn_blocking(move || child.wait());
        match tokio::time::timeout(DEADLINE, exited).await {
            Ok(status) => (status.unwrap().unwrap(), started.elapsed()),
            Err(_) => {
                // The child moved into the wait: it is killed by pid, not on drop.
                let _ = Command::new("kill").args(["-9", &pid]).status();
                panic!(
                    "instance on port {} ignored SIGTERM:\n{}",
                    self.port,
                    self.log()
                )
            }
        }
    }

    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}
