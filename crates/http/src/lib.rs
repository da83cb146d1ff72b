//! Whisper's HTTP edge, shared by the REST and WebSocket adapters: the route table (every
//! path once) and the absolute links built from it, who is calling (auth extractors), the
//! error shape of API.md, the answers for unrouted requests, and rate limits.

pub mod auth;
pub mod errors;
pub mod fallback;
pub mod flow;
pub mod input;
pub mod rate_limit;

pub use errors::{ApiError, ErrorBody, error_response};
