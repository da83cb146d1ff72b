//! Oversized requests: headers (many, huge), JSON bodies over the limit (declared, chunked,
//! or never sent), bodies sent to endpoints that read none, and WebSocket frames over the
//! limit. Each is refused, stores nothing, and the server keeps serving.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use whisper_e2e::TestApp;
use whisper_e2e::chat::ada_in_general;
use whisper_e2e::ws::{PROMPTLY, ws_app};
use whisper_postgres::testing::TestDatabase;

use crate::raw_http::{assert_still_serving, parse_answer, raw_exchange, raw_request};
use crate::{Footprint, assert_error_shape, expect_refusal};

#[tokio::test]
async fn oversized_headers_get_431_and_the_server_keeps_serving() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;
    let many: String = (0..200)
        .map(|i| format!("x-filler-{i}: {}\r\n", "v".repeat(40)))
        .collect();
    let header_of = |size: usize| format!("x-huge: {}\r\n", "h".repeat(size));
    let get_with = |headers: &str| format!("GET /health/live HTTP/1.1\r\nhost: x\r\n{headers}\r\n");
    // actix-web reads at most 96 headers and a 128 KiB head (fixed in actix-http); beyond
    // either it answers 431 (a plain response: the app never sees the request) and closes.
    let cases = [
        ("200 headers", get_with(&many)),
        ("a 200 KiB header", get_with(&header_of(200 * 1024))),
        ("a 1 MiB header", get_with(&header_of(1024 * 1024))),
        (
            "a 200 KiB request target",
            format!(
                "GET /health/live?q={} HTTP/1.1\r\nhost: x\r\n\r\n",
                "q".repeat(200 * 1024)
            ),
        ),
    ];
    for (case, request) in &cases {
        let answer = raw_exchange(&app, request.as_bytes()).await;
        let status_line = answer.lines().next().unwrap_or_default();
        assert!(
            status_line.starts_with("HTTP/1.1 431"),
            "{case}: expected 431, got {status_line:?}"
        );
        assert_still_serving(&app, case).await;
    }
    // Within those limits a large head is served like any other.
    let answer = raw_exchange(&app, get_with(&header_of(64 * 1024)).as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "a 64 KiB header: {answer}"
    );
}

#[tokio::test]
async fn json_bodies_over_the_limit_get_413_in_the_error_shape_and_store_nothing() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = whisper_e2e::chat::chat_app(&db.url).await;
    let (ada, _room) = ada_in_general(&mut app, &sink).await;
    let before = Footprint::of(&db.url).await;

    // Chunked: no Content-Length to refuse up front; refused once the limit is passed.
    let mut chunked = Vec::new();
    for _ in 0..40 {
        chunked.extend_from_slice(format!("{:x}\r\n", 4096).as_bytes());
        chunked.extend_from_slice(&[b' '; 4096]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let headers = "content-type: application/json\r\ntransfer-encoding: chunked\r\n";
    let request = raw_request("POST", "/api/v1/user/register/", headers, &chunked);
    let (status, body) = parse_answer(&raw_exchange(&app, &request).await);
    assert_error_shape(
        "a chunked body over the limit",
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
    );

    // Signed in, a room whose name and members fill 1 MB.
    let members: Vec<String> = (0..40_000).map(|i| format!("user{i:021}")).collect();
    let room = app
        .client
        .post(format!("{}/api/v1/chat/room-list/", app.address))
        .bearer_auth(&ada.access)
        .json(&json!({"name": "x".repeat(1000), "members": members}))
        .send()
        .await
        .unwrap();
    expect_refusal("a huge room", room, StatusCode::PAYLOAD_TOO_LARGE).await;

    // A Content-Length of 1 GB with no body: refused at once, not awaited.
    let declared = "POST /api/v1/user/register/ HTTP/1.1\r\nhost: x\r\n\
                    content-type: application/json\r\ncontent-length: 1000000000\r\n\r\n";
    let answer = raw_exchange(&app, declared.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );

    // 8 MB sent to an endpoint that reads no body.
    let headers = format!("content-length: {}\r\n", 8 << 20);
    let request = raw_request(
        "POST",
        "/api/v1/user/logout/",
        &headers,
        &vec![b'x'; 8 << 20],
    );
    let (status, body) = parse_answer(&raw_exchange(&app, &request).await);
    assert_error_shape(
        "a body nobody reads",
        status,
        &body,
        StatusCode::UNAUTHORIZED,
    );

    assert_eq!(
        Footprint::of(&db.url).await,
        before,
        "an oversized body left rows"
    );
    assert_still_serving(&app, "oversized bodies").await;
    assert_eq!(
        app.get_as(&ada.access, "/api/v1/user/me/").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn websocket_frames_over_the_limit_close_with_1009_and_store_nothing() {
    const LIMIT: usize = 4096;
    // What the endpoint accepts in one message: the media limit and 64 KiB of metadata.
    const TRANSPORT: usize = LIMIT + 64 * 1024;
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, &format!("media_max_bytes = {LIMIT}"), false).await;
    let (ada, room) = ada_in_general(&mut app, &sink).await;
    let image = json!({"message_type": "media", "media_format": "image"});
    let text = json!({"message_type": "text", "text": "x".repeat(TRANSPORT)}).to_string();

    let mut ws = app.ws(&ada.access, &room).await;
    ws.send_text(&text).await;
    assert_eq!(
        ws.expect_close(PROMPTLY).await,
        Some(1009),
        "a text frame over the limit"
    );

    let mut ws = app.ws(&ada.access, &room).await;
    ws.send_binary(&image, &vec![0u8; TRANSPORT + 1]).await;
    assert_eq!(
        ws.expect_close(PROMPTLY).await,
        Some(1009),
        "a binary frame over the limit"
    );

    let mut ws = app.ws(&ada.access, &room).await;
    ws.send_binary_fragmented(&image, &vec![0u8; 2 * TRANSPORT], 16 * 1024)
        .await;
    assert_eq!(
        ws.expect_close(PROMPTLY).await,
        Some(1009),
        "continuations over the limit"
    );

    // Nothing stored, no file written, and the room still works.
    assert!(app.all_messages(&ada.access, &room).await.is_empty());
    let media = app.work_dir().join("media");
    let files = walk(&media);
    assert!(files.is_empty(), "media files left behind: {files:?}");
    let mut ws = app.ws(&ada.access, &room).await;
    ws.send_message("still fine").await;
    let event = ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still fine");
    tokio::time::timeout(Duration::from_secs(1), ws.close())
        .await
        .ok();
}

/// Every file under `dir` (none when it does not exist).
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
