//! `join`, `history` and `login`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message;
use whisper_wire::accounts::{EmailRequest, OtpRequest};

use crate::accounts::BenchUser;
use crate::process::cpu_seconds;
use crate::report::{Latencies, round};
use crate::socket;
use whisper_http::routes;

/// `join`: every member connects to the room at once (member n to instance n mod N of
/// `urls`); until all are in and the room is quiet. CPU time is summed over `server_pids`.
pub async fn join(
    urls: &[String],
    room: &str,
    tokens: &[String],
    server_pids: &[u32],
) -> anyhow::Result<Map<String, Value>> {
    let servers_cpu =
        || -> anyhow::Result<f64> { server_pids.iter().map(|pid| cpu_seconds(*pid)).sum() };
    let cpu_before = servers_cpu()?;
    let frames = Arc::new(AtomicUsize::new(0));
    let last_frame = Arc::new(parking_lot::Mutex::new(Instant::now()));
    let began = Instant::now();
    let mut connecting = Vec::with_capacity(tokens.len());
    for (n, access) in tokens.iter().enumerate() {
        let url = urls[n % urls.len().max(1)].clone();
        let (room, access) = (room.to_owned(), access.clone());
        connecting.push(tokio::spawn(async move {
            socket::connect(&url, &room, &access, None).await
        }));
    }
    let mut sockets = Vec::with_capacity(tokens.len());
    for connection in connecting {
        sockets.push(connection.await??);
    }
    let connected = began.elapsed();
    let mut readers = Vec::with_capacity(sockets.len());
    let mut senders = Vec::with_capacity(sockets.len());
    for (sender, mut receiver) in sockets {
        senders.push(sender);
        let (frames, last_frame) = (frames.clone(), last_frame.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = receiver.next().await {
                if matches!(message, Message::Text(_)) {
                    frames.fetch_add(1, Ordering::Relaxed);
                    *last_frame.lock() = Instant::now();
                }
            }
        }));
    }
    // Quiet: no frame anywhere for a second.
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let last = *last_frame.lock();
        if last.elapsed() >= Duration::from_secs(1) {
            break;
        }
    }
    let settled = last_frame.lock().duration_since(began);
    let cpu = if server_pids.is_empty() {
        None
    } else {
        Some(round(servers_cpu()? - cpu_before))
    };
    drop(senders);
    for reader in readers {
        reader.abort();
    }
    let mut figures = Map::new();
    figures.insert("members".into(), json!(tokens.len()));
    figures.insert("instances".into(), json!(urls.len()));
    figures.insert("connected_s".into(), json!(round(connected.as_secs_f64())));
    figures.insert(
        "quiet_after_s".into(),
        json!(round(settled.max(connected).as_secs_f64())),
    );
    figures.insert(
        "frames_received".into(),
        json!(frames.load(Ordering::Relaxed)),
    );
    figures.insert("server_cpu_s".into(), json!(cpu));
    Ok(figures)
}

/// `history`: `connections` clients fetching the room's latest page as JSON for `seconds`.
pub async fn history(
    url: &str,
    room: &str,
    access: &str,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<Map<String, Value>> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let page = format!(
        "{url}{}?page_size=10",
        routes::path(routes::ROOM_HOME, &[room])
    );
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
        let (page, access) = (page.clone(), access.to_owned());
        workers.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let (mut ok, mut failed) = (0usize, 0usize);
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = client
                    .get(&page)
                    .bearer_auth(&access)
                    .header("Accept", "application/json")
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        ok += 1;
                        latencies.record(started.elapsed().as_micros() as u64);
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, latencies)
        }));
    }
    let (mut ok, mut failed, mut latencies) = (0, 0, Latencies::default());
    for worker in workers {
        let (o, f, l) = worker.await?;
        ok += o;
        failed += f;
        latencies.merge(l);
    }
    let mut figures = Map::new();
    figures.insert("connections".into(), json!(connections));
    figures.insert("requests".into(), json!(ok));
    figures.insert("failed".into(), json!(failed));
    figures.insert(
        "requests_per_s".into(),
        json!(round(ok as f64 / seconds as f64)),
    );
    figures.extend(latencies.summary());
    Ok(figures)
}

/// `login`: each user signs in once more (login + TOTP), `connections` at a time.
pub async fn login(
    url: &str,
    users: Vec<BenchUser>,
    connections: usize,
) -> anyhow::Result<Map<String, Value>> {
    let step = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() / 30;
    let users = Arc::new(parking_lot::Mutex::new(users));
    let began = Instant::now();
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (users, url) = (users.clone(), url.to_owned());
        workers.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut failed = 0usize;
            loop {
                let next = users.lock().pop();
                let Some(user) = next else { break };
                let started = Instant::now();
                match sign_in(&url, &user, step + 1).await {
                    Ok(()) => latencies.record(started.elapsed().as_micros() as u64),
                    Err(_) => failed += 1,
                }
            }
            (latencies, failed)
        }));
    }
    let (mut latencies, mut failed) = (Latencies::default(), 0);
    for worker in workers {
        let (l, f) = worker.await?;
        latencies.merge(l);
        failed += f;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let mut figures = Map::new();
    let done = latencies.len();
    figures.insert("logins".into(), json!(done));
    figures.insert("failed".into(), json!(failed));
    figures.insert("logins_per_s".into(), json!(round(done as f64 / elapsed)));
    figures.extend(latencies.summary());
    Ok(figures)
}

async fn sign_in(url: &str, user: &BenchUser, step: u64) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client
        .post(format!("{url}{}", routes::LOGIN))
        .json(&EmailRequest {
            email: user.email.clone(),
        })
        .send()
        .await?;
    if login.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("login answered {}", login.status());
    }
    let code = user.totp.generate(step * 30).to_string();
    let tokens = client
        .post(format!("{url}{}", routes::TOTP_VERIFY))
        .json(&OtpRequest {
            otp_token: code,
            username: None,
        })
        .send()
        .await?;
    if !tokens.status().is_success() {
        bail!("totp/verify answered {}", tokens.status());
    }
    Ok(())
}
