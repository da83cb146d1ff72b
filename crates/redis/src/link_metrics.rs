//! What the Redis link tells the metrics recorder, sampled when the app asks (just
//! before a scrape is rendered): whether the link works, and the events it dropped.

use metrics::{counter, describe_counter, describe_gauge, gauge};

use crate::link::RedisLink;

/// 1 while events reach other instances through Redis, else 0 (gauge).
pub const REDIS_UP: &str = "whisper_redis_up";
/// Events not sent to other instances: queue full, Redis down or failing (counter).
pub const DROPPED_EVENTS: &str = "whisper_redis_dropped_events_total";

/// Registers the help text of these metrics with the installed recorder.
pub fn describe() {
    describe_gauge!(REDIS_UP, "1 while the link to Redis works, else 0");
    describe_counter!(
        DROPPED_EVENTS,
        "room events not sent to other instances (queue full, Redis down or failing)"
    );
}

/// Sets the link's metrics from its state now.
pub fn record(link: &RedisLink) {
    gauge!(REDIS_UP).set(if link.is_up() { 1.0 } else { 0.0 });
    counter!(DROPPED_EVENTS).absolute(link.dropped_events());
}
