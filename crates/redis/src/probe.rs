//! Whether Redis answers at a URL, for `whisper check-config`: one connection, one PING,
//! no key written.

use std::time::Duration;

use crate::config::RedisConfig;
use crate::error::RedisError;

/// How long the probe waits for Redis.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `config.url` and sends PING. `Err` explains why not, never with the URL
/// (it may hold a password).
pub async fn ping(config: &RedisConfig) -> Result<(), RedisError> {
    // rustls needs one crypto provider for rediss://; ring is the one we build with.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client =
        redis::Client::open(config.url.as_str()).map_err(|error| RedisError::InvalidUrl {
            reason: error.to_string(),
        })?;
    let unreachable = |reason: String| RedisError::Unreachable { reason };
    let attempt = async {
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| e.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(reason)) => Err(unreachable(reason)),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            PROBE_TIMEOUT.as_secs()
        ))),
    }
}
