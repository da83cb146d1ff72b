//! Messages: what members say in a room, as text or media, possibly in reply to another.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::id::{MessageId, RoomId, UserId};
use crate::problem::{Field, Flaw};
use crate::username::Username;

/// The longest text message, in characters.
pub const TEXT_MAX: usize = 4096;

/// The words of a text message: not blank, at most [`TEXT_MAX`] characters, kept as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// Accepts text that has something to say and is not too long.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::invalid(Field::MessageText, Flaw::MessageEmpty));
        }
        if raw.chars().count() > TEXT_MAX {
            return Err(DomainError::invalid(
                Field::MessageText,
                Flaw::MessageTooLong,
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of media a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// A picture (PNG, JPEG, GIF, WebP).
    Image,
    /// A sound recording (WAV, MP3, OGG, WebM audio).
    Audio,
    /// A film (MP4, WebM).
    Video,
}

impl MediaKind {
    /// Reads `image`, `audio` or `video`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "image" => Ok(Self::Image),
            "audio" => Ok(Self::Audio),
            "video" => Ok(Self::Video),
            _ => Err(DomainError::invalid(
                Field::MediaFormat,
                Flaw::MediaKindUnknown,
            )),
        }
    }

    /// The kind as the wire names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
        }
    }

    /// How a reply quotes a message of this kind.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Image => "IMAGE",
            Self::Audio => "AUDIO",
            Self::Video => "VIDEO",
        }
    }
}

/// The server-chosen name under which media bytes are stored; never taken from a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaKey(String);

impl MediaKey {
    /// A fresh key for new media.
    pub fn generate() -> Self {
        Self(nanoid::nanoid!())
    }

    /// Accepts a key previously produced by [`MediaKey::generate`].
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        MessageId::parse(raw)
            .map_err(|_| DomainError::invalid(Field::MediaKey, Flaw::MediaKeyMalformed))?;
        Ok(Self(raw.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a message's media lives and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// Image, audio or video.
    pub kind: MediaKind,
    /// The stored object's name.
    pub key: MediaKey,
    /// The MIME type recognised from the bytes, e.g. `image/png`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// The body of a message: text, or one piece of media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageContent {
    /// Words.
    Text(MessageText),
    /// A picture, recording or film.
    Media(MediaRef),
}

impl MessageContent {
    /// The wire name of the format: `text`, `image`, `audio` or `video`.
    pub fn format(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::Media(media) => media.kind.as_str(),
        }
    }

    /// How a reply quotes this content: the text itself, or `IMAGE`, `AUDIO`, `VIDEO`.
    pub fn quoted(&self) -> &str {
        match self {
            Self::Text(text) => text.as_str(),
            Self::Media(media) => media.kind.placeholder(),
        }
    }
}

/// What a reply shows of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPreview {
    /// The message answered.
    pub message_id: MessageId,
    /// Its text, or the media placeholder.
    pub content: String,
    /// Who wrote it.
    pub sender: UserId,
}

/// A message being sent, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The identity it will keep.
    pub id: MessageId,
    /// Where it is said.
    pub room: RoomId,
    /// Who says it.
    pub sender: UserId,
    /// What is said.
    pub content: MessageContent,
    /// The message it answers, which must be in the same room.
    pub reply_to: Option<MessageId>,
    /// When it was sent.
    pub created: DateTime<Utc>,
    /// The sender's own id for it, so a retried send is recognised and not stored twice.
    pub client_id: Option<String>,
}

/// A stored message as members read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message's identity.
    pub id: MessageId,
    /// The room it belongs to.
    pub room: RoomId,
    /// Who sent it.
    pub sender: UserId,
    /// The sender's username at reading time.
    pub sender_username: Username,
    /// What was said.
    pub content: MessageContent,
    /// What it answers, if it is a reply.
    pub reply_to: Option<ReplyPreview>,
    /// When it was stored.
    pub created: DateTime<Utc>,
    /// Its place in the room's history: 1 for the room's first message, then one more for
    /// each message committed after it, with no holes, whoever stored it.
    pub seq: u64,
}

impl Message {
    /// Where this message sits in history, for paging past it.
    pub fn cursor(&self) -> MessageCursor {
        MessageCursor { seq: self.seq }
    }
}

/// A position in a room's history: the `seq` of the message at the position (0 before
/// the first message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageCursor {
    /// The room position.
    pub seq: u64,
}

/// What storing one message of a batch came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Stored now, under a new `seq`.
    New(Message),
    /// Not stored: its sender's `client_id` was already used for this message.
    Earlier(Message),
}

impl Stored {
    /// The message as members read it, however it came to be stored.
    pub fn message(&self) -> &Message {
        match self {
            Self::New(message) | Self::Earlier(message) => message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_refused() {
        for raw in ["", "   ", "\n\t"] {
            assert!(MessageText::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn text_keeps_its_spacing_and_is_bounded_in_characters() {
        assert_eq!(
            MessageText::parse(" hi ").map(|t| t.as_str().to_owned()),
            Ok(" hi ".to_owned())
        );
        assert!(MessageText::parse(&"é".repeat(TEXT_MAX)).is_ok());
        assert!(MessageText::parse(&"a".repeat(TEXT_MAX + 1)).is_err());
    }

    #[test]
    fn media_kinds_round_trip_and_unknown_kinds_are_refused() {
        for kind in [MediaKind::Image, MediaKind::Audio, MediaKind::Video] {
            assert_eq!(MediaKind::parse(kind.as_str()), Ok(kind));
        }
        assert!(MediaKind::parse("text").is_err());
    }

    #[test]
    fn replies_quote_text_or_a_media_placeholder() {
        let text = MessageContent::Text(MessageText::parse("hello").unwrap());
        assert_eq!((text.format(), text.quoted()), ("text", "hello"));
        let media = MessageContent::Media(MediaRef {
            kind: MediaKind::Audio,
            key: MediaKey::generate(),
            content_type: "audio/ogg".into(),
            size: 12,
        });
        assert_eq!((media.format(), media.quoted()), ("audio", "AUDIO"));
    }

    #[test]
    fn media_keys_are_only_server_made_names() {
        assert!(MediaKey::parse(MediaKey::generate().as_str()).is_ok());
        assert!(MediaKey::parse("../../etc/passwd").is_err());
    }
}
