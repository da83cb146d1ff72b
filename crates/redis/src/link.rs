//! One instance's link to Redis: a connection manager for commands, ONE pub/sub
//! connection for everything this instance follows (never one per socket), this
//! instance's random id, and whether the link works right now.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot, watch};
use whisper_domain::ports::EventListener;
use whisper_domain::{RoomEvent, RoomId};

use crate::codec;
use crate::commands::Commands;
use crate::config::{LinkTiming, RedisConfig};
use crate::error::RedisError;
use crate::health::Health;
use crate::keys::Keys;
use crate::publisher::{self, Outgoing};
use crate::subscriber::{Command, Subscriber};

/// Events waiting to be published before new ones are dropped.
const OUTBOX: usize = 8_192;

/// What the link's tasks share with it.
pub(crate) struct Shared {
    pub(crate) instance: String,
    pub(crate) keys: Keys,
    pub(crate) health: Health,
    pub(crate) commands: Commands,
    /// Who hears events: this instance's own, then other instances' as they arrive.
    pub(crate) listeners: RwLock<Vec<EventListener>>,
    /// Events not sent to other instances (queue full, Redis down or failing).
    pub(crate) dropped: AtomicU64,
}

/// One instance's link to Redis. Its tasks stop when the last handle is dropped.
pub struct RedisLink {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    outbox: mpsc::Sender<Outgoing>,
    timing: LinkTiming,
}

impl RedisLink {
    /// Parses the URL and starts the link's tasks with the default timings. Does not fail
    /// when Redis is unreachable: the instance starts degraded and keeps retrying. Must be
    /// called inside a Tokio runtime.
    pub fn start(config: RedisConfig) -> Result<Arc<RedisLink>, RedisError> {
        Self::start_with(config, LinkTiming::default())
    }

    /// [`RedisLink::start`] with chosen timings.
    pub fn start_with(
        config: RedisConfig,
        timing: LinkTiming,
    ) -> Result<Arc<RedisLink>, RedisError> {
        if config.prefix.is_empty() || config.prefix.contains(['|', ' ']) {
            return Err(RedisError::InvalidPrefix {
                prefix: config.prefix,
            });
        }
        // rustls needs one crypto provider for rediss://; ring is the one we build with.
        // Installing fails harmlessly when the process already chose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client =
            redis::Client::open(config.url.as_str()).map_err(|error| RedisError::InvalidUrl {
                reason: error.to_string(),
            })?;
        let commands =
            Commands::new(client.clone(), timing).map_err(|error| RedisError::InvalidUrl {
                reason: error.to_string(),
            })?;
        let shared = Arc::new(Shared {
            instance: nanoid::nanoid!(12),
            keys: Keys::new(&config.prefix),
            health: Health::new(),
            commands,
            listeners: RwLock::default(),
            dropped: AtomicU64::new(0),
        });
        let (outbox, queue) = mpsc::channel(OUTBOX);
        let (commands, commands_queue) = mpsc::unbounded_channel();
        tokio::spawn(publisher::publish(queue, shared.clone()));
        tokio::spawn(
            Subscriber {
                client,
                shared: shared.clone(),
                timing,
                commands: commands_queue,
                outbox: outbox.clone(),
                followed: HashSet::new(),
                pending_syncs: Vec::new(),
            }
            .run(),
        );
        Ok(Arc::new(Self {
            shared,
            commands,
            outbox,
            timing,
        }))
    }

    /// Whether events reach other instances and theirs reach this one right now.
    pub fn is_up(&self) -> bool {
        self.shared.health.is_up()
    }

    /// This instance's random id, fresh at each start.
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    /// The prefix of every key and channel of this deployment.
    pub fn prefix(&self) -> &str {
        self.shared.keys.prefix()
    }

    /// How many events were not sent to other instances since the start.
    pub fn dropped_events(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Returns once every follow and unfollow asked for before is in effect on a live
    /// pub/sub connection (waiting for one while Redis is down).
    pub async fn subscriptions_applied(&self) {
        let (done, applied) = oneshot::channel();
        if self.commands.send(Command::Sync(done)).is_ok() {
            let _ = applied.await;
        }
    }

    /// Returns once every event queued for other instances before has been handed to
    /// Redis (or given up on).
    pub async fn flushed(&self) {
        let (done, flushed) = oneshot::channel();
        if self.outbox.send(Outgoing::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }

    pub(crate) fn listen(&self, listener: EventListener) {
        self.shared.listeners.write().push(listener);
    }

    /// Calls this instance's listeners with `event`, in the caller's task.
    pub(crate) fn hear(&self, event: &RoomEvent) {
        for listener in self.shared.listeners.read().iter() {
            listener(event);
        }
    }

    /// Queues `event` for the other instances following its room; never blocks, drops
    /// (and counts) it when the queue is full or the link is down.
    pub(crate) fn send_to_others(&self, event: &RoomEvent) {
        if !self.is_up() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let item = Outgoing::Event {
            channel: self.shared.keys.room_channel(event.room()),
            payload: codec::encode(&self.shared.instance, event),
        };
        if self.outbox.try_send(item).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn follow(&self, room: &RoomId) {
        let _ = self.commands.send(Command::Follow(room.clone()));
    }

    pub(crate) fn unfollow(&self, room: &RoomId) {
        let _ = self.commands.send(Command::Unfollow(room.clone()));
    }

    /// A handle for commands; it reconnects by itself.
    pub(crate) fn commands(&self) -> ConnectionManager {
        self.shared.commands.get()
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// Changes each time the link comes (back) up.
    pub(crate) fn ups(&self) -> watch::Receiver<u64> {
        self.shared.health.ups()
    }

    /// How long a command may take before Redis counts as unreachable for it.
    pub(crate) fn command_timeout(&self) -> Duration {
        self.timing.probe_timeout
    }
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink")
            .field("instance", &self.shared.instance)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}
