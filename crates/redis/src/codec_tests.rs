#![allow(clippy::unwrap_used)]

use chrono::SubsecRound;

use super::*;

fn message(content: MessageContent) -> Message {
    Message {
        id: MessageId::generate(),
        room: RoomId::generate(),
        sender: UserId::generate(),
        sender_username: Username::parse("ada").unwrap(),
        content,
        reply_to: Some(ReplyPreview {
            message_id: MessageId::generate(),
            content: "IMAGE".into(),
            sender: UserId::generate(),
        }),
        created: Utc::now().trunc_subsecs(6),
        seq: 42,
    }
}

#[test]
fn every_kind_of_event_survives_the_trip() {
    let room = RoomId::generate();
    let user = UserId::generate();
    let username = Username::parse("bob.b").unwrap();
    let events = [
        RoomEvent::MemberAdded {
            room: room.clone(),
            user: user.clone(),
            username: username.clone(),
        },
        RoomEvent::MemberRemoved {
            room: room.clone(),
            user: user.clone(),
            username: username.clone(),
            left: true,
        },
        RoomEvent::MessageStored {
            message: message(MessageContent::Text(MessageText::parse(" hi ").unwrap())),
            client_id: Some("c-1".into()),
        },
        RoomEvent::MessageStored {
            message: message(MessageContent::Media(MediaRef {
                kind: MediaKind::Video,
                key: MediaKey::generate(),
                content_type: "video/mp4".into(),
                size: 1234,
            })),
            client_id: None,
        },
        RoomEvent::Typing {
            room: room.clone(),
            user,
            username,
            typing: false,
        },
        RoomEvent::PresenceChanged { room },
    ];
    for event in events {
        let (from, decoded) = decode(&encode("inst-1", &event)).unwrap();
        assert_eq!((from.as_str(), decoded), ("inst-1", event));
    }
}

#[test]
fn garbage_and_invalid_values_are_refused() {
    assert!(matches!(decode(b"not json"), Err(DecodeError::Shape(_))));
    let bad_room = br#"{"from":"x","event":{"type":"presence_changed","room":"../"}}"#;
    assert!(matches!(decode(bad_room), Err(DecodeError::Value(_))));
}
