//! `whisper check-config` as an operator runs it: success against the local services, a
//! failure naming the setting of a service that does not answer, and no secret printed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::process::Output;

use common::{TempDir, free_port, run};

use whisper_postgres::testing::{server_url, with_database};

const SECRET_KEY: &str = "check-config-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";
const GOOGLE_SECRET: &str = "google-client-secret-never-printed";
const REDIS_PASSWORD: &str = "redis-password-never-printed";

/// `whisper check-config` with secrets set and `vars` on top; its stdout and stderr.
fn check_config(vars: &[(&str, &str)]) -> (Output, String) {
    let work = TempDir::new();
    let mut all = vec![
        ("WHISPER_ENV", "test"),
        ("WHISPER_SECRET_KEY", SECRET_KEY),
        ("WHISPER_GOOGLE_CLIENT_ID", "client-id"),
        ("WHISPER_GOOGLE_CLIENT_SECRET", GOOGLE_SECRET),
    ];
    all.extend_from_slice(vars);
    let output = run(&work.0, &["check-config"], &all);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in [SECRET_KEY, GOOGLE_SECRET, REDIS_PASSWORD] {
        assert!(!text.contains(secret), "a secret was printed:\n{text}");
    }
    (output, text)
}

#[test]
fn check_config_passes_against_the_local_postgresql_and_redis() {
    let database = with_database(&server_url(), "postgres");
    // Only PING is sent: the shared Redis is never written to.
    let (output, text) = check_config(&[
        ("DATABASE_URL", &database),
        ("WHISPER_REDIS_URL", "redis://127.0.0.1:6379"),
    ]);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("ok    DATABASE_URL"), "{text}");
    assert!(text.contains("ok    WHISPER_REDIS_URL"), "{text}");
    assert!(text.contains("ok    WHISPER_MAIL"), "{text}");
    assert!(text.contains("secret_key: [redacted]"), "{text}");
}

#[test]
fn check_config_names_database_url_when_postgresql_does_not_answer() {
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/whisper", free_port());
    let (output, text) = check_config(&[("DATABASE_URL", &nowhere)]);
    assert!(!output.status.success(), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{text}");
    assert!(!stderr.contains("WHISPER_MAIL"), "{text}");
    assert!(text.contains("FAIL  DATABASE_URL"), "{text}");
}

#[test]
fn check_config_names_whisper_redis_url_when_redis_does_not_answer() {
    let database = with_database(&server_url(), "postgres");
    let dead_redis = format!("redis://:{REDIS_PASSWORD}@127.0.0.1:{}", free_port());
    let (output, text) = check_config(&[
        ("DATABASE_URL", &database),
        ("WHISPER_REDIS_URL", &dead_redis),
    ]);
    assert!(!output.status.success(), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WHISPER_REDIS_URL"), "{text}");
    assert!(!stderr.contains("DATABASE_URL"), "{text}");
}

#[test]
fn check_config_refuses_an_invalid_setting_as_serve_does() {
    let (output, text) = check_config(&[("WHISPER_ADDR", "x")]);
    assert!(!output.status.success());
    assert!(
        text.contains("WHISPER_ADDR: invalid socket address \"x\""),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_reaches_the_smtp_server_and_names_whisper_mail_when_it_is_down() {
    let sink = whisper_smtp::testing::SmtpSink::start().await.unwrap();
    let database = with_database(&server_url(), "postgres");
    let up = sink.url();
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let (output, text) = {
        let (database, up) = (database.clone(), up.clone());
        tokio::task::spawn_blocking(move || {
            check_config(&[("DATABASE_URL", &database), ("WHISPER_MAIL", &up)])
        })
        .await
        .unwrap()
    };
    assert!(output.status.success(), "{text}");
    assert!(text.contains("ok    WHISPER_MAIL"), "{text}");

    let (output, text) = tokio::task::spawn_blocking(move || {
        check_config(&[("DATABASE_URL", &database), ("WHISPER_MAIL", &dead)])
    })
    .await
    .unwrap();
    assert!(!output.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("WHISPER_MAIL"),
        "{text}"
    );
    sink.stop().await;
}
