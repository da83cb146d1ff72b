//! What the server sends over the chat WebSocket: text frames of JSON, each with a
//! `type`. A new kind of event is one more variant of [`ServerEvent`].

use serde::{Deserialize, Serialize};

use crate::messages::MessageBody;

/// A server-to-client frame, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    /// `chat.message`: a message or reply was stored; every connected member gets it.
    #[serde(rename = "chat.message")]
    Message(Box<MessageEvent>),
    /// `chat.notification`: membership changed, e.g. "ada was added to the chat.".
    #[serde(rename = "chat.notification")]
    Notification {
        /// The sentence to show.
        content: String,
    },
    /// `chat.active`: how many distinct members are connected to the room.
    #[serde(rename = "chat.active")]
    Active {
        /// The number of distinct members connected.
        content: u64,
    },
    /// `chat.typing`: a member started (`content` set) or stopped (`content` null) typing.
    #[serde(rename = "chat.typing")]
    Typing {
        /// Who is typing.
        username: String,
        /// "<username> is typing...", or null when they stopped.
        content: Option<String>,
    },
    /// `chat.error`: this client's last frame was refused; nothing was stored.
    #[serde(rename = "chat.error")]
    Error {
        /// A stable snake_case identifier, e.g. `invalid_json`.
        code: String,
        /// What was wrong.
        content: String,
    },
}

/// The fields of `chat.message`: the message object, and `client_id` on the sender's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    /// The stored message.
    #[serde(flatten)]
    pub message: MessageBody,
    /// The sender's own id for the send, only on the sender's copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl ServerEvent {
    /// `chat.typing` for `username`, who started (`typing`) or stopped typing.
    pub fn typing(username: &str, typing: bool) -> Self {
        Self::Typing {
            username: username.to_owned(),
            content: typing.then(|| format!("{username} is typing...")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::tests::text_message;

    fn round_trip(event: &ServerEvent, expected: &str) {
        assert_eq!(serde_json::to_string(event).unwrap(), expected);
        assert_eq!(
            &serde_json::from_str::<ServerEvent>(expected).unwrap(),
            event
        );
    }

    #[test]
    fn content_events_serialize_as_the_api_says() {
        round_trip(
            &ServerEvent::Notification {
                content: "ada was added to the chat.".into(),
            },
            r#"{"type":"chat.notification","content":"ada was added to the chat."}"#,
        );
        round_trip(
            &ServerEvent::Active { content: 3 },
            r#"{"type":"chat.active","content":3}"#,
        );
        round_trip(
            &ServerEvent::typing("ada", true),
            r#"{"type":"chat.typing","username":"ada","content":"ada is typing..."}"#,
        );
        round_trip(
            &ServerEvent::typing("ada", false),
            r#"{"type":"chat.typing","username":"ada","content":null}"#,
        );
        round_trip(
            &ServerEvent::Error {
                code: "invalid_json".into(),
                content: "The frame needs a message.".into(),
            },
            r#"{"type":"chat.error","code":"invalid_json","content":"The frame needs a message."}"#,
        );
    }

    #[test]
    fn a_message_event_is_the_message_object_with_its_type_first() {
        let message = MessageBody::new(&text_message(), |_| unreachable!());
        let body = serde_json::to_string(&message).unwrap();
        let fields = body.strip_prefix('{').unwrap().strip_suffix('}').unwrap();
        let everyone = ServerEvent::Message(Box::new(MessageEvent {
            message: message.clone(),
            client_id: None,
        }));
        round_trip(&everyone, &format!(r#"{{"type":"chat.message",{fields}}}"#));
        let sender_copy = ServerEvent::Message(Box::new(MessageEvent {
            message,
            client_id: Some("c1".into()),
        }));
        round_trip(
            &sender_copy,
            &format!(r#"{{"type":"chat.message",{fields},"client_id":"c1"}}"#),
        );
    }

    #[test]
    fn unknown_event_types_are_refused() {
        let read = serde_json::from_str::<ServerEvent>(r#"{"type":"chat.shout","content":"x"}"#);
        assert!(read.is_err(), "{read:?}");
    }
}
