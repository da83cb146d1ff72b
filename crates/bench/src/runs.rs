//! A scenario's setup and its measured phase, once per `--runs`: users are signed up once
//! and shared (login signs up fresh ones per run, since each code is spent), rooms are
//! fresh in every run.

use std::time::Duration;

use anyhow::anyhow;
use serde_json::{Map, Value};

use crate::accounts::{BenchUser, SignUp};
use crate::messaging::{self, Pace};
use crate::process::cpu_seconds;
use crate::report::round;
use crate::{Options, Scenario, churn, idle, scenarios, setup};

/// How many sockets share one room in `idle`.
const IDLE_SOCKETS_PER_ROOM: usize = 100;
/// How many messages `history` pages through.
const HISTORY_MESSAGES: usize = 200;

/// One invocation of the benchmark.
pub struct Bench<'a> {
    options: &'a Options,
    url: String,
    /// Distinguishes this invocation's accounts and rooms from earlier ones.
    id: String,
}

impl<'a> Bench<'a> {
    /// A benchmark as `options` describe it.
    pub fn new(options: &'a Options) -> anyhow::Result<Self> {
        // The process id too: scripts/bench starts one benchmark per instance at once.
        let id = format!(
            "{:x}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis(),
            std::process::id()
        );
        Ok(Self {
            options,
            url: options.url.trim_end_matches('/').to_owned(),
            id,
        })
    }

    /// The users every run shares: none for a bare server (its users are synthetic) or for
    /// login (each run signs up its own).
    pub async fn shared_users(&self) -> anyhow::Result<Vec<BenchUser>> {
        if self.options.bare || self.options.scenario == Scenario::Login {
            return Ok(Vec::new());
        }
        self.sign_up(&self.id).await
    }

    async fn sign_up(&self, id: &str) -> anyhow::Result<Vec<BenchUser>> {
        let signup = SignUp {
            url: &self.url,
            mail_dir: &self.options.mail_dir,
            run: id,
            recipients: Default::default(),
        };
        setup::sign_up(&signup, self.options.people()).await
    }

    /// The members' access tokens; a bare server takes `bare` from everyone.
    fn tokens(&self, users: &[BenchUser]) -> Vec<String> {
        if self.options.bare {
            return vec!["bare".to_owned(); self.options.members];
        }
        users.iter().map(|user| user.access.clone()).collect()
    }

    /// `count` fresh rooms for run `index` holding every user; a bare server's rooms exist
    /// by being named.
    async fn rooms(
        &self,
        users: &[BenchUser],
        index: usize,
        count: usize,
    ) -> anyhow::Result<Vec<String>> {
        if self.options.bare {
            return Ok(match self.options.scenario {
                Scenario::Rooms | Scenario::Idle => {
                    (0..count).map(|n| format!("bare-{n}")).collect()
                }
                _ => vec!["bare".to_owned()],
            });
        }
        let prefix = format!("bench-{}-{index}", self.id);
        setup::create_rooms(&self.url, users, &prefix, count).await
    }

    async fn room(&self, users: &[BenchUser], index: usize) -> anyhow::Result<String> {
        self.rooms(users, index, 1)
            .await?
            .pop()
            .ok_or_else(|| anyhow!("no room was created"))
    }

    /// Run number `index`: its setup, then the measured phase's figures.
    pub async fn measure(
        &self,
        users: &[BenchUser],
        index: usize,
    ) -> anyhow::Result<Map<String, Value>> {
        let (options, url) = (self.options, self.url.as_str());
        let tokens = self.tokens(users);
        match options.scenario {
            Scenario::Fanout | Scenario::Burst | Scenario::Paced | Scenario::Rooms => {
                let (count, pace, messages) = match options.scenario {
                    Scenario::Rooms => (options.rooms, Pace::Echo, options.messages),
                    Scenario::Burst => (1, Pace::Flood, options.messages),
                    Scenario::Paced => {
                        let total = options.rate * options.seconds as f64;
                        let each = (total / options.members as f64).ceil() as usize;
                        (1, Pace::Rate(options.rate), each)
                    }
                    _ => (1, Pace::Echo, options.messages),
                };
                let rooms = self.rooms(users, index, count).await?;
                let urls = options.instance_urls();
                let plan = messaging::Plan {
                    urls: &urls,
                    rooms: &rooms,
                    tokens: &tokens,
                    messages,
                    pace,
                };
                // Both processes' CPU, so a reader sees whether the client was the bound.
                let cpu = |pids: &[u32]| -> anyhow::Result<f64> {
                    pids.iter().map(|pid| cpu_seconds(*pid)).sum()
                };
                let me = [std::process::id()];
                let before = (cpu(&options.server_pid)?, cpu(&me)?);
                let mut figures = messaging::run(&plan).await?;
                if !options.server_pid.is_empty() {
                    let server = cpu(&options.server_pid)? - before.0;
                    figures.insert("server_cpu_s".into(), round(server).into());
                }
                figures.insert("bench_cpu_s".into(), round(cpu(&me)? - before.1).into());
                Ok(figures)
            }
            Scenario::Join => {
                let room = self.room(users, index).await?;
                let urls = options.instance_urls();
                scenarios::join(&urls, &room, &tokens, &options.server_pid).await
            }
            Scenario::Churn => {
                let room = self.room(users, index).await?;
                let urls = options.instance_urls();
                let churn_every = options.churn_every;
                let plan = churn::Plan {
                    urls: &urls,
                    room: &room,
                    tokens: &tokens,
                    senders: options.senders,
                    messages: options.messages,
                    churn_every: (churn_every > 0).then(|| Duration::from_millis(churn_every)),
                    // Each run its own choices, every invocation the same ones.
                    seed: options.seed.wrapping_add(index as u64),
                    time_limit: Duration::from_secs(options.time_limit),
                };
                churn::run(&plan).await
            }
            Scenario::History => {
                let room = self.room(users, index).await?;
                let access = tokens.first().ok_or_else(|| anyhow!("no user"))?;
                setup::fill_room(url, &room, access, HISTORY_MESSAGES).await?;
                let (connections, seconds) = (options.connections(), options.seconds);
                scenarios::history(url, &room, access, connections, seconds).await
            }
            Scenario::Login => {
                let users = self.sign_up(&format!("{}-{index}", self.id)).await?;
                scenarios::login(url, users, options.connections()).await
            }
            Scenario::Idle => {
                let connections = options.connections();
                let count = connections.div_ceil(IDLE_SOCKETS_PER_ROOM).max(1);
                let rooms = self.rooms(users, index, count).await?;
                let plan = idle::Plan {
                    url,
                    rooms: &rooms,
                    tokens: &tokens,
                    connections,
                    server_pid: options.server_pid.first().copied(),
                };
                idle::run(&plan).await
            }
        }
    }
}
