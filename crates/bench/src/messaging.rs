//! `fanout`, `burst`, `paced` and `rooms`: the members of one or more rooms sending while
//! every member of the same room listens. One member in one room is one socket with a
//! listener and a speaker, so a run of many rooms is many single-room runs side by side.
//! Each message carries its sender (unique across rooms), sequence number and send time, so
//! every receiver measures send-to-receive latency and counts losses and duplicates.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::{Barrier, mpsc};
use tokio::task::JoinHandle;

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

pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// `b|<sender>|<seq>|<sent micros>`
pub(crate) fn parse(text: &str) -> Option<(usize, usize, u64)> {
    let mut parts = text.split('|');
    (parts.next()? == "b").then_some(())?;
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

#[derive(Default)]
struct Heard {
    latencies: Latencies,
    echoes: Latencies,
    unique: usize,
    duplicates: usize,
    /// The server closed the socket (or it failed) before everything arrived.
    closed: bool,
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
    let mut heard = Heard::default();
    while heard.unique < expected {
        let text = match tokio::time::timeout(quiet, socket::next_message_text(&mut receiver)).await
        {
            Ok(Ok(Some(text))) => text,
            Ok(_) => {
                heard.closed = true;
                break;
            }
            Err(_) => break,
        };
        let Some((sender, seq, sent)) = text.as_deref().and_then(parse) else {
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
    speakers: usize,
    mut echoes: mpsc::UnboundedReceiver<usize>,
    start: Arc<Barrier>,
) -> anyhow::Result<Sender> {
    start.wait().await;
    let period = match pace {
        Pace::Rate(rate) => Some(Duration::from_secs_f64(speakers as f64 / rate)),
        _ => None,
    };
    // Speakers take turns: speaker `me` starts `me / speakers` of a period late, so the
    // total rate is spread evenly instead of every speaker sending at the same instant.
    let mut ticks = period.map(|period| {
        let offset = period.mul_f64(me as f64 / speakers as f64);
        tokio::time::interval_at(tokio::time::Instant::now() + offset, period)
    });
    for seq in 0..messages {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        let text = format!("b|{me}|{seq}|{}", now_micros());
        if socket::send_text(&mut sender, &text).await.is_err() {
            // The server closed this socket (its listener reports it): the rest count as lost.
            break;
        }
        if matches!(pace, Pace::Echo) {
            // Our own copy, or give up on it after a while (then it counts as lost).
            let _ = tokio::time::timeout(Duration::from_secs(10), echoes.recv()).await;
        }
    }
    Ok(sender)
}

/// How many sockets are being connected at any time.
const CONNECTING: usize = 64;

/// What one messaging run does: every token opens one socket to every room, and each socket
/// sends `messages`.
pub struct Plan<'a> {
    /// `http://host:port` of every instance; member n connects to instance n mod N.
    pub urls: &'a [String],
    /// Room ids.
    pub rooms: &'a [String],
    /// The members' access tokens, the same members in every room.
    pub tokens: &'a [String],
    /// Messages per member and room.
    pub messages: usize,
    /// How members send.
    pub pace: Pace,
}

/// One member's socket in one room: its listener and its speaker, which waits for `start`.
struct Member {
    listener: JoinHandle<Heard>,
    speaker: JoinHandle<anyhow::Result<Sender>>,
}

impl Plan<'_> {
    fn speakers(&self) -> usize {
        self.rooms.len() * self.tokens.len()
    }

    /// Connects sender number `me` (room `me / members`, member `me % members`).
    async fn join(&self, me: usize, start: Arc<Barrier>) -> anyhow::Result<Member> {
        let members = self.tokens.len();
        let member = me % members;
        let (sender, receiver) = socket::connect(
            &self.urls[member % self.urls.len().max(1)],
            &self.rooms[me / members],
            &self.tokens[member],
            None,
        )
        .await?;
        let (echo_tx, echo_rx) = mpsc::unbounded_channel();
        let expected = members * self.messages;
        Ok(Member {
            listener: tokio::spawn(listen(
                me,
                receiver,
                expected,
                Duration::from_secs(15),
                echo_tx,
            )),
            speaker: tokio::spawn(speak(
                me,
                sender,
                self.messages,
                self.pace,
                self.speakers(),
                echo_rx,
                start,
            )),
        })
    }
}

/// Runs one messaging scenario and returns its figures.
pub async fn run(plan: &Plan<'_>) -> anyhow::Result<Map<String, Value>> {
    let (rooms, members) = (plan.rooms.len(), plan.tokens.len());
    anyhow::ensure!(
        rooms > 0 && members > 0,
        "messaging needs a room and a member"
    );
    let speakers = plan.speakers();
    let start = Arc::new(Barrier::new(speakers + 1));
    let joined: Vec<Member> = futures_util::stream::iter(0..speakers)
        .map(|me| plan.join(me, start.clone()))
        .buffer_unordered(CONNECTING)
        .try_collect()
        .await?;
    // Let presence settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let began = Instant::now();
    start.wait().await;
    let mut senders = Vec::with_capacity(speakers);
    let mut listeners = Vec::with_capacity(speakers);
    for member in joined {
        senders.push(member.speaker.await??);
        listeners.push(member.listener);
    }
    let sending = began.elapsed();
    let mut latencies = Latencies::default();
    let mut echoes = Latencies::default();
    let (mut delivered, mut duplicates, mut closed) = (0, 0, 0);
    for listener in listeners {
        let heard = listener.await?;
        delivered += heard.unique;
        duplicates += heard.duplicates;
        closed += usize::from(heard.closed);
        latencies.merge(heard.latencies);
        echoes.merge(heard.echoes);
    }
    let elapsed = began.elapsed().as_secs_f64();
    drop(senders);

    let sent = speakers * plan.messages;
    let mut figures = Map::new();
    figures.insert("rooms".into(), json!(rooms));
    figures.insert("members".into(), json!(members));
    figures.insert("instances".into(), json!(plan.urls.len()));
    figures.insert("messages_sent".into(), json!(sent));
    figures.insert(
        "sent_per_s".into(),
        json!(round(sent as f64 / sending.as_secs_f64())),
    );
    // Stored before delivered: all sent messages were persisted by the time the last
    // listener heard the last of them (in the open loop, long after they were sent).
    figures.insert(
        "persisted_per_s".into(),
        json!(round(sent as f64 / elapsed)),
    );
    figures.insert("deliveries".into(), json!(delivered));
    figures.insert(
        "deliveries_per_s".into(),
        json!(round(delivered as f64 / elapsed)),
    );
    // Every message reaches every member of its room, the sender included.
    figures.insert(
        "lost".into(),
        json!((sent * members).saturating_sub(delivered)),
    );
    figures.insert("duplicates".into(), json!(duplicates));
    figures.insert("closed_early".into(), json!(closed));
    figures.extend(latencies.summary());
    for (name, value) in echoes.summary() {
        figures.insert(format!("echo_{name}"), value);
    }
    Ok(figures)
}
