//! The one task that writes this instance's presence to Redis, in the order of the
//! changes, answers queries after them, refreshes every entry at each heartbeat, sweeps
//! dead instances' entries, and re-registers everything when Redis comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{MissedTickBehavior, interval};
use whisper_domain::ports::UserRepository;
use whisper_domain::{RoomEvent, RoomId, UserId};

use crate::config::PresenceTiming;
use crate::link::RedisLink;
use crate::presence::Local;
use crate::presence_store::{PresenceStore, Trouble};

/// One change or question, in the order it was made.
pub(crate) enum Job {
    /// `user`'s first socket here to `room`; `came_online` if their first here at all.
    Joined {
        room: RoomId,
        user: UserId,
        came_online: bool,
    },
    /// `user`'s last socket here to `room`; `went_away` if their last here at all.
    Left {
        room: RoomId,
        user: UserId,
        went_away: bool,
    },
    Members {
        room: RoomId,
        answer: oneshot::Sender<usize>,
    },
    IsOnline {
        user: UserId,
        answer: oneshot::Sender<bool>,
    },
    /// Answered once every job before it is done.
    Settled { answer: oneshot::Sender<()> },
}

pub(crate) struct Writer {
    link: Arc<RedisLink>,
    users: Arc<dyn UserRepository>,
    timing: PresenceTiming,
    local: Arc<Mutex<Local>>,
    store: PresenceStore,
    ups: watch::Receiver<u64>,
    /// Whether the last Redis write failed, so the failure is logged once.
    failing: AtomicBool,
}

impl Writer {
    pub(crate) fn new(
        link: Arc<RedisLink>,
        users: Arc<dyn UserRepository>,
        timing: PresenceTiming,
        local: Arc<Mutex<Local>>,
    ) -> Self {
        let store = PresenceStore::new(
            link.keys().clone(),
            link.instance().to_owned(),
            link.clone(),
            link.command_timeout(),
            timing.expiry,
        );
        let ups = link.ups();
        Self {
            link,
            users,
            timing,
            local,
            store,
            ups,
            failing: AtomicBool::new(false),
        }
    }

    /// Works until the presence is dropped.
    pub(crate) async fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut heartbeat = interval(self.timing.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            // Re-registration first: a job queued after the link came up finds it done.
            tokio::select! {
                biased;
                changed = self.ups.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.reregister().await;
                }
                job = jobs.recv() => match job {
                    Some(job) => self.work(job).await,
                    None => return,
                },
                _ = heartbeat.tick() => {
                    if self.link.is_up() {
                        self.heartbeat().await;
                    }
                }
            }
        }
    }

    async fn work(&mut self, job: Job) {
        match job {
            Job::Joined {
                room,
                user,
                came_online,
            } => {
                if self.link.is_up() {
                    let written = self.store.register(&[(room.clone(), user.clone())]).await;
                    self.recount_elsewhere(written, &room);
                }
                if came_online {
                    self.set_online(&user, true).await;
                }
            }
            Job::Left {
                room,
                user,
                went_away,
            } => {
                if self.link.is_up() {
                    let written = self.store.unregister(&room, &user).await;
                    self.recount_elsewhere(written, &room);
                }
                if went_away {
                    self.maybe_offline(&user).await;
                }
            }
            Job::Members { room, answer } => {
                let shared = if self.link.is_up() {
                    self.checked(self.store.members(&room).await)
                } else {
                    None
                };
                let count = shared.unwrap_or_else(|| {
                    self.local
                        .lock()
                        .rooms
                        .get(&room)
                        .map_or(0, |members| members.len())
                });
                let _ = answer.send(count);
            }
            Job::IsOnline { user, answer } => {
                let shared = if self.link.is_up() {
                    self.checked(self.store.is_online(&user).await)
                } else {
                    None
                };
                let online = shared
                    .unwrap_or_else(|| self.local.lock().sockets_per_user.contains_key(&user));
                let _ = answer.send(online);
            }
            Job::Settled { answer } => {
                let _ = answer.send(());
            }
        }
    }

    /// Tells other instances to count `room` again, once the change is in Redis.
    fn recount_elsewhere(&self, written: Result<(), Trouble>, room: &RoomId) {
        if self.checked(written).is_some() {
            self.link
                .send_to_others(&RoomEvent::PresenceChanged { room: room.clone() });
        }
    }

    /// The user's last socket here closed: offline unless they have one elsewhere. Looked
    /// at again after writing, so a socket opened elsewhere meanwhile wins.
    async fn maybe_offline(&mut self, user: &UserId) {
        if !self.link.is_up() {
            // Others' sockets are unknown; they say so again when Redis is back.
            self.set_online(user, false).await;
            return;
        }
        if self.checked(self.store.is_online(user).await) != Some(false) {
            return;
        }
        self.set_online(user, false).await;
        if self.checked(self.store.is_online(user).await) == Some(true) {
            self.set_online(user, true).await;
        }
    }

    /// Refreshes every entry of this instance and removes dead instances' entries.
    async fn heartbeat(&mut self) {
        let entries = self.local.lock().entries();
        let refreshed = match self.store.sync_clock().await {
            Ok(()) => self.store.register(&entries).await,
            Err(trouble) => Err(trouble),
        };
        if self.checked(refreshed).is_none() {
            return;
        }
        let Some((rooms, users)) = self.checked(self.store.sweep().await) else {
            return;
        };
        for user in &users {
            if self.checked(self.store.is_online(user).await) == Some(false) {
                self.set_online(user, false).await;
            }
        }
        for room in rooms {
            self.link
                .send_to_others(&RoomEvent::PresenceChanged { room });
        }
    }

    /// Redis is (back) up, possibly empty: every local entry and flag is written again at
    /// once and the other instances recount its rooms.
    async fn reregister(&mut self) {
        self.heartbeat().await;
        let (users, rooms): (Vec<UserId>, Vec<RoomId>) = {
            let local = self.local.lock();
            (
                local.sockets_per_user.keys().cloned().collect(),
                local.rooms.keys().cloned().collect(),
            )
        };
        for user in &users {
            self.set_online(user, true).await;
        }
        for room in rooms {
            self.link
                .send_to_others(&RoomEvent::PresenceChanged { room });
        }
    }

    async fn set_online(&self, user: &UserId, online: bool) {
        if let Err(error) = self.users.set_online(user, online).await {
            tracing::warn!(%error, user = %user, online, "could not record presence");
        }
    }

    /// The answer, logging the first of a run of failures (the link's probe decides
    /// whether Redis is down).
    fn checked<T>(&self, outcome: Result<T, Trouble>) -> Option<T> {
        match outcome {
            Ok(value) => {
                self.failing.store(false, Ordering::Relaxed);
                Some(value)
            }
            Err(trouble) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%trouble, "presence could not reach Redis");
                }
                None
            }
        }
    }
}
