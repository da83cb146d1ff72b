//! Presence for one instance: the sockets of this process counted in memory, and the
//! online flag of each account written through the user repository when it changes, by
//! one writer task, in the order of the changes.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::{Notify, oneshot};
use whisper_domain::ports::{Presence, UserRepository};
use whisper_domain::{DomainResult, RoomId, UserId};

/// The sockets of this process and the online flags not yet written.
#[derive(Default)]
struct State {
    sockets_per_user: HashMap<UserId, usize>,
    /// Per room, how many sockets each member connected to it holds.
    rooms: HashMap<RoomId, HashMap<UserId, usize>>,
    /// The latest flag of each user whose flag changed since the writer last looked: one
    /// entry per user at most, so the backlog is bounded by the number of users, and a
    /// flag that flips while a write is under way is written again with its final value.
    unwritten: HashMap<UserId, bool>,
    /// Set when the presence is dropped: the writer writes what is left, then ends.
    closed: bool,
    /// Callers of `settle`, answered once everything changed before them is written.
    settling: Vec<oneshot::Sender<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer; a wake while it writes is kept for its next look.
    changed: Notify,
}

/// Presence counted in this process.
pub struct LocalPresence {
    shared: Arc<Shared>,
}

impl LocalPresence {
    /// Nobody connected yet; starts the task that writes online flags through `users`.
    /// Must be called inside a Tokio runtime.
    pub fn start(users: Arc<dyn UserRepository>) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Notify::new(),
        });
        tokio::spawn(write_online_flags(users, shared.clone()));
        Self { shared }
    }

    fn flag_changed(&self, state: &mut State, user: &UserId, online: bool) {
        state.unwritten.insert(user.clone(), online);
        self.shared.changed.notify_one();
    }
}

impl Drop for LocalPresence {
    fn drop(&mut self) {
        self.shared.state.lock().closed = true;
        self.shared.changed.notify_one();
    }
}

#[async_trait]
impl Presence for LocalPresence {
    fn connect(&self, room: &RoomId, user: &UserId) {
        let mut state = self.shared.state.lock();
        *state
            .rooms
            .entry(room.clone())
            .or_default()
            .entry(user.clone())
            .or_default() += 1;
        let sockets = state.sockets_per_user.entry(user.clone()).or_default();
        *sockets += 1;
        if *sockets == 1 {
            self.flag_changed(&mut state, user, true);
        }
    }

    fn disconnect(&self, room: &RoomId, user: &UserId) {
        let mut state = self.shared.state.lock();
        let Some(members) = state.rooms.get_mut(room) else {
            return;
        };
        let Some(sockets) = members.get_mut(user) else {
            return;
        };
        *sockets -= 1;
        if *sockets == 0 {
            members.remove(user);
            if members.is_empty() {
                state.rooms.remove(room);
            }
        }
        // Every socket counted in a room is counted here too.
        if let Some(sockets) = state.sockets_per_user.get_mut(user) {
            *sockets -= 1;
            if *sockets == 0 {
                state.sockets_per_user.remove(user);
                self.flag_changed(&mut state, user, false);
            }
        }
    }

    async fn is_online(&self, user: &UserId) -> DomainResult<bool> {
        Ok(self.shared.state.lock().sockets_per_user.contains_key(user))
    }

    async fn members_connected(&self, room: &RoomId) -> DomainResult<usize> {
        Ok(self
            .shared
            .state
            .lock()
            .rooms
            .get(room)
            .map_or(0, HashMap::len))
    }

    async fn settle(&self) {
        let (settled, answer) = oneshot::channel();
        self.shared.state.lock().settling.push(settled);
        self.shared.changed.notify_one();
        // The writer ends only once this handle is gone: it always answers.
        let _ = answer.await;
    }
}

/// Writes the flags that changed, one at a time, until the presence is dropped and
/// nothing is left to write.
async fn write_online_flags(users: Arc<dyn UserRepository>, shared: Arc<Shared>) {
    loop {
        let (flags, closed) = {
            let mut state = shared.state.lock();
            let flags = std::mem::take(&mut state.unwritten);
            if flags.is_empty() {
                for settled in state.settling.drain(..) {
                    let _ = settled.send(());
                }
            }
            (flags, state.closed)
        };
        if flags.is_empty() {
            if closed {
                return;
            }
            shared.changed.notified().await;
            continue;
        }
        for (user, online) in flags {
            if let Err(error) = users.set_online(&user, online).await {
                tracing::warn!(%error, user = %user, online, "could not record presence");
            }
        }
    }
}

#[cfg(test)]
#[path = "presence_tests.rs"]
mod tests;
