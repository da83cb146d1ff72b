//! Messages across instances: delivered once to every member wherever they are connected,
//! in one `seq` order, resumable anywhere, and stored once per `client_id`.

use futures_util::future::join_all;
use serde_json::{Value, json};
use whisper_e2e::ws::WsClient;

use crate::harness::{
    Cluster, Member, PROMPTLY, SHARED_REDIS_URL, active_is, assert_once_in_seq_order, ids, message,
    messages_until, seqs, wait_for,
};

/// Three instances on the shared Redis, and `names` in one room, connected round-robin.
async fn room_across_instances(names: &[&str]) -> (Cluster, Vec<Member>, String, Vec<WsClient>) {
    let cluster = Cluster::start(3, Some(SHARED_REDIS_URL)).await;
    let (people, room, sockets) = cluster.connected_room(names).await;
    (cluster, people, room, sockets)
}

#[tokio::test]
async fn a_message_sent_on_one_instance_reaches_members_on_every_instance_once() {
    // ada and dee on A, bob on B, cyd on C.
    let (_cluster, _people, _room, mut sockets) =
        room_across_instances(&["ada", "bob", "cyd", "dee"]).await;
    sockets[0].send_json(&message("hello", "c-hello")).await;
    sockets[0].send_json(&message("marker", "c-marker")).await;
    for (index, socket) in sockets.iter_mut().enumerate() {
        // Up to the marker sent after it: exactly the message, once, then the marker.
        let received = messages_until(socket, "marker", PROMPTLY).await;
        let texts: Vec<&str> = received
            .iter()
            .map(|m| m["text_content"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["hello", "marker"], "socket {index}");
        // client_id only on the sender's copy.
        assert_eq!(
            received[0]["client_id"] == "c-hello",
            index == 0,
            "socket {index}"
        );
    }
}

#[tokio::test]
async fn every_connection_sees_one_seq_order_while_every_instance_sends() {
    const EACH: usize = 25;
    let (cluster, people, room, sockets) = room_across_instances(&["ada", "bob", "cyd"]).await;
    let total = EACH * people.len();
    // Each sender writes its messages without waiting, all three at once, then everyone
    // reads until they have them all.
    let reading = sockets
        .into_iter()
        .enumerate()
        .map(|(sender, mut socket)| async move {
            for n in 0..EACH {
                let text = format!("{sender}-{n}");
                socket.send_json(&message(&text, &text)).await;
            }
            socket.messages(total, PROMPTLY * 3).await
        });
    let views = join_all(reading).await;
    let stored = cluster.history(1, &people[1], &room).await;
    assert_eq!(stored.len(), total, "history holds every message once");
    assert_eq!(seqs(&stored), (1..=total as i64).collect::<Vec<_>>());
    for (index, view) in views.iter().enumerate() {
        assert_once_in_seq_order(&format!("socket {index}"), view);
        assert_eq!(ids(view), ids(&stored), "socket {index} saw another order");
    }
}

#[tokio::test]
async fn a_connection_resumes_with_since_on_another_instance() {
    let (cluster, people, room, mut sockets) = room_across_instances(&["ada", "bob"]).await;
    for n in 0..3 {
        let text = format!("first-{n}");
        sockets[0].send_json(&message(&text, &text)).await;
    }
    let seen = messages_until(&mut sockets[1], "first-2", PROMPTLY).await;
    // bob (on B) leaves, having read up to the second message; more are sent meanwhile.
    sockets[1].close().await;
    let since = seen[1]["id"].as_str().unwrap().to_owned();
    for n in 0..3 {
        let text = format!("later-{n}");
        sockets[0].send_json(&message(&text, &text)).await;
    }
    messages_until(&mut sockets[0], "later-2", PROMPTLY).await;

    // He comes back on C: everything after `since` once, then live messages with no gap
    // and nothing twice at the seam.
    let mut resumed = cluster
        .ws(2, &people[1], &room, &format!("?since={since}"))
        .await;
    let replayed = messages_until(&mut resumed, "later-2", PROMPTLY).await;
    let texts: Vec<&str> = replayed
        .iter()
        .map(|m| m["text_content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first-2", "later-0", "later-1", "later-2"]);
    sockets[0].send_json(&message("live", "live")).await;
    let live = messages_until(&mut resumed, "live", PROMPTLY).await;
    assert_eq!(live.len(), 1, "nothing twice at the seam: {live:?}");
    let mut all = vec![seen[1].clone()];
    all.extend(replayed);
    all.extend(live);
    assert_once_in_seq_order("bob", &all);
}

#[tokio::test]
async fn a_client_id_retried_on_another_instance_is_stored_once() {
    // ada on A, bob on B, cyd on C; ada also connects on B to retry there.
    let (cluster, people, room, mut sockets) = room_across_instances(&["ada", "bob", "cyd"]).await;
    sockets[0].send_json(&message("once", "retried")).await;
    let first = messages_until(&mut sockets[0], "once", PROMPTLY).await;

    let mut retry = cluster.ws(1, &people[0], &room, "").await;
    retry.send_json(&message("once", "retried")).await;
    let again = messages_until(&mut retry, "once", PROMPTLY).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0]["id"], first[0]["id"],
        "the stored message, not a new one"
    );

    retry.send_json(&message("marker", "marker")).await;
    for (index, socket) in sockets.iter_mut().enumerate().skip(1) {
        let received = messages_until(socket, "marker", PROMPTLY).await;
        assert_eq!(
            received.len(),
            2,
            "socket {index} got the retry: {received:?}"
        );
    }
    let stored = cluster.history(2, &people[2], &room).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
}

/// The next `chat.typing` `socket` receives (other events are skipped).
async fn next_typing(socket: &mut WsClient, who: &str) -> Value {
    let what = format!("a chat.typing on {who}'s socket");
    wait_for(socket, &what, PROMPTLY, |event| {
        event["type"] == "chat.typing"
    })
    .await
}

#[tokio::test]
async fn typing_reaches_members_on_every_instance_but_not_the_typist() {
    // ada on A, bob on B, cyd on C; ada has a second socket, on C.
    let (cluster, people, room, mut sockets) = room_across_instances(&["ada", "bob", "cyd"]).await;
    let mut ada_on_c = cluster.ws(2, &people[0], &room, "").await;
    active_is(&mut ada_on_c, 3).await;
    let typing = json!({"message_type": "typing", "message": "typing"});

    sockets[0].send_json(&typing).await;
    for index in 1..3 {
        let event = next_typing(&mut sockets[index], &people[index].username).await;
        assert_eq!(event["username"], "ada", "{event}");
        assert_eq!(event["content"], "ada is typing...", "{event}");
    }

    // bob types only after hearing ada, so ada's own typing, had it been sent to her,
    // would reach her sockets first: the first chat.typing each of them hears is bob's.
    sockets[1].send_json(&typing).await;
    for (socket, which) in [(&mut sockets[0], "ada (A)"), (&mut ada_on_c, "ada (C)")] {
        let event = next_typing(socket, which).await;
        assert_eq!(
            event["username"], "bob",
            "{which} heard her own typing: {event}"
        );
    }
    let event = next_typing(&mut sockets[2], "cyd").await;
    assert_eq!(event["username"], "bob", "{event}");

    // Stopping travels the same way: `content` is null.
    sockets[0]
        .send_json(&json!({"message_type": "typing", "message": "not_typing"}))
        .await;
    for index in 1..3 {
        let event = next_typing(&mut sockets[index], &people[index].username).await;
        assert_eq!(event["username"], "ada", "{event}");
        assert!(event["content"].is_null(), "{event}");
    }
}
