//! The WebSocket under load: a client that stops reading is cut off (1013) without holding
//! up the room, and an open-loop burst reaches every member exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use whisper_e2e::chat::{chat_app, people};
use whisper_e2e::ws::{PROMPTLY, Received, WsClient, ws_app};
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_1013_without_delaying_the_others() {
    const BATCH: usize = 20;
    const MAX_MESSAGES: usize = 3000;
    let db = TestDatabase::create().await;
    // Room for a commit of a whole batch (20 sends may share one), not for much more.
    let (mut app, sink, _config) = ws_app(&db.url, "queue_capacity = 32", false).await;
    let [ada, bob, cy] = <[_; 3]>::try_from(people(&mut app, &sink, &["ada", "bob", "cy"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "General", &[&bob, &cy]).await;
    let room_id = room["id"].as_str().unwrap();
    let mut ada_ws = app.ws(&ada.access, room_id).await;
    let mut bob_ws = app.ws(&bob.access, room_id).await;
    // cy's kernel receive buffer is small, and cy stops reading once everyone is in.
    let mut cy_ws = WsClient::connect_with_recv_buffer(
        &app.ws_url(room_id, ""),
        &[("authorization", format!("Bearer {}", cy.access))],
        4096,
    )
    .await
    .unwrap();
    for ws in [&mut ada_ws, &mut bob_ws, &mut cy_ws] {
        ws.active_reaches(3, PROMPTLY).await;
    }

    // ada's own copies are read in the background, up to the final "after".
    let (mut ada_tx, mut ada_rx) = ada_ws.split();
    let ada_reader = tokio::spawn(async move {
        let mut count = 0;
        loop {
            match ada_rx.recv(Duration::from_secs(120)).await {
                Received::Event(e) if e["type"] == "chat.message" => {
                    count += 1;
                    if e["text_content"] == "after" {
                        return count;
                    }
                }
                Received::Event(_) => {}
                other => panic!("the sender's connection: {count} messages, then {other:?}"),
            }
        }
    });

    // Large messages, in batches: bob must get every batch while cy reads nothing. Stop
    // once bob hears that cy is gone (the count drops to 2).
    let text = "x".repeat(4000);
    let mut sent = 0;
    let mut cy_gone = false;
    while sent < MAX_MESSAGES && !cy_gone {
        for _ in 0..BATCH {
            ada_tx.send_message(&text).await;
        }
        sent += BATCH;
        let mut received = 0;
        while received < BATCH {
            let event = bob_ws.next_event(PROMPTLY).await;
            match event["type"].as_str() {
                Some("chat.message") => received += 1,
                Some("chat.active") if event["content"] == 2 => cy_gone = true,
                _ => {}
            }
        }
    }
    // The room let go of cy while cy was still not reading.
    assert!(cy_gone, "cy still counted as present after {sent} messages");
    // Whatever cy's kernel buffers held, then the close frame.
    let (events, code) = cy_ws.drain_until_close(Duration::from_secs(60)).await;
    let delivered = events
        .iter()
        .filter(|e| e["type"] == "chat.message")
        .count();
    assert_eq!(
        code,
        Some(1013),
        "cy got {delivered} of {sent} messages, then the connection ended without 1013"
    );
    assert!(delivered < sent, "cy was never cut off");
    // The room goes on.
    if !cy_gone {
        bob_ws.active_reaches(2, PROMPTLY).await;
    }
    ada_tx.send_message("after").await;
    let event = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "after");
    assert_eq!(ada_reader.await.unwrap(), sent + 1);
}

#[tokio::test]
async fn an_open_loop_burst_reaches_every_member_exactly_once() {
    const MEMBERS: usize = 10;
    const EACH: usize = 200;
    const TOTAL: usize = MEMBERS * EACH;
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let names: Vec<String> = (0..MEMBERS).map(|n| format!("member{n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let all = people(&mut app, &sink, &names).await;
    let others: Vec<_> = all[1..].iter().collect();
    let room = app.create_room(&all[0], "Burst", &others).await;
    let room_id = room["id"].as_str().unwrap();
    let mut sockets = Vec::new();
    for person in &all {
        sockets.push(app.ws(&person.access, room_id).await);
    }
    for ws in &mut sockets {
        ws.active_reaches(MEMBERS as u64, PROMPTLY).await;
    }

    let mut tasks = Vec::new();
    for (index, ws) in sockets.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        let reader = tokio::spawn(async move {
            let mut messages: Vec<Value> = Vec::with_capacity(TOTAL);
            while messages.len() < TOTAL {
                match rx.recv(Duration::from_secs(120)).await {
                    Received::Event(e) if e["type"] == "chat.message" => messages.push(e),
                    Received::Event(e) if e["type"] == "chat.error" => {
                        panic!("member {index} got {e}")
                    }
                    Received::Event(_) => {}
                    other => panic!(
                        "member {index}: {} of {TOTAL} messages, then {other:?}",
                        messages.len()
                    ),
                }
            }
            // Anything more would be a duplicate.
            for event in rx.events_for(Duration::from_secs(1)).await {
                assert_ne!(
                    event["type"], "chat.message",
                    "member {index}: extra {event}"
                );
            }
            messages
        });
        let writer = tokio::spawn(async move {
            for n in 0..EACH {
                tx.send_message(&format!("{index}-{n}")).await;
            }
            tx
        });
        tasks.push((reader, writer));
    }
    let mut received = Vec::new();
    let mut senders = Vec::new();
    for (reader, writer) in tasks {
        senders.push(writer.await.unwrap());
        received.push(reader.await.unwrap());
    }

    let ids = |messages: &Vec<Value>| -> Vec<String> {
        messages
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let reference = ids(&received[0]);
    let unique: HashSet<&String> = reference.iter().collect();
    assert_eq!(unique.len(), TOTAL, "a member received a message twice");
    for (index, messages) in received.iter().enumerate() {
        assert_eq!(ids(messages), reference, "member {index} saw another order");
    }
    let mut per_sender: HashMap<String, Vec<String>> = HashMap::new();
    for message in &received[0] {
        let text = message["text_content"].as_str().unwrap().to_owned();
        let sender = text.split('-').next().unwrap().to_owned();
        per_sender.entry(sender).or_default().push(text);
    }
    for sender in 0..MEMBERS {
        let expected: Vec<String> = (0..EACH).map(|n| format!("{sender}-{n}")).collect();
        assert_eq!(per_sender[&sender.to_string()], expected);
    }
    assert_eq!(app.all_messages(&all[0].access, room_id).await.len(), TOTAL);
    drop(senders);
}
