//! The connection for commands (PUBLISH, presence, budgets). The connection manager
//! reconnects by itself when a connection drops, but not when one is wedged (a command
//! timing out leaves it in place), so the link replaces it whenever its probe says the
//! path to Redis went silent.

use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::LinkTiming;

pub(crate) struct Commands {
    client: redis::Client,
    config: ConnectionManagerConfig,
    current: RwLock<ConnectionManager>,
}

impl Commands {
    /// A lazy connection: nothing is dialled before the first command.
    pub(crate) fn new(client: redis::Client, timing: LinkTiming) -> redis::RedisResult<Self> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timing.probe_timeout))
            .set_response_timeout(Some(timing.probe_timeout))
            .set_number_of_retries(1)
            .set_min_delay(timing.reconnect_min)
            .set_max_delay(timing.reconnect_max);
        let current = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Self {
            client,
            config,
            current: RwLock::new(current),
        })
    }

    /// A handle on the current connection (cheap: handles share it).
    pub(crate) fn get(&self) -> ConnectionManager {
        self.current.read().clone()
    }

    /// Gives up the current connection for a fresh one, dialled at its first command.
    pub(crate) fn renew(&self) {
        match ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()) {
            Ok(fresh) => *self.current.write() = fresh,
            // The same client and configuration worked at start; keep the old one.
            Err(error) => tracing::warn!(%error, "could not renew the Redis command connection"),
        }
    }
}
