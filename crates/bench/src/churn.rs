//! `churn`: the members of one room keep disconnecting at random moments and resuming
//! with `?since=<the last message they saw>` on a random instance, while `senders` of them
//! send in a closed loop. Then every member reads until "churn-end", and each member's
//! view is compared with the room's history read over REST: every stored message exactly
//! once, in `seq` order. With no churn it is a fanout into one (large) room where most
//! members only read.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, Semaphore, watch};
use whisper_http::routes;
use whisper_wire::{HistoryBody, ServerEvent};

use crate::churn_member::{self, END_TEXT, Shared};
use crate::churn_outcome::Outcome;
use crate::report::{Latencies, round};
use crate::socket;

/// The message every member resumes after on its first connection.
const START_TEXT: &str = "churn-start";
/// How many sockets are being opened at once.
const CONNECTING: usize = 128;

/// What one churn run does.
pub struct Plan<'a> {
    /// `http://host:port` of every instance; REST calls go to the first.
    pub urls: &'a [String],
    /// The room, holding every member.
    pub room: &'a str,
    /// The members' access tokens; the first `senders` send.
    pub tokens: &'a [String],
    /// How many members send.
    pub senders: usize,
    /// Messages per sender.
    pub messages: usize,
    /// Mean time a connection stays open; `None`: nobody disconnects.
    pub churn_every: Option<Duration>,
    /// Seeds every member's random choices, so a run can be repeated.
    pub seed: u64,
    /// The whole run fails after this long.
    pub time_limit: Duration,
}

/// Runs the scenario within its time limit and returns its figures.
pub async fn run(plan: &Plan<'_>) -> anyhow::Result<Map<String, Value>> {
    anyhow::ensure!(
        plan.senders > 0 && plan.senders <= plan.tokens.len(),
        "churn needs between 1 and --members senders"
    );
    tokio::time::timeout(plan.time_limit, measure(plan))
        .await
        .with_context(|| format!("the churn run took longer than {:?}", plan.time_limit))?
}

async fn measure(plan: &Plan<'_>) -> anyhow::Result<Map<String, Value>> {
    let (url, access) = (&plan.urls[0], &plan.tokens[0]);
    let start = post_and_confirm(url, plan.room, access, START_TEXT).await?;
    let (end_now, ending) = watch::channel(false);
    let shared = Arc::new(Shared {
        urls: plan.urls.to_vec(),
        room: plan.room.to_owned(),
        senders: plan.senders,
        messages: plan.messages,
        churn_every: plan.churn_every,
        seed: plan.seed,
        ending,
        sending: AtomicUsize::new(plan.senders),
        finished: Notify::new(),
        connecting: Semaphore::new(CONNECTING),
    });
    let began = Instant::now();
    let members: Vec<_> = plan
        .tokens
        .iter()
        .enumerate()
        .map(|(me, access)| {
            let (access, start, shared) = (access.clone(), start.id.clone(), shared.clone());
            tokio::spawn(churn_member::run(me, access, start, shared))
        })
        .collect();
    shared.finished.notified().await;
    let sending = began.elapsed();
    end_now.send_replace(true);
    post_and_confirm(url, plan.room, access, END_TEXT).await?;
    let mut outcomes = Vec::with_capacity(members.len());
    for member in members {
        outcomes.push(member.await?);
    }
    let elapsed = began.elapsed();
    let stored = history_after(url, plan.room, access, start.seq).await?;
    Ok(figures(plan, outcomes, &stored, sending, elapsed))
}

/// A message the coordinator posted: its id and `seq`.
struct Posted {
    id: String,
    seq: u64,
}

/// Sends `text` on a socket of its own and waits for its echo: then it is stored.
async fn post_and_confirm(
    url: &str,
    room: &str,
    access: &str,
    text: &str,
) -> anyhow::Result<Posted> {
    let (mut sender, mut receiver) = socket::connect(url, room, access, None).await?;
    socket::send_text(&mut sender, text).await?;
    let wait = async {
        loop {
            match socket::next_event(&mut receiver).await? {
                Some(ServerEvent::Message(event))
                    if event.message.text_content.as_deref() == Some(text) =>
                {
                    let message = event.message;
                    return Ok(Posted {
                        id: message.id,
                        seq: message.seq,
                    });
                }
                Some(_) => {}
                None => bail!("the socket closed before {text:?} was echoed"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .with_context(|| format!("no echo of {text:?}"))?
}

/// The room's messages after `seq`, oldest first, `(seq, id)`, read page by page over REST.
async fn history_after(
    url: &str,
    room: &str,
    access: &str,
    seq: u64,
) -> anyhow::Result<Vec<(u64, String)>> {
    let client = reqwest::Client::new();
    let mut path = format!("{}?page_size=100", routes::path(routes::ROOM_HOME, &[room]));
    let mut stored = Vec::new();
    loop {
        let page: HistoryBody = client
            .get(format!("{url}{path}"))
            .bearer_auth(access)
            .header("Accept", "application/json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let older = page.results.iter().any(|message| message.seq <= seq);
        stored.extend(
            page.results
                .into_iter()
                .filter(|message| message.seq > seq)
                .map(|message| (message.seq, message.id)),
        );
        // The page's link is absolute, from the server's public URL: keep its path only.
        match page.previous_messages.filter(|_| !older) {
            Some(link) => {
                let link = url::Url::parse(&link)?;
                path = format!("{}?{}", link.path(), link.query().unwrap_or_default());
            }
            None => break,
        }
    }
    stored.reverse();
    Ok(stored)
}

/// Compares each member's view with `stored` and sums up.
fn figures(
    plan: &Plan<'_>,
    outcomes: Vec<Outcome>,
    stored: &[(u64, String)],
    sending: Duration,
    elapsed: Duration,
) -> Map<String, Value> {
    let stored_ids: HashSet<&str> = stored.iter().map(|(_, id)| id.as_str()).collect();
    let (mut lost, mut unknown, mut out_of_order, mut duplicated) = (0, 0, 0, 0);
    let (mut reconnects, mut ended_by_server, mut connect_failures) = (0, 0, 0);
    let (mut sent, mut abandoned, mut deliveries) = (0, 0, 0);
    let (mut retries, mut retry_answers) = (0, 0);
    let (mut latencies, mut echoes) = (Latencies::default(), Latencies::default());
    for outcome in outcomes {
        let seen: HashSet<&str> = outcome.view.iter().map(|(_, id)| id.as_str()).collect();
        lost += stored_ids.difference(&seen).count();
        unknown += seen.difference(&stored_ids).count();
        // A retried message's first copy may be the retry's answer, out of its place.
        let placed: Vec<u64> = outcome
            .view
            .iter()
            .filter(|(_, id)| !outcome.retried.contains(id))
            .map(|(seq, _)| *seq)
            .collect();
        out_of_order += placed.windows(2).filter(|pair| pair[1] <= pair[0]).count();
        duplicated += outcome.duplicated;
        retries += outcome.retries;
        retry_answers += outcome.retry_answers;
        reconnects += outcome.reconnects;
        ended_by_server += outcome.ended_by_server;
        connect_failures += outcome.connect_failures;
        sent += outcome.sent;
        abandoned += outcome.abandoned;
        deliveries += outcome.view.len();
        latencies.merge(outcome.latencies);
        echoes.merge(outcome.echoes);
    }
    let mut figures = Map::new();
    figures.insert("members".into(), json!(plan.tokens.len()));
    figures.insert("senders".into(), json!(plan.senders));
    figures.insert("instances".into(), json!(plan.urls.len()));
    let churn_ms = plan.churn_every.map(|every| every.as_millis() as u64);
    figures.insert("churn_every_ms".into(), json!(churn_ms));
    figures.insert("seed".into(), json!(plan.seed));
    figures.insert("messages_stored".into(), json!(stored.len()));
    figures.insert("messages_echoed".into(), json!(sent));
    figures.insert("sends_retried".into(), json!(retries));
    figures.insert("retry_answers".into(), json!(retry_answers));
    figures.insert("sends_abandoned".into(), json!(abandoned));
    figures.insert("sending_s".into(), json!(round(sending.as_secs_f64())));
    figures.insert("elapsed_s".into(), json!(round(elapsed.as_secs_f64())));
    figures.insert("reconnects".into(), json!(reconnects));
    figures.insert("ended_by_server".into(), json!(ended_by_server));
    figures.insert("connect_failures".into(), json!(connect_failures));
    figures.insert("deliveries".into(), json!(deliveries));
    figures.insert(
        "deliveries_per_s".into(),
        json!(round(deliveries as f64 / elapsed.as_secs_f64())),
    );
    figures.insert("lost".into(), json!(lost));
    figures.insert("duplicated".into(), json!(duplicated));
    figures.insert("out_of_order".into(), json!(out_of_order));
    figures.insert("not_in_history".into(), json!(unknown));
    figures.extend(latencies.summary());
    for (name, value) in echoes.summary() {
        figures.insert(format!("echo_{name}"), value);
    }
    figures
}
