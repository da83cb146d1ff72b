//! The wire format: client frames into commands, events into server frames (JSON text).

use serde::{Deserialize, Serialize};
use whisper_domain::{DomainError, Field, MediaKind, MessageId};
use whisper_rest::chat::dto::MessageBody;
use whisper_rest::codes::{clash_code, credential_code, denial_code, missing_code, rejection_code};

/// What separates a binary frame's JSON metadata from its media bytes.
pub const DELIMITER: &[u8] = b"<delimiter>";

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

#[derive(Deserialize)]
struct TextFrame {
    message_type: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    previous_message_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct MediaMeta {
    message_type: String,
    #[serde(default, alias = "message_format")]
    media_format: Option<String>,
    #[serde(default)]
    previous_message_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

fn reply_target(raw: Option<String>, required: bool) -> Result<Option<MessageId>, FrameError> {
    match raw {
        Some(raw) => MessageId::parse(&raw).map(Some).map_err(|_| {
            FrameError::new("invalid_reply", "previous_message_id is not a message id.")
        }),
        None if required => Err(FrameError::new(
            "invalid_json",
            "A reply needs previous_message_id.",
        )),
        None => Ok(None),
    }
}

/// Reads a text frame.
pub fn parse_text(frame: &str) -> Result<Command, FrameError> {
    let parsed: TextFrame = serde_json::from_str(frame)
        .map_err(|e| FrameError::new("invalid_json", format!("The frame is not valid: {e}.")))?;
    let text = || {
        parsed
            .message
            .clone()
            .ok_or_else(|| FrameError::new("invalid_json", "The frame needs a message."))
    };
    match parsed.message_type.as_str() {
        "message" => Ok(Command::Text {
            text: text()?,
            reply_to: None,
            client_id: parsed.client_id,
        }),
        "reply" => Ok(Command::Text {
            text: text()?,
            reply_to: reply_target(parsed.previous_message_id.clone(), true)?,
            client_id: parsed.client_id,
        }),
        "typing" => match text()?.as_str() {
            "typing" => Ok(Command::Typing(true)),
            "not_typing" => Ok(Command::Typing(false)),
            _ => Err(FrameError::new(
                "invalid_json",
                "A typing frame says \"typing\" or \"not_typing\".",
            )),
        },
        other => Err(FrameError::new(
            "unknown_message_type",
            format!("Unknown message_type {other:?}."),
        )),
    }
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
    let meta: MediaMeta = serde_json::from_slice(&frame[..split])
        .map_err(|e| FrameError::new("invalid_json", format!("The metadata is not valid: {e}.")))?;
    let bytes = frame[split + DELIMITER.len()..].to_vec();
    let reply_to = match meta.message_type.as_str() {
        "media" => reply_target(meta.previous_message_id, false)?,
        "reply" => reply_target(meta.previous_message_id, true)?,
        other => {
            return Err(FrameError::new(
                "unknown_message_type",
                format!("Unknown message_type {other:?} for media."),
            ));
        }
    };
    let format = meta
        .media_format
        .ok_or_else(|| FrameError::new("invalid_json", "Media needs media_format."))?;
    let kind = MediaKind::parse(&format)
        .map_err(|_| FrameError::new("invalid_media", "media_format is image, audio or video."))?;
    Ok(Command::Media {
        kind,
        bytes,
        reply_to,
        client_id: meta.client_id,
    })
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

#[derive(Serialize)]
struct MessageFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    message: &'a MessageBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ContentFrame<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    content: T,
}

fn to_json(value: &impl Serialize) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// `chat.message`, with `client_id` only on the sender's copy.
pub fn message_frame(message: &MessageBody, client_id: Option<&str>) -> String {
    to_json(&MessageFrame {
        kind: "chat.message",
        message,
        client_id,
    })
}

/// `chat.notification`.
pub fn notification_frame(content: &str) -> String {
    to_json(&ContentFrame {
        kind: "chat.notification",
        username: None,
        code: None,
        content,
    })
}

/// `chat.active`: how many distinct members are connected.
pub fn active_frame(count: usize) -> String {
    to_json(&ContentFrame {
        kind: "chat.active",
        username: None,
        code: None,
        content: count,
    })
}

/// `chat.typing`.
pub fn typing_frame(username: &str, typing: bool) -> String {
    let content = typing.then(|| format!("{username} is typing..."));
    to_json(&ContentFrame {
        kind: "chat.typing",
        username: Some(username),
        code: None,
        content,
    })
}

/// `chat.error`.
pub fn error_frame(error: &FrameError) -> String {
    to_json(&ContentFrame {
        kind: "chat.error",
        username: None,
        code: Some(error.code),
        content: &error.content,
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
}
