//! Delivery guarantees across reconnects and retries: resuming with `?since=` and
//! idempotent sends with `client_id`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use whisper_e2e::chat::{ada_and_bob_in_general, chat_app, people};
use whisper_e2e::ws::PROMPTLY;
use whisper_postgres::testing::TestDatabase;

fn ids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn resuming_after_a_disconnect_delivers_every_message_exactly_once() {
    const EACH: usize = 150;
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob, cy, dee] =
        <[_; 4]>::try_from(people(&mut app, &sink, &["ada", "bob", "cy", "dee"]).await)
            .ok()
            .unwrap();
    let room = app.create_room(&ada, "General", &[&bob, &cy, &dee]).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let mut ada_ws = app.ws(&ada.access, &room_id).await;
    let mut bob_ws = app.ws(&bob.access, &room_id).await;
    let mut cy_ws = app.ws(&cy.access, &room_id).await;
    // dee stays connected throughout: the reference for what and in which order.
    let mut dee_ws = app.ws(&dee.access, &room_id).await;
    for ws in [&mut ada_ws, &mut bob_ws, &mut cy_ws, &mut dee_ws] {
        ws.active_reaches(4, PROMPTLY).await;
    }

    // ada and bob keep sending, each paced by its own echo, while cy drops out and comes
    // back; each returns its socket once it has read every message of both.
    let mut senders = Vec::new();
    for (name, mut ws) in [("ada", ada_ws), ("bob", bob_ws)] {
        senders.push(tokio::spawn(async move {
            let mut read = 0;
            for n in 0..EACH {
                let text = format!("{name}-{n}");
                ws.send_message(&text).await;
                loop {
                    let message = ws.next_of_type("chat.message", PROMPTLY).await;
                    read += 1;
                    if message["text_content"] == text.as_str() {
                        break;
                    }
                }
            }
            ws.messages(2 * EACH - read, Duration::from_secs(120)).await;
            ws
        }));
    }
    let dee_reader =
        tokio::spawn(async move { dee_ws.messages(2 * EACH, Duration::from_secs(120)).await });

    let mut cy_seen = cy_ws.messages(30, PROMPTLY).await;
    cy_ws.close().await;
    drop(cy_ws);
    // Resume only once more messages were stored while cy was away.
    whisper_e2e::eventually("messages sent while cy is away", PROMPTLY, || async {
        let stored = app.all_messages(&dee.access, &room_id).await.len();
        (stored >= cy_seen.len() + 20).then_some(())
    })
    .await;
    let last = cy_seen.last().unwrap()["id"].as_str().unwrap().to_owned();
    let mut cy_ws = app
        .ws_query(&cy.access, &room_id, &format!("?since={last}"))
        .await;
    let rest = cy_ws
        .messages(2 * EACH - cy_seen.len(), Duration::from_secs(120))
        .await;
    cy_seen.extend(rest);
    let mut sockets = Vec::new();
    for sender in senders {
        sockets.push(sender.await.unwrap());
    }
    // Nothing more may follow: the next message cy reads is one sent after all of them.
    sockets[0].send_message("the end").await;
    let next = cy_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(next["text_content"], "the end", "an extra message: {next}");

    let reference = dee_reader.await.unwrap();
    let cy_ids = ids(&cy_seen);
    let unique: HashSet<&String> = cy_ids.iter().collect();
    assert_eq!(unique.len(), cy_ids.len(), "cy received a message twice");
    let seqs: Vec<u64> = cy_seen.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=(2 * EACH) as u64).collect::<Vec<_>>(),
        "across the reconnect, consecutive seqs"
    );
    assert_eq!(
        cy_ids,
        ids(&reference),
        "cy's messages across the reconnect differ from an always-connected member's"
    );
}

#[tokio::test]
async fn resuming_from_the_latest_message_sends_nothing_old_and_live_events_follow() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let mut ada_ws = app.ws(&ada.access, room_id).await;
    for text in ["one", "two", "three"] {
        ada_ws.send_message(text).await;
    }
    let sent = ada_ws.messages(3, PROMPTLY).await;

    // From the first: the two after it, in order, then live ones.
    let mut bob_ws = app
        .ws_query(
            &bob.access,
            room_id,
            &format!("?since={}", sent[0]["id"].as_str().unwrap()),
        )
        .await;
    let backlog = bob_ws.messages(2, PROMPTLY).await;
    assert_eq!(ids(&backlog), ids(&sent[1..]));
    assert!(backlog.iter().all(|m| m.get("client_id").is_none()));
    ada_ws.send_message("four").await;
    let live = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(live["text_content"], "four");

    // From the latest: nothing old.
    let latest = live["id"].as_str().unwrap();
    let mut again = app
        .ws_query(&bob.access, room_id, &format!("?since={latest}"))
        .await;
    // The first message it reads is the next live one: nothing old came before it.
    ada_ws.send_message("five").await;
    let live = again.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(live["text_content"], "five", "an old message: {live}");
}

#[tokio::test]
async fn a_retried_client_id_stores_one_message_and_echoes_it_to_the_sender_only() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;

    let frame = json!({"message_type": "message", "message": "once", "client_id": "retry-1"});
    ada_ws.send_json(&frame).await;
    let original = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    // A retry after the answer, then two at once (a retry racing the original).
    ada_ws.send_json(&frame).await;
    let retried = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(retried["id"], original["id"]);
    assert_eq!(retried["client_id"], "retry-1");
    assert_eq!(retried["text_content"], "once");

    let racing = json!({"message_type": "message", "message": "racing", "client_id": "retry-2"});
    ada_ws.send_json(&racing).await;
    ada_ws.send_json(&racing).await;
    let [first, second] = <[_; 2]>::try_from(ada_ws.messages(2, PROMPTLY).await)
        .ok()
        .unwrap();
    assert_eq!(first["id"], second["id"], "a racing retry stored twice");
    assert_eq!(second["client_id"], "retry-2");

    // A reply retried the same way.
    let reply = json!({
        "message_type": "reply",
        "message": "answer",
        "previous_message_id": original["id"],
        "client_id": "retry-3",
    });
    ada_ws.send_json(&reply).await;
    let reply_original = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    ada_ws.send_json(&reply).await;
    let reply_again = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(reply_again["id"], reply_original["id"]);
    assert_eq!(reply_again["is_reply"], true);

    // bob got each stored message once, without client_id.
    let got = bob_ws.messages(3, PROMPTLY).await;
    assert_eq!(
        ids(&got),
        [&original, &first, &reply_original]
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        "the other member received a retry"
    );
    assert!(got.iter().all(|m| m.get("client_id").is_none()), "{got:?}");

    // The same client_id from another user is another message.
    bob_ws.send_json(&frame).await;
    let bobs = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(bobs["sender"], bob.id.as_str());
    assert_ne!(bobs["id"], original["id"]);
    assert_eq!(bobs["client_id"], "retry-1");
    let bobs_for_ada = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(bobs_for_ada["id"], bobs["id"]);

    ada_ws.send_message("marker").await;
    let marker = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(
        marker["text_content"], "marker",
        "bob got a retry: {marker}"
    );

    let stored = app.all_messages(&ada.access, room_id).await;
    let texts: Vec<&str> = stored
        .iter()
        .map(|m| m["text_content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["once", "racing", "answer", "once", "marker"]);
    assert_eq!(stored[0]["id"], original["id"]);
    assert_eq!(stored[3]["id"], bobs["id"]);
}

#[tokio::test]
async fn the_other_member_receives_a_retried_message_once() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;

    let frame = json!({"message_type": "message", "message": "once", "client_id": "retry-1"});
    for _ in 0..3 {
        ada_ws.send_json(&frame).await;
    }
    let echoes = ada_ws.messages(3, PROMPTLY).await;
    assert!(
        echoes.iter().all(|e| e["id"] == echoes[0]["id"]),
        "{echoes:?}"
    );
    ada_ws.send_message("marker").await;
    let got = bob_ws.messages(2, PROMPTLY).await;
    assert_eq!(got[0]["id"], echoes[0]["id"]);
    assert!(got[0].get("client_id").is_none(), "{}", got[0]);
    assert_eq!(got[1]["text_content"], "marker", "bob got a retry twice");
    assert_eq!(app.all_messages(&bob.access, room_id).await.len(), 2);
}
