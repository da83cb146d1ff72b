//! How connections end: a member removed from the room (4001, after the notification),
//! an access token revoked by logout (1008), and a client's own close, echoed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use reqwest::{Method, StatusCode};
use whisper_e2e::chat::{ada_and_bob_in_general, chat_app};
use whisper_e2e::ws::{PROMPTLY, Received, ws_app};
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_removed_member_gets_the_notification_then_close_4001() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let bob_name = app.me(&bob.access).await["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.create_room(&ada, "Other", &[&bob]).await;
    let other_id = other["id"].as_str().unwrap();
    let mut ada_ws = app.ws(&ada.access, room_id).await;
    let mut bob_ws = app.ws(&bob.access, room_id).await;
    let mut bob_elsewhere = app.ws(&bob.access, other_id).await;
    ada_ws.active_reaches(2, PROMPTLY).await;

    let removed = app
        .call_as(
            &ada.access,
            Method::DELETE,
            &format!("/api/v1/chat/room/{room_id}/users/{}/", bob.id),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let expected = format!("{bob_name} was removed from the chat.");
    // bob: the notification, then the close; nothing of the room after that.
    let notification = bob_ws.next_of_type("chat.notification", PROMPTLY).await;
    assert_eq!(notification["content"], expected.as_str());
    let (after, code) = bob_ws.drain_until_close(PROMPTLY).await;
    assert_eq!(code, Some(4001), "events before the close: {after:?}");
    assert!(
        after.iter().all(|e| e["type"] != "chat.message"),
        "{after:?}"
    );

    // ada: the same notification, her connection stays, the count drops.
    let notification = ada_ws.next_of_type("chat.notification", PROMPTLY).await;
    assert_eq!(notification["content"], expected.as_str());
    ada_ws.active_reaches(1, PROMPTLY).await;
    ada_ws.send_message("still here").await;
    let event = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still here");

    // bob's socket to another room is untouched; he may not come back to this one.
    bob_elsewhere.send_message("hello other").await;
    let event = bob_elsewhere.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "hello other");
    let refused = app.try_ws(&bob.access, room_id, "").await;
    assert_eq!(refused.err().map(|r| r.status), Some(403));
}

#[tokio::test]
async fn logging_out_closes_the_users_sockets_with_1008() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) = ws_app(&db.url, "revocation_check_secs = 1", false).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;
    // The socket works before the logout.
    bob_ws.send_message("bye").await;
    bob_ws.next_of_type("chat.message", PROMPTLY).await;

    let logout = app
        .call_as(&bob.access, Method::POST, "/api/v1/user/logout/", None)
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let (_, code) = bob_ws.drain_until_close(Duration::from_secs(20)).await;
    assert_eq!(code, Some(1008));

    // ada is unaffected; bob's token no longer opens sockets.
    ada_ws.active_reaches(1, PROMPTLY).await;
    ada_ws.send_message("still here").await;
    let event = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still here");
    match ada_ws.recv(Duration::from_millis(200)).await {
        Received::Event(_) | Received::TimedOut => {}
        other => panic!("ada's connection ended: {other:?}"),
    }
    let refused = app.try_ws(&bob.access, room_id, "").await;
    assert_eq!(refused.err().map(|r| r.status), Some(401));
}

#[tokio::test]
async fn a_client_closing_with_a_code_gets_the_same_code_back() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, _bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    // RFC 6455 §5.5.1: the endpoint answering a close sends the status code it received.
    for code in [1000, 1001, 4000] {
        let mut ws = app.ws(&ada.access, room_id.as_str()).await;
        ws.active_reaches(1, PROMPTLY).await;
        ws.close_with(code).await;
        assert_eq!(
            ws.expect_close(PROMPTLY).await,
            Some(code),
            "closed with {code}"
        );
    }
}
