//! The `whisper` binary as an operator runs it: `serve`, `migrate`, refusals at start-up,
//! and a clean exit on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, free_port, run, suffix, whisper};
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use whisper_postgres::testing::{server_url, with_database};

/// Generous: only a broken server takes this long.
const DEADLINE: Duration = Duration::from_secs(90);
const STRONG_KEY: &str = "binary-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// A database name nobody has created yet; dropped (if it was created) with this value.
struct MissingDatabase {
    name: String,
    url: String,
}

impl MissingDatabase {
    fn new() -> Self {
        let name = format!("whisper_bin_{}", suffix());
        let url = with_database(&server_url(), &name);
        Self { name, url }
    }

    async fn exists(&self) -> bool {
        let mut admin = AsyncPgConnection::establish(&with_database(&server_url(), "postgres"))
            .await
            .unwrap();
        sql_query("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(&self.name)
            .execute(&mut admin)
            .await
            .unwrap()
            > 0
    }
}

impl Drop for MissingDatabase {
    fn drop(&mut self) {
        let admin = with_database(&server_url(), "postgres");
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin).await {
                    let _ = sql_query(drop).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// Runs `whisper` with `args`, which must fail; what it wrote to stderr.
fn failing_run(work: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let output = run(work, args, vars);
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A `whisper serve` child, killed if the test ends without stopping it.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(work: &Path, vars: &[(&str, &str)]) -> Self {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = work.join("server.log");
        let child = whisper(work, &["serve"], vars)
            .env("WHISPER_ADDR", &addr)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `path` answers `status`, failing if the process exits first.
    async fn wait_for(&mut self, path: &str, status: u16) {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!(
                    "whisper exited with {exit} before {path} answered {status}:\n{}",
                    self.log()
                );
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().as_u16() == status
            {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{path} never answered {status}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "whisper ignored SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn serve_creates_and_migrates_a_missing_database_and_stops_cleanly_on_sigterm() {
    let work = TempDir::new();
    let database = MissingDatabase::new();
    assert!(!database.exists().await);

    let mut server = Server::start(
        &work.0,
        &[("WHISPER_ENV", "test"), ("DATABASE_URL", &database.url)],
    );
    server.wait_for("/health/live", 200).await;
    server.wait_for("/health/ready", 200).await;
    assert!(database.exists().await);
    // Outside production, a development key was generated in the working directory.
    assert!(work.0.join("var/secret_key").is_file());

    let status = server.terminate();
    assert!(status.success(), "exit status {status}");

    // Everything was applied: a later `migrate` has nothing left to do.
    let output = run(&work.0, &["migrate"], &[("DATABASE_URL", &database.url)]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("no pending migrations"));
}

#[tokio::test]
async fn serve_without_postgresql_is_live_but_not_ready() {
    let work = TempDir::new();
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let mut server = Server::start(
        &work.0,
        &[("WHISPER_ENV", "test"), ("DATABASE_URL", &nowhere)],
    );
    server.wait_for("/health/live", 200).await;
    server.wait_for("/health/ready", 503).await;
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn migrate_creates_the_database_and_applies_every_migration_once() {
    let work = TempDir::new();
    let database = MissingDatabase::new();

    let output = run(&work.0, &["migrate"], &[("DATABASE_URL", &database.url)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("created database"), "{stdout}");
    assert!(stdout.contains("applied "), "{stdout}");
    assert!(database.exists().await);

    let output = run(&work.0, &["migrate"], &[("DATABASE_URL", &database.url)]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("no pending migrations"), "{stdout}");
}

#[test]
fn migrate_without_postgresql_fails_with_a_clear_message() {
    let work = TempDir::new();
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let stderr = failing_run(&work.0, &["migrate"], &[("DATABASE_URL", &nowhere)]);
    assert!(stderr.contains("cannot create the database"), "{stderr}");
}

#[test]
fn production_with_a_weak_key_refuses_to_start() {
    let work = TempDir::new();
    let stderr = failing_run(
        &work.0,
        &["serve"],
        &[
            ("WHISPER_ENV", "production"),
            ("WHISPER_SECRET_KEY", "change-me-to-a-long-random-secret"),
            ("WHISPER_MAIL", "smtp://127.0.0.1:2525"),
            ("WHISPER_ADDR", &format!("127.0.0.1:{}", free_port())),
        ],
    );
    assert!(stderr.contains("WHISPER_SECRET_KEY"), "{stderr}");
    assert!(!work.0.join("var/secret_key").exists());
}

#[test]
fn production_with_file_mail_refuses_to_start() {
    let work = TempDir::new();
    let stderr = failing_run(
        &work.0,
        &["serve"],
        &[
            ("WHISPER_ENV", "production"),
            ("WHISPER_SECRET_KEY", STRONG_KEY),
            ("WHISPER_ADDR", &format!("127.0.0.1:{}", free_port())),
        ],
    );
    assert!(stderr.contains("WHISPER_MAIL"), "{stderr}");
}

#[test]
fn an_invalid_address_names_the_setting() {
    let work = TempDir::new();
    let stderr = failing_run(&work.0, &["serve"], &[("WHISPER_ADDR", "x")]);
    assert!(
        stderr.contains("WHISPER_ADDR: invalid socket address \"x\""),
        "{stderr}"
    );
}

#[test]
fn an_occupied_address_names_the_setting() {
    let work = TempDir::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let stderr = failing_run(
        &work.0,
        &["serve"],
        &[("WHISPER_ADDR", &addr), ("DATABASE_URL", &nowhere)],
    );
    assert!(stderr.contains("WHISPER_ADDR"), "{stderr}");
}

/// Runs `whisper serve`, which must exit on its own; its exit status and stderr. Waits for
/// the exit itself, up to `DEADLINE`, then kills a server that kept serving.
fn serve_expecting_exit(work: &Path, vars: &[(&str, &str)]) -> (ExitStatus, String) {
    let child = whisper(work, &["serve"], vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    match exit.recv_timeout(DEADLINE) {
        Ok(output) => {
            let output = output.unwrap();
            (
                output.status,
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            let output = exit.recv().unwrap().unwrap();
            panic!(
                "whisper kept serving:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn serve_refuses_a_redis_url_that_is_no_redis_url_naming_it() {
    let work = TempDir::new();
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let (status, stderr) = serve_expecting_exit(
        &work.0,
        &[
            ("WHISPER_ENV", "test"),
            ("WHISPER_REDIS_URL", "http://127.0.0.1:6379"),
            ("WHISPER_ADDR", &format!("127.0.0.1:{}", free_port())),
            ("DATABASE_URL", &nowhere),
        ],
    );
    assert!(!status.success(), "exit status {status}");
    assert!(
        stderr.contains("WHISPER_REDIS_URL: expected redis://host:port or rediss://"),
        "{stderr}"
    );
}

#[tokio::test]
async fn production_logs_are_json_lines_and_a_server_error_names_its_request() {
    let work = TempDir::new();
    // Nothing answers there: every request that needs the database fails with a 503.
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let mail = format!("smtp://127.0.0.1:{}", free_port());
    let mut server = Server::start(
        &work.0,
        &[
            ("WHISPER_ENV", "production"),
            ("WHISPER_SECRET_KEY", STRONG_KEY),
            ("WHISPER_MAIL", &mail),
            ("DATABASE_URL", &nowhere),
        ],
    );
    server.wait_for("/health/live", 200).await;
    let response = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/api/v1/user/register/",
            server.port
        ))
        .json(&serde_json::json!({"email": "ada@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let header = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], header.as_str(), "{body}");

    assert!(server.terminate().success());
    let log = std::fs::read_to_string(work.0.join("server.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let request_line = lines
        .iter()
        .find(|line| line["span"]["request_id"] == header.as_str() && line["status"] == 503)
        .unwrap_or_else(|| panic!("no log line of request {header}:\n{log}"));
    assert_eq!(request_line["span"]["route"], "/api/v1/user/register/");
    assert_eq!(request_line["level"], "WARN");
}
