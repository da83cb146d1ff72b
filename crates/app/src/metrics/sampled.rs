//! Gauges read from the state of things rather than counted as they happen: the
//! connection pools, the mail outbox and the Redis link, refreshed just before a scrape
//! is rendered.

use std::sync::Arc;
use std::time::Duration;

use whisper_postgres::storage_metrics;
use whisper_postgres::{Database, PgMailOutbox};
use whisper_redis::{RedisLink, link_metrics};

/// How long a scrape waits for the outbox count; past it the last value is shown.
const COUNT_TIMEOUT: Duration = Duration::from_millis(500);

/// What the sampled gauges are read from.
#[derive(Clone)]
pub struct Sampled {
    /// The pool of everything but the message statements.
    pub main: Database,
    /// The pool of the message statements.
    pub messages: Database,
    /// The mail outbox, counted.
    pub outbox: PgMailOutbox,
    /// The link to Redis, when instances are linked.
    pub redis: Option<Arc<RedisLink>>,
}

impl Sampled {
    /// Sets every sampled gauge from the state now. An outbox that cannot be counted in
    /// time keeps its last value: a scrape must answer even while PostgreSQL does not.
    pub async fn refresh(&self) {
        storage_metrics::record_pool("main", &self.main);
        storage_metrics::record_pool("messages", &self.messages);
        match tokio::time::timeout(COUNT_TIMEOUT, self.outbox.counts()).await {
            Ok(Ok(counts)) => storage_metrics::record_outbox(counts),
            Ok(Err(error)) => tracing::debug!(%error, "cannot count the mail outbox"),
            Err(_) => tracing::debug!("counting the mail outbox timed out"),
        }
        if let Some(link) = &self.redis {
            link_metrics::record(link);
        }
    }
}
