//! PostgreSQL adapters of Whisper's ports: diesel-async over a deadpool pool, with the
//! schema's migrations embedded so no libpq is needed at run time.

pub mod database;
pub mod errors;
mod prepared;
pub mod probe;

pub use database::{Database, MIGRATIONS, Plans, PoolUse, ensure_database_exists, run_migrations};
pub use errors::StorageError;
pub mod repositories;
pub mod schema;
pub mod storage_metrics;
#[cfg(feature = "testing")]
pub mod testing;

pub use repositories::{
    PgMailOutbox, PgMessages, PgRooms, PgTokens, PgTotpAttempts, PgTotpDevices, PgUsers,
    PgVerificationCodes,
};
