//! Ids read from a URL path, shared by the REST and WebSocket routes.

use whisper_domain::{DomainError, Missing, RoomId};

use crate::errors::ApiError;

/// A room id from the path; a malformed one names no room.
pub fn room_id(raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(raw).map_err(|_| DomainError::NotFound(Missing::Room).into())
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;

    use super::*;

    #[test]
    fn a_malformed_room_id_names_no_room() {
        assert!(room_id("V1StGXR8_Z5jdHi6B-myT").is_ok());
        let error = room_id("not an id").err().unwrap();
        assert_eq!(error.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(error.body().code, "room_not_found");
    }
}
