//! Whisper's WebSocket adapter: the chat socket (`whisper_http::routes::CHAT_SOCKET`) with actix-ws, the frame codec, one
//! reader and one writer task per connection, and the in-process hub that fans room events
//! out to connections through bounded queues.

pub mod connection;
pub mod endpoint;
pub mod frames;
pub mod hub;
pub mod send_limit;
pub mod settings;

pub use endpoint::{SocketServices, configure};
pub use hub::Hub;
pub use settings::WsSettings;
