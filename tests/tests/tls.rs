//! HTTPS when WHISPER_TLS_CERT and WHISPER_TLS_KEY are set (rustls with ring).
//! `fixtures/localhost.*.pem` is a self-signed certificate for localhost/127.0.0.1 made
//! for these tests only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use reqwest::StatusCode;
use whisper_e2e::TestApp;
use whisper_postgres::testing::TestDatabase;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_TLS_CERT".into(), fixture("localhost.cert.pem"));
        env.insert("WHISPER_TLS_KEY".into(), fixture("localhost.key.pem"));
    })
    .await;
    assert!(app.address.starts_with("https://"), "{}", app.address);

    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/health/live", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Plain HTTP on the same port is not served.
    let plain = app.address.replacen("https://", "http://", 1);
    let refused = client.get(format!("{plain}/health/live")).send().await;
    assert!(
        refused
            .map(|r| r.status() != StatusCode::OK)
            .unwrap_or(true)
    );
}

#[tokio::test]
async fn a_key_that_is_not_a_key_stops_start_up_naming_the_setting() {
    let work = whisper_e2e::TempDir::new("tls");
    let db = TestDatabase::create().await;
    let mut env = whisper_e2e::test_env(&db.url, &work);
    env.insert("WHISPER_TLS_CERT".into(), fixture("localhost.cert.pem"));
    // A certificate where the key should be.
    env.insert("WHISPER_TLS_KEY".into(), fixture("localhost.cert.pem"));
    let settings = whisper_app::settings::Settings::load_in(&env, None, &work.0).unwrap();
    let error = whisper_app::startup::Application::build(&settings)
        .await
        .err()
        .unwrap();
    assert!(
        format!("{error:#}").contains("WHISPER_TLS_KEY"),
        "{error:#}"
    );
}
