//! Liveness and readiness of the real application against real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::ToSocketAddrs;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use whisper_e2e::{TcpProxy, TestApp, eventually};
use whisper_postgres::testing::{TestDatabase, server_url};

/// Generous: only a broken server takes this long.
const DEADLINE: Duration = Duration::from_secs(60);

async fn status_of(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.get(path).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn live_and_ready_answer_against_a_fresh_database() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;

    let (status, body) = status_of(&app, "/health/live").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));

    // Ready once the start-up migration check is done.
    let body = eventually("ready", DEADLINE, || async {
        let (status, body) = status_of(&app, "/health/ready").await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(
        body,
        json!({"status": "ready", "services": {"postgres": "up"}})
    );
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let db = TestDatabase::create().await;
    let server = url::Url::parse(&server_url()).unwrap();
    let upstream = (server.host_str().unwrap(), server.port().unwrap_or(5432))
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let mut proxy = TcpProxy::start(upstream).await;
    let mut through_proxy = url::Url::parse(&db.url).unwrap();
    through_proxy.set_host(Some("127.0.0.1")).unwrap();
    through_proxy.set_port(Some(proxy.port())).unwrap();
    let app = TestApp::spawn(through_proxy.as_str()).await;

    let ready = || async {
        let (status, _) = status_of(&app, "/health/ready").await;
        (status == StatusCode::OK).then_some(())
    };
    eventually("ready through the proxy", DEADLINE, ready).await;

    proxy.stop().await;
    let body = eventually("not ready once the database is gone", DEADLINE, || async {
        let (status, body) = status_of(&app, "/health/ready").await;
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(body["code"], "service_unavailable");
    assert!(
        body["detail"].as_str().unwrap().contains("postgres"),
        "{body}"
    );
    let (status, _) = status_of(&app, "/health/live").await;
    assert_eq!(status, StatusCode::OK);

    proxy.restart().await;
    eventually("ready again once the database is back", DEADLINE, ready).await;
}
