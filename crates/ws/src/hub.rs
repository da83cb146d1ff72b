//! The hub: which connections are open to which room, fan-out of room events to them,
//! and `chat.active` from the members the `Presence` port counts. Each connection has a bounded queue: under
//! pressure typing and presence frames are dropped first; a connection that cannot take a
//! message is closed (1013) rather than buffered without bound or allowed to slow others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytestring::ByteString;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};
use whisper_domain::ports::{EventSource, Presence};
use whisper_domain::{MessageCursor, RoomEvent, RoomId, UserId};
use whisper_http::PublicUrl;

use crate::frames::{active_frame, message_body, message_frame, notification_frame, typing_frame};
use crate::settings::WsSettings;

/// Close code: the member was removed from the room.
pub const CLOSE_REMOVED: u16 = 4001;
/// Close code: the session was ended (logout).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code: the connection could not keep up; resume with `since`.
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// A frame on its way to one connection. Frames are serialized once and shared: cloning
/// one per recipient only counts a reference.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A `chat.message`.
    Message(Arc<MessageFrame>),
    /// Any other frame (behind a pointer: the queue's slots stay small, and each idle
    /// connection's queue allocates a block of them).
    Frame(Arc<ByteString>),
    /// Close the connection with this code.
    Close(u16),
}

impl Outgoing {
    /// A frame of `text`.
    pub fn frame(text: String) -> Self {
        Self::Frame(Arc::new(text.into()))
    }
}

/// A serialized `chat.message` with its place in the room's history (to skip replayed ones).
#[derive(Debug)]
pub struct MessageFrame {
    /// The frame as sent.
    pub frame: ByteString,
    /// Where the message stands in the room's order.
    pub cursor: MessageCursor,
}

/// Tells a connection's writer it fell behind.
#[derive(Debug, Default)]
pub struct Overflow {
    overflowed: AtomicBool,
    /// Woken when `overflowed` is set.
    pub wake: Notify,
}

impl Overflow {
    /// Whether the connection could not take a message.
    pub fn happened(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    fn signal(&self) {
        self.overflowed.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

struct Connection {
    id: u64,
    user: UserId,
    sender: mpsc::Sender<Outgoing>,
    overflow: Arc<Overflow>,
}

#[derive(Default)]
struct State {
    rooms: HashMap<RoomId, Vec<Connection>>,
    active_changed: HashSet<RoomId>,
    next_id: u64,
}

/// The connections of this process and the fan-out to them.
pub struct Hub {
    state: Mutex<State>,
    settings: WsSettings,
    public_url: PublicUrl,
    presence: Arc<dyn Presence>,
}

/// A connection's place in the hub; leaving the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    room: RoomId,
    user: UserId,
    id: u64,
    /// Set when the queue overflowed.
    pub overflow: Arc<Overflow>,
    /// For frames the connection sends itself (errors, its own duplicates).
    pub sender: mpsc::Sender<Outgoing>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(&self.room, &self.user, self.id);
    }
}

impl Hub {
    /// Starts the hub: it listens to `events`, tells `presence` of every connection that
    /// joins or leaves, and sends `chat.active` at most every `settings.active_every` per
    /// room.
    pub fn start(
        events: &dyn EventSource,
        presence: Arc<dyn Presence>,
        settings: WsSettings,
        public_url: PublicUrl,
    ) -> Arc<Self> {
        let hub = Arc::new(Self {
            state: Mutex::new(State::default()),
            settings,
            public_url,
            presence,
        });
        let listener = Arc::downgrade(&hub);
        events.listen(Box::new(move |event| {
            if let Some(hub) = listener.upgrade() {
                hub.deliver(event);
            }
        }));
        tokio::spawn(announce_active(Arc::downgrade(&hub), settings.active_every));
        hub
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Adds a connection of `user` to `room`; returns its place and its queue.
    pub fn join(
        self: &Arc<Self>,
        room: &RoomId,
        user: &UserId,
    ) -> (Registration, mpsc::Receiver<Outgoing>) {
        let (sender, receiver) = mpsc::channel(self.settings.queue_capacity.max(2));
        let overflow = Arc::new(Overflow::default());
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        state
            .rooms
            .entry(room.clone())
            .or_default()
            .push(Connection {
                id,
                user: user.clone(),
                sender: sender.clone(),
                overflow: overflow.clone(),
            });
        self.presence.connect(room, user);
        state.active_changed.insert(room.clone());
        let registration = Registration {
            hub: self.clone(),
            room: room.clone(),
            user: user.clone(),
            id,
            overflow,
            sender,
        };
        (registration, receiver)
    }

    fn leave(&self, room: &RoomId, user: &UserId, id: u64) {
        let mut state = self.state();
        let Some(connections) = state.rooms.get_mut(room) else {
            return;
        };
        let before = connections.len();
        connections.retain(|connection| connection.id != id);
        // A connection that fell behind already left presence (see `deliver`).
        let was_present = connections.len() != before;
        if connections.is_empty() {
            state.rooms.remove(room);
        }
        if was_present {
            self.presence.disconnect(room, user);
            state.active_changed.insert(room.clone());
        }
    }

    fn deliver(&self, event: &RoomEvent) {
        if let RoomEvent::PresenceChanged { room } = event {
            let mut state = self.state();
            if state.rooms.contains_key(room) {
                state.active_changed.insert(room.clone());
            }
            return;
        }
        // Serialized once per event, before the lock: joins and leaves never wait on it.
        let Some(frames) = self.frames_of(event) else {
            return;
        };
        let room = event.room();
        let mut state = self.state();
        let Some(connections) = state.rooms.get_mut(room) else {
            return;
        };
        self.fan_out(connections, &frames);
        // A connection that fell behind leaves the room at once: it no longer counts as
        // present and no longer receives anything; its tasks close it with 1013.
        let before = connections.len();
        connections.retain(|connection| {
            let behind = connection.overflow.happened();
            if behind {
                self.presence.disconnect(room, &connection.user);
            }
            !behind
        });
        if connections.len() != before {
            state.active_changed.insert(room.clone());
        }
    }

    fn frames_of(&self, event: &RoomEvent) -> Option<Frames> {
        Some(match event {
            RoomEvent::MessageStored { message, client_id } => {
                let body = message_body(message, &self.public_url);
                let shared = |client_id| {
                    Arc::new(MessageFrame {
                        frame: message_frame(&body, client_id).into(),
                        cursor: message.cursor(),
                    })
                };
                Frames::Message {
                    everyone: shared(None),
                    sender_copy: client_id.as_deref().map(|id| shared(Some(id))),
                    sender: message.sender.clone(),
                }
            }
            RoomEvent::Typing {
                user,
                username,
                typing,
                ..
            } => Frames::Typing {
                frame: Arc::new(typing_frame(username.as_str(), *typing).into()),
                typist: user.clone(),
            },
            RoomEvent::PresenceChanged { .. } => return None,
            RoomEvent::MemberAdded { .. } | RoomEvent::MemberRemoved { .. } => Frames::Membership {
                frame: Arc::new(notification_frame(&event.notification()?).into()),
                removed: match event {
                    RoomEvent::MemberRemoved { user, .. } => Some(user.clone()),
                    _ => None,
                },
            },
        })
    }

    fn fan_out(&self, connections: &[Connection], frames: &Frames) {
        match frames {
            Frames::Message {
                everyone,
                sender_copy,
                sender,
            } => {
                for connection in connections {
                    let frame = match sender_copy {
                        Some(own) if &connection.user == sender => own,
                        _ => everyone,
                    };
                    offer(connection, Outgoing::Message(frame.clone()));
                }
            }
            Frames::Typing { frame, typist } => {
                for connection in connections.iter().filter(|c| &c.user != typist) {
                    self.offer_droppable(connection, Outgoing::Frame(frame.clone()));
                }
            }
            Frames::Membership { frame, removed } => {
                for connection in connections {
                    offer(connection, Outgoing::Frame(frame.clone()));
                }
                // After the notification, so the removed member reads it before the close.
                for connection in connections
                    .iter()
                    .filter(|c| Some(&c.user) == removed.as_ref())
                {
                    offer(connection, Outgoing::Close(CLOSE_REMOVED));
                }
            }
        }
    }

    /// Typing and presence frames go only while the queue is at most half full, keeping
    /// room for messages.
    fn offer_droppable(&self, connection: &Connection, outgoing: Outgoing) {
        if connection.sender.capacity() * 2 > self.settings.queue_capacity {
            let _ = connection.sender.try_send(outgoing);
        }
    }

    async fn announce_active_changes(&self) {
        let changed: Vec<RoomId> = {
            let mut state = self.state();
            let changed = std::mem::take(&mut state.active_changed);
            // Rooms this process no longer serves have nobody to tell.
            changed
                .into_iter()
                .filter(|room| state.rooms.contains_key(room))
                .collect()
        };
        for room in changed {
            let members = match self.presence.members_connected(&room).await {
                Ok(members) => members,
                Err(error) => {
                    tracing::warn!(%error, room = %room, "could not count the members present");
                    // Tried again at the next tick.
                    self.state().active_changed.insert(room);
                    continue;
                }
            };
            let frame = Arc::new(ByteString::from(active_frame(members)));
            let state = self.state();
            for connection in state.rooms.get(&room).into_iter().flatten() {
                self.offer_droppable(connection, Outgoing::Frame(frame.clone()));
            }
        }
    }
}

/// An event as frames, shared by every recipient.
enum Frames {
    Message {
        everyone: Arc<MessageFrame>,
        sender_copy: Option<Arc<MessageFrame>>,
        sender: UserId,
    },
    Typing {
        frame: Arc<ByteString>,
        typist: UserId,
    },
    Membership {
        frame: Arc<ByteString>,
        removed: Option<UserId>,
    },
}

/// Queues a frame that must not be lost: a connection that cannot take it is closed.
fn offer(connection: &Connection, outgoing: Outgoing) {
    match connection.sender.try_send(outgoing) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        Err(mpsc::error::TrySendError::Full(_)) => connection.overflow.signal(),
    }
}

async fn announce_active(hub: std::sync::Weak<Hub>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match hub.upgrade() {
            Some(hub) => hub.announce_active_changes().await,
            None => return,
        }
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
