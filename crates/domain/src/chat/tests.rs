//! Chat rules, with mocked ports.

use std::sync::Arc;

use chrono::{Duration, Utc};
use mockall::Sequence;

use super::{Chat, ChatPolicy, ChatPorts, Draft, DraftContent};
use crate::email::Email;
use crate::error::{DomainError, Missing, Rejection};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId};
use crate::message::{MediaKind, Message, MessageContent, Stored};
use crate::ports::{MockClock, MockMediaStore, MockMessageRepository};
use crate::problem::{Field, Flaw, Problem};
use crate::recording_bus::RecordingBus;
use crate::user::User;
use crate::username::Username;

fn ada() -> User {
    User::register(
        Email::parse("ada@example.org").unwrap(),
        Username::parse("ada").unwrap(),
        true,
        Utc::now(),
    )
}

fn stored(new: &crate::message::NewMessage, sender: &User) -> Message {
    Message {
        id: new.id.clone(),
        room: new.room.clone(),
        sender: new.sender.clone(),
        sender_username: sender.username.clone(),
        content: new.content.clone(),
        reply_to: None,
        created: new.created,
        seq: 1,
    }
}

fn store_all(
    new: &[crate::message::NewMessage],
    sender: &User,
) -> Vec<crate::error::DomainResult<Stored>> {
    new.iter()
        .map(|m| Ok(Stored::New(stored(m, sender))))
        .collect()
}

struct Harness {
    messages: MockMessageRepository,
    media: MockMediaStore,
    bus: RecordingBus,
    now: chrono::DateTime<Utc>,
}

impl Harness {
    fn new() -> Self {
        Self {
            messages: MockMessageRepository::new(),
            media: MockMediaStore::new(),
            bus: RecordingBus::default(),
            now: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap(),
        }
    }

    fn build(self, policy: ChatPolicy) -> (Chat, RecordingBus) {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(self.now);
        let bus = self.bus.clone();
        let chat = Chat::new(
            ChatPorts {
                messages: Arc::new(self.messages),
                media: Arc::new(self.media),
                events: Arc::new(self.bus),
                clock: Arc::new(clock),
            },
            policy,
        );
        (chat, bus)
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    futures_executor::block_on(future)
}

fn text(body: &str, client_id: Option<&str>) -> Draft {
    Draft {
        content: DraftContent::Text(body.into()),
        reply_to: None,
        client_id: client_id.map(str::to_owned),
    }
}

#[test]
fn a_message_is_committed_then_announced_with_its_client_id() {
    let mut h = Harness::new();
    let sender = ada();
    let (room, now) = (RoomId::generate(), h.now);
    let copy = sender.clone();
    h.messages
        .expect_insert_many()
        .withf(move |m, since| {
            m.len() == 1
                && m[0].created == now
                && m[0].client_id.as_deref() == Some("c-1")
                && *since == now - Duration::hours(24)
        })
        .times(1)
        .returning(move |m, _| Ok(store_all(m, &copy)));
    let (chat, bus) = h.build(ChatPolicy::default());
    let sent = run(chat.send(&sender, &room, text("hello", Some("c-1")))).unwrap();
    assert!(!sent.duplicate);
    assert_eq!(
        bus.events(),
        [RoomEvent::MessageStored {
            message: sent.message,
            client_id: Some("c-1".into())
        }]
    );
}

#[test]
fn creation_times_are_the_clock_truncated_to_microseconds() {
    let mut h = Harness::new();
    let sender = ada();
    let now = h.now;
    h.now = now + Duration::nanoseconds(700);
    let copy = sender.clone();
    h.messages
        .expect_insert_many()
        .withf(move |m, _| m[0].created == now)
        .times(1)
        .returning(move |m, _| Ok(store_all(m, &copy)));
    let (chat, _) = h.build(ChatPolicy::default());
    run(chat.send(&sender, &RoomId::generate(), text("hi", None))).unwrap();
}

#[test]
fn a_retried_client_id_returns_the_stored_message_and_stores_nothing() {
    let mut h = Harness::new();
    let sender = ada();
    let room = RoomId::generate();
    let earlier = Message {
        id: MessageId::generate(),
        room: room.clone(),
        sender: sender.id.clone(),
        sender_username: sender.username.clone(),
        content: MessageContent::Text(crate::message::MessageText::parse("hello").unwrap()),
        reply_to: None,
        created: h.now - Duration::hours(1),
        seq: 7,
    };
    let found = earlier.clone();
    h.messages
        .expect_insert_many()
        .times(1)
        .returning(move |_, _| Ok(vec![Ok(Stored::Earlier(found.clone()))]));
    let (chat, bus) = h.build(ChatPolicy::default());
    let sent = run(chat.send(&sender, &room, text("hello", Some("c-1")))).unwrap();
    assert!(sent.duplicate);
    assert_eq!(sent.message, earlier);
    assert!(bus.events().is_empty());
}

#[test]
fn bad_text_and_bad_media_are_refused_before_anything_is_stored() {
    let sender = ada();
    let refuse = |draft: Draft| {
        let mut h = Harness::new();
        h.messages.expect_insert_many().never();
        h.media.expect_put().never();
        let (chat, bus) = h.build(ChatPolicy {
            media_max_bytes: 16,
        });
        let error = run(chat.send(&sender, &RoomId::generate(), draft)).unwrap_err();
        assert!(bus.events().is_empty());
        error
    };
    assert!(matches!(
        refuse(text("   ", None)),
        DomainError::Invalid(problems) if problems == [Problem { field: Field::MessageText, flaw: Flaw::MessageEmpty }]
    ));
    assert!(matches!(
        refuse(text(&"x".repeat(4097), None)),
        DomainError::Invalid(problems) if problems == [Problem { field: Field::MessageText, flaw: Flaw::MessageTooLong }]
    ));
    let media = |kind, bytes: &[u8]| Draft {
        content: DraftContent::Media {
            kind,
            bytes: bytes.to_vec(),
        },
        reply_to: None,
        client_id: None,
    };
    assert!(matches!(
        refuse(media(MediaKind::Audio, b"\x89PNG\r\n\x1a\n")),
        DomainError::Invalid(problems) if problems == [Problem { field: Field::Media, flaw: Flaw::MediaFormatUnsupported(MediaKind::Audio) }]
    ));
    assert!(matches!(
        refuse(media(MediaKind::Image, &[0x89; 17])),
        DomainError::Rejected(Rejection::MediaTooLarge { max_bytes: 16 })
    ));
    assert!(matches!(
        refuse(text("hi", Some(""))),
        DomainError::Invalid(problems) if problems == [Problem { field: Field::ClientId, flaw: Flaw::ClientIdLength }]
    ));
}

#[test]
fn media_is_stored_before_its_message_commits() {
    let mut h = Harness::new();
    let sender = ada();
    let mut order = Sequence::new();
    h.media
        .expect_put()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    let copy = sender.clone();
    h.messages
        .expect_insert_many()
        .withf(|m, _| matches!(&m[0].content, MessageContent::Media(media) if media.content_type == "image/png" && media.size == 12))
        .times(1)
        .in_sequence(&mut order)
        .returning(move |m, _| Ok(store_all(m, &copy)));
    let (chat, _) = h.build(ChatPolicy::default());
    let draft = Draft {
        content: DraftContent::Media {
            kind: MediaKind::Image,
            bytes: b"\x89PNG\r\n\x1a\nabcd".to_vec(),
        },
        reply_to: None,
        client_id: None,
    };
    run(chat.send(&sender, &RoomId::generate(), draft)).unwrap();
}

#[test]
fn resuming_from_another_rooms_message_is_refused() {
    let mut h = Harness::new();
    let sender = ada();
    let elsewhere = Message {
        id: MessageId::generate(),
        room: RoomId::generate(),
        sender: sender.id.clone(),
        sender_username: sender.username.clone(),
        content: MessageContent::Text(crate::message::MessageText::parse("x").unwrap()),
        reply_to: None,
        created: h.now,
        seq: 1,
    };
    let id = elsewhere.id.clone();
    h.messages
        .expect_find()
        .returning(move |_| Ok(Some(elsewhere.clone())));
    let (chat, _) = h.build(ChatPolicy::default());
    let refused = run(chat.resume_point(&RoomId::generate(), &id)).unwrap_err();
    assert!(matches!(
        refused,
        DomainError::NotFound(Missing::MessageInRoom)
    ));
}
