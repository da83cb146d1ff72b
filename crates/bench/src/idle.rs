//! `idle`: many authenticated WebSocket connections doing nothing, and what they cost the
//! server in resident memory. Memory the server's allocator kept from earlier connections
//! makes later runs look cheaper: the first run on a fresh server is the honest figure.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::process;
use crate::report::round;
use crate::socket::{self, Receiver, Sender};

/// How many connections are being opened at any time.
const CONNECTING: usize = 128;
/// Loopback source addresses 127.0.0.1 to 127.0.0.N, so no one address runs out of ports.
const SOURCES: usize = 8;
/// How long no frame may arrive before the server counts as settled.
const QUIET: Duration = Duration::from_secs(2);
/// Settled or not, the second memory reading comes after this long.
const QUIET_AT_MOST: Duration = Duration::from_secs(30);

/// What one idle run opens: `connections` sockets spread round robin over `rooms` (each
/// holding every member) and over the members' `tokens`.
pub struct Plan<'a> {
    /// `http://host:port`.
    pub url: &'a str,
    /// Room ids.
    pub rooms: &'a [String],
    /// The members' access tokens.
    pub tokens: &'a [String],
    /// How many sockets.
    pub connections: usize,
    /// The server's process, to read its memory.
    pub server_pid: Option<u32>,
}

/// Opens every connection, waits until the server is quiet, and measures.
pub async fn run(plan: &Plan<'_>) -> anyhow::Result<Map<String, Value>> {
    if plan.rooms.is_empty() || plan.tokens.is_empty() {
        bail!("idle needs at least one room and one member");
    }
    if let Some(pid) = plan.server_pid
        && let Some(limit) = process::open_file_limit(pid)?
        && plan.connections + 100 > limit as usize
    {
        bail!(
            "the server (pid {pid}) may open only {limit} files; {} connections need about {}",
            plan.connections,
            plan.connections + 100
        );
    }
    let spread = loopback(plan.url);
    let rss_before = plan.server_pid.map(process::rss_kib).transpose()?;
    let began = Instant::now();
    // Milliseconds from `began` to the latest frame any socket received.
    let last_frame = Arc::new(AtomicU64::new(0));
    let opened: Vec<anyhow::Result<JoinHandle<()>>> =
        futures_util::stream::iter(0..plan.connections)
            .map(|n| {
                let room = &plan.rooms[n % plan.rooms.len()];
                let access = &plan.tokens[(n / plan.rooms.len()) % plan.tokens.len()];
                let source =
                    spread.then(|| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (n % SOURCES) as u8)));
                let last_frame = last_frame.clone();
                async move {
                    let (sender, receiver) =
                        socket::connect(plan.url, room, access, source).await?;
                    Ok(tokio::spawn(hold(sender, receiver, began, last_frame)))
                }
            })
            .buffer_unordered(CONNECTING)
            .collect()
            .await;
    let connected = began.elapsed();
    let mut holders = Vec::with_capacity(opened.len());
    let mut failures = Vec::new();
    for result in opened {
        match result {
            Ok(holder) => holders.push(holder),
            Err(error) => failures.push(error),
        }
    }
    if let Some(first) = failures.first() {
        eprintln!(
            "{} connections failed; the first: {first:#}",
            failures.len()
        );
    }
    settle(began, connected, &last_frame).await;
    let rss_after = plan.server_pid.map(process::rss_kib).transpose()?;
    let held = holders
        .iter()
        .filter(|holder| !holder.is_finished())
        .count();
    for holder in holders {
        holder.abort();
    }
    let per_connection = match (rss_before, rss_after) {
        (Some(before), Some(after)) if held > 0 => {
            Some(round((after as f64 - before as f64) / held as f64))
        }
        _ => None,
    };
    let mut figures = Map::new();
    figures.insert("connections".into(), json!(plan.connections));
    figures.insert("failed".into(), json!(failures.len()));
    figures.insert("held".into(), json!(held));
    figures.insert("rooms".into(), json!(plan.rooms.len()));
    figures.insert("members".into(), json!(plan.tokens.len()));
    figures.insert("connect_s".into(), json!(round(connected.as_secs_f64())));
    figures.insert("rss_before_kib".into(), json!(rss_before));
    figures.insert("rss_after_kib".into(), json!(rss_after));
    figures.insert("kib_per_connection".into(), json!(per_connection));
    Ok(figures)
}

/// Whether the server is on IPv4 loopback, where any 127.0.0.x can be a source address.
fn loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        _ => false,
    })
}

/// Keeps a connection open, reading and discarding frames so the server never sees a
/// stalled reader (reading also answers its pings); ends when the socket closes.
async fn hold(sender: Sender, mut receiver: Receiver, began: Instant, last_frame: Arc<AtomicU64>) {
    while let Some(Ok(message)) = receiver.next().await {
        if matches!(message, Message::Close(_)) {
            break;
        }
        last_frame.store(began.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    drop(sender);
}

/// Waits until no frame arrived for `QUIET` after the last connection was opened.
async fn settle(began: Instant, connected: Duration, last_frame: &AtomicU64) {
    let deadline = Instant::now() + QUIET_AT_MOST;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let last = Duration::from_millis(last_frame.load(Ordering::Relaxed)).max(connected);
        if began.elapsed().saturating_sub(last) >= QUIET {
            return;
        }
    }
}
