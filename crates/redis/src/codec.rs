//! The one place room events are turned into bytes for other instances and back. The
//! encoding is private to this crate (every instance runs the same build); adding a field
//! to `Message` is one line in each direction here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use whisper_domain::{
    DomainError, MediaKey, MediaKind, MediaRef, Message, MessageContent, MessageId, MessageText,
    ReplyPreview, RoomEvent, RoomId, UserId, Username,
};

/// An event as it travels, tagged with the instance that published it.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    from: String,
    event: T,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MemberAdded {
        room: String,
        user: String,
        username: String,
    },
    MemberRemoved {
        room: String,
        user: String,
        username: String,
        left: bool,
    },
    MessageStored {
        message: Box<WireMessage>,
        client_id: Option<String>,
    },
    Typing {
        room: String,
        user: String,
        username: String,
        typing: bool,
    },
    PresenceChanged {
        room: String,
    },
}

#[derive(Serialize, Deserialize)]
struct WireMessage {
    id: String,
    room: String,
    sender: String,
    sender_username: String,
    content: WireContent,
    reply_to: Option<WireReply>,
    created: DateTime<Utc>,
    seq: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
enum WireContent {
    Text {
        text: String,
    },
    Media {
        kind: String,
        key: String,
        content_type: String,
        size: u64,
    },
}

#[derive(Serialize, Deserialize)]
struct WireReply {
    message_id: String,
    content: String,
    sender: String,
}

/// Why a received payload was not an event.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("not an event: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("an event with an invalid value: {0}")]
    Value(#[from] DomainError),
}

/// The bytes other instances receive for `event` published by `instance`.
pub(crate) fn encode(instance: &str, event: &RoomEvent) -> Vec<u8> {
    let envelope = Envelope {
        from: instance.to_owned(),
        event: wire_event(event),
    };
    // Serializing plain strings, numbers and timestamps cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// The publishing instance and the event in a received payload.
pub(crate) fn decode(payload: &[u8]) -> Result<(String, RoomEvent), DecodeError> {
    let envelope: Envelope<WireEvent> = serde_json::from_slice(payload)?;
    Ok((envelope.from, room_event(envelope.event)?))
}

fn wire_event(event: &RoomEvent) -> WireEvent {
    match event {
        RoomEvent::MemberAdded {
            room,
            user,
            username,
        } => WireEvent::MemberAdded {
            room: room.to_string(),
            user: user.to_string(),
            username: username.to_string(),
        },
        RoomEvent::MemberRemoved {
            room,
            user,
            username,
            left,
        } => WireEvent::MemberRemoved {
            room: room.to_string(),
            user: user.to_string(),
            username: username.to_string(),
            left: *left,
        },
        RoomEvent::MessageStored { message, client_id } => WireEvent::MessageStored {
            message: Box::new(wire_message(message)),
            client_id: client_id.clone(),
        },
        RoomEvent::Typing {
            room,
            user,
            username,
            typing,
        } => WireEvent::Typing {
            room: room.to_string(),
            user: user.to_string(),
            username: username.to_string(),
            typing: *typing,
        },
        RoomEvent::PresenceChanged { room } => WireEvent::PresenceChanged {
            room: room.to_string(),
        },
    }
}

fn room_event(event: WireEvent) -> Result<RoomEvent, DomainError> {
    Ok(match event {
        WireEvent::MemberAdded {
            room,
            user,
            username,
        } => RoomEvent::MemberAdded {
            room: RoomId::parse(&room)?,
            user: UserId::parse(&user)?,
            username: Username::parse(&username)?,
        },
        WireEvent::MemberRemoved {
            room,
            user,
            username,
            left,
        } => RoomEvent::MemberRemoved {
            room: RoomId::parse(&room)?,
            user: UserId::parse(&user)?,
            username: Username::parse(&username)?,
            left,
        },
        WireEvent::MessageStored { message, client_id } => RoomEvent::MessageStored {
            message: message_of(*message)?,
            client_id,
        },
        WireEvent::Typing {
            room,
            user,
            username,
            typing,
        } => RoomEvent::Typing {
            room: RoomId::parse(&room)?,
            user: UserId::parse(&user)?,
            username: Username::parse(&username)?,
            typing,
        },
        WireEvent::PresenceChanged { room } => RoomEvent::PresenceChanged {
            room: RoomId::parse(&room)?,
        },
    })
}

fn wire_message(message: &Message) -> WireMessage {
    WireMessage {
        id: message.id.to_string(),
        room: message.room.to_string(),
        sender: message.sender.to_string(),
        sender_username: message.sender_username.to_string(),
        content: match &message.content {
            MessageContent::Text(text) => WireContent::Text {
                text: text.as_str().to_owned(),
            },
            MessageContent::Media(media) => WireContent::Media {
                kind: media.kind.as_str().to_owned(),
                key: media.key.as_str().to_owned(),
                content_type: media.content_type.clone(),
                size: media.size,
            },
        },
        reply_to: message.reply_to.as_ref().map(|reply| WireReply {
            message_id: reply.message_id.to_string(),
            content: reply.content.clone(),
            sender: reply.sender.to_string(),
        }),
        created: message.created,
        seq: message.seq,
    }
}

fn message_of(message: WireMessage) -> Result<Message, DomainError> {
    Ok(Message {
        id: MessageId::parse(&message.id)?,
        room: RoomId::parse(&message.room)?,
        sender: UserId::parse(&message.sender)?,
        sender_username: Username::parse(&message.sender_username)?,
        content: match message.content {
            WireContent::Text { text } => MessageContent::Text(MessageText::parse(&text)?),
            WireContent::Media {
                kind,
                key,
                content_type,
                size,
            } => MessageContent::Media(MediaRef {
                kind: MediaKind::parse(&kind)?,
                key: MediaKey::parse(&key)?,
                content_type,
                size,
            }),
        },
        reply_to: match message.reply_to {
            Some(reply) => Some(ReplyPreview {
                message_id: MessageId::parse(&reply.message_id)?,
                content: reply.content,
                sender: UserId::parse(&reply.sender)?,
            }),
            None => None,
        },
        created: message.created,
        seq: message.seq,
    })
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
