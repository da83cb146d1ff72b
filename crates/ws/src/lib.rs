//! Whisper's WebSocket adapter: the chat socket (`whisper_http::routes::CHAT_SOCKET`) with
//! actix-ws, the frame codec, one reader and one writer task per connection, and the hub
//! that fans room events out to this instance's connections through bounded queues, in
//! each room's `seq` order, catching up from the record with other instances.

mod active;
pub mod catch_up;
mod commands;
pub mod connection;
pub mod endpoint;
pub mod frames;
pub mod hub;
mod in_flight;
pub mod outgoing;
pub mod send_limit;
pub mod settings;
pub mod socket_cap;
pub mod socket_metrics;

pub use catch_up::CatchUp;
pub use endpoint::{SocketServices, configure};
pub use hub::{Hub, HubPorts};
pub use settings::WsSettings;
