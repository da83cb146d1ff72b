//! Presence shared by instances. Connects and disconnects return at once and change this
//! instance's counts; each (room, user) transition 0→1 or 1→0 here becomes one ordered
//! job for the writer task, which records it in Redis, pings other instances to
//! recount, and keeps the users' online flags. Queries go through the same writer, so
//! this handle sees its own changes; while Redis is down they answer from this
//! instance's counts.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use whisper_domain::ports::{Presence, UserRepository};
use whisper_domain::{DomainError, DomainResult, RoomId, UserId};

use crate::config::PresenceTiming;
use crate::link::RedisLink;
use crate::presence_writer::{Job, Writer};

/// The sockets of this instance.
#[derive(Default)]
pub(crate) struct Local {
    /// Per room, how many sockets each member holds open to it here.
    pub(crate) rooms: HashMap<RoomId, HashMap<UserId, usize>>,
    pub(crate) sockets_per_user: HashMap<UserId, usize>,
}

impl Local {
    /// Every (room, user) with a socket here.
    pub(crate) fn entries(&self) -> Vec<(RoomId, UserId)> {
        self.rooms
            .iter()
            .flat_map(|(room, members)| members.keys().map(|user| (room.clone(), user.clone())))
            .collect()
    }
}

/// Presence counted across every instance on one Redis.
pub struct RedisPresence {
    local: Arc<Mutex<Local>>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl RedisPresence {
    /// Nobody connected here yet; starts the writer, which writes online flags through
    /// `users`. Dropping the presence stops it without removing this instance's
    /// entries: like a crashed instance's, they stop counting after `timing.expiry`.
    /// Must be called inside a Tokio runtime.
    pub fn start(
        link: Arc<RedisLink>,
        users: Arc<dyn UserRepository>,
        timing: PresenceTiming,
    ) -> Self {
        let local = Arc::new(Mutex::new(Local::default()));
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(Writer::new(link, users, timing, local.clone()).run(queue));
        Self { local, jobs }
    }

    fn send(&self, job: Job) {
        // The writer only ends when this handle is dropped.
        let _ = self.jobs.send(job);
    }

    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> DomainResult<T> {
        let (answer, answered) = oneshot::channel();
        self.send(job(answer));
        answered
            .await
            .map_err(|_| DomainError::internal("the presence writer stopped"))
    }
}

impl std::fmt::Debug for RedisPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPresence").finish_non_exhaustive()
    }
}

#[async_trait]
impl Presence for RedisPresence {
    fn connect(&self, room: &RoomId, user: &UserId) {
        let mut guard = self.local.lock();
        let local = &mut *guard;
        let sockets = local
            .rooms
            .entry(room.clone())
            .or_default()
            .entry(user.clone())
            .or_default();
        *sockets += 1;
        let joined = *sockets == 1;
        let user_sockets = local.sockets_per_user.entry(user.clone()).or_default();
        *user_sockets += 1;
        let came_online = *user_sockets == 1;
        if joined {
            // Sent under the lock, so jobs are queued in the order the changes were made.
            self.send(Job::Joined {
                room: room.clone(),
                user: user.clone(),
                came_online,
            });
        }
    }

    fn disconnect(&self, room: &RoomId, user: &UserId) {
        let mut guard = self.local.lock();
        let local = &mut *guard;
        let Some(members) = local.rooms.get_mut(room) else {
            return;
        };
        let Some(sockets) = members.get_mut(user) else {
            return;
        };
        *sockets -= 1;
        if *sockets > 0 {
            local
                .sockets_per_user
                .entry(user.clone())
                .and_modify(|n| *n -= 1);
            return;
        }
        members.remove(user);
        if members.is_empty() {
            local.rooms.remove(room);
        }
        let mut went_away = false;
        if let Some(user_sockets) = local.sockets_per_user.get_mut(user) {
            *user_sockets -= 1;
            if *user_sockets == 0 {
                local.sockets_per_user.remove(user);
                went_away = true;
            }
        }
        self.send(Job::Left {
            room: room.clone(),
            user: user.clone(),
            went_away,
        });
    }

    async fn is_online(&self, user: &UserId) -> DomainResult<bool> {
        self.ask(|answer| Job::IsOnline {
            user: user.clone(),
            answer,
        })
        .await
    }

    async fn members_connected(&self, room: &RoomId) -> DomainResult<usize> {
        self.ask(|answer| Job::Members {
            room: room.clone(),
            answer,
        })
        .await
    }

    /// Jobs are done in order: the answer comes once every earlier change is in Redis
    /// (or given up on while it is down) and every online flag is written.
    async fn settle(&self) {
        let _ = self.ask(|answer| Job::Settled { answer }).await;
    }
}
