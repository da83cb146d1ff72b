#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use whisper_domain::ports::{
    EventListener, MockEventSource, MockMessageRepository, MockPresence, MockSessionSignals,
};
use whisper_domain::{Message, MessageContent, MessageText, Username};

use crate::catch_up::CatchUp;
use crate::outgoing::Outgoing;

use super::*;

/// What the hub told presence, in order: `true` for a connect, `false` for a disconnect.
type Told = Arc<Mutex<Vec<(RoomId, UserId, bool)>>>;

pub(super) struct Started {
    pub(super) hub: Arc<Hub>,
    told: Told,
    listener: Arc<Mutex<Option<EventListener>>>,
}

impl Started {
    pub(super) fn publish(&self, event: &RoomEvent) {
        (self.listener.lock().as_ref().unwrap())(event);
    }
}

/// A hub alone, whose presence counts `members` in every room and records what it is told.
pub(super) fn start(members: usize, queue_capacity: usize) -> Started {
    start_with(members, queue_capacity, MockMessageRepository::new(), None)
}

/// A hub reading missed messages from `history`, linked to others when `catch_up` is given.
fn start_with(
    members: usize,
    queue_capacity: usize,
    history: MockMessageRepository,
    catch_up: Option<CatchUp>,
) -> Started {
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
    events.expect_follow().return_const(());
    events.expect_unfollow().return_const(());
    events.expect_is_up().return_const(true);
    let mut signals = MockSessionSignals::new();
    signals.expect_listen().return_const(());
    let settings = WsSettings {
        queue_capacity,
        active_every: Duration::from_millis(250),
        ..WsSettings::default()
    };
    let ports = HubPorts {
        events: Arc::new(events),
        signals: Arc::new(signals),
        presence: Arc::new(presence),
        history: Arc::new(history),
    };
    let hub = Hub::start(ports, settings, PublicUrl::new("http://x"), catch_up);
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
    let (first, _) = started.hub.join(&room, &ada, None);
    let (second, _) = started.hub.join(&room, &ada, None);
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
    let (registration, _queue) = started.hub.join(&room, &ada, None);
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
    let (_registration, mut queue) = started.hub.join(&room, &UserId::generate(), None);
    let Some(Outgoing::Frame(frame)) = queue.recv().await else {
        panic!("a frame");
    };
    let frame: serde_json::Value = serde_json::from_str(&frame).unwrap();
    assert_eq!(
        (frame["type"].as_str(), frame["content"].as_u64()),
        (Some("chat.active"), Some(7))
    );
}

fn message(room: &RoomId, seq: u64) -> Message {
    Message {
        id: whisper_domain::MessageId::generate(),
        room: room.clone(),
        sender: UserId::generate(),
        sender_username: Username::parse("ada").unwrap(),
        content: MessageContent::Text(MessageText::parse(&format!("message {seq}")).unwrap()),
        reply_to: None,
        created: Utc::now(),
        seq,
    }
}

fn stored(message: &Message) -> RoomEvent {
    RoomEvent::MessageStored {
        message: message.clone(),
        client_id: None,
    }
}

/// The seqs of the messages in `queue` until `count` are read, skipping other frames.
async fn seqs(queue: &mut mpsc::Receiver<Outgoing>, count: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.len() < count {
        match queue.recv().await {
            Some(Outgoing::Message(frame)) => seqs.push(frame.seq),
            Some(_) => {}
            None => panic!("the queue closed"),
        }
    }
    seqs
}

#[tokio::test]
async fn alone_a_room_starts_at_the_first_message_heard_and_skips_repeats() {
    let started = start(1, 16);
    let room = RoomId::generate();
    let (mut registration, mut queue) = started.hub.join(&room, &UserId::generate(), None);
    registration.started().await;
    for seq in [4, 5, 5, 6] {
        started.publish(&stored(&message(&room, seq)));
    }
    assert_eq!(seqs(&mut queue, 3).await, [4, 5, 6]);
}

#[tokio::test(start_paused = true)]
async fn linked_a_message_after_a_hole_waits_for_the_hole_read_from_the_record() {
    let room = RoomId::generate();
    let mut history = MockMessageRepository::new();
    history
        .expect_positions()
        .returning(|rooms| Ok(vec![(rooms[0].clone(), 2)]));
    let missing = message(&room, 3);
    history
        .expect_after()
        .withf(|_, cursor, _| cursor.seq == 2)
        .times(1)
        .returning(move |_, _, _| Ok(vec![missing.clone()]));
    let started = start_with(1, 16, history, Some(CatchUp::default()));
    let (mut registration, mut queue) = started.hub.join(&room, &UserId::generate(), None);
    registration.started().await;
    // 2 is where the room stood: heard again, it is not shown. 3 never arrives.
    started.publish(&stored(&message(&room, 2)));
    started.publish(&stored(&message(&room, 4)));
    started.publish(&stored(&message(&room, 5)));
    assert_eq!(seqs(&mut queue, 3).await, [3, 4, 5]);
}

#[tokio::test(start_paused = true)]
async fn linked_the_sweep_reads_a_last_message_that_was_never_heard_of() {
    let room = RoomId::generate();
    let mut history = MockMessageRepository::new();
    let mut asked = 0;
    history.expect_positions().returning(move |rooms| {
        asked += 1;
        // Where the room stood when followed, then a message committed elsewhere.
        let position = if asked == 1 { 0 } else { 1 };
        Ok(vec![(rooms[0].clone(), position)])
    });
    let lost = message(&room, 1);
    history
        .expect_after()
        .withf(|_, cursor, _| cursor.seq == 0)
        .times(1)
        .returning(move |_, _, _| Ok(vec![lost.clone()]));
    let started = start_with(1, 16, history, Some(CatchUp::default()));
    let (mut registration, mut queue) = started.hub.join(&room, &UserId::generate(), None);
    registration.started().await;
    assert_eq!(seqs(&mut queue, 1).await, [1]);
}

#[tokio::test]
async fn an_ended_session_closes_the_sockets_opened_with_it() {
    let started = start(1, 16);
    let room = RoomId::generate();
    let ada = UserId::generate();
    let claims = TokenClaims {
        subject: ada.clone(),
        jti: whisper_domain::TokenId::generate(),
        kind: whisper_domain::TokenKind::Access,
        family: None,
        issued_at: Utc::now(),
        expires_at: Utc::now(),
    };
    let (_kept, mut other) = started.hub.join(&room, &ada, None);
    let (_ended, mut queue) = started.hub.join(&room, &ada, Some(claims.clone()));
    started.hub.end_session(&SessionEnded {
        user: ada,
        access: Some(claims.jti),
        family: None,
    });
    loop {
        match queue.recv().await {
            Some(Outgoing::Close(code)) => break assert_eq!(code, CLOSE_POLICY),
            Some(_) => {}
            None => panic!("closed without a close frame"),
        }
    }
    while let Ok(outgoing) = other.try_recv() {
        assert!(
            !matches!(outgoing, Outgoing::Close(_)),
            "another session stays"
        );
    }
}
