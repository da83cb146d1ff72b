//! What the WebSocket adapter tells the metrics recorder: open sockets, messages written
//! to them, frames shed under pressure, slow consumers closed, and how long a message
//! took from being stored to reaching a socket. Without a recorder installed each call
//! costs next to nothing.

use chrono::{DateTime, Utc};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};

/// Sockets open on this instance (gauge).
pub const CONNECTIONS: &str = "whisper_websocket_connections";
/// `chat.message` frames written to sockets (counter).
pub const DELIVERIES: &str = "whisper_message_deliveries_total";
/// Typing frames shed because a socket's queue was half full (counter).
pub const FRAMES_DROPPED: &str = "whisper_frames_dropped_total";
/// Sockets closed with 1013 because they could not keep up (counter).
pub const SLOW_CONSUMER_CLOSES: &str = "whisper_slow_consumer_closes_total";
/// From a message's stored `created` time to its frame written to a socket (histogram).
pub const DELIVERY_LATENCY: &str = "whisper_delivery_latency_seconds";

/// Registers the help text of this adapter's metrics with the installed recorder, and
/// shows the gauge and counters from 0 before anything happens.
pub fn describe() {
    describe_gauge!(CONNECTIONS, "WebSocket connections open on this instance");
    describe_counter!(DELIVERIES, "chat.message frames written to sockets");
    describe_counter!(
        FRAMES_DROPPED,
        "typing frames dropped because a socket's queue was half full"
    );
    describe_counter!(
        SLOW_CONSUMER_CLOSES,
        "sockets closed with 1013 because they could not keep up"
    );
    describe_histogram!(
        DELIVERY_LATENCY,
        Unit::Seconds,
        "from a message being stored to its frame written to a socket"
    );
    gauge!(CONNECTIONS).increment(0.0);
    for name in [DELIVERIES, FRAMES_DROPPED, SLOW_CONSUMER_CLOSES] {
        counter!(name).increment(0);
    }
}

pub(crate) fn socket_opened() {
    gauge!(CONNECTIONS).increment(1.0);
}

pub(crate) fn socket_closed() {
    gauge!(CONNECTIONS).decrement(1.0);
}

pub(crate) fn frame_dropped() {
    counter!(FRAMES_DROPPED).increment(1);
}

pub(crate) fn slow_consumer_closed() {
    counter!(SLOW_CONSUMER_CLOSES).increment(1);
}

/// A message stored at `created` was written to a socket now. Wall clocks of instances
/// differ a little: a message seemingly from the future counts as delivered at once.
pub(crate) fn message_delivered(created: DateTime<Utc>) {
    counter!(DELIVERIES).increment(1);
    let waited = (Utc::now() - created).to_std().unwrap_or_default();
    metrics::histogram!(DELIVERY_LATENCY).record(waited.as_secs_f64());
}
