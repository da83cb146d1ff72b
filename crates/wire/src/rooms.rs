//! Request and response bodies of the room endpoints: rooms and their members.

use serde::{Deserialize, Serialize};
use whisper_domain::Room;

use crate::time::timestamp;

/// `{"room_name", "user_ids"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRoomRequest {
    /// 1 to 64 characters besides surrounding spaces, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "Book club",
            max_length = 64,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub room_name: String,
    #[serde(default)]
    pub user_ids: Vec<String>,
}

/// `{"user_ids"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembersRequest {
    pub user_ids: Vec<String>,
}

/// A room: `{id, room_name, users, creator, created}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use whisper_domain::{RoomId, RoomName, UserId};

    use super::*;

    #[test]
    fn a_room_reads_as_the_api_shows_it() {
        let ada = UserId::parse("V1StGXR8_Z5jdHi6B-myT").unwrap();
        let room = Room {
            id: RoomId::parse("R00mR00mR00mR00mR00mR").unwrap(),
            name: RoomName::parse("General").unwrap(),
            creator: ada.clone(),
            members: vec![ada],
            created: Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap(),
        };
        let expected = r#"{"id":"R00mR00mR00mR00mR00mR","room_name":"General","users":["V1StGXR8_Z5jdHi6B-myT"],"creator":"V1StGXR8_Z5jdHi6B-myT","created":"2023-10-18T12:00:00.000000Z"}"#;
        let body = RoomBody::from(&room);
        assert_eq!(serde_json::to_string(&body).unwrap(), expected);
        assert_eq!(serde_json::from_str::<RoomBody>(expected).unwrap(), body);
    }

    #[test]
    fn a_new_room_may_leave_out_its_members() {
        let request: NewRoomRequest = serde_json::from_value(json!({"room_name": "Solo"})).unwrap();
        assert_eq!(request.user_ids, Vec::<String>::new());
        assert_eq!(
            serde_json::to_value(NewRoomRequest {
                room_name: "General".into(),
                user_ids: vec!["V1StGXR8_Z5jdHi6B-myT".into()],
            })
            .unwrap(),
            json!({"room_name": "General", "user_ids": ["V1StGXR8_Z5jdHi6B-myT"]})
        );
    }
}
