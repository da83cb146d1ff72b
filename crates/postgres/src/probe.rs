//! Whether PostgreSQL answers at a `DATABASE_URL`, for `whisper check-config`: one direct
//! connection (no pool), nothing created or changed.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::database::split_database_name;
use crate::errors::StorageError;

/// How long the probe waits for PostgreSQL.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// The database answers a query.
    Database,
    /// The server answers but the database does not exist yet (`serve` and `migrate`
    /// create it).
    ServerOnly,
}

/// Connects to `url` and runs `SELECT 1`; when that fails, whether the server's `postgres`
/// database answers (the database is then only missing). The error says why, without the URL.
pub async fn probe(url: &str) -> Result<Reached, StorageError> {
    let first = match select_one(url).await {
        Ok(()) => return Ok(Reached::Database),
        Err(error) => error,
    };
    let (admin, _) = split_database_name(url)?;
    match select_one(&admin).await {
        Ok(()) if first.contains("does not exist") => Ok(Reached::ServerOnly),
        _ => Err(StorageError::Connect(first)),
    }
}

async fn select_one(url: &str) -> Result<(), String> {
    let attempt = async {
        let mut connection = AsyncPgConnection::establish(url)
            .await
            .map_err(|e| e.to_string())?;
        connection
            .batch_execute("SELECT 1")
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
    }
}
