//! What the WebSocket endpoint refuses: connections before the upgrade, and bad frames
//! (answered with `chat.error`, nothing stored, the connection still usable).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use serde_json::{Value, json};
use whisper_e2e::chat::{ada_and_bob_in_general, ada_in_general, chat_app, people};
use whisper_e2e::ws::{DELIMITER, PROMPTLY, WsClient, media_frame, png, ws_app};
use whisper_postgres::testing::TestDatabase;

/// Reads past presence and typing events; the next event must be `chat.error` `code`.
async fn expect_error(ws: &mut WsClient, code: &str, case: &str) {
    loop {
        let event = ws.next_event(PROMPTLY).await;
        match event["type"].as_str() {
            Some("chat.active" | "chat.typing") => {}
            Some("chat.error") => {
                assert_eq!(event["code"], code, "case {case}: {event}");
                assert!(
                    event["content"].as_str().is_some_and(|c| !c.is_empty()),
                    "case {case}: an error without content: {event}"
                );
                return;
            }
            _ => panic!("case {case}: expected chat.error {code}, got {event}"),
        }
    }
}

fn assert_error_shape(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["code"].is_string(), "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

#[tokio::test]
async fn connections_are_refused_before_the_upgrade_with_the_error_shape() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob] = <[_; 2]>::try_from(people(&mut app, &sink, &["ada", "bob"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "General", &[]).await;
    let room_id = room["id"].as_str().unwrap();
    let path = format!("/ws/chat/{room_id}/");

    // Not authenticated.
    let refused = WsClient::connect(&app.ws_url(room_id, ""), &[]).await;
    assert_eq!(refused.err().map(|r| r.status), Some(401));
    let (status, body) = app.ws_refusal(&path, &[]).await;
    assert_error_shape(status, &body, StatusCode::UNAUTHORIZED);
    let garbage = [("authorization", "Bearer not-a-token".to_owned())];
    let refused = WsClient::connect(&app.ws_url(room_id, ""), &garbage).await;
    assert_eq!(refused.err().map(|r| r.status), Some(401));
    let (status, body) = app.ws_refusal(&path, &garbage).await;
    assert_error_shape(status, &body, StatusCode::UNAUTHORIZED);

    // Not a member.
    let refused = app.try_ws(&bob.access, room_id, "").await;
    assert_eq!(refused.err().map(|r| r.status), Some(403));
    let (status, body) = app
        .ws_refusal(
            &path,
            &[("authorization", format!("Bearer {}", bob.access))],
        )
        .await;
    assert_error_shape(status, &body, StatusCode::FORBIDDEN);

    // No such room.
    let ghost = "AAAAAAAAAAAAAAAAAAAAA";
    let refused = app.try_ws(&ada.access, ghost, "").await;
    assert_eq!(refused.err().map(|r| r.status), Some(404));
    let (status, body) = app
        .ws_refusal(
            &format!("/ws/chat/{ghost}/"),
            &[("authorization", format!("Bearer {}", ada.access))],
        )
        .await;
    assert_error_shape(status, &body, StatusCode::NOT_FOUND);

    // The member gets in.
    let mut ada_ws = app.ws(&ada.access, room_id).await;
    ada_ws.send_message("in").await;
    let event = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "in");
}

#[tokio::test]
async fn browsers_connect_with_the_session_cookie_from_the_apps_own_origin_only() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada] = <[_; 1]>::try_from(people(&mut app, &sink, &["ada"]).await)
        .ok()
        .unwrap();
    // A browser: cookies kept in a jar the test can read.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    app.client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cy = app.signed_in(&sink, "cy@example.org").await;
    let cookie = jar
        .cookies(&app.address.parse().unwrap())
        .expect("the sign-in left a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("whisper_session="), "{cookie}");
    let room = app.create_room(&ada, "General", &[&cy]).await;
    let room_id = room["id"].as_str().unwrap();
    let url = app.ws_url(room_id, "");
    let path = format!("/ws/chat/{room_id}/");

    let mut cy_ws = WsClient::connect(
        &url,
        &[("cookie", cookie.clone()), ("origin", app.address.clone())],
    )
    .await
    .unwrap_or_else(|refused| panic!("cookie + own origin refused: {refused:?}"));
    cy_ws.send_message("from a browser").await;
    let event = cy_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["sender"], cy.id.as_str());

    for origin in [Some("http://evil.example"), None] {
        let mut headers = vec![("cookie", cookie.clone())];
        if let Some(origin) = origin {
            headers.push(("origin", origin.to_owned()));
        }
        let refused = WsClient::connect(&url, &headers).await;
        assert_eq!(
            refused.err().map(|r| r.status),
            Some(403),
            "cookie with origin {origin:?}"
        );
        let (status, body) = app.ws_refusal(&path, &headers).await;
        assert_error_shape(status, &body, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn bad_frames_get_chat_errors_store_nothing_and_leave_the_connection_usable() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let elsewhere = app.create_room(&ada, "Elsewhere", &[]).await;
    let elsewhere_id = elsewhere["id"].as_str().unwrap();
    let mut other_ws = app.ws(&ada.access, elsewhere_id).await;
    other_ws.send_message("in another room").await;
    let foreign = other_ws.next_of_type("chat.message", PROMPTLY).await;
    let foreign_id = foreign["id"].as_str().unwrap();

    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;
    ada_ws.send_message("first").await;
    let first = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    let first_id = first["id"].as_str().unwrap();

    let text_cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "not json".into(), "invalid_json"),
        ("truncated JSON", "{\"message_type\": ".into(), "invalid_json"),
        ("an array", "[]".into(), "invalid_json"),
        (
            "no message",
            json!({"message_type": "message"}).to_string(),
            "invalid_json",
        ),
        (
            "no message_type",
            json!({"message": "hi"}).to_string(),
            "invalid_json",
        ),
        (
            "a number as message",
            json!({"message_type": "message", "message": 5}).to_string(),
            "invalid_json",
        ),
        (
            "a reply without previous_message_id",
            json!({"message_type": "reply", "message": "hi"}).to_string(),
            "invalid_json",
        ),
        (
            "an unknown type",
            json!({"message_type": "shout", "message": "hi"}).to_string(),
            "unknown_message_type",
        ),
        (
            "an empty message",
            json!({"message_type": "message", "message": ""}).to_string(),
            "invalid_message",
        ),
        (
            "whitespace",
            json!({"message_type": "message", "message": " \n\t "}).to_string(),
            "invalid_message",
        ),
        (
            "4097 characters",
            json!({"message_type": "message", "message": "x".repeat(4097)}).to_string(),
            "invalid_message",
        ),
        (
            "an empty reply",
            json!({"message_type": "reply", "message": "", "previous_message_id": first_id})
                .to_string(),
            "invalid_message",
        ),
        (
            "a reply to an unknown message",
            json!({"message_type": "reply", "message": "hi", "previous_message_id": "AAAAAAAAAAAAAAAAAAAAA"})
                .to_string(),
            "invalid_reply",
        ),
        (
            "a reply to a malformed id",
            json!({"message_type": "reply", "message": "hi", "previous_message_id": "nope"})
                .to_string(),
            "invalid_reply",
        ),
        (
            "a reply to another room's message",
            json!({"message_type": "reply", "message": "hi", "previous_message_id": foreign_id})
                .to_string(),
            "invalid_reply",
        ),
    ];
    for (case, frame, code) in &text_cases {
        ada_ws.send_text(frame).await;
        expect_error(&mut ada_ws, code, case).await;
    }

    let picture = png(8, 8);
    let image = json!({"message_type": "media", "media_format": "image"});
    let mut no_delimiter = image.to_string().into_bytes();
    no_delimiter.extend_from_slice(&picture);
    let mut bad_meta = b"not json".to_vec();
    bad_meta.extend_from_slice(DELIMITER);
    bad_meta.extend_from_slice(&picture);
    let binary_cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bytes only",
            b"just some bytes".to_vec(),
            "missing_delimiter",
        ),
        (
            "metadata and bytes, no delimiter",
            no_delimiter,
            "missing_delimiter",
        ),
        ("metadata that is not JSON", bad_meta, "invalid_json"),
        (
            "metadata without media_format",
            media_frame(&json!({"message_type": "media"}), &picture),
            "invalid_json",
        ),
        (
            "an unknown type",
            media_frame(
                &json!({"message_type": "shout", "media_format": "image"}),
                &picture,
            ),
            "unknown_message_type",
        ),
        (
            "a media reply to another room's message",
            media_frame(
                &json!({"message_type": "reply", "previous_message_id": foreign_id, "media_format": "image"}),
                &picture,
            ),
            "invalid_reply",
        ),
        (
            "a media reply to an unknown message",
            media_frame(
                &json!({"message_type": "reply", "previous_message_id": "AAAAAAAAAAAAAAAAAAAAA", "media_format": "image"}),
                &picture,
            ),
            "invalid_reply",
        ),
    ];
    for (case, frame, code) in binary_cases {
        ada_ws.send_raw_binary(frame).await;
        expect_error(&mut ada_ws, code, case).await;
    }

    // Still usable; 4096 characters (of two bytes each) are allowed.
    let longest = "é".repeat(4096);
    ada_ws.send_message(&longest).await;
    ada_ws.send_message("still works").await;
    let accepted = ada_ws.messages(2, PROMPTLY).await;
    assert_eq!(accepted[0]["text_content"], longest.as_str());
    assert_eq!(accepted[1]["text_content"], "still works");

    // bob saw the three messages and nothing else: no errors, nothing from bad frames.
    let mut bobs = Vec::new();
    while bobs.len() < 3 {
        let event = bob_ws.next_event(PROMPTLY).await;
        match event["type"].as_str() {
            Some("chat.message") => bobs.push(event["text_content"].clone()),
            Some("chat.active") => {}
            _ => panic!("bob received {event}"),
        }
    }
    assert_eq!(bobs, [json!("first"), json!(longest), json!("still works")]);
    let stored = app.all_messages(&ada.access, room_id).await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(app.all_messages(&ada.access, elsewhere_id).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_since_is_an_error_and_live_events_follow() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    for since in ["AAAAAAAAAAAAAAAAAAAAA", "nope"] {
        let mut ws = app
            .ws_query(&ada.access, room_id, &format!("?since={since}"))
            .await;
        expect_error(&mut ws, "unknown_message", since).await;
        ws.send_message("live").await;
        let event = ws.next_of_type("chat.message", PROMPTLY).await;
        assert_eq!(event["text_content"], "live");
    }
}

#[tokio::test]
async fn sending_faster_than_the_limit_is_rate_limited_without_closing() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, "send_rate_per_sec = 1\nsend_burst = 3", true).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let mut ws = app.ws(&ada.access, room_id).await;
    for n in 0..10 {
        ws.send_message(&format!("m{n}")).await;
    }
    let (mut accepted, mut limited) = (0, 0);
    while accepted + limited < 10 {
        let event = ws.next_event(PROMPTLY).await;
        match event["type"].as_str() {
            Some("chat.message") => accepted += 1,
            Some("chat.error") => {
                assert_eq!(event["code"], "rate_limited", "{event}");
                limited += 1;
            }
            Some("chat.active") => {}
            _ => panic!("unexpected {event}"),
        }
    }
    assert!(
        limited > 0,
        "10 messages at once with a burst of 3: none limited"
    );
    assert!(accepted >= 3, "the burst of 3 was not allowed: {accepted}");
    assert_eq!(app.all_messages(&ada.access, room_id).await.len(), accepted);

    // The connection stays open; once time has passed (the app's clock moved, not
    // waited for), sending works again.
    app.clock.advance(chrono::Duration::seconds(3));
    ws.send_message("later").await;
    let event = ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "later");
}
