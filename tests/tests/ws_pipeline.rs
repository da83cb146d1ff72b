//! Pipelined sends: a client may send many commands without waiting; the connection reads
//! on while earlier sends commit, and every answer (echo, refusal, a retry's echo) comes in
//! the order the commands were sent, the room's messages in `seq` order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use serde_json::{Value, json};
use whisper_e2e::chat::ada_and_bob_in_general;
use whisper_e2e::ws::{PROMPTLY, Received, WsClient, ws_app};
use whisper_postgres::testing::TestDatabase;

const SENT: usize = 200;

fn text(message: &str, client_id: &str) -> Value {
    json!({"message_type": "message", "message": message, "client_id": client_id})
}

/// The next `count` answers on `socket`: `chat.message` and `chat.error` events, in order.
async fn answers(socket: &mut WsClient, count: usize) -> Vec<Value> {
    let mut answers = Vec::with_capacity(count);
    while answers.len() < count {
        match socket.recv(PROMPTLY).await {
            Received::Event(event) if event["type"] == "chat.message" => answers.push(event),
            Received::Event(event) if event["type"] == "chat.error" => answers.push(event),
            Received::Event(_) => {}
            other => panic!("{other:?} after {} answers: {answers:?}", answers.len()),
        }
    }
    answers
}

fn seqs(messages: &[Value]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn two_hundred_sends_without_waiting_are_echoed_in_order_and_seen_in_seq_order() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) = ws_app(&db.url, "", false).await;
    let (ada, bob, room) = ada_and_bob_in_general(&mut app, &sink).await;
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, &room).await;

    for n in 0..SENT {
        ada_ws
            .send_json(&text(&format!("m-{n}"), &format!("c-{n}")))
            .await;
    }
    let echoes = answers(&mut ada_ws, SENT).await;
    let client_ids: Vec<&str> = echoes
        .iter()
        .map(|e| e["client_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..SENT).map(|n| format!("c-{n}")).collect();
    assert_eq!(client_ids, expected, "echoes in the order sent");
    assert!(
        seqs(&echoes).windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        seqs(&echoes)
    );

    let seen = answers(&mut bob_ws, SENT).await;
    let ids = |messages: &[Value]| -> Vec<String> {
        messages
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&seen), ids(&echoes), "the room sees the same order");
    let history = app.all_messages(&bob.access, &room).await;
    assert_eq!(history.len(), SENT);
}

#[tokio::test]
async fn refusals_in_a_pipelined_run_answer_the_command_they_refuse_in_order() {
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) = ws_app(&db.url, "", false).await;
    let (ada, _bob, room) = ada_and_bob_in_general(&mut app, &sink).await;
    let other = app.create_room(&ada, "Other", &[]).await;
    let other = other["id"].as_str().unwrap().to_owned();
    let mut elsewhere = app.ws(&ada.access, &other).await;
    elsewhere.send_json(&text("over there", "x-1")).await;
    let foreign = answers(&mut elsewhere, 1).await.remove(0);

    let mut ws = app.ws(&ada.access, &room).await;
    let commands = [
        text("m-0", "c-0"),
        text("m-1", "c-1"),
        // Refused by the reader, before it is queued.
        text("", "c-2"),
        // Refused by the commit (the replied message is in another room).
        json!({"message_type": "reply", "message": "m-3", "previous_message_id": foreign["id"], "client_id": "c-3"}),
        // A retry of c-0: the stored message again, with its id.
        text("m-4", "c-0"),
        text("m-5", "c-5"),
    ];
    for command in &commands {
        ws.send_json(command).await;
    }
    let got = answers(&mut ws, commands.len()).await;
    let kinds: Vec<String> = got
        .iter()
        .map(|a| match a["type"].as_str().unwrap() {
            "chat.error" => format!("error {}", a["code"].as_str().unwrap()),
            _ => format!("{} {}", a["text_content"].as_str().unwrap(), a["client_id"]),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "m-0 \"c-0\"",
            "m-1 \"c-1\"",
            "error invalid_message",
            "error invalid_reply",
            "m-0 \"c-0\"",
            "m-5 \"c-5\"",
        ],
        "{got:?}"
    );
    assert_eq!(
        got[4]["id"], got[0]["id"],
        "the retry is the stored message"
    );
    let history = app.all_messages(&ada.access, &room).await;
    assert_eq!(history.len(), 3, "m-0, m-1 and m-5 are stored");
}
