//! The message object of API.md, shared by the REST history and the WebSocket
//! `chat.message` event, and the history page that lists them.

use serde::{Deserialize, Serialize};
use whisper_domain::{Message, MessageContent, MessageId};

use crate::time::{display_date, display_time, timestamp};

/// A message as members read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageBody {
    pub id: String,
    /// The message's position in its room: 1 for the first, one more for each after it.
    pub seq: u64,
    pub message_format: String,
    pub text_content: Option<String>,
    pub media_url: Option<String>,
    pub media_content_type: Option<String>,
    pub media_size: Option<u64>,
    pub is_reply: bool,
    pub previous_message_id: Option<String>,
    pub previous_message_content: Option<String>,
    pub previous_sender: Option<String>,
    pub sender: String,
    pub username: String,
    pub room: String,
    pub created: String,
    pub date: String,
    pub time: String,
}

impl MessageBody {
    /// The message object; `media_url` gives the absolute URL of a media message's bytes
    /// (called only for media).
    pub fn new(message: &Message, media_url: impl FnOnce(&MessageId) -> String) -> Self {
        let (text_content, media) = match &message.content {
            MessageContent::Text(text) => (Some(text.as_str().to_owned()), None),
            MessageContent::Media(media) => (None, Some(media)),
        };
        let reply = message.reply_to.as_ref();
        Self {
            id: message.id.to_string(),
            seq: message.seq,
            message_format: message.content.format().to_owned(),
            text_content,
            media_url: media.map(|_| media_url(&message.id)),
            media_content_type: media.map(|m| m.content_type.clone()),
            media_size: media.map(|m| m.size),
            is_reply: reply.is_some(),
            previous_message_id: reply.map(|r| r.message_id.to_string()),
            previous_message_content: reply.map(|r| r.content.clone()),
            previous_sender: reply.map(|r| r.sender.to_string()),
            sender: message.sender.to_string(),
            username: message.sender_username.to_string(),
            room: message.room.to_string(),
            created: timestamp(message.created),
            date: display_date(message.created),
            time: display_time(message.created),
        }
    }
}

/// A page of history: `{results, previous_messages}`, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryBody {
    pub results: Vec<MessageBody>,
    /// The absolute URL of the older page, or null on the oldest.
    pub previous_messages: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use whisper_domain::{
        MediaKey, MediaKind, MediaRef, MessageText, ReplyPreview, RoomId, UserId, Username,
    };

    use super::*;

    pub(crate) fn text_message() -> Message {
        Message {
            id: MessageId::parse("EYoT9lPS1H0oP5_CjuDDk").unwrap(),
            room: RoomId::parse("R00mR00mR00mR00mR00mR").unwrap(),
            sender: UserId::parse("V1StGXR8_Z5jdHi6B-myT").unwrap(),
            sender_username: Username::parse("ada").unwrap(),
            content: MessageContent::Text(MessageText::parse("Hello, World!").unwrap()),
            reply_to: None,
            created: Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap()
                + chrono::Duration::microseconds(123_456),
            seq: 7,
        }
    }

    #[test]
    fn a_text_message_reads_as_the_api_shows_it_and_asks_for_no_url() {
        let body = MessageBody::new(&text_message(), |_| unreachable!("text has no media"));
        let expected = r#"{"id":"EYoT9lPS1H0oP5_CjuDDk","seq":7,"message_format":"text","text_content":"Hello, World!","media_url":null,"media_content_type":null,"media_size":null,"is_reply":false,"previous_message_id":null,"previous_message_content":null,"previous_sender":null,"sender":"V1StGXR8_Z5jdHi6B-myT","username":"ada","room":"R00mR00mR00mR00mR00mR","created":"2023-10-18T12:00:00.123456Z","date":"Oct. 18, 2023","time":"12:00 p.m."}"#;
        assert_eq!(serde_json::to_string(&body).unwrap(), expected);
        assert_eq!(serde_json::from_str::<MessageBody>(expected).unwrap(), body);
    }

    #[test]
    fn a_media_reply_carries_the_url_it_is_given_and_quotes_its_target() {
        let mut message = text_message();
        message.content = MessageContent::Media(MediaRef {
            kind: MediaKind::Audio,
            key: MediaKey::generate(),
            content_type: "audio/wav".into(),
            size: 44,
        });
        message.reply_to = Some(ReplyPreview {
            message_id: MessageId::parse("vFYEuZKrHMOdfyaRpjvgN").unwrap(),
            content: "IMAGE".into(),
            sender: UserId::parse("B0bB0bB0bB0bB0bB0bB0b").unwrap(),
        });
        let body = MessageBody::new(&message, |id| format!("https://chat.example/m/{id}/"));
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(value["message_format"], "audio");
        assert_eq!(value["text_content"], json!(null));
        assert_eq!(
            value["media_url"],
            "https://chat.example/m/EYoT9lPS1H0oP5_CjuDDk/"
        );
        assert_eq!(value["media_content_type"], "audio/wav");
        assert_eq!(value["media_size"], 44);
        assert_eq!(value["is_reply"], true);
        assert_eq!(value["previous_message_id"], "vFYEuZKrHMOdfyaRpjvgN");
        assert_eq!(value["previous_message_content"], "IMAGE");
        assert_eq!(value["previous_sender"], "B0bB0bB0bB0bB0bB0bB0b");
    }

    #[test]
    fn a_history_page_lists_results_then_the_older_page() {
        let page = HistoryBody {
            results: vec![],
            previous_messages: None,
        };
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"results":[],"previous_messages":null}"#
        );
    }
}
