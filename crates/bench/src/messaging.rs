//! `fanout`, `burst` and `paced`: members of one room sending while every member listens.
//! Each message carries its sender, sequence number and send time, so every receiver
//! measures send-to-receive latency and counts losses and duplicates.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::sync::{Barrier, mpsc};

use crate::accounts::BenchUser;
use crate::report::{Latencies, round};
use crate::socket::{self, Receiver, Sender};

/// How members send.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Each waits for its own echo before sending the next (closed loop).
    Echo,
    /// Each sends as fast as it can (open loop).
    Flood,
    /// `rate` messages per second in total.
    Rate(f64),
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// `b|<sender>|<seq>|<sent micros>`
fn parse(text: &str) -> Option<(usize, usize, u64)> {
    let mut parts = text.split('|');
    (parts.next()? == "b").then_some(())?;
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

struct Heard {
    latencies: Latencies,
    echoes: Latencies,
    unique: usize,
    duplicates: usize,
}

/// Reads until `expected` distinct benchmark messages arrived or `quiet` passes silently.
async fn listen(
    me: usize,
    mut receiver: Receiver,
    expected: usize,
    quiet: Duration,
    echoes: mpsc::UnboundedSender<usize>,
) -> Heard {
    let mut seen = HashSet::with_capacity(expected);
    let mut heard = Heard {
        latencies: Latencies::default(),
        echoes: Latencies::default(),
        unique: 0,
        duplicates: 0,
    };
    while heard.unique < expected {
        let event = match tokio::time::timeout(quiet, socket::next_event(&mut receiver)).await {
            Ok(Ok(Some(event))) => event,
            _ => break,
        };
        if event["type"] != "chat.message" {
            continue;
        }
        let Some((sender, seq, sent)) = event["text_content"].as_str().and_then(parse) else {
            continue;
        };
        let latency = now_micros().saturating_sub(sent);
        if !seen.insert((sender, seq)) {
            heard.duplicates += 1;
            continue;
        }
        heard.unique += 1;
        heard.latencies.record(latency);
        if sender == me {
            heard.echoes.record(latency);
            let _ = echoes.send(seq);
        }
    }
    heard
}

async fn speak(
    me: usize,
    mut sender: Sender,
    messages: usize,
    pace: Pace,
    members: usize,
    mut echoes: mpsc::UnboundedReceiver<usize>,
    start: Arc<Barrier>,
) -> anyhow::Result<Sender> {
    start.wait().await;
    let period = match pace {
        Pace::Rate(rate) => Some(Duration::from_secs_f64(members as f64 / rate)),
        _ => None,
    };
    let mut ticks = period.map(tokio::time::interval);
    for seq in 0..messages {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        socket::send_text(&mut sender, &format!("b|{me}|{seq}|{}", now_micros())).await?;
        if matches!(pace, Pace::Echo) {
            // Our own copy, or give up on it after a while (then it counts as lost).
            let _ = tokio::time::timeout(Duration::from_secs(10), echoes.recv()).await;
        }
    }
    Ok(sender)
}

/// Runs one messaging scenario: every user in `users` connected to `room`, each sending
/// `messages`.
pub async fn run(
    url: &str,
    room: &str,
    users: &[BenchUser],
    messages: usize,
    pace: Pace,
) -> anyhow::Result<Map<String, Value>> {
    let members = users.len();
    let expected = members * messages;
    let start = Arc::new(Barrier::new(members + 1));
    let mut listeners = Vec::with_capacity(members);
    let mut speakers = Vec::with_capacity(members);
    for (me, user) in users.iter().enumerate() {
        let (sender, receiver) = socket::connect(url, room, &user.access).await?;
        let (echo_tx, echo_rx) = mpsc::unbounded_channel();
        listeners.push(tokio::spawn(listen(
            me,
            receiver,
            expected,
            Duration::from_secs(15),
            echo_tx,
        )));
        speakers.push(tokio::spawn(speak(
            me,
            sender,
            messages,
            pace,
            members,
            echo_rx,
            start.clone(),
        )));
    }
    // Let presence settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let began = Instant::now();
    start.wait().await;
    let mut senders = Vec::with_capacity(members);
    for speaker in speakers {
        senders.push(speaker.await??);
    }
    let sending = began.elapsed();
    let mut latencies = Latencies::default();
    let mut echoes = Latencies::default();
    let (mut delivered, mut duplicates) = (0, 0);
    for listener in listeners {
        let heard = listener.await?;
        delivered += heard.unique;
        duplicates += heard.duplicates;
        latencies.merge(heard.latencies);
        echoes.merge(heard.echoes);
    }
    let elapsed = began.elapsed().as_secs_f64();
    drop(senders);

    let mut figures = Map::new();
    figures.insert("members".into(), json!(members));
    figures.insert("messages_sent".into(), json!(expected));
    figures.insert(
        "sent_per_s".into(),
        json!(round(expected as f64 / sending.as_secs_f64())),
    );
    figures.insert("deliveries".into(), json!(delivered));
    figures.insert(
        "deliveries_per_s".into(),
        json!(round(delivered as f64 / elapsed)),
    );
    figures.insert("lost".into(), json!(expected * members - delivered));
    figures.insert("duplicates".into(), json!(duplicates));
    figures.extend(latencies.summary());
    let echo = echoes.summary();
    for (name, value) in echo {
        figures.insert(format!("echo_{name}"), value);
    }
    Ok(figures)
}
