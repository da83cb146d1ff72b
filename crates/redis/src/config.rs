//! What an instance needs to know to reach Redis, and the timings of the link and of
//! presence, kept in structs with production defaults so tests can shorten them.

use std::time::Duration;

/// Where Redis is and how this deployment names its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS.
    pub url: String,
    /// Every key and channel starts with `{prefix}:`, so deployments (and tests) sharing
    /// one Redis never see each other.
    pub prefix: String,
}

impl RedisConfig {
    /// A configuration with the default prefix `whisper`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "whisper".to_owned(),
        }
    }
}

/// How the link watches its health and how it reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTiming {
    /// How often a probe is published through the bus to this instance itself.
    pub probe_every: Duration,
    /// No probe back for this long means the link is down, even if the socket looks open.
    pub probe_timeout: Duration,
    /// The first wait before reconnecting; it doubles after each failure…
    pub reconnect_min: Duration,
    /// …up to this.
    pub reconnect_max: Duration,
}

impl Default for LinkTiming {
    fn default() -> Self {
        Self {
            probe_every: Duration::from_secs(1),
            probe_timeout: Duration::from_secs(3),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
        }
    }
}

/// How presence entries are kept alive and when a silent instance's entries stop counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceTiming {
    /// How often this instance refreshes its entries and sweeps dead instances' ones.
    pub heartbeat: Duration,
    /// How long an entry counts after its last refresh.
    pub expiry: Duration,
}

impl Default for PresenceTiming {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(10),
            expiry: Duration::from_secs(30),
        }
    }
}
