//! `whisper gen-cert` as an operator runs it: the files, the refusal to overwrite, and
//! `whisper serve` answering HTTPS with what it wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, free_port, run, whisper};

/// Generous: only a broken server takes this long.
const DEADLINE: Duration = Duration::from_secs(90);

/// The `NAME=value` lines `gen-cert` printed, as pairs.
fn printed_variables(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn gen_cert_writes_pem_files_prints_the_variables_and_refuses_to_overwrite() {
    let work = TempDir::new();
    let output = run(&work.0, &["gen-cert", "--out", "tls"], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cert = work.0.join("tls/cert.pem");
    let key = work.0.join("tls/key.pem");
    assert_eq!(
        printed_variables(&stdout),
        [
            ("WHISPER_TLS_CERT".to_owned(), cert.display().to_string()),
            ("WHISPER_TLS_KEY".to_owned(), key.display().to_string()),
        ]
    );
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    assert!(
        cert_pem.starts_with("-----BEGIN CERTIFICATE-----"),
        "{cert_pem}"
    );
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("-----BEGIN PRIVATE KEY-----")
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the key is readable by others");

    let refused = run(&work.0, &["gen-cert", "--out", "tls"], &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&cert).unwrap(),
        cert_pem,
        "replaced anyway"
    );

    let forced = run(&work.0, &["gen-cert", "--out", "tls", "--force"], &[]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read_to_string(&cert).unwrap(), cert_pem);
}

#[tokio::test]
async fn serve_with_the_generated_certificate_answers_https() {
    let work = TempDir::new();
    let output = run(
        &work.0,
        &["gen-cert", "--host", "localhost", "--host", "127.0.0.1"],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let variables = printed_variables(&String::from_utf8_lossy(&output.stdout));
    let cert = variables
        .iter()
        .find(|(name, _)| name == "WHISPER_TLS_CERT")
        .map(|(_, value)| std::fs::read(value).unwrap())
        .expect("WHISPER_TLS_CERT printed");

    let port = free_port();
    let log = work.0.join("server.log");
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let mut server = Killed(
        whisper(&work.0, &["serve"], &[])
            .envs(variables.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .env("WHISPER_ENV", "test")
            .env("WHISPER_ADDR", format!("127.0.0.1:{port}"))
            // Liveness needs no database; a dead one keeps the test fast and isolated.
            .env("DATABASE_URL", &nowhere)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );

    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let start = Instant::now();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{port}/health/live");
        loop {
            if let Some(exit) = server.0.try_wait().unwrap() {
                panic!(
                    "whisper exited with {exit}:\n{}",
                    std::fs::read_to_string(&log).unwrap()
                );
            }
            match client.get(&url).send().await {
                Ok(response) => {
                    assert_eq!(response.status(), 200, "{url}");
                    break;
                }
                Err(error) => assert!(
                    start.elapsed() < DEADLINE,
                    "{url} never answered: {error:?}\n{}",
                    std::fs::read_to_string(&log).unwrap()
                ),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Plain HTTP on the HTTPS port gets no answer from the API.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/health/live")).await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
}
