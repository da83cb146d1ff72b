//! PostgreSQL stopped and started again under a burst of sends: nothing is silently
//! dropped (each send is answered: stored, or `chat.error` `unavailable`), readiness
//! follows the database, and the server recovers by itself.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use whisper_e2e::ws::{Received, WsClient};

use crate::harness::{Cluster, DEADLINE, Launch, PROMPTLY, PostgresServer, message};

/// How a send was answered.
#[derive(Debug, Clone)]
enum Answer {
    /// The sender's echo: the message is stored under this id.
    Stored(String),
    /// A `chat.error` with this code: nothing stored.
    Refused(String),
}

/// What one sender's burst saw, and counts published while it runs.
#[derive(Default)]
struct Tally {
    answers: Vec<(String, Answer)>,
}

/// Counts of answers so far, for the test to act on.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    stored: usize,
    refused: usize,
    /// Stored after the first refusal: the server recovered.
    stored_after_refusal: usize,
}

/// The answer to the send whose `client_id` is `client_id`: its echo or a `chat.error`
/// (others' messages are skipped). Panics when nothing answers: a dropped send.
async fn answer_of(socket: &mut WsClient, client_id: &str) -> Answer {
    loop {
        match socket.recv(PROMPTLY).await {
            Received::Event(event) if event["type"] == "chat.error" => {
                return Answer::Refused(event["code"].as_str().unwrap_or_default().to_owned());
            }
            Received::Event(event)
                if event["type"] == "chat.message" && event["client_id"] == client_id =>
            {
                return Answer::Stored(event["id"].as_str().unwrap().to_owned());
            }
            Received::Event(_) => {}
            other => panic!("the send {client_id} was not answered: {other:?}"),
        }
    }
}

/// Sends `<who>-<n>` one after another, each after the answer to the one before, until
/// `stop` says so.
async fn burst(
    mut socket: WsClient,
    who: String,
    progress: Arc<watch::Sender<Progress>>,
    mut stop: watch::Receiver<bool>,
) -> (WsClient, Tally) {
    let mut tally = Tally::default();
    for n in 0.. {
        if *stop.borrow_and_update() {
            break;
        }
        let text = format!("{who}-{n}");
        socket.send_json(&message(&text, &text)).await;
        let answer = answer_of(&mut socket, &text).await;
        progress.send_modify(|p| match &answer {
            Answer::Stored(_) if p.refused > 0 => {
                p.stored += 1;
                p.stored_after_refusal += 1;
            }
            Answer::Stored(_) => p.stored += 1,
            Answer::Refused(_) => p.refused += 1,
        });
        tally.answers.push((text, answer));
    }
    (socket, tally)
}

#[tokio::test]
async fn postgres_restarted_mid_burst_refuses_sends_as_unavailable_and_the_server_recovers() {
    let mut postgres = PostgresServer::start();
    // One instance without Redis: the fault is the database's alone.
    let launch = Launch {
        database_url: Some(postgres.url("whisper")),
        ..Launch::default()
    };
    let cluster = Cluster::launch(1, None, &[], launch).await;
    let (people, room, sockets) = cluster.connected_room(&["ada", "bob"]).await;
    let (stop, stopping) = watch::channel(false);
    let progress = Arc::new(watch::channel(Progress::default()).0);
    let mut senders = Vec::new();
    for (person, socket) in people.iter().zip(sockets) {
        let who = person.username.clone();
        let (progress, stopping) = (progress.clone(), stopping.clone());
        senders.push(tokio::spawn(burst(socket, who, progress, stopping)));
    }
    let mut seen = progress.subscribe();

    seen.wait_for(|p| p.stored >= 20).await.unwrap();
    postgres.stop();
    let what = "readiness 503 while PostgreSQL is down";
    let unready = whisper_e2e::eventually(what, DEADLINE, || async {
        let (status, body) = cluster.readiness(0).await;
        (status == 503).then_some(body)
    })
    .await;
    assert_eq!(unready["code"], "service_unavailable", "{unready}");
    assert!(unready["detail"].is_string(), "{unready}");
    seen.wait_for(|p| p.refused >= 4).await.unwrap();

    postgres.start_again();
    let health = cluster.readiness_becomes(0, "ready").await;
    assert_eq!(health["services"]["postgres"], "up", "{health}");
    // Recovered on the same sockets, with no restart of whisper.
    seen.wait_for(|p| p.stored_after_refusal >= 20)
        .await
        .unwrap();
    stop.send_replace(true);
    let mut answers = Vec::new();
    let mut sockets = Vec::new();
    for sender in senders {
        let (socket, tally) = sender.await.unwrap();
        sockets.push(socket);
        answers.extend(tally.answers);
    }

    for (text, answer) in &answers {
        if let Answer::Refused(code) = answer {
            assert_eq!(code, "unavailable", "{text} was refused with {code}");
        }
    }
    // Retrying a refused send with its client_id stores it once: a second retry gets the
    // same message back.
    let refused: Vec<&String> = answers
        .iter()
        .filter_map(|(text, answer)| matches!(answer, Answer::Refused(_)).then_some(text))
        .collect();
    let mut retried = HashMap::new();
    for text in &refused {
        let socket = if text.starts_with("ada") { 0 } else { 1 };
        let mut ids = Vec::new();
        for _ in 0..2 {
            sockets[socket].send_json(&message(text, text)).await;
            match answer_of(&mut sockets[socket], text).await {
                Answer::Stored(id) => ids.push(id),
                Answer::Refused(code) => panic!("{text} refused again after recovery: {code}"),
            }
        }
        assert_eq!(ids[0], ids[1], "{text} stored twice");
        retried.insert((*text).clone(), ids[0].clone());
    }

    let stored = cluster.history(0, &people[0], &room).await;
    let stored_ids: Vec<&str> = stored.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let distinct: HashSet<&str> = stored_ids.iter().copied().collect();
    assert_eq!(distinct.len(), stored_ids.len(), "a message stored twice");
    let by_text: HashMap<&str, &Value> = stored
        .iter()
        .map(|m| (m["text_content"].as_str().unwrap(), m))
        .collect();
    assert_eq!(by_text.len(), stored.len(), "a text stored twice");
    for (text, answer) in &answers {
        let expected = match answer {
            Answer::Stored(id) => id,
            Answer::Refused(_) => &retried[text],
        };
        let found = by_text
            .get(text.as_str())
            .map(|m| m["id"].as_str().unwrap());
        assert_eq!(
            found,
            Some(expected.as_str()),
            "{text} is not stored as answered"
        );
    }
    assert_eq!(
        stored.len(),
        answers.len(),
        "only what was answered is stored"
    );
}
