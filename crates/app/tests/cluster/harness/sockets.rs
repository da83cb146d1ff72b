//! WebSocket clients of any instance, and reading their frames until one matches what the
//! test waits for: every wait ends on an acknowledgement from the server, never on a sleep.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use whisper_e2e::ws::{Received, WsClient};
use whisper_http::routes;

use super::{Cluster, Member};

/// A generous deadline for anything the cluster should do promptly.
pub const PROMPTLY: Duration = Duration::from_secs(20);

impl Cluster {
    /// `ws://…/ws/chat/<room>/<query>` on instance `index`.
    pub fn ws_url(&self, index: usize, room: &str, query: &str) -> String {
        let http = self.url(index);
        let rest = http.strip_prefix("http").unwrap();
        format!(
            "ws{rest}{}{query}",
            routes::path(routes::CHAT_SOCKET, &[room])
        )
    }

    /// `member`'s socket to `room` on instance `index` (`query`: `""` or `?since=…`).
    pub async fn ws(&self, index: usize, member: &Member, room: &str, query: &str) -> WsClient {
        let url = self.ws_url(index, room, query);
        let bearer = [("authorization", format!("Bearer {}", member.access))];
        match WsClient::connect(&url, &bearer).await {
            Ok(client) => client,
            Err(refused) => panic!(
                "{} was refused on instance {index}: {refused:?}",
                member.username
            ),
        }
    }
}

impl Cluster {
    /// `names` signed up, all in one room the first creates, each connected to instance
    /// `n % len()`, once every socket counts them all present: the acknowledgement that
    /// every instance follows the room.
    pub async fn connected_room(&self, names: &[&str]) -> (Vec<Member>, String, Vec<WsClient>) {
        let people = self.sign_up_all(names).await;
        let others: Vec<&Member> = people[1..].iter().collect();
        let room = self.create_room(0, &people[0], "General", &others).await;
        let mut sockets = Vec::with_capacity(people.len());
        for (index, person) in people.iter().enumerate() {
            sockets.push(self.ws(index % self.len(), person, &room, "").await);
        }
        let everyone = people.len() as u64;
        futures_util::future::join_all(sockets.iter_mut().map(|s| active_is(s, everyone))).await;
        (people, room, sockets)
    }

    /// Sends "end" on a new socket of `member` on instance `index`, for every reader to
    /// stop at, and waits for its echo: once it returns, "end" is stored.
    pub async fn send_end(&self, index: usize, member: &Member, room: &str) -> WsClient {
        let mut socket = self.ws(index, member, room, "").await;
        socket.send_json(&message("end", "end")).await;
        wait_for(&mut socket, "the echo of end", PROMPTLY, |event| {
            event["type"] == "chat.message" && event["text_content"] == "end"
        })
        .await;
        socket
    }
}

/// A `message` frame carrying `client_id`, so its echo can be recognised.
pub fn message(text: &str, client_id: &str) -> Value {
    json!({"message_type": "message", "message": text, "client_id": client_id})
}

/// The first event for which `matches` holds (others are skipped), within `timeout`.
pub async fn wait_for(
    socket: &mut WsClient,
    what: &str,
    timeout: Duration,
    matches: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.recv(left).await {
            Received::Event(event) if matches(&event) => return event,
            Received::Event(event) => skipped.push(event),
            other => panic!("waiting for {what}: got {other:?} after {skipped:?}"),
        }
    }
}

/// Waits until `socket` hears `chat.active` say `count`.
pub async fn active_is(socket: &mut WsClient, count: u64) {
    let what = format!("chat.active {count}");
    wait_for(socket, &what, PROMPTLY, |event| {
        event["type"] == "chat.active" && event["content"] == count
    })
    .await;
}

/// Every `chat.message` `socket` receives up to and including the one whose text is
/// `last`, in the order they arrived.
pub async fn messages_until(socket: &mut WsClient, last: &str, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.recv(left).await {
            Received::Event(event) if event["type"] == "chat.message" => {
                let done = event["text_content"] == last;
                messages.push(event);
                if done {
                    return messages;
                }
            }
            Received::Event(_) => {}
            other => panic!(
                "waiting for the message {last:?}: got {other:?} after {} messages",
                messages.len()
            ),
        }
    }
}

/// The ids of `messages`, in order.
pub fn ids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `seq` of each of `messages`, in order.
pub fn seqs(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .map(|m| {
            m["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("a message without seq: {m}"))
        })
        .collect()
}

/// Panics unless every message of `messages` is there once and `seq` counts up by one.
pub fn assert_once_in_seq_order(who: &str, messages: &[Value]) {
    let ids = ids(messages);
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{who} received a message twice");
    let seqs = seqs(messages);
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "{who}: seq goes {} then {}",
            pair[0],
            pair[1]
        );
    }
}
