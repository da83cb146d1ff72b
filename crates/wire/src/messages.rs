//! The room and message objects of API.md, shared by the REST and WebSocket adapters.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use whisper_domain::{Message, MessageContent, Room};

use crate::accounts::dto::timestamp;

/// `{"room_name", "user_ids"}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRoomRequest {
    pub room_name: String,
    #[serde(default)]
    pub user_ids: Vec<String>,
}

/// `{"user_ids"}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct MembersRequest {
    pub user_ids: Vec<String>,
}

/// A room: `{id, room_name, users, creator, created}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct RoomBody {
    pub id: String,
    pub room_name: String,
    pub users: Vec<String>,
    pub creator: String,
    pub created: String,
}

impl From<&Room> for RoomBody {
    fn from(room: &Room) -> Self {
        Self {
            id: room.id.to_string(),
            room_name: room.name.to_string(),
            users: room.members.iter().map(ToString::to_string).collect(),
            creator: room.creator.to_string(),
            created: timestamp(room.created),
        }
    }
}

/// A message as members read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MessageBody {
    pub id: String,
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
    /// The message object; `media_url` is absolute, under `public_url`.
    pub fn new(message: &Message, public_url: &str) -> Self {
        let (text_content, media) = match &message.content {
            MessageContent::Text(text) => (Some(text.as_str().to_owned()), None),
            MessageContent::Media(media) => (None, Some(media)),
        };
        let reply = message.reply_to.as_ref();
        Self {
            id: message.id.to_string(),
            message_format: message.content.format().to_owned(),
            text_content,
            media_url: media.map(|_| format!("{public_url}/api/v1/chat/media/{}/", message.id)),
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

/// `Oct. 18, 2023`: months abbreviated in the Associated Press style.
pub fn display_date(at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
        "Dec.",
    ];
    let month = MONTHS[at.month0() as usize % 12];
    format!("{month} {}, {}", at.day(), at.year())
}

/// `12:00 p.m.`
pub fn display_time(at: DateTime<Utc>) -> String {
    let (pm, hour) = at.hour12();
    let meridiem = if pm { "p.m." } else { "a.m." };
    format!("{hour}:{:02} {meridiem}", at.minute())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn dates_and_times_read_like_the_api_examples() {
        let noon = Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap();
        assert_eq!(display_date(noon), "Oct. 18, 2023");
        assert_eq!(display_time(noon), "12:00 p.m.");
        let night = Utc.with_ymd_and_hms(2024, 9, 3, 0, 5, 0).unwrap();
        assert_eq!(display_date(night), "Sept. 3, 2024");
        assert_eq!(display_time(night), "12:05 a.m.");
        let may = Utc.with_ymd_and_hms(2024, 5, 1, 23, 59, 0).unwrap();
        assert_eq!(
            (display_date(may).as_str(), display_time(may).as_str()),
            ("May 1, 2024", "11:59 p.m.")
        );
    }
}
