//! What every implementation of a port must do, as suites each adapter runs against its
//! own implementation (feature `contracts`), so one for one instance and one shared by
//! many instances keep the same promises.

use std::sync::{Arc, Mutex};

use crate::events::RoomEvent;
use crate::id::{RoomId, UserId};
use crate::ports::{EventBus, EventSource, Presence};
use crate::username::Username;

/// Every listener hears every event published, in publishing order, before `publish`
/// returns: what the WebSocket hub relies on to keep a room's order. `bus` must have no
/// listener yet.
pub fn event_bus(bus: &(impl EventBus + EventSource)) {
    let (first, second) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    for heard in [&first, &second] {
        let heard = heard.clone();
        bus.listen(Box::new(move |event| {
            if let Ok(mut heard) = heard.lock() {
                heard.push(event.clone());
            }
        }));
    }
    let (general, random) = (RoomId::generate(), RoomId::generate());
    bus.follow(&general);
    let mut published = Vec::new();
    for (n, room) in [&general, &random, &general].into_iter().enumerate() {
        let event = if n == 1 {
            RoomEvent::PresenceChanged { room: room.clone() }
        } else {
            RoomEvent::Typing {
                room: room.clone(),
                user: UserId::generate(),
                username: Username::generate_readable(),
                typing: n == 0,
            }
        };
        bus.publish(event.clone());
        published.push(event);
        for heard in [&first, &second] {
            let heard = heard.lock().map(|heard| heard.clone()).unwrap_or_default();
            assert_eq!(heard, published, "heard before publish returned, in order");
        }
    }
    bus.unfollow(&general);
}

/// Presence counts distinct members per room, knows who is online anywhere, and ignores
/// a socket closed that never opened. `presence` must start with nobody connected.
pub async fn presence(presence: &dyn Presence) {
    let (general, random) = (RoomId::generate(), RoomId::generate());
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let seen = Seen(presence);
    seen.members(&general, 0, "nobody connected yet").await;
    seen.online(&ada, false, "ada has no socket yet").await;

    presence.connect(&general, &ada);
    presence.connect(&general, &ada);
    presence.connect(&general, &bob);
    presence.connect(&random, &ada);
    seen.members(&general, 2, "a member with two sockets counts once")
        .await;
    seen.members(&random, 1, "ada alone in random").await;
    seen.online(&bob, true, "bob is connected").await;

    presence.disconnect(&general, &ada);
    seen.members(&general, 2, "ada still has a socket open to general")
        .await;
    presence.disconnect(&general, &ada);
    presence.disconnect(&general, &ada);
    seen.members(&general, 1, "a socket closed twice counts once")
        .await;
    seen.online(&ada, true, "ada is still connected to random")
        .await;

    presence.disconnect(&random, &ada);
    presence.disconnect(&general, &bob);
    seen.members(&general, 0, "everyone left general").await;
    seen.members(&random, 0, "everyone left random").await;
    seen.online(&ada, false, "ada closed every socket").await;
    seen.online(&bob, false, "bob closed every socket").await;
}

/// What a presence answers, checked against what the contract expects.
struct Seen<'a>(&'a dyn Presence);

impl Seen<'_> {
    async fn members(&self, room: &RoomId, expected: usize, why: &str) {
        assert_eq!(
            self.0.members_connected(room).await.ok(),
            Some(expected),
            "{why}"
        );
    }

    async fn online(&self, user: &UserId, expected: bool, why: &str) {
        assert_eq!(self.0.is_online(user).await.ok(), Some(expected), "{why}");
    }
}
