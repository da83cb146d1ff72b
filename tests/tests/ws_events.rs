//! Chat over the WebSocket: each event type, who receives it, and the order of messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whisper_e2e::chat::{ada_and_bob_in_general, ada_in_general, chat_app, people};
use whisper_e2e::ws::{PROMPTLY, WsClient};
use whisper_postgres::testing::TestDatabase;

/// A message event as the REST history shows it: without `type` and `client_id`.
fn as_stored(event: &Value) -> Value {
    let mut object = event.as_object().unwrap().clone();
    object.remove("type");
    object.remove("client_id");
    Value::Object(object)
}

#[tokio::test]
async fn messages_and_replies_reach_every_member_with_client_id_only_on_the_senders_copy() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let ada_name = app.me(&ada.access).await["username"].clone();
    let bob_name = app.me(&bob.access).await["username"].clone();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;

    ada_ws
        .send_json(
            &json!({"message_type": "message", "message": "Hello, World!", "client_id": "c-1"}),
        )
        .await;
    let own = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    let theirs = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(own["client_id"], "c-1");
    assert!(
        theirs.get("client_id").is_none(),
        "client_id leaked to another member: {theirs}"
    );
    assert_eq!(as_stored(&own), as_stored(&theirs));
    let id = own["id"].as_str().unwrap();
    assert_eq!(id.len(), 21, "{own}");
    assert_eq!(own["seq"], 1, "the room's first message: {own}");
    assert_eq!(own["message_format"], "text");
    assert_eq!(own["text_content"], "Hello, World!");
    assert_eq!(own["media_url"], Value::Null);
    assert_eq!(own["is_reply"], false);
    assert_eq!(own["previous_message_id"], Value::Null);
    assert_eq!(own["sender"], ada.id.as_str());
    assert_eq!(own["username"], ada_name);
    assert_eq!(own["room"], room_id);
    assert!(own["created"].as_str().unwrap().ends_with('Z'), "{own}");
    assert!(own["date"].is_string() && own["time"].is_string(), "{own}");

    bob_ws
        .send_json(
            &json!({"message_type": "reply", "message": "Hello back!", "previous_message_id": id}),
        )
        .await;
    let reply = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    let reply_for_ada = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(reply, reply_for_ada);
    assert!(reply.get("client_id").is_none(), "{reply}");
    assert_eq!(reply["seq"], 2, "the next one: {reply}");
    assert_eq!(reply["is_reply"], true);
    assert_eq!(reply["text_content"], "Hello back!");
    assert_eq!(reply["previous_message_id"], id);
    assert_eq!(reply["previous_message_content"], "Hello, World!");
    assert_eq!(reply["previous_sender"], ada.id.as_str());
    assert_eq!(reply["sender"], bob.id.as_str());
    assert_eq!(reply["username"], bob_name);

    // Committed before anyone saw them, and stored exactly as broadcast.
    let stored = app.all_messages(&bob.access, room_id).await;
    assert_eq!(stored, vec![as_stored(&own), as_stored(&reply)]);
}

#[tokio::test]
async fn membership_changes_are_notified_to_connected_members() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob, cy] = <[_; 3]>::try_from(people(&mut app, &sink, &["ada", "bob", "cy"]).await)
        .ok()
        .unwrap();
    let cy_name = app.me(&cy.access).await["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let room = app.create_room(&ada, "General", &[&bob]).await;
    let room_id = room["id"].as_str().unwrap();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;

    let added = app
        .call_as(
            &ada.access,
            Method::POST,
            &format!("/api/v1/chat/room/{room_id}/users/"),
            Some(&json!({"user_ids": [cy.id]})),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    for ws in [&mut ada_ws, &mut bob_ws] {
        let event = ws.next_of_type("chat.notification", PROMPTLY).await;
        assert_eq!(
            event["content"],
            format!("{cy_name} was added to the chat."),
            "{event}"
        );
    }

    let mut cy_ws = app.ws(&cy.access, room_id).await;
    cy_ws.active_reaches(3, PROMPTLY).await;
    let left = app
        .call_as(
            &cy.access,
            Method::DELETE,
            &format!("/api/v1/chat/room/{room_id}/users/{}/", cy.id),
            None,
        )
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    for ws in [&mut ada_ws, &mut bob_ws] {
        let event = ws.next_of_type("chat.notification", PROMPTLY).await;
        assert_eq!(
            event["content"],
            format!("{cy_name} left the chat."),
            "{event}"
        );
    }
}

#[tokio::test]
async fn typing_reaches_the_others_but_not_the_typist() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob, cy] = <[_; 3]>::try_from(people(&mut app, &sink, &["ada", "bob", "cy"]).await)
        .ok()
        .unwrap();
    let ada_name = app.me(&ada.access).await["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let room = app.create_room(&ada, "General", &[&bob, &cy]).await;
    let room_id = room["id"].as_str().unwrap();
    let mut ada_ws = app.ws(&ada.access, room_id).await;
    let mut bob_ws = app.ws(&bob.access, room_id).await;
    let mut cy_ws = app.ws(&cy.access, room_id).await;
    for ws in [&mut ada_ws, &mut bob_ws, &mut cy_ws] {
        ws.active_reaches(3, PROMPTLY).await;
    }

    ada_ws
        .send_json(&json!({"message_type": "typing", "message": "typing"}))
        .await;
    for ws in [&mut bob_ws, &mut cy_ws] {
        let event = ws.next_of_type("chat.typing", PROMPTLY).await;
        assert_eq!(event["username"], ada_name.as_str());
        assert_eq!(event["content"], format!("{ada_name} is typing..."));
    }
    ada_ws
        .send_json(&json!({"message_type": "typing", "message": "not_typing"}))
        .await;
    for ws in [&mut bob_ws, &mut cy_ws] {
        let event = ws.next_of_type("chat.typing", PROMPTLY).await;
        assert_eq!(event["username"], ada_name.as_str());
        assert!(event.get("content").is_some_and(Value::is_null), "{event}");
    }

    // Everything ada receives up to her next message: no typing event of her own.
    ada_ws.send_message("done typing").await;
    loop {
        let event = ada_ws.next_event(PROMPTLY).await;
        assert_ne!(event["type"], "chat.typing", "the typist got {event}");
        if event["type"] == "chat.message" {
            assert_eq!(event["text_content"], "done typing");
            break;
        }
    }
    // Typing is not stored.
    assert_eq!(app.all_messages(&ada.access, room_id).await.len(), 1);
}

#[tokio::test]
async fn active_counts_distinct_members_not_sockets() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();

    let mut ada_1 = app.ws(&ada.access, room_id).await;
    let first = ada_1.next_of_type("chat.active", PROMPTLY).await;
    assert_eq!(first["content"], 1, "{first}");
    assert!(first["content"].is_u64(), "content is an integer: {first}");
    let mut bob_ws = app.ws(&bob.access, room_id).await;
    ada_1.active_reaches(2, PROMPTLY).await;
    bob_ws.active_reaches(2, PROMPTLY).await;

    // A second socket of ada's: still two members. Its join is announced to every socket
    // (the count of each room whose sockets changed is sent again), so the next count each
    // socket reads is the one after the join.
    let mut ada_2 = app.ws(&ada.access, room_id).await;
    for ws in [&mut ada_1, &mut ada_2, &mut bob_ws] {
        let event = ws.next_of_type("chat.active", PROMPTLY).await;
        assert_eq!(event["content"], 2, "two sockets of one user counted twice");
    }

    // Closing one of ada's sockets leaves her connected: the count announced after the
    // close is still two.
    ada_1.close().await;
    drop(ada_1);
    for ws in [&mut ada_2, &mut bob_ws] {
        let event = ws.next_of_type("chat.active", PROMPTLY).await;
        assert_eq!(event["content"], 2, "ada still has a socket: {event}");
    }
    // Closing her last one leaves bob alone.
    ada_2.close().await;
    drop(ada_2);
    bob_ws.active_reaches(1, PROMPTLY).await;
}

#[tokio::test]
async fn is_online_follows_the_users_sockets() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    assert_eq!(app.me(&ada.access).await["is_online"], false);

    let mut first = app.ws(&ada.access, room_id).await;
    whisper_e2e::eventually("ada is online", PROMPTLY, || async {
        (app.me(&ada.access).await["is_online"] == true).then_some(())
    })
    .await;
    let mut second = app.ws(&ada.access, room_id).await;
    second.active_reaches(1, PROMPTLY).await;
    first.close().await;
    drop(first);
    // The count announced to the other socket after the close says the server saw it;
    // one socket is left, so ada stays online.
    let after_close = second.next_of_type("chat.active", PROMPTLY).await;
    assert_eq!(after_close["content"], 1, "{after_close}");
    assert_eq!(app.me(&ada.access).await["is_online"], true);

    second.close().await;
    drop(second);
    whisper_e2e::eventually("ada is offline", PROMPTLY, || async {
        (app.me(&ada.access).await["is_online"] == false).then_some(())
    })
    .await;
}

#[tokio::test]
async fn members_see_one_order_while_three_members_send_concurrently() {
    const EACH: usize = 100;
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let all = people(&mut app, &sink, &["ada", "bob", "cy", "dee", "eve"]).await;
    let others: Vec<_> = all[1..].iter().collect();
    let room = app.create_room(&all[0], "General", &others).await;
    let room_id = room["id"].as_str().unwrap();
    let mut sockets: Vec<WsClient> = Vec::new();
    for person in &all {
        sockets.push(app.ws(&person.access, room_id).await);
    }
    for ws in &mut sockets {
        ws.active_reaches(5, PROMPTLY).await;
    }

    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for (index, ws) in sockets.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        readers.push(tokio::spawn(async move {
            rx.messages(3 * EACH, Duration::from_secs(120)).await
        }));
        // ada, bob and cy send; dee and eve only read.
        if index < 3 {
            writers.push(tokio::spawn(async move {
                for n in 0..EACH {
                    tx.send_message(&format!("{index}-{n}")).await;
                }
                tx
            }));
        } else {
            writers.push(tokio::spawn(async move { tx }));
        }
    }
    let mut _senders = Vec::new();
    for writer in writers {
        _senders.push(writer.await.unwrap());
    }
    let mut seen: Vec<Vec<Value>> = Vec::new();
    for reader in readers {
        seen.push(reader.await.unwrap());
    }

    let ids = |messages: &Vec<Value>| -> Vec<String> {
        messages
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let reference = ids(&seen[3]);
    assert_eq!(ids(&seen[4]), reference, "dee and eve saw different orders");
    let seqs: Vec<u64> = seen[3].iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=(3 * EACH) as u64).collect::<Vec<_>>(),
        "delivered in seq order, consecutive"
    );
    for (index, messages) in seen.iter().enumerate() {
        assert_eq!(ids(messages), reference, "member {index} saw another order");
    }
    // Each sender's messages in the order sent, each once.
    let mut per_sender: HashMap<String, Vec<String>> = HashMap::new();
    for message in &seen[3] {
        let text = message["text_content"].as_str().unwrap().to_owned();
        let sender = text.split('-').next().unwrap().to_owned();
        per_sender.entry(sender).or_default().push(text);
    }
    for sender in 0..3 {
        let expected: Vec<String> = (0..EACH).map(|n| format!("{sender}-{n}")).collect();
        assert_eq!(per_sender[&sender.to_string()], expected);
    }
    let stored = app.all_messages(&all[0].access, room_id).await;
    assert_eq!(stored.len(), 3 * EACH);
}
