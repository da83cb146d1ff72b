//! Whisper's wire contract: every JSON body of the REST API and every WebSocket frame of
//! API.md as serde types, shared by the server's adapters and by its clients (the
//! benchmark, the end-to-end tests).
//!
//! Bodies are plain data: request fields are the strings the client sent (the edge parses
//! them into domain values), response fields are what the client reads. Nothing here knows
//! a URL path: a conversion that needs one (a message's `media_url`) takes it as an
//! argument. With the `openapi` feature every body also derives `utoipa::ToSchema`.

pub mod accounts;
pub mod commands;
pub mod errors;
pub mod events;
pub mod health;
pub mod messages;
pub mod rooms;
mod time;

pub use commands::{
    ClientCommand, DELIMITER, MediaCommand, MediaReply, MediaUpload, TextMessage, TextReply,
    TypingNotice, TypingState,
};
pub use errors::ErrorBody;
pub use events::{MessageEvent, ServerEvent};
pub use messages::{HistoryBody, MessageBody};
pub use rooms::{MembersRequest, NewRoomRequest, RoomBody};
pub use time::{display_date, display_time, timestamp};
