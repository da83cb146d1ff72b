//! `whisper-bench`: drives a running Whisper server through its public API only (real
//! sign-up with email and TOTP, REST, WebSocket) and reports throughput, latency and
//! memory.
//!
//! Run the server with `WHISPER_RATE_LIMITS=off` (the benchmark signs up many users from
//! one address) and point `--mail-dir` at its `file:` mail directory. `--bare` points the
//! messaging and idle scenarios at a bare broadcast server instead (no accounts, nothing persisted),
//! the limit the real server is compared with. `--runs R` repeats the measured phase and
//! reports medians.

mod accounts;
mod churn;
mod churn_member;
mod churn_outcome;
mod idle;
mod messaging;
mod process;
mod report;
mod runs;
mod scenarios;
mod setup;
mod socket;

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, ValueEnum};

use crate::runs::Bench;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// K members of one room each send M messages, each waiting for its own echo.
    Fanout,
    /// Like fanout, without waiting (open loop).
    Burst,
    /// K members, R messages per second in total, for T seconds.
    Paced,
    /// Like fanout in `--rooms` rooms at once, all holding the same K members (one socket
    /// per member and room).
    Rooms,
    /// N members connect to one room at once.
    Join,
    /// C connections reading the latest page of a room's history.
    History,
    /// Full logins (email + TOTP) per second.
    Login,
    /// K members of one room keep disconnecting and resuming (`?since=`, on a random
    /// instance) while `--senders` of them send M messages each in a closed loop; every
    /// member must end with every stored message exactly once, in `seq` order.
    Churn,
    /// N idle connections (over rooms of at most 100 sockets): the server's memory per
    /// connection, and whether all stay open.
    Idle,
}

impl Scenario {
    /// Whether members send messages to rooms (what a bare server can measure too).
    fn is_messaging(self) -> bool {
        matches!(self, Self::Fanout | Self::Burst | Self::Paced | Self::Rooms)
    }
}

/// Measures a running Whisper server.
#[derive(Debug, Parser)]
#[command(version)]
struct Options {
    /// What to measure.
    scenario: Scenario,
    /// The server (sign-up and REST calls go here).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Further instances of the same server (fanout, burst, paced, rooms, join): members'
    /// sockets are spread round-robin over `--url` and these, member n on instance n mod N.
    #[arg(long = "also-url")]
    also_urls: Vec<String>,
    /// The server's file-mail directory (`WHISPER_MAIL=file:<dir>`).
    #[arg(long, default_value = "var/mail")]
    mail_dir: PathBuf,
    /// Members (K; idle: the users its sockets belong to).
    #[arg(long, default_value_t = 10)]
    members: usize,
    /// Messages per member (M; rooms: per member and room).
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Members who send (churn; the others only read).
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Mean milliseconds a member's connection stays open before it drops it (churn; each
    /// lifetime is uniform between 0 and twice this); 0: nobody disconnects.
    #[arg(long, default_value_t = 1000)]
    churn_every: u64,
    /// Seeds the members' random choices (churn), so a run can be repeated.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds after which a churn run fails instead of waiting on.
    #[arg(long, default_value_t = 600)]
    time_limit: u64,
    /// Rooms at once (rooms).
    #[arg(long, default_value_t = 200)]
    rooms: usize,
    /// Messages per second in total (paced).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Duration in seconds (paced, history).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections (join: members; idle: sockets; history and login: concurrent clients).
    #[arg(long)]
    connections: Option<usize>,
    /// The server's process id, to read its CPU time and memory; once per instance (join
    /// adds up their CPU time; idle reads the first).
    #[arg(long)]
    server_pid: Vec<u32>,
    /// The server is the bare broadcast server: no sign-up, no rooms to create, every
    /// socket authenticates as `Bearer bare` (fanout, burst, paced, rooms, idle).
    #[arg(long)]
    bare: bool,
    /// How many times to run the measured phase; more than one reports medians.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// PostgreSQL's own single-row insert rate (rows/s), to report persisted_per_s against.
    #[arg(long)]
    postgres_insert_rate: Option<f64>,
    /// PostgreSQL's insert rate in 64-row transactions (rows/s): what a group commit is
    /// bounded by.
    #[arg(long)]
    postgres_batched_insert_rate: Option<f64>,
    /// The bare server's deliveries/s in the same scenario, to report deliveries against.
    #[arg(long)]
    bare_deliveries_per_s: Option<f64>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

impl Options {
    /// Every instance's base URL, `--url` first.
    fn instance_urls(&self) -> Vec<String> {
        std::iter::once(&self.url)
            .chain(&self.also_urls)
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect()
    }

    /// Refuses combinations that cannot measure anything meaningful.
    fn check(&self) -> anyhow::Result<()> {
        let messaging = self.scenario.is_messaging();
        if self.bare && !(messaging || self.scenario == Scenario::Idle) {
            bail!("--bare works with fanout, burst, paced, rooms and idle only");
        }
        let rates = [self.postgres_insert_rate, self.postgres_batched_insert_rate];
        if self.bare && rates.iter().any(Option::is_some) {
            bail!("--postgres-*insert-rate makes no sense with --bare: it persists nothing");
        }
        let references = [rates[0], rates[1], self.bare_deliveries_per_s];
        if references.iter().any(Option::is_some) && !messaging {
            bail!("--postgres-*insert-rate and --bare-deliveries-per-s need a messaging scenario");
        }
        if references
            .iter()
            .flatten()
            .any(|r| !(r.is_finite() && *r > 0.0))
        {
            bail!("--postgres-*insert-rate and --bare-deliveries-per-s must be positive");
        }
        let spreads = messaging || matches!(self.scenario, Scenario::Join | Scenario::Churn);
        if !self.also_urls.is_empty() && (!spreads || self.bare) {
            bail!(
                "--also-url works with fanout, burst, paced, rooms, join and churn of a real server"
            );
        }
        if self.scenario == Scenario::Churn && !(1..=self.members).contains(&self.senders) {
            bail!("--senders must be between 1 and --members");
        }
        if self.runs == 0 || self.members == 0 || self.rooms == 0 {
            bail!("--runs, --members and --rooms must be at least 1");
        }
        Ok(())
    }

    /// Accounts to sign up.
    fn people(&self) -> usize {
        match self.scenario {
            Scenario::Join => self.connections(),
            Scenario::History => 1,
            Scenario::Login => self.connections() * 8,
            _ => self.members,
        }
    }

    /// `--connections` or the scenario's default.
    fn connections(&self) -> usize {
        let default = match self.scenario {
            Scenario::History | Scenario::Login => 16,
            _ => 1000,
        };
        self.connections.unwrap_or(default)
    }

    /// Sockets this process holds open at once.
    fn sockets(&self) -> usize {
        match self.scenario {
            Scenario::Rooms => self.rooms * self.members,
            Scenario::Join | Scenario::Idle | Scenario::History | Scenario::Login => {
                self.connections()
            }
            _ => self.members,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    options.check()?;
    let open_files = process::raise_open_file_limit()?;
    let needed = options.sockets() + 100;
    if needed as u64 > open_files {
        bail!(
            "{} sockets need about {needed} open files, but this process may open only \
             {open_files} (the hard limit, which cannot be raised here)",
            options.sockets()
        );
    }
    let bench = Bench::new(&options)?;
    let users = bench.shared_users().await?;
    let mut runs = Vec::with_capacity(options.runs);
    for index in 0..options.runs {
        runs.push(bench.measure(&users, index).await?);
    }
    let mut figures = report::combine(runs);
    if let Some(rate) = options.postgres_insert_rate {
        let reference = ("postgres_insert_rate", rate);
        report::compare(
            &mut figures,
            "persisted_per_s",
            reference,
            "persisted_vs_postgres",
        )?;
    }
    if let Some(rate) = options.postgres_batched_insert_rate {
        let reference = ("postgres_batched_insert_rate", rate);
        report::compare(
            &mut figures,
            "persisted_per_s",
            reference,
            "persisted_vs_batched",
        )?;
    }
    if let Some(deliveries) = options.bare_deliveries_per_s {
        let reference = ("bare_deliveries_per_s", deliveries);
        report::compare(
            &mut figures,
            "deliveries_per_s",
            reference,
            "deliveries_vs_bare",
        )?;
    }
    let name = format!("{:?}", options.scenario).to_lowercase();
    report::print(&name, figures, options.json);
    Ok(())
}
