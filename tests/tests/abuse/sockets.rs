//! One user opening too many sockets: beyond `websocket.max_sockets_per_user` a socket is
//! accepted, then closed with 4029 "too many sockets" before it joins the room (no presence
//! change); closing one frees a place; a flood of refused sockets leaves the server serving
//! everyone else.

use std::time::Duration;

use whisper_e2e::chat::ada_and_bob_in_general;
use whisper_e2e::eventually;
use whisper_e2e::ws::{PROMPTLY, Received, WsClient, ws_app};
use whisper_postgres::testing::TestDatabase;

const CAP: usize = 5;

/// Connects as `access`; the close code and reason when the server refuses the socket right
/// after the upgrade, or the open socket when its first frame is an event.
async fn open_or_refused(
    app: &whisper_e2e::TestApp,
    access: &str,
    room: &str,
) -> Result<WsClient, (Option<u16>, String)> {
    let mut ws = app.ws(access, room).await;
    // An admitted socket is sent the room's `chat.active` on joining.
    match ws.recv(PROMPTLY).await {
        Received::Event(_) => Ok(ws),
        Received::Closed(code, reason) => Err((code, reason)),
        other => panic!("neither an event nor a close frame: {other:?}"),
    }
}

async fn assert_refused_over_cap(app: &whisper_e2e::TestApp, access: &str, room: &str) {
    let refused = open_or_refused(app, access, room).await;
    let (code, reason) = refused.err().expect("a socket over the cap was admitted");
    assert_eq!(code, Some(4029));
    assert_eq!(reason, "too many sockets");
}

#[tokio::test]
async fn a_socket_over_the_per_user_cap_is_closed_with_4029_without_joining() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, &format!("max_sockets_per_user = {CAP}"), false).await;
    let (ada, bob, room) = ada_and_bob_in_general(&mut app, &sink).await;
    let mut bob_ws = app.ws(&bob.access, &room).await;
    let mut ada_sockets = Vec::new();
    for _ in 0..CAP {
        ada_sockets.push(open_or_refused(&app, &ada.access, &room).await.unwrap());
    }
    bob_ws.active_reaches(2, PROMPTLY).await;
    // bob has read past every join: what follows is only what the refusal causes.
    bob_ws.send_message("before").await;
    bob_ws.next_of_type("chat.message", PROMPTLY).await;

    assert_refused_over_cap(&app, &ada.access, &room).await;
    // The refused socket never joined: a join would send chat.active (even an unchanged
    // count) to the room; bob hears only his next message.
    bob_ws.send_message("after").await;
    let events = bob_ws.events_for(Duration::from_secs(1)).await;
    assert!(
        events.iter().all(|e| e["type"] != "chat.active"),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e["text_content"] == "after"),
        "{events:?}"
    );
    // bob's sockets do not count against ada's cap.
    let mut bob_second = open_or_refused(&app, &bob.access, &room).await.unwrap();
    bob_second.close().await;

    // Closing one of ada's sockets frees a place.
    let mut first = ada_sockets.remove(0);
    first.close().await;
    let reopened = eventually("a freed place", PROMPTLY, || async {
        open_or_refused(&app, &ada.access, &room).await.ok()
    })
    .await;
    ada_sockets.push(reopened);
    assert_refused_over_cap(&app, &ada.access, &room).await;
    // Every admitted socket still works.
    ada_sockets[CAP - 1].send_message("sixth time lucky").await;
    for ws in &mut ada_sockets {
        until_message(ws, "sixth time lucky").await;
    }
}

/// Reads `ws` until the message `text` arrives.
async fn until_message(ws: &mut WsClient, text: &str) {
    loop {
        let event = ws.next_of_type("chat.message", PROMPTLY).await;
        if event["text_content"] == text {
            return;
        }
    }
}

#[tokio::test]
async fn a_thousand_sockets_over_the_cap_are_refused_and_others_keep_chatting() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, &format!("max_sockets_per_user = {CAP}"), false).await;
    let (ada, bob, room) = ada_and_bob_in_general(&mut app, &sink).await;
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(open_or_refused(&app, &ada.access, &room).await.unwrap());
    }
    // 1,000 more, 100 at a time.
    for _ in 0..10 {
        let batch = (0..100).map(|_| open_or_refused(&app, &ada.access, &room));
        for refused in futures_util::future::join_all(batch).await {
            let (code, _) = refused.err().expect("a socket over the cap was admitted");
            assert_eq!(code, Some(4029));
        }
    }
    // Others connect and chat; ada's held sockets hear them.
    let mut bob_ws = open_or_refused(&app, &bob.access, &room).await.unwrap();
    bob_ws.send_message("still serving").await;
    let event = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still serving");
    for ws in &mut held {
        until_message(ws, "still serving").await;
    }
    // The refused sockets left nothing behind: once ada closes hers, she has CAP again.
    for mut ws in held {
        ws.close().await;
    }
    let mut again = Vec::new();
    for _ in 0..CAP {
        let ws = eventually("ada's places back", PROMPTLY, || async {
            open_or_refused(&app, &ada.access, &room).await.ok()
        })
        .await;
        again.push(ws);
    }
    assert_refused_over_cap(&app, &ada.access, &room).await;
}
