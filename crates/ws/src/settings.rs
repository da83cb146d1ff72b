//! How connections behave: heartbeats, queues, send limits, media size.

use std::time::Duration;

/// Tunables of the WebSocket endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsSettings {
    /// How often an idle connection is pinged; two missed pongs drop it.
    pub ping_interval: Duration,
    /// Frames queued per connection before it counts as too slow. A commit announces up to
    /// 512 messages at once, so this should hold several commits. Only frames queued take memory (pointers to frames
    /// shared by every recipient), not the capacity.
    pub queue_capacity: usize,
    /// Sends allowed per second per connection, after the burst; `None`: unlimited.
    pub send_rate: Option<(u32, u32)>,
    /// The largest media file accepted, in bytes.
    pub media_max_bytes: usize,
    /// How often a connection checks that its session was not ended (logout).
    pub revocation_check: Duration,
    /// How often `chat.active` may be sent per room.
    pub active_every: Duration,
    /// Sockets one user may have open on this instance; the next is closed with 4029.
    pub max_sockets_per_user: usize,
    /// Sends one connection may have committing at once: it reads on while they commit. A
    /// few members bursting must keep two commits' worth (2 × 512) in flight, one being
    /// announced while the next is stored, or commits take part-full turns.
    pub max_in_flight: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(30),
            queue_capacity: 2048,
            send_rate: Some((20, 40)),
            media_max_bytes: 16 * 1024 * 1024,
            revocation_check: Duration::from_secs(30),
            active_every: Duration::from_millis(250),
            max_sockets_per_user: 64,
            max_in_flight: 128,
        }
    }
}
