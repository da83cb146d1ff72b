//! `chat.active`: the number of distinct members connected to a room, counted by the
//! `Presence` port (on every instance when they are linked), sent at most every
//! `active_every` per room.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytestring::ByteString;
use whisper_domain::RoomId;

use crate::frames::active_frame;
use crate::hub::Hub;
use crate::outgoing::{Outgoing, offer_droppable};

/// How often linked instances count every room again, so members of an instance that
/// died (whose presence expired) stop being counted without anyone leaving here.
const RECOUNT_EVERY: Duration = Duration::from_secs(10);

/// Sends the counts of rooms whose members changed, until the hub goes away.
pub(crate) async fn announce(hub: Weak<Hub>) {
    let Some(every) = hub.upgrade().map(|hub| hub.settings.active_every) else {
        return;
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ticks_per_recount = (RECOUNT_EVERY.as_millis() / every.as_millis().max(1)).max(1);
    let mut tick = 0u128;
    loop {
        ticks.tick().await;
        let Some(hub) = hub.upgrade() else {
            return;
        };
        tick += 1;
        if hub.catch_up.is_some() && tick.is_multiple_of(ticks_per_recount) {
            recount_all(&hub);
        }
        announce_changes(&hub).await;
    }
}

/// Marks every room to be counted again, sent only if its count changed.
fn recount_all(hub: &Hub) {
    let mut state = hub.state();
    let rooms: Vec<RoomId> = state.rooms.keys().cloned().collect();
    for room in rooms {
        state.active_changed.entry(room).or_insert(false);
    }
}

async fn announce_changes(hub: &Arc<Hub>) {
    let changed: Vec<(RoomId, bool)> = {
        let mut state = hub.state();
        let changed = std::mem::take(&mut state.active_changed);
        // Rooms this process no longer serves have nobody to tell.
        changed
            .into_iter()
            .filter(|(room, _)| state.rooms.contains_key(room))
            .collect()
    };
    for (room, always) in changed {
        let members = match hub.ports.presence.members_connected(&room).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, room = %room, "could not count the members present");
                // Tried again at the next tick.
                hub.state().active_changed.insert(room, always);
                continue;
            }
        };
        let mut state = hub.state();
        if !state.rooms.contains_key(&room) {
            continue;
        }
        let previous = state.active_sent.insert(room.clone(), members);
        if !always && previous == Some(members) {
            continue;
        }
        let frame = Arc::new(ByteString::from(active_frame(members)));
        let capacity = hub.settings.queue_capacity;
        for connection in state
            .rooms
            .get(&room)
            .map(|r| &r.connections)
            .into_iter()
            .flatten()
        {
            offer_droppable(connection, Outgoing::Frame(frame.clone()), capacity);
        }
    }
}
