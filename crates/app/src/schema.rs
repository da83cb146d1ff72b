//! Creating the database and applying migrations, at `whisper migrate` and `whisper serve`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::settings::RedactedUrl;
use crate::startup::retry_delay;

/// What one preparation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Whether the database had to be created.
    pub created: bool,
    /// The migrations applied, oldest first.
    pub applied: Vec<String>,
}

/// Creates the database when missing and applies pending migrations.
pub async fn prepare(url: &RedactedUrl) -> anyhow::Result<Prepared> {
    let created = whisper_postgres::ensure_database_exists(url.expose())
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the database at {url}: {e}"))?;
    let applied = whisper_postgres::run_migrations(url.expose())
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database at {url}: {e}"))?;
    Ok(Prepared { created, applied })
}

/// Prepares the database, retrying with backoff until it works, then raises `done`.
pub async fn prepare_until_done(url: RedactedUrl, done: Arc<AtomicBool>) {
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match prepare(&url).await {
            Ok(prepared) => {
                if prepared.created {
                    tracing::info!(database = %url, "created the database");
                }
                for version in &prepared.applied {
                    tracing::info!(%version, "applied migration");
                }
                done.store(true, Ordering::Release);
                tracing::info!("database schema is up to date");
                return;
            }
            Err(error) => {
                let delay = retry_delay(attempt);
                tracing::warn!(
                    error = %format!("{error:#}"),
                    attempt,
                    retry_in_secs = delay.as_secs(),
                    "database not ready; serving anyway and retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}
