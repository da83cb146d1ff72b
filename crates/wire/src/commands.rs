//! What clients send over the chat WebSocket, keyed by `message_type`: text frames of
//! JSON ([`ClientCommand`]), and binary frames of JSON metadata ([`MediaCommand`]), the
//! [`DELIMITER`], then the media bytes. A text `reply` and a binary `reply` share their tag
//! but not their fields, hence one enum per kind of frame; a new command is one more variant.

use serde::{Deserialize, Serialize};

/// What separates a binary frame's JSON metadata from its media bytes.
pub const DELIMITER: &[u8] = b"<delimiter>";

/// A text frame, tagged by `message_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "message_type", rename_all = "snake_case")]
pub enum ClientCommand {
    /// `message`: send a text message.
    Message(TextMessage),
    /// `reply`: send a text message answering an earlier one.
    Reply(TextReply),
    /// `typing`: started or stopped typing.
    Typing(TypingNotice),
}

/// The fields of a `message` text frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMessage {
    /// The text.
    pub message: String,
    /// The sender's own id for this send, echoed back; a retry with it is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The fields of a `reply` text frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextReply {
    /// The text.
    pub message: String,
    /// The id of the message answered.
    pub previous_message_id: String,
    /// The sender's own id for this send, echoed back; a retry with it is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The fields of a `typing` text frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingNotice {
    /// `typing` or `not_typing`.
    pub message: TypingState,
}

/// Whether the member is typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypingState {
    /// Started typing.
    Typing,
    /// Stopped typing.
    NotTyping,
}

/// The JSON metadata of a binary frame, tagged by `message_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "message_type", rename_all = "snake_case")]
pub enum MediaCommand {
    /// `media`: send media (a reply when `previous_message_id` is given).
    Media(MediaUpload),
    /// `reply`: send media answering an earlier message.
    Reply(MediaReply),
}

/// The fields of `media` metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUpload {
    /// `image`, `audio` or `video` (`message_format` is accepted too).
    #[serde(alias = "message_format")]
    pub media_format: String,
    /// The id of the message answered, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_message_id: Option<String>,
    /// The sender's own id for this send, echoed back; a retry with it is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The fields of `reply` metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaReply {
    /// `image`, `audio` or `video` (`message_format` is accepted too).
    #[serde(alias = "message_format")]
    pub media_format: String,
    /// The id of the message answered.
    pub previous_message_id: String,
    /// The sender's own id for this send, echoed back; a retry with it is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl ClientCommand {
    /// A plain `message` frame saying `text`.
    pub fn message(text: &str) -> Self {
        Self::Message(TextMessage {
            message: text.to_owned(),
            client_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(command: &T, expected: &str)
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(command).unwrap(), expected);
        assert_eq!(&serde_json::from_str::<T>(expected).unwrap(), command);
    }

    #[test]
    fn text_commands_serialize_as_the_api_says() {
        round_trip(
            &ClientCommand::message("Hello, World!"),
            r#"{"message_type":"message","message":"Hello, World!"}"#,
        );
        round_trip(
            &ClientCommand::Message(TextMessage {
                message: "hi".into(),
                client_id: Some("c1".into()),
            }),
            r#"{"message_type":"message","message":"hi","client_id":"c1"}"#,
        );
        round_trip(
            &ClientCommand::Reply(TextReply {
                message: "Hello back!".into(),
                previous_message_id: "EYoT9lPS1H0oP5_CjuDDk".into(),
                client_id: None,
            }),
            r#"{"message_type":"reply","message":"Hello back!","previous_message_id":"EYoT9lPS1H0oP5_CjuDDk"}"#,
        );
        round_trip(
            &ClientCommand::Typing(TypingNotice {
                message: TypingState::Typing,
            }),
            r#"{"message_type":"typing","message":"typing"}"#,
        );
        round_trip(
            &ClientCommand::Typing(TypingNotice {
                message: TypingState::NotTyping,
            }),
            r#"{"message_type":"typing","message":"not_typing"}"#,
        );
    }

    #[test]
    fn media_metadata_serializes_as_the_api_says_and_accepts_the_alias() {
        round_trip(
            &MediaCommand::Media(MediaUpload {
                media_format: "image".into(),
                previous_message_id: None,
                client_id: None,
            }),
            r#"{"message_type":"media","media_format":"image"}"#,
        );
        round_trip(
            &MediaCommand::Reply(MediaReply {
                media_format: "audio".into(),
                previous_message_id: "vFYEuZKrHMOdfyaRpjvgN".into(),
                client_id: Some("c2".into()),
            }),
            r#"{"message_type":"reply","media_format":"audio","previous_message_id":"vFYEuZKrHMOdfyaRpjvgN","client_id":"c2"}"#,
        );
        let aliased: MediaCommand =
            serde_json::from_str(r#"{"message_type":"media","message_format":"video"}"#).unwrap();
        assert_eq!(
            aliased,
            MediaCommand::Media(MediaUpload {
                media_format: "video".into(),
                previous_message_id: None,
                client_id: None,
            })
        );
        assert_eq!(DELIMITER, b"<delimiter>");
    }

    #[test]
    fn unknown_message_types_are_refused() {
        for frame in [
            r#"{"message_type":"shout","message":"x"}"#,
            r#"{"message_type":"media","media_format":"image"}"#,
            r#"{"message":"no type"}"#,
        ] {
            let read = serde_json::from_str::<ClientCommand>(frame);
            assert!(read.is_err(), "{frame} read as {read:?}");
        }
        for meta in [
            r#"{"message_type":"message","message":"x"}"#,
            r#"{"message_type":"typing","message":"typing"}"#,
        ] {
            let read = serde_json::from_str::<MediaCommand>(meta);
            assert!(read.is_err(), "{meta} read as {read:?}");
        }
        let typing = serde_json::from_str::<ClientCommand>(
            r#"{"message_type":"typing","message":"shouting"}"#,
        );
        assert!(typing.is_err(), "{typing:?}");
    }
}
