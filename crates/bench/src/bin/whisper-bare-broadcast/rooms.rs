//! Which sockets are in which room, and the fan-out to them: one lock, one bounded queue per
//! socket, so a slow reader only ever fills its own queue.

use std::collections::HashMap;
use std::sync::Arc;

use bytestring::ByteString;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};

/// Frames queued per socket before it is dropped. Far above the real server's 256: this
/// server measures the transport, and the benchmark's own readers lag behind it at times.
const QUEUE_CAPACITY: usize = 16_384;

struct Member {
    id: u64,
    queue: mpsc::Sender<ByteString>,
    overflow: Arc<Notify>,
}

#[derive(Default)]
struct State {
    rooms: HashMap<String, Vec<Member>>,
    next_id: u64,
}

/// Every open socket, by room.
#[derive(Default)]
pub struct Rooms {
    state: Mutex<State>,
}

/// A socket's place in a room; leaves it when dropped, which ends the socket's queue.
pub struct Membership {
    rooms: Arc<Rooms>,
    room: String,
    id: u64,
}

/// What the socket's writer drains.
pub struct Queue {
    /// Frames to send, in order.
    pub frames: mpsc::Receiver<ByteString>,
    /// Notified when the socket fell behind and was dropped from its room.
    pub overflow: Arc<Notify>,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Adds a socket to `room`.
    pub fn join(self: &Arc<Self>, room: &str) -> (Membership, Queue) {
        let (sender, frames) = mpsc::channel(QUEUE_CAPACITY);
        let overflow = Arc::new(Notify::new());
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        state
            .rooms
            .entry(room.to_owned())
            .or_default()
            .push(Member {
                id,
                queue: sender,
                overflow: overflow.clone(),
            });
        let membership = Membership {
            rooms: self.clone(),
            room: room.to_owned(),
            id,
        };
        (membership, Queue { frames, overflow })
    }

    /// Queues `frame` for every socket in `room`: a cheap clone of the same bytes each. A
    /// socket whose queue is full is dropped from the room and told to close.
    pub fn broadcast(&self, room: &str, frame: &ByteString) {
        let mut state = self.lock();
        let Some(members) = state.rooms.get_mut(room) else {
            return;
        };
        members.retain(|member| match member.queue.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                member.overflow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut state = self.rooms.lock();
        if let Some(members) = state.rooms.get_mut(&self.room) {
            members.retain(|member| member.id != self.id);
            if members.is_empty() {
                state.rooms.remove(&self.room);
            }
        }
    }
}
