//! What the PostgreSQL adapter tells the metrics recorder: messages stored as they are
//! inserted, and the sampled state of the connection pools and the mail outbox, set
//! when the app asks (just before a scrape is rendered).

use metrics::{counter, describe_counter, describe_gauge, gauge};

use crate::database::{Database, PoolUse};
use crate::repositories::OutboxCounts;

/// Message rows inserted (counter).
pub const MESSAGES_STORED: &str = "whisper_messages_stored_total";
/// Connections of a pool, by `pool` and `state` (`in_use`, `idle`) (gauge).
pub const POOL_CONNECTIONS: &str = "whisper_db_pool_connections";
/// Callers waiting for a connection of a pool, by `pool` (gauge).
pub const POOL_WAITING: &str = "whisper_db_pool_waiting";
/// Emails queued in the outbox, not abandoned (gauge).
pub const MAIL_OUTBOX_DEPTH: &str = "whisper_mail_outbox_depth";
/// Emails given up on, kept in the outbox for an operator (gauge).
pub const MAIL_ABANDONED: &str = "whisper_mail_abandoned";

/// Registers the help text of this adapter's metrics with the installed recorder, and
/// shows the message counter from 0 before anything is stored.
pub fn describe() {
    describe_counter!(MESSAGES_STORED, "chat messages inserted into PostgreSQL");
    describe_gauge!(
        POOL_CONNECTIONS,
        "connections of a PostgreSQL pool, in use or idle"
    );
    describe_gauge!(POOL_WAITING, "callers waiting for a PostgreSQL connection");
    describe_gauge!(MAIL_OUTBOX_DEPTH, "emails queued for delivery");
    describe_gauge!(MAIL_ABANDONED, "emails given up on after failed deliveries");
    counter!(MESSAGES_STORED).increment(0);
}

pub(crate) fn messages_stored(count: usize) {
    counter!(MESSAGES_STORED).increment(u64::try_from(count).unwrap_or(u64::MAX));
}

/// Sets the gauges of `database`'s pool, labelled `pool`.
pub fn record_pool(pool: &'static str, database: &Database) {
    let PoolUse {
        in_use,
        idle,
        waiting,
    } = database.pool_use();
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "in_use").set(in_use as f64);
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(idle as f64);
    gauge!(POOL_WAITING, "pool" => pool).set(waiting as f64);
}

/// Sets the outbox gauges.
pub fn record_outbox(counts: OutboxCounts) {
    gauge!(MAIL_OUTBOX_DEPTH).set(counts.queued as f64);
    gauge!(MAIL_ABANDONED).set(counts.abandoned as f64);
}
