//! Catching up with other instances: where a room's history stands when this instance
//! starts following it, messages read from the record when one before them was not heard
//! of, and a sweep comparing the record with what was released, which notices a message
//! lost on its way here and carries every room while the link between instances is down.

use std::sync::{Arc, Weak};
use std::time::Duration;

use whisper_domain::{MessageCursor, RoomId};

use crate::hub::Hub;
use crate::outgoing::message_frames;

/// How many messages one read from the record takes.
const READ_BATCH: u32 = 500;
/// How many rooms one position query asks about.
const ROOMS_PER_QUERY: usize = 1_000;
/// How long to wait before asking the record again after it failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How linked instances catch up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// How long a hole may stay open before it is read from the record: long enough for
    /// this instance's own messages, announced right after their commit, to come first.
    pub hole_grace: Duration,
    /// How often the sweep runs while the link is up (it then only finds lost messages).
    pub sweep_while_up: Duration,
    /// How often the sweep runs while the link is down (it then carries every message).
    pub sweep_while_down: Duration,
}

impl Default for CatchUp {
    fn default() -> Self {
        Self {
            hole_grace: Duration::from_millis(100),
            sweep_while_up: Duration::from_secs(2),
            sweep_while_down: Duration::from_millis(500),
        }
    }
}

/// Learns where `room` stands (its connection `epoch` began), then releases what arrived
/// since; retried until the record answers or the room is left.
pub(crate) async fn learn_start(hub: Weak<Hub>, room: RoomId, epoch: u64) {
    loop {
        let Some(strong) = hub.upgrade() else {
            return;
        };
        match strong
            .ports
            .history
            .positions(std::slice::from_ref(&room))
            .await
        {
            Ok(positions) => {
                let position = positions.first().map_or(0, |(_, seq)| *seq);
                let mut state = strong.state();
                let Some(served) = state.rooms.get_mut(&room).filter(|r| r.epoch == epoch) else {
                    return;
                };
                let released = served.order.start_after(position);
                let read = served.order.missing().is_some() && !served.reading;
                served.reading |= read;
                let _ = served.started.send(true);
                strong.fan_out(&mut state, &room, &released);
                drop(state);
                if read {
                    tokio::spawn(read_missing(hub, room, epoch, 0, true));
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, room = %room, "could not learn where the room stands");
                drop(strong);
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// Reads from the record the messages of `room` after the last one released, until
/// nothing is missing and `target` is released. After a hole, waits `hole_grace` first.
pub(crate) async fn read_missing(
    hub: Weak<Hub>,
    room: RoomId,
    epoch: u64,
    target: u64,
    after_hole: bool,
) {
    if after_hole && let Some(catch_up) = hub.upgrade().and_then(|hub| hub.catch_up) {
        tokio::time::sleep(catch_up.hole_grace).await;
    }
    loop {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        let released = {
            let mut state = hub.state();
            let Some(served) = state.rooms.get_mut(&room).filter(|r| r.epoch == epoch) else {
                return;
            };
            match served.order.released() {
                Some(released) => released,
                None => {
                    served.reading = false;
                    return;
                }
            }
        };
        let cursor = MessageCursor { seq: released };
        let read = hub.ports.history.after(&room, &cursor, READ_BATCH).await;
        let frames: Vec<_> = match &read {
            Ok(messages) => messages
                .iter()
                .map(|message| (message.seq, message_frames(message, None, &hub.public_url)))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, room = %room, "could not read missed messages");
                Vec::new()
            }
        };
        let mut state = hub.state();
        let Some(served) = state.rooms.get_mut(&room).filter(|r| r.epoch == epoch) else {
            return;
        };
        let read_any = !frames.is_empty();
        let mut ready = Vec::new();
        for (seq, frames) in frames {
            ready.extend(served.order.arrive(seq, frames));
        }
        // A failed read is left to the sweep.
        let more = read_any && (served.order.missing().is_some() || served.order.behind(target));
        served.reading = more;
        hub.fan_out(&mut state, &room, &ready);
        if !more {
            return;
        }
    }
}

/// Compares the record's position of every room served with what was released, until
/// the hub goes away. While the link is up, a message still not heard of one sweep after
/// the record had it was lost; while it is down, nothing will be heard, so the record is
/// read at once.
pub(crate) async fn sweep(hub: Weak<Hub>, catch_up: CatchUp) {
    loop {
        let every = match hub.upgrade() {
            Some(hub) if hub.ports.events.is_up() => catch_up.sweep_while_up,
            Some(_) => catch_up.sweep_while_down,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(hub) = hub.upgrade() else {
            return;
        };
        sweep_once(&hub).await;
    }
}

async fn sweep_once(hub: &Arc<Hub>) {
    let rooms: Vec<RoomId> = hub
        .state()
        .rooms
        .iter()
        .filter(|(_, served)| served.order.started() && !served.reading)
        .map(|(room, _)| room.clone())
        .collect();
    let link_up = hub.ports.events.is_up();
    for rooms in rooms.chunks(ROOMS_PER_QUERY) {
        let positions = match hub.ports.history.positions(rooms).await {
            Ok(positions) => positions,
            Err(error) => {
                tracing::warn!(%error, "could not compare rooms with the record");
                return;
            }
        };
        for (room, position) in positions {
            let mut state = hub.state();
            let Some(served) = state.rooms.get_mut(&room) else {
                continue;
            };
            let seen_before = served.last_seen.replace(position);
            let lost = if link_up {
                seen_before.is_some_and(|seen| served.order.behind(seen))
            } else {
                served.order.behind(position)
            };
            if lost && !served.reading {
                served.reading = true;
                let epoch = served.epoch;
                drop(state);
                tokio::spawn(read_missing(
                    Arc::downgrade(hub),
                    room,
                    epoch,
                    position,
                    false,
                ));
            }
        }
    }
}
