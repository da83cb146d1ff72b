#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parking_lot::Mutex;
use whisper_domain::Username;
use whisper_domain::ports::{EventListener, MockEventSource, MockPresence};

use super::*;

/// What the hub told presence, in order: `true` for a connect, `false` for a disconnect.
type Told = Arc<Mutex<Vec<(RoomId, UserId, bool)>>>;

struct Started {
    hub: Arc<Hub>,
    told: Told,
    listener: Arc<Mutex<Option<EventListener>>>,
}

impl Started {
    fn publish(&self, event: &RoomEvent) {
        (self.listener.lock().as_ref().unwrap())(event);
    }
}

/// A hub whose presence counts `members` in every room and records what it is told.
fn start(members: usize, queue_capacity: usize) -> Started {
    let told = Told::default();
    let mut presence = MockPresence::new();
    let connects = told.clone();
    presence
        .expect_connect()
        .returning(move |room, user| connects.lock().push((room.clone(), user.clone(), true)));
    let disconnects = told.clone();
    presence
        .expect_disconnect()
        .returning(move |room, user| disconnects.lock().push((room.clone(), user.clone(), false)));
    presence
        .expect_members_connected()
        .returning(move |_| Ok(members));
    let listener = Arc::new(Mutex::new(None));
    let mut events = MockEventSource::new();
    let slot = listener.clone();
    events
        .expect_listen()
        .times(1)
        .returning(move |listener| *slot.lock() = Some(listener));
    let settings = WsSettings {
        queue_capacity,
        active_every: Duration::from_millis(250),
        ..WsSettings::default()
    };
    let hub = Hub::start(
        &events,
        Arc::new(presence),
        settings,
        PublicUrl::new("http://x"),
    );
    Started {
        hub,
        told,
        listener,
    }
}

fn added(room: &RoomId) -> RoomEvent {
    RoomEvent::MemberAdded {
        room: room.clone(),
        user: UserId::generate(),
        username: Username::parse("cyd").unwrap(),
    }
}

#[tokio::test]
async fn each_connection_is_told_to_presence_as_it_joins_and_leaves() {
    let started = start(1, 8);
    let (room, ada) = (RoomId::generate(), UserId::generate());
    let (first, _) = started.hub.join(&room, &ada);
    let (second, _) = started.hub.join(&room, &ada);
    drop(first);
    drop(second);
    assert_eq!(
        *started.told.lock(),
        [
            (room.clone(), ada.clone(), true),
            (room.clone(), ada.clone(), true),
            (room.clone(), ada.clone(), false),
            (room, ada, false),
        ]
    );
}

#[tokio::test]
async fn a_connection_that_falls_behind_leaves_presence_and_its_room_once() {
    let started = start(1, 2);
    let (room, ada) = (RoomId::generate(), UserId::generate());
    let (registration, _queue) = started.hub.join(&room, &ada);
    // Nobody reads the queue: it fills up, and the next notification overflows it.
    for _ in 0..3 {
        started.publish(&added(&room));
    }
    assert!(registration.overflow.happened());
    assert_eq!(
        started.told.lock().last(),
        Some(&(room.clone(), ada.clone(), false))
    );
    drop(registration);
    let disconnects = started.told.lock().iter().filter(|told| !told.2).count();
    assert_eq!(
        disconnects, 1,
        "leaving after falling behind is not told twice"
    );
    assert!(
        started.hub.state().rooms.is_empty(),
        "the room it was alone in is forgotten"
    );
}

#[tokio::test]
async fn chat_active_carries_the_count_presence_gives() {
    let started = start(7, 8);
    let room = RoomId::generate();
    let (_registration, mut queue) = started.hub.join(&room, &UserId::generate());
    let Some(Outgoing::Frame(frame)) = queue.recv().await else {
        panic!("a frame");
    };
    let frame: serde_json::Value = serde_json::from_str(&frame).unwrap();
    assert_eq!(
        (frame["type"].as_str(), frame["content"].as_u64()),
        (Some("chat.active"), Some(7))
    );
}
