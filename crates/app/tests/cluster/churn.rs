//! Load with churn: the members of one large room keep dropping their sockets and resuming
//! with `?since=` on either instance while others send; every member ends with every
//! stored message exactly once, in `seq` order. The churn is drawn from a seeded RNG
//! (`WHISPER_CHURN_SEED` overrides the seed), and counted in messages received, not in
//! time, so a failure reproduces.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::Semaphore;
use whisper_e2e::ws::{Received, WsClient};

use crate::harness::{
    Cluster, DEADLINE, Member, PROMPTLY, SHARED_REDIS_URL, assert_once_in_seq_order, ids, message,
    wait_for,
};

/// Members of the room unless `WHISPER_CHURN_MEMBERS` says otherwise. Signing up goes
/// through the real email and TOTP flow, about 6 a second here with other builds running:
/// 1,000 members take 155 s to sign up (then 43 s of churn, 4,600 reconnects), so the
/// default is what fits in about a minute.
const DEFAULT_MEMBERS: usize = 200;
/// Members who send; the others only read.
const SENDERS: usize = 5;
/// Messages per sender.
const MESSAGES: usize = 20;
/// A member drops its socket after a random number of messages, up to this many.
const MOST_MESSAGES_PER_CONNECTION: u32 = 40;
/// The seed unless `WHISPER_CHURN_SEED` says otherwise.
const DEFAULT_SEED: u64 = 16;

/// How one member's reading went.
#[derive(Default)]
struct Churned {
    /// Every message received, in arrival order, duplicates included.
    messages: Vec<Value>,
    /// Connections after the first.
    reconnects: usize,
    /// Connections the server ended (1013 "try again later" when its database pool was
    /// exhausted, for one).
    ended_by_server: usize,
    /// The texts this sender sent again on a new connection: the server may answer a
    /// retry of a stored message with a second copy of it, to the sender only (API.md).
    retried: HashSet<String>,
}

/// One member of `room` until it reads "end".
struct Churner {
    /// `ws://…/ws/chat/<room>/` on each instance.
    bases: Arc<Vec<String>>,
    member: Member,
    /// Its number among the senders, if it sends.
    sender: Option<usize>,
    rng: StdRng,
    /// Gets a permit once this sender's last message came back.
    sent: Arc<Semaphore>,
}

impl Churner {
    /// Connects to a random instance resuming after the last message seen, and drops the
    /// socket (closing it, or not) after a random number of messages. A sender sends its
    /// next message once it heard the previous one and drops its socket only then; one
    /// the server ended before the echo is sent again (same `client_id`) on the next.
    async fn run(mut self, mut since: String) -> Churned {
        let mut churned = Churned::default();
        let mut next = 0;
        let mut outstanding: Option<String> = None;
        loop {
            let instance = self.rng.random_range(0..self.bases.len());
            let url = format!("{}?since={since}", self.bases[instance]);
            let bearer = [("authorization", format!("Bearer {}", self.member.access))];
            let mut socket = WsClient::connect(&url, &bearer).await.unwrap();
            let mut budget = self.rng.random_range(1..=MOST_MESSAGES_PER_CONNECTION);
            if let Some(text) = &outstanding {
                churned.retried.insert(text.clone());
                socket.send_json(&message(text, text)).await;
            } else if let Some(who) = self.sender.filter(|_| next < MESSAGES) {
                outstanding = Some(send(&mut socket, who, &mut next).await);
            }
            loop {
                let event = match socket.recv(DEADLINE).await {
                    Received::Event(event) if event["type"] == "chat.message" => event,
                    Received::Event(_) => continue,
                    Received::Closed(..) | Received::Ended(_) => {
                        churned.ended_by_server += 1;
                        break;
                    }
                    Received::TimedOut => panic!("{} heard nothing", self.member.username),
                };
                let text = event["text_content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                since = event["id"].as_str().unwrap().to_owned();
                churned.messages.push(event);
                if text == "end" {
                    return churned;
                }
                if outstanding.as_deref() == Some(text.as_str()) {
                    outstanding = None;
                    if next == MESSAGES {
                        self.sent.add_permits(1);
                    }
                }
                budget = budget.saturating_sub(1);
                if budget == 0 && outstanding.is_none() {
                    if self.rng.random_bool(0.5) {
                        socket.close().await;
                    }
                    break;
                }
                if let (Some(who), None) = (self.sender, &outstanding)
                    && next < MESSAGES
                {
                    outstanding = Some(send(&mut socket, who, &mut next).await);
                }
            }
            churned.reconnects += 1;
        }
    }
}

/// Sends `<who>-<next>` and counts it; its text.
async fn send(socket: &mut WsClient, who: usize, next: &mut usize) -> String {
    let text = format!("{who}-{next}");
    socket.send_json(&message(&text, &text)).await;
    *next += 1;
    text
}

/// Panics unless `churned` holds `expected` exactly once in order; a message the member
/// sent again may come twice (the retry's answer), and only its first copy counts.
fn assert_view(who: &str, churned: &Churned, expected: &[Value]) {
    let mut copies: HashSet<&str> = HashSet::new();
    let view: Vec<Value> = churned
        .messages
        .iter()
        .filter(|m| {
            let retried = churned
                .retried
                .contains(m["text_content"].as_str().unwrap());
            let id = m["id"].as_str().unwrap();
            !retried || copies.insert(id)
        })
        .cloned()
        .collect();
    let without_retried = |messages: &[Value]| -> Vec<String> {
        ids(messages)
            .into_iter()
            .zip(messages)
            .filter(|(_, m)| {
                !churned
                    .retried
                    .contains(m["text_content"].as_str().unwrap())
            })
            .map(|(id, _)| id)
            .collect()
    };
    // Retried messages may sit at their retry's answer: the rest must be in seq order.
    assert_eq!(
        without_retried(&view),
        without_retried(expected),
        "{who}'s view"
    );
    assert_eq!(
        ids(&view).len(),
        expected.len(),
        "{who} missed a retried message"
    );
    if churned.retried.is_empty() {
        assert_once_in_seq_order(who, &view);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_dropping_and_resuming_on_any_instance_end_with_every_message_once_in_order() {
    let seed = std::env::var("WHISPER_CHURN_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let members: usize = std::env::var("WHISPER_CHURN_MEMBERS")
        .ok()
        .and_then(|members| members.parse().ok())
        .unwrap_or(DEFAULT_MEMBERS)
        .max(SENDERS);
    eprintln!("churn seed {seed} (WHISPER_CHURN_SEED repeats it), {members} members");
    let began = Instant::now();
    let cluster = Cluster::start(2, Some(SHARED_REDIS_URL)).await;
    let people = cluster.sign_up_many("churn", members, 16).await;
    eprintln!("{members} signed up after {:?}", began.elapsed());
    let others: Vec<&Member> = people[1..].iter().collect();
    let room = cluster.create_room(0, &people[0], "Churn", &others).await;
    // Everyone resumes after this from the first connection on, so no view starts late.
    let mut first = cluster.ws(0, &people[0], &room, "").await;
    first.send_json(&message("start", "start")).await;
    let start = wait_for(&mut first, "the echo of start", PROMPTLY, |event| {
        event["type"] == "chat.message" && event["text_content"] == "start"
    })
    .await;
    drop(first);
    let start_id = start["id"].as_str().unwrap().to_owned();
    let bases: Arc<Vec<String>> = Arc::new(
        (0..cluster.len())
            .map(|index| cluster.ws_url(index, &room, ""))
            .collect(),
    );
    let sent = Arc::new(Semaphore::new(0));
    let mut master = StdRng::seed_from_u64(seed);
    let churning = Instant::now();
    let tasks: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(index, person)| {
            let churner = Churner {
                bases: bases.clone(),
                member: person.clone(),
                sender: (index < SENDERS).then_some(index),
                rng: StdRng::seed_from_u64(master.random()),
                sent: sent.clone(),
            };
            tokio::spawn(churner.run(start_id.clone()))
        })
        .collect();
    // "end" once every sender heard its last message back: all are stored.
    sent.acquire_many(SENDERS as u32).await.unwrap().forget();
    cluster.send_end(1, &people[1], &room).await;
    let mut views = Vec::with_capacity(tasks.len());
    for task in tasks {
        views.push(task.await.unwrap());
    }
    eprintln!("churned for {:?}", churning.elapsed());
    let stored = cluster.history(1, &people[1], &room).await;
    let expected = &stored[1..];
    assert_eq!(
        expected.len(),
        SENDERS * MESSAGES + 1,
        "every message and end"
    );
    let reconnects: usize = views.iter().map(|view| view.reconnects).sum();
    let ended: usize = views.iter().map(|view| view.ended_by_server).sum();
    eprintln!("{reconnects} reconnects, {ended} ended by the server");
    assert!(reconnects >= members, "only {reconnects} reconnects");
    for (index, view) in views.iter().enumerate() {
        assert_view(&people[index].username, view, expected);
    }
}
