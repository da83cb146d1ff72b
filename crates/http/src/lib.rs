//! Whisper's HTTP edge, shared by the REST and WebSocket adapters: the route table (every
//! path once) and the absolute links built from it, who is calling (auth extractors; the
//! client's address behind trusted proxies), the error shape of API.md, the answers for
//! unrouted requests, and rate limits.

pub mod auth;
pub mod body_deadline;
pub mod client_ip;
#[cfg(test)]
mod client_ip_tests;
pub mod codes;
#[cfg(test)]
mod codes_tests;
pub mod errors;
pub mod fallback;
pub mod flow;
pub mod input;
pub mod limits;
pub mod links;
pub mod origin;
pub mod path_ids;
pub mod rate_limit;
pub mod request_log;
pub mod request_metrics;
pub mod routes;

pub use client_ip::TrustedProxies;
pub use errors::{ApiError, error_response};
pub use links::PublicUrl;
