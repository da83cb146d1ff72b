//! Whisper's scale-out adapters: the event bus, presence and request budgets shared by
//! every instance through Redis. Each instance holds one [`RedisLink`]; PostgreSQL stays
//! the record, so whatever Redis loses costs latency, never a message.

mod bus;
mod codec;
mod commands;
mod config;
mod error;
mod health;
mod keys;
mod link;
pub mod link_metrics;
mod presence;
mod presence_store;
mod presence_writer;
mod probe;
mod publisher;
mod quotas;
mod subscriber;

pub use bus::RedisEventBus;
pub use config::{LinkTiming, PresenceTiming, RedisConfig};
pub use error::RedisError;
pub use link::RedisLink;
pub use presence::RedisPresence;
pub use probe::ping;
pub use quotas::RedisQuotas;
