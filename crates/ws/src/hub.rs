//! The hub: which connections are open to which room, and fan-out of room events to
//! them. A room's messages reach its connections in `seq` order, with no gap and no
//! repeat, whichever instance stored them (see `whisper_domain::RoomOrder` and
//! `catch_up`). Each connection has a bounded queue: under pressure typing and presence
//! frames are dropped first; a connection that cannot take a message is closed (1013)
//! rather than buffered without bound or allowed to slow others.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};
use whisper_domain::ports::{EventSource, MessageRepository, Presence, SessionSignals};
use whisper_domain::{RoomEvent, RoomId, RoomOrder, SessionEnded, TokenClaims, UserId};
use whisper_http::PublicUrl;

use crate::catch_up::CatchUp;
use crate::outgoing::{Frames, Outgoing, Overflow, frames_of, offer};
use crate::settings::WsSettings;
use crate::socket_cap::{SocketCap, SocketSlot};

/// Close code: the member was removed from the room.
pub const CLOSE_REMOVED: u16 = 4001;
/// Close code: the session was ended (logout).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code: the connection could not keep up; resume with `since`.
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
/// Close code: this instance is shutting down; resume with `since` on another.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: the user already has `max_sockets_per_user` sockets open here.
pub const CLOSE_TOO_MANY_SOCKETS: u16 = 4029;

/// What the hub needs from the outside.
pub struct HubPorts {
    /// Where room events are heard, from this instance and others.
    pub events: Arc<dyn EventSource>,
    /// Where ended sessions are heard.
    pub signals: Arc<dyn SessionSignals>,
    /// Who is connected where.
    pub presence: Arc<dyn Presence>,
    /// The record, to read messages that were not heard of.
    pub history: Arc<dyn MessageRepository>,
}

pub(crate) struct Connection {
    pub(crate) id: u64,
    pub(crate) user: UserId,
    session: Option<TokenClaims>,
    pub(crate) sender: mpsc::Sender<Outgoing>,
    pub(crate) overflow: Arc<Overflow>,
}

/// A room this instance serves: its connections and where they stand in its history.
pub(crate) struct Room {
    /// The id of the connection that opened the room here: tasks started for an earlier
    /// time this instance served the room recognise they are stale.
    pub(crate) epoch: u64,
    pub(crate) connections: Vec<Connection>,
    pub(crate) order: RoomOrder<Frames>,
    /// Whether missing messages are being read from the record.
    pub(crate) reading: bool,
    /// The record's position seen by the last sweep, to notice messages never heard of.
    pub(crate) last_seen: Option<u64>,
    /// Set once the room's starting point is known.
    pub(crate) started: watch::Sender<bool>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) rooms: HashMap<RoomId, Room>,
    /// Rooms whose `chat.active` must be sent, and whether even when the count is the same.
    pub(crate) active_changed: HashMap<RoomId, bool>,
    /// The count last sent per room.
    pub(crate) active_sent: HashMap<RoomId, usize>,
    next_id: u64,
}

/// The connections of this process and the fan-out to them.
pub struct Hub {
    state: Mutex<State>,
    pub(crate) settings: WsSettings,
    pub(crate) public_url: PublicUrl,
    pub(crate) ports: HubPorts,
    /// How this instance catches up with others; `None` alone (nothing can be missed).
    pub(crate) catch_up: Option<CatchUp>,
    /// Set once the instance is shutting down: every connection closes with 1001.
    draining: watch::Sender<bool>,
    /// Sockets per user, open or still opening.
    sockets: SocketCap,
}

/// A connection's place in the hub; leaving the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    room: RoomId,
    user: UserId,
    id: u64,
    started: watch::Receiver<bool>,
    /// Set when the queue overflowed.
    pub overflow: Arc<Overflow>,
    /// For frames the connection sends itself (errors, its own duplicates).
    pub sender: mpsc::Sender<Outgoing>,
}

impl Registration {
    /// Waits until the room's starting point is known: live messages from then on reach
    /// the connection, so a replay read afterwards leaves no gap at the seam.
    pub async fn started(&mut self) {
        let _ = self.started.wait_for(|started| *started).await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        crate::socket_metrics::socket_closed();
        self.hub.leave(&self.room, &self.user, self.id);
    }
}

impl Hub {
    /// Starts the hub: it listens to events and ended sessions, tells presence of every
    /// connection that joins or leaves, and sends `chat.active` at most every
    /// `settings.active_every` per room. With `catch_up`, instances are linked: the hub
    /// reads what it did not hear of from the record.
    pub fn start(
        ports: HubPorts,
        settings: WsSettings,
        public_url: PublicUrl,
        catch_up: Option<CatchUp>,
    ) -> Arc<Self> {
        let hub = Arc::new(Self {
            state: Mutex::new(State::default()),
            settings,
            public_url,
            ports,
            catch_up,
            draining: watch::Sender::new(false),
            sockets: SocketCap::new(settings.max_sockets_per_user),
        });
        let listener = Arc::downgrade(&hub);
        hub.ports.events.listen(Box::new(move |event| {
            if let Some(hub) = listener.upgrade() {
                hub.deliver(event);
            }
        }));
        let listener = Arc::downgrade(&hub);
        hub.ports.signals.listen(Box::new(move |ended| {
            if let Some(hub) = listener.upgrade() {
                hub.end_session(ended);
            }
        }));
        tokio::spawn(crate::active::announce(Arc::downgrade(&hub)));
        if let Some(catch_up) = hub.catch_up {
            tokio::spawn(crate::catch_up::sweep(Arc::downgrade(&hub), catch_up));
        }
        hub
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Tells every connection, open or still opening, to finish the command it is
    /// handling, send what is queued, and close with [`CLOSE_GOING_AWAY`].
    pub fn drain(&self) {
        self.draining.send_replace(true);
    }

    /// Whether [`Hub::drain`] was called; a connection watches it.
    pub(crate) fn draining(&self) -> watch::Receiver<bool> {
        self.draining.subscribe()
    }

    /// Returns once presence has recorded every connection that left so far (their users
    /// marked offline where they have no other socket): the last step of a shutdown.
    pub async fn settle(&self) {
        self.ports.presence.settle().await;
    }

    /// A place for one more socket of `user`; `None` when they have as many as allowed.
    pub fn admit(&self, user: &UserId) -> Option<SocketSlot> {
        self.sockets.take(user)
    }

    /// How many connections are in a room here (for the shutdown log).
    pub fn connections(&self) -> usize {
        self.state()
            .rooms
            .values()
            .map(|room| room.connections.len())
            .sum()
    }

    /// Adds a connection of `user` (signed in with `session`) to `room`; returns its place
    /// and its queue.
    pub fn join(
        self: &Arc<Self>,
        room: &RoomId,
        user: &UserId,
        session: Option<TokenClaims>,
    ) -> (Registration, mpsc::Receiver<Outgoing>) {
        let (sender, receiver) = mpsc::channel(self.settings.queue_capacity.max(2));
        let overflow = Arc::new(Overflow::default());
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        let served = state.rooms.entry(room.clone()).or_insert_with(|| {
            self.ports.events.follow(room);
            // Alone, every message is heard of: the first one heard starts the room.
            let (started, _) = watch::channel(self.catch_up.is_none());
            if self.catch_up.is_some() {
                tokio::spawn(crate::catch_up::learn_start(
                    Arc::downgrade(self),
                    room.clone(),
                    id,
                ));
            }
            Room {
                epoch: id,
                connections: Vec::new(),
                order: RoomOrder::new(),
                reading: false,
                last_seen: None,
                started,
            }
        });
        served.connections.push(Connection {
            id,
            user: user.clone(),
            session,
            sender: sender.clone(),
            overflow: overflow.clone(),
        });
        let started = served.started.subscribe();
        self.ports.presence.connect(room, user);
        state.active_changed.insert(room.clone(), true);
        crate::socket_metrics::socket_opened();
        let registration = Registration {
            hub: self.clone(),
            room: room.clone(),
            user: user.clone(),
            id,
            started,
            overflow,
            sender,
        };
        (registration, receiver)
    }

    fn leave(&self, room: &RoomId, user: &UserId, id: u64) {
        let mut state = self.state();
        let Some(served) = state.rooms.get_mut(room) else {
            return;
        };
        let before = served.connections.len();
        served.connections.retain(|connection| connection.id != id);
        // A connection that fell behind already left presence (see `fan_out`).
        let was_present = served.connections.len() != before;
        if served.connections.is_empty() {
            state.rooms.remove(room);
            state.active_sent.remove(room);
            self.ports.events.unfollow(room);
        }
        if was_present {
            self.ports.presence.disconnect(room, user);
            state.active_changed.insert(room.clone(), true);
        }
    }

    fn deliver(self: &Arc<Self>, event: &RoomEvent) {
        let room = event.room();
        if let RoomEvent::PresenceChanged { .. } = event {
            let mut state = self.state();
            if state.rooms.contains_key(room) {
                state.active_changed.entry(room.clone()).or_insert(false);
            }
            return;
        }
        // Serialized once per event, before the lock: joins and leaves never wait on it.
        let Some(frames) = frames_of(event, &self.public_url) else {
            return;
        };
        let mut state = self.state();
        let Some(served) = state.rooms.get_mut(room) else {
            return;
        };
        let RoomEvent::MessageStored { message, .. } = event else {
            return self.fan_out(&mut state, room, &[frames]);
        };
        if !served.order.started() && self.catch_up.is_none() {
            served.order.start_after(message.seq.saturating_sub(1));
        }
        let released = served.order.arrive(message.seq, frames);
        let read_missing = served.order.missing().is_some() && !served.reading;
        served.reading |= read_missing;
        let epoch = served.epoch;
        self.fan_out(&mut state, room, &released);
        if read_missing {
            tokio::spawn(crate::catch_up::read_missing(
                Arc::downgrade(self),
                room.clone(),
                epoch,
                message.seq,
                true,
            ));
        }
    }

    /// Queues `frames`, in order, to every connection of `room`.
    pub(crate) fn fan_out(&self, state: &mut State, room: &RoomId, frames: &[Frames]) {
        let Some(served) = state.rooms.get_mut(room) else {
            return;
        };
        if frames.is_empty() {
            return;
        }
        for frames in frames {
            frames.offer(&served.connections, self.settings.queue_capacity);
        }
        // A connection that fell behind leaves the room at once: it no longer counts as
        // present and no longer receives anything; its tasks close it with 1013.
        let before = served.connections.len();
        served.connections.retain(|connection| {
            let behind = connection.overflow.happened();
            if behind {
                self.ports.presence.disconnect(room, &connection.user);
            }
            !behind
        });
        if served.connections.len() != before {
            state.active_changed.insert(room.clone(), true);
        }
    }

    /// Closes (1008) every connection opened with a session that ended.
    fn end_session(&self, ended: &SessionEnded) {
        let state = self.state();
        let connections = state.rooms.values().flat_map(|room| &room.connections);
        for connection in connections {
            if connection
                .session
                .as_ref()
                .is_some_and(|claims| ended.covers(claims))
            {
                offer(connection, Outgoing::Close(CLOSE_POLICY));
            }
        }
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "socket_metrics_tests.rs"]
mod metrics_tests;
