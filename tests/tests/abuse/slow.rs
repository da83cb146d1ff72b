//! Slow clients: a request line or headers that never end, a body slower than its
//! Content-Length, an idle keep-alive connection. The server closes each (the read returns
//! end of file) while it keeps serving everyone else, and nothing is created.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use whisper_e2e::TestApp;
use whisper_e2e::ws::config_with;
use whisper_postgres::testing::TestDatabase;

use crate::Footprint;
use crate::raw_http::{assert_still_serving, socket_address};

/// Longer than any of the server's timeouts (5 s for a head, 2 s here for a body, 5 s of
/// keep-alive), so a connection still open by then was never going to be closed.
const CLOSED_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// A connection that sent `start` and then stalls.
async fn stalled(app: &TestApp, start: &str) -> TcpStream {
    let mut socket = TcpStream::connect(socket_address(app)).await.unwrap();
    socket.write_all(start.as_bytes()).await.unwrap();
    socket
}

/// Waits for the server to close `socket`; returns what it sent before.
async fn closed_by_server(case: &str, mut socket: TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSED_WITHIN, async {
        let mut buffer = [0u8; 4096];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "{case}: still open after {CLOSED_WITHIN:?}, having sent {:?}",
        String::from_utf8_lossy(&answer)
    );
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn stalled_requests_are_closed_by_the_server_while_others_are_served() {
    let db = TestDatabase::create().await;
    let config = config_with("[server]\nbody_timeout_secs = 2");
    let dir = config.0.display().to_string();
    let app = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_CONFIG_DIR".into(), dir);
        env.insert("WHISPER_METRICS_ADDR".into(), "off".into());
    })
    .await;
    let register = r#"{"email": "slow@example.org"}"#;
    let cases = [
        ("half a request line", "GET /heal".to_owned(), None),
        (
            "headers that never end",
            "GET /health/live HTTP/1.1\r\nhost: x\r\nx-slow: still typ".to_owned(),
            None,
        ),
        (
            "a body shorter than its Content-Length",
            format!(
                "POST /api/v1/user/register/ HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                register.len() + 100,
                register
            ),
            Some("HTTP/1.1 408"),
        ),
        (
            "a chunked body that stops",
            "POST /api/v1/user/register/ HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"ema\r\n".to_owned(),
            Some("HTTP/1.1 408"),
        ),
        (
            "an idle keep-alive connection",
            "GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n".to_owned(),
            Some("HTTP/1.1 200"),
        ),
    ];
    let before = Footprint::of(&db.url).await;
    let mut sockets = Vec::new();
    for (case, start, _) in &cases {
        // Several of each, to show they do not pile up.
        for _ in 0..10 {
            sockets.push((*case, stalled(&app, start).await));
        }
    }
    // Meanwhile, others are served at once.
    for _ in 0..5 {
        assert_still_serving(&app, "stalled connections open").await;
    }
    let register_ok = app
        .client
        .post(format!("{}/api/v1/user/register/", app.address))
        .json(&serde_json::json!({"email": "prompt@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register_ok.status(), StatusCode::CREATED);

    let closing = sockets
        .into_iter()
        .map(|(case, socket)| async move { (case, closed_by_server(case, socket).await) });
    for (case, answer) in futures_util::future::join_all(closing).await {
        let expected = cases.iter().find(|(c, _, _)| *c == case).unwrap().2;
        if let Some(status) = expected {
            assert!(answer.starts_with(status), "{case}: {answer:?}");
        }
        if case.contains("body") {
            assert!(
                answer.contains("\"code\":\"request_timeout\""),
                "{case}: {answer}"
            );
        }
    }
    // Only the prompt registration was stored.
    let after = Footprint::of(&db.url).await;
    let users = |footprint: &Footprint| footprint.0.iter().find(|(t, _)| *t == "users").unwrap().1;
    assert_eq!(users(&after), users(&before) + 1);
    assert_still_serving(&app, "the stalled connections were closed").await;
}
