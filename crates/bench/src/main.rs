//! `whisper-bench`: drives a running Whisper server through its public API only (real
//! sign-up with email and TOTP, REST, WebSocket) and reports throughput and latency.
//!
//! Run the server with `WHISPER_RATE_LIMITS=off` (the benchmark signs up many users from
//! one address) and point `--mail-dir` at its `file:` mail directory.

mod accounts;
mod messaging;
mod report;
mod scenarios;
mod socket;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::accounts::{BenchUser, SignUp};
use crate::messaging::Pace;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scenario {
    /// K members each send M messages, each waiting for its own echo.
    Fanout,
    /// Like fanout, without waiting (open loop).
    Burst,
    /// K members, R messages per second in total, for T seconds.
    Paced,
    /// N members connect to one room at once.
    Join,
    /// C connections reading the latest page of a room's history.
    History,
    /// Full logins (email + TOTP) per second.
    Login,
}

/// Measures a running Whisper server.
#[derive(Debug, Parser)]
#[command(version)]
struct Options {
    /// What to measure.
    scenario: Scenario,
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// The server's file-mail directory (`WHISPER_MAIL=file:<dir>`).
    #[arg(long, default_value = "var/mail")]
    mail_dir: PathBuf,
    /// Members (K).
    #[arg(long, default_value_t = 10)]
    members: usize,
    /// Messages per member (M).
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Messages per second in total (paced).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Duration in seconds (paced, history).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections (join: members; history and login: concurrent clients).
    #[arg(long)]
    connections: Option<usize>,
    /// The server's process id, to read its CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let url = options.url.trim_end_matches('/').to_owned();
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let people = match options.scenario {
        Scenario::Join => options.connections.unwrap_or(1000),
        Scenario::History => 1,
        Scenario::Login => options.connections.unwrap_or(16) * 8,
        _ => options.members,
    };
    let signup = SignUp {
        url: &url,
        mail_dir: &options.mail_dir,
        run: &run,
        recipients: Default::default(),
    };
    let users = sign_up(&signup, people).await?;
    let figures = match options.scenario {
        Scenario::Fanout | Scenario::Burst | Scenario::Paced => {
            let room = create_room(&url, &users, &format!("bench-{run}")).await?;
            let (pace, messages) = match options.scenario {
                Scenario::Fanout => (Pace::Echo, options.messages),
                Scenario::Burst => (Pace::Flood, options.messages),
                _ => {
                    let total = options.rate * options.seconds as f64;
                    (
                        Pace::Rate(options.rate),
                        (total / options.members as f64).ceil() as usize,
                    )
                }
            };
            messaging::run(&url, &room, &users, messages, pace).await?
        }
        Scenario::Join => {
            let room = create_room(&url, &users, &format!("bench-{run}")).await?;
            scenarios::join(&url, &room, &users, options.server_pid).await?
        }
        Scenario::History => {
            let room = create_room(&url, &users, &format!("bench-{run}")).await?;
            fill_room(&url, &room, &users[0], 200).await?;
            scenarios::history(
                &url,
                &room,
                &users[0],
                options.connections.unwrap_or(16),
                options.seconds,
            )
            .await?
        }
        Scenario::Login => scenarios::login(&url, users, options.connections.unwrap_or(16)).await?,
    };
    let name = format!("{:?}", options.scenario).to_lowercase();
    report::print(&name, figures, options.json);
    Ok(())
}

/// Signs up `count` users, eight at a time.
async fn sign_up(signup: &SignUp<'_>, count: usize) -> anyhow::Result<Vec<BenchUser>> {
    let results: Vec<anyhow::Result<BenchUser>> = futures_util::stream::iter(0..count)
        .map(|n| signup.user(n))
        .buffer_unordered(8)
        .collect()
        .await;
    results
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()
        .context("signing up users")
}

/// A room created by the first user with every user in it.
async fn create_room(url: &str, users: &[BenchUser], name: &str) -> anyhow::Result<String> {
    let Some((creator, others)) = users.split_first() else {
        bail!("no users");
    };
    let ids: Vec<&str> = others.iter().map(|u| u.id.as_str()).collect();
    let response = reqwest::Client::new()
        .post(format!("{url}/api/v1/chat/room-list/"))
        .bearer_auth(&creator.access)
        .json(&json!({"room_name": name, "user_ids": ids}))
        .send()
        .await?;
    let status = response.status();
    let room: Value = response.json().await?;
    match room["id"].as_str() {
        Some(id) if status.is_success() => Ok(id.to_owned()),
        _ => bail!("creating the room: {status} {room}"),
    }
}

/// Sends `count` messages to the room and waits until they are back.
async fn fill_room(url: &str, room: &str, user: &BenchUser, count: usize) -> anyhow::Result<()> {
    let (mut sender, mut receiver) = socket::connect(url, room, &user.access).await?;
    for n in 0..count {
        socket::send_text(&mut sender, &format!("history filler {n}")).await?;
    }
    let mut back = 0;
    while back < count {
        match socket::next_event(&mut receiver).await? {
            Some(event) if event["type"] == "chat.message" => back += 1,
            Some(_) => {}
            None => bail!("the socket closed while filling the room"),
        }
    }
    Ok(())
}
