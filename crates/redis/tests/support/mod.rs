//! What the Redis adapter tests share: unique prefixes on the shared Redis, links with
//! short timings, a private `redis-server` that a test may kill, and a TCP proxy that
//! can freeze a connection without closing it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod proxy;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use whisper_domain::RoomEvent;
use whisper_domain::ports::EventSource;
use whisper_redis::{LinkTiming, RedisConfig, RedisLink};

/// The shared Redis every machine of this project runs; never flushed by tests.
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

/// How long a test waits for something that should happen well before.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("whisper-test:{}", nanoid::nanoid!(10))
}

/// Short timings, so outages are noticed within a test's patience.
pub fn quick_link() -> LinkTiming {
    LinkTiming {
        probe_every: Duration::from_millis(100),
        probe_timeout: Duration::from_millis(600),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(300),
    }
}

/// A link to `url` under `prefix`, with short timings.
pub fn link(url: &str, prefix: &str) -> Arc<RedisLink> {
    let config = RedisConfig {
        url: url.to_owned(),
        prefix: prefix.to_owned(),
    };
    RedisLink::start_with(config, quick_link()).unwrap()
}

/// A link to `url` under `prefix`, returned once it is up.
pub async fn link_up(url: &str, prefix: &str) -> Arc<RedisLink> {
    let link = link(url, prefix);
    until(|| link.is_up(), "the link comes up").await;
    link
}

/// Waits for `condition`, checking often, failing after [`DEADLINE`]; only for states
/// nothing announces (a link noticing an outage, an entry expiring).
pub async fn until(condition: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every event `source` hears, as a stream.
pub fn hearing(source: &impl EventSource) -> mpsc::UnboundedReceiver<RoomEvent> {
    let (heard, events) = mpsc::unbounded_channel();
    source.listen(Box::new(move |event| {
        let _ = heard.send(event.clone());
    }));
    events
}

/// The next event heard, failing after [`DEADLINE`].
pub async fn next(events: &mut mpsc::UnboundedReceiver<RoomEvent>) -> RoomEvent {
    tokio::time::timeout(DEADLINE, events.recv())
        .await
        .expect("no event arrived in time")
        .expect("the bus stopped")
}

/// Online flags as a user repository would hold them, shared by every instance of a
/// test, with each write reported as it happens.
pub struct Flags {
    pub repository: Arc<dyn whisper_domain::ports::UserRepository>,
    pub writes: mpsc::UnboundedReceiver<(whisper_domain::UserId, bool)>,
}

impl Flags {
    pub fn new() -> Self {
        let (written, writes) = mpsc::unbounded_channel();
        let mut users = whisper_domain::ports::MockUserRepository::new();
        users.expect_set_online().returning(move |user, online| {
            let _ = written.send((user.clone(), online));
            Ok(true)
        });
        Self {
            repository: Arc::new(users),
            writes,
        }
    }

    /// Waits until `user`'s flag is written as `online`.
    pub async fn written(&mut self, user: &whisper_domain::UserId, online: bool) {
        let wait = async {
            while let Some((who, flag)) = self.writes.recv().await {
                if &who == user && flag == online {
                    return;
                }
            }
            panic!("the flags stopped being written");
        };
        tokio::time::timeout(DEADLINE, wait)
            .await
            .unwrap_or_else(|_| panic!("{user}'s flag was never written as {online}"));
    }
}
