//! The codec: client frames into commands, events into server frames (JSON text), with the
//! frame types of `whisper-wire`.

use serde::Deserialize;
use whisper_domain::{DomainError, Field, MediaKind, Message, MessageId, Service};
use whisper_http::PublicUrl;
use whisper_http::codes::{clash_code, credential_code, denial_code, missing_code, rejection_code};
use whisper_wire::{
    ClientCommand, MediaCommand, MediaReply, MediaUpload, MessageBody, MessageEvent, ServerEvent,
    TextMessage, TextReply, TypingNotice, TypingState,
};

pub use whisper_wire::DELIMITER;

/// Something a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a text message, possibly a reply.
    Text {
        /// The text.
        text: String,
        /// The message answered.
        reply_to: Option<MessageId>,
        /// The sender's own id for it.
        client_id: Option<String>,
    },
    /// Send media, possibly as a reply.
    Media {
        /// The declared kind.
        kind: MediaKind,
        /// The bytes.
        bytes: Vec<u8>,
        /// The message answered.
        reply_to: Option<MessageId>,
        /// The sender's own id for it.
        client_id: Option<String>,
    },
    /// Started or stopped typing.
    Typing(bool),
}

/// A refused frame: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// The `chat.error` code.
    pub code: &'static str,
    /// What was wrong.
    pub content: String,
}

impl FrameError {
    fn new(code: &'static str, content: impl Into<String>) -> Self {
        Self {
            code,
            content: content.into(),
        }
    }
}

/// A field that must be a string when present; only whether it is there is kept.
struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Present;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Present, E> {
                Ok(Present)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A text frame's `message_type` and which of its fields it has, read before the command
/// itself: serde's errors for an internally tagged enum do not say which tag it did not know,
/// and a field of the wrong type has always been reported before anything else. (Its name
/// shows in the error for a frame that is not an object.)
#[derive(Deserialize)]
struct TextFrame {
    message_type: String,
    #[serde(default)]
    message: Option<Present>,
    #[serde(default)]
    previous_message_id: Option<Present>,
    /// Only checked to be text.
    #[serde(default, rename = "client_id")]
    _client_id: Option<Present>,
}

/// The same for a binary frame's metadata.
#[derive(Deserialize)]
struct MediaMeta {
    message_type: String,
    #[serde(default, alias = "message_format")]
    media_format: Option<Present>,
    #[serde(default)]
    previous_message_id: Option<String>,
    /// Only checked to be text.
    #[serde(default, rename = "client_id")]
    _client_id: Option<Present>,
}

fn reply_target(raw: Option<&str>, required: bool) -> Result<Option<MessageId>, FrameError> {
    match raw {
        Some(raw) => MessageId::parse(raw).map(Some).map_err(|_| {
            FrameError::new("invalid_reply", "previous_message_id is not a message id.")
        }),
        None if required => Err(FrameError::new(
            "invalid_json",
            "A reply needs previous_message_id.",
        )),
        None => Ok(None),
    }
}

/// `invalid_json` for JSON that does not read as what it says it is; `what` is "frame" or
/// "metadata".
fn not_valid(what: &str) -> impl Fn(serde_json::Error) -> FrameError + '_ {
    move |error| FrameError::new("invalid_json", format!("The {what} is not valid: {error}."))
}

/// `unknown_message_type`; `context` ends the sentence (e.g. " for media").
fn unknown_message_type(other: &str, context: &str) -> FrameError {
    FrameError::new(
        "unknown_message_type",
        format!("Unknown message_type {other:?}{context}."),
    )
}

/// Reads a text frame.
pub fn parse_text(frame: &str) -> Result<Command, FrameError> {
    let invalid = not_valid("frame");
    let header: TextFrame = serde_json::from_str(frame).map_err(&invalid)?;
    let read = match header.message_type.as_str() {
        "message" => serde_json::from_str(frame).map(ClientCommand::Message),
        "reply" => serde_json::from_str(frame).map(ClientCommand::Reply),
        "typing" => serde_json::from_str(frame).map(ClientCommand::Typing),
        other => return Err(unknown_message_type(other, "")),
    };
    let command = read.map_err(|error| missing_text(&header).unwrap_or_else(|| invalid(error)))?;
    match command {
        ClientCommand::Message(TextMessage { message, client_id }) => Ok(Command::Text {
            text: message,
            reply_to: None,
            client_id,
        }),
        ClientCommand::Reply(TextReply {
            message,
            previous_message_id,
            client_id,
        }) => Ok(Command::Text {
            text: message,
            reply_to: reply_target(Some(&previous_message_id), true)?,
            client_id,
        }),
        ClientCommand::Typing(TypingNotice { message }) => {
            Ok(Command::Typing(message == TypingState::Typing))
        }
    }
}

/// What a text frame whose command did not read lacks; `None` leaves the account to serde
/// (e.g. a duplicate field).
fn missing_text(header: &TextFrame) -> Option<FrameError> {
    let problem = if header.message.is_none() {
        "The frame needs a message."
    } else if header.message_type == "typing" {
        "A typing frame says \"typing\" or \"not_typing\"."
    } else if header.message_type == "reply" && header.previous_message_id.is_none() {
        "A reply needs previous_message_id."
    } else {
        return None;
    };
    Some(FrameError::new("invalid_json", problem))
}

/// Reads a binary frame: JSON metadata, the delimiter, then the media bytes.
pub fn parse_binary(frame: &[u8]) -> Result<Command, FrameError> {
    let split = frame
        .windows(DELIMITER.len())
        .position(|window| window == DELIMITER)
        .ok_or_else(|| {
            FrameError::new(
                "missing_delimiter",
                "A binary frame is JSON metadata, <delimiter>, then the media bytes.",
            )
        })?;
    let meta = &frame[..split];
    let invalid = not_valid("metadata");
    let header: MediaMeta = serde_json::from_slice(meta).map_err(&invalid)?;
    let read = match header.message_type.as_str() {
        "media" => serde_json::from_slice(meta).map(MediaCommand::Media),
        "reply" => serde_json::from_slice(meta).map(MediaCommand::Reply),
        other => return Err(unknown_message_type(other, " for media")),
    };
    let command = match read {
        Ok(command) => command,
        Err(error) => return Err(missing_media(&header).unwrap_or_else(|| invalid(error))),
    };
    let (format, reply_to, client_id) = match command {
        MediaCommand::Media(MediaUpload {
            media_format,
            previous_message_id,
            client_id,
        }) => (
            media_format,
            reply_target(previous_message_id.as_deref(), false)?,
            client_id,
        ),
        MediaCommand::Reply(MediaReply {
            media_format,
            previous_message_id,
            client_id,
        }) => (
            media_format,
            reply_target(Some(&previous_message_id), true)?,
            client_id,
        ),
    };
    let kind = MediaKind::parse(&format)
        .map_err(|_| FrameError::new("invalid_media", "media_format is image, audio or video."))?;
    Ok(Command::Media {
        kind,
        bytes: frame[split + DELIMITER.len()..].to_vec(),
        reply_to,
        client_id,
    })
}

/// What metadata whose command did not read lacks, checked in the order a complete frame
/// is: the reply target first, then the format.
fn missing_media(header: &MediaMeta) -> Option<FrameError> {
    let required = header.message_type == "reply";
    if let Err(problem) = reply_target(header.previous_message_id.as_deref(), required) {
        return Some(problem);
    }
    header
        .media_format
        .is_none()
        .then(|| FrameError::new("invalid_json", "Media needs media_format."))
}

/// The `chat.error` code for a refused send.
pub fn error_of(error: &DomainError) -> FrameError {
    match error {
        DomainError::Invalid(problems) => {
            // A frame carries one value of each field, so in practice there is one problem.
            let code = problems
                .first()
                .map_or("invalid_json", |problem| invalid_code(problem.field));
            let sentences: Vec<String> = problems.iter().map(|p| p.flaw.to_string()).collect();
            FrameError::new(code, sentences.join("; "))
        }
        DomainError::Rejected(rejection) => {
            FrameError::new(rejection_code(rejection), rejection.to_string())
        }
        DomainError::NotFound(missing) => {
            FrameError::new(missing_code(*missing), missing.to_string())
        }
        DomainError::Conflict(clash) => FrameError::new(clash_code(*clash), clash.to_string()),
        DomainError::Forbidden(denial) => FrameError::new(denial_code(*denial), denial.to_string()),
        DomainError::Unauthenticated(credential) => {
            FrameError::new(credential_code(*credential), credential.to_string())
        }
        DomainError::RateLimited { .. } => {
            FrameError::new("rate_limited", "Too many messages; slow down.")
        }
        // The disk for media is full or read-only: nothing was stored, text still works.
        DomainError::Unavailable(Service::MediaStorage) => FrameError::new(
            "storage_unavailable",
            "Media cannot be stored right now; text messages still work.",
        ),
        DomainError::Unavailable(_) | DomainError::Upstream { .. } => FrameError::new(
            "unavailable",
            "The server cannot store messages right now; retry.",
        ),
        DomainError::Internal(_) => {
            FrameError::new("internal_error", "Something went wrong on our side.")
        }
    }
}

/// The `chat.error` code for a broken rule of `field`: what a chat client can fix.
fn invalid_code(field: Field) -> &'static str {
    match field {
        Field::MessageText => "invalid_message",
        Field::ReplyTo => "invalid_reply",
        Field::Media | Field::MediaFormat => "invalid_media",
        Field::Email
        | Field::Username
        | Field::RoomName
        | Field::Members
        | Field::MediaKey
        | Field::ClientId
        | Field::Cursor
        | Field::PageSize
        | Field::AuthorizationCode
        | Field::UserId
        | Field::RoomId
        | Field::MessageId
        | Field::TokenId
        | Field::TokenFamilyId => "invalid_json",
    }
}

fn to_json(event: &ServerEvent) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

/// The message object of `message`, its media under `public_url` (where the REST media
/// route serves it).
pub fn message_body(message: &Message, public_url: &PublicUrl) -> MessageBody {
    MessageBody::new(message, |id| public_url.media(id))
}

/// `chat.message`, with `client_id` only on the sender's copy.
pub fn message_frame(message: &MessageBody, client_id: Option<&str>) -> String {
    to_json(&ServerEvent::Message(Box::new(MessageEvent {
        message: message.clone(),
        client_id: client_id.map(str::to_owned),
    })))
}

/// `chat.notification`.
pub fn notification_frame(content: &str) -> String {
    to_json(&ServerEvent::Notification {
        content: content.to_owned(),
    })
}

/// `chat.active`: how many distinct members are connected.
pub fn active_frame(count: usize) -> String {
    to_json(&ServerEvent::Active {
        content: u64::try_from(count).unwrap_or(u64::MAX),
    })
}

/// `chat.typing`.
pub fn typing_frame(username: &str, typing: bool) -> String {
    to_json(&ServerEvent::typing(username, typing))
}

/// `chat.error`.
pub fn error_frame(error: &FrameError) -> String {
    to_json(&ServerEvent::Error {
        code: error.code.to_owned(),
        content: error.content.clone(),
    })
}

#[cfg(test)]
mod tests {
    use whisper_domain::{Clash, Credential, Denial, Flaw, Missing, Rejection, Service};

    use super::*;

    #[test]
    fn refusals_become_chat_errors_with_the_codes_rest_uses() {
        let cases = [
            (
                DomainError::invalid(Field::MessageText, Flaw::MessageEmpty),
                "invalid_message",
                "A message cannot be empty.",
            ),
            (
                DomainError::invalid(Field::ReplyTo, Flaw::ReplyOutsideRoom),
                "invalid_reply",
                "The message replied to is not in this room.",
            ),
            (
                DomainError::invalid(Field::Media, Flaw::MediaFormatUnsupported(MediaKind::Image)),
                "invalid_media",
                "These bytes are not a supported image format.",
            ),
            (
                DomainError::invalid(Field::MediaFormat, Flaw::MediaKindUnknown),
                "invalid_media",
                "Use image, audio or video.",
            ),
            (
                DomainError::invalid(Field::ClientId, Flaw::ClientIdLength),
                "invalid_json",
                "A client_id has 1 to 64 characters.",
            ),
            (
                DomainError::Rejected(Rejection::MediaTooLarge { max_bytes: 10 }),
                "media_too_large",
                "Media is limited to 10 bytes.",
            ),
            (
                DomainError::NotFound(Missing::MessageInRoom),
                "unknown_message",
                "No such message in this room.",
            ),
            (
                DomainError::Conflict(Clash::RoomNameTaken),
                "room_name_taken",
                "A room with this name already exists.",
            ),
            (
                DomainError::Forbidden(Denial::NotMember),
                "not_a_member",
                "You are not a member of this room.",
            ),
            (
                DomainError::Unauthenticated(Credential::InvalidAccessToken),
                "invalid_token",
                "The access token is invalid, expired or revoked.",
            ),
            (
                DomainError::RateLimited {
                    retry_after_secs: 3,
                },
                "rate_limited",
                "Too many messages; slow down.",
            ),
            (
                DomainError::Unavailable(Service::Database),
                "unavailable",
                "The server cannot store messages right now; retry.",
            ),
            (
                DomainError::Unavailable(Service::MediaStorage),
                "storage_unavailable",
                "Media cannot be stored right now; text messages still work.",
            ),
            (
                DomainError::internal("relation does not exist"),
                "internal_error",
                "Something went wrong on our side.",
            ),
        ];
        for (error, code, content) in cases {
            assert_eq!(
                error_of(&error),
                FrameError::new(code, content),
                "{error:?}"
            );
        }
    }

    #[test]
    fn text_frames_become_commands() {
        let id = MessageId::generate();
        assert_eq!(
            parse_text(r#"{"message_type":"message","message":"hi","client_id":"c1"}"#),
            Ok(Command::Text {
                text: "hi".into(),
                reply_to: None,
                client_id: Some("c1".into())
            })
        );
        assert_eq!(
            parse_text(&format!(
                r#"{{"message_type":"reply","message":"yes","previous_message_id":"{id}"}}"#
            )),
            Ok(Command::Text {
                text: "yes".into(),
                reply_to: Some(id),
                client_id: None
            })
        );
        assert_eq!(
            parse_text(r#"{"message_type":"typing","message":"typing"}"#),
            Ok(Command::Typing(true))
        );
        assert_eq!(
            parse_text(r#"{"message_type":"typing","message":"not_typing"}"#),
            Ok(Command::Typing(false))
        );
    }

    #[test]
    fn bad_text_frames_have_stable_codes() {
        let code = |frame: &str| parse_text(frame).unwrap_err().code;
        assert_eq!(code("{not json"), "invalid_json");
        assert_eq!(code(r#"{"message":"no type"}"#), "invalid_json");
        assert_eq!(code(r#"{"message_type":"message"}"#), "invalid_json");
        assert_eq!(
            code(r#"{"message_type":"shout","message":"x"}"#),
            "unknown_message_type"
        );
        assert_eq!(
            code(r#"{"message_type":"reply","message":"x"}"#),
            "invalid_json"
        );
        assert_eq!(
            code(r#"{"message_type":"reply","message":"x","previous_message_id":"../x"}"#),
            "invalid_reply"
        );
    }

    #[test]
    fn binary_frames_split_at_the_delimiter() {
        let mut frame = br#"{"message_type":"media","message_format":"image"}"#.to_vec();
        frame.extend_from_slice(DELIMITER);
        frame.extend_from_slice(b"\x89PNG<delimiter>inside");
        match parse_binary(&frame).unwrap() {
            Command::Media {
                kind,
                bytes,
                reply_to: None,
                client_id: None,
            } => {
                assert_eq!(kind, MediaKind::Image);
                assert_eq!(bytes, b"\x89PNG<delimiter>inside");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_binary(b"\x89PNG no delimiter").unwrap_err().code,
            "missing_delimiter"
        );
        let mut unknown = br#"{"message_type":"media","media_format":"hologram"}"#.to_vec();
        unknown.extend_from_slice(DELIMITER);
        assert_eq!(parse_binary(&unknown).unwrap_err().code, "invalid_media");
    }

    #[test]
    fn events_serialize_as_the_api_says() {
        assert_eq!(active_frame(3), r#"{"type":"chat.active","content":3}"#);
        assert_eq!(
            typing_frame("ada", true),
            r#"{"type":"chat.typing","username":"ada","content":"ada is typing..."}"#
        );
        assert_eq!(
            typing_frame("ada", false),
            r#"{"type":"chat.typing","username":"ada","content":null}"#
        );
        assert_eq!(
            error_frame(&FrameError::new("rate_limited", "slow")),
            r#"{"type":"chat.error","code":"rate_limited","content":"slow"}"#
        );
        assert_eq!(
            notification_frame("ada left the chat."),
            r#"{"type":"chat.notification","content":"ada left the chat."}"#
        );
    }

    #[test]
    fn refusals_say_what_is_missing() {
        let content = |frame: &str| parse_text(frame).unwrap_err().content;
        assert_eq!(
            content(r#"{"message_type":"message"}"#),
            "The frame needs a message."
        );
        assert_eq!(
            content(r#"{"message_type":"reply","message":"x"}"#),
            "A reply needs previous_message_id."
        );
        assert_eq!(
            content(r#"{"message_type":"typing","message":"shouting"}"#),
            "A typing frame says \"typing\" or \"not_typing\"."
        );
        assert_eq!(
            content(r#"{"message_type":"shout","message":"x"}"#),
            "Unknown message_type \"shout\"."
        );
        assert_eq!(
            content(r#"{"message_type":"message","message":5}"#),
            "The frame is not valid: invalid type: integer `5`, expected a string at line 1 \
             column 37."
        );
        let media = |meta: &str| {
            let mut frame = meta.as_bytes().to_vec();
            frame.extend_from_slice(DELIMITER);
            let error = parse_binary(&frame).unwrap_err();
            (error.code, error.content)
        };
        assert_eq!(
            media(r#"{"message_type":"media"}"#),
            ("invalid_json", "Media needs media_format.".into())
        );
        assert_eq!(
            media(r#"{"message_type":"reply","media_format":"image"}"#),
            ("invalid_json", "A reply needs previous_message_id.".into())
        );
        // The reply target is checked before the format, whether or not the format is there.
        assert_eq!(
            media(r#"{"message_type":"media","previous_message_id":"../x"}"#).0,
            "invalid_reply"
        );
        assert_eq!(
            media(r#"{"message_type":"shout","media_format":"image"}"#),
            (
                "unknown_message_type",
                "Unknown message_type \"shout\" for media.".into()
            )
        );
    }
}
