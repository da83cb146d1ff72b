//! Requests written by hand over TCP, for what an HTTP client would refuse to send or
//! would normalize away (stalls, dot segments, oversized heads), and reading what comes back.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use whisper_e2e::TestApp;
use whisper_e2e::ws::PROMPTLY;

/// `host:port` of `app`.
pub fn socket_address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Sends `request` on a new connection and reads until the server closes it (or `PROMPTLY`
/// passes): what came back, as text.
pub async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    let socket = TcpStream::connect(socket_address(app)).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    // Written alongside the reading: the server may answer and close before the whole
    // request is written, or stop reading it.
    let request = request.to_vec();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PROMPTLY, async {
        let mut buffer = [0u8; 8192];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    writing.abort();
    assert!(
        read.is_ok(),
        "the server neither answered nor closed: {answer:?}"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

/// A request of `method path` with `headers` and a `body`, closing after the answer.
pub fn raw_request(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{headers}\r\n")
            .into_bytes();
    request.extend_from_slice(body);
    request
}

/// The status and JSON body of a raw answer.
pub fn parse_answer(answer: &str) -> (StatusCode, serde_json::Value) {
    let status: u16 = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_default();
    let body = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("a {status} whose body is not JSON ({e}): {body:?}"));
    (StatusCode::from_u16(status).unwrap(), body)
}

/// Asserts the server still answers a plain request.
pub async fn assert_still_serving(app: &TestApp, case: &str) {
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), StatusCode::OK, "after {case}");
}
