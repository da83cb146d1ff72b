//! Storage failures and their translation into domain errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use whisper_domain::{DomainError, Service};

/// A failure while setting up or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The settings cannot work (bad URL, pool parameters).
    #[error("database setup: {0}")]
    Setup(String),
    /// PostgreSQL could not be reached.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
}

/// Turns a query failure nobody expected into a domain error, logging the cause.
pub fn unexpected(error: DieselError) -> DomainError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
            tracing::warn!(%error, "database connection lost");
            DomainError::Unavailable(Service::Database)
        }
        _ => {
            tracing::error!(%error, "database query failed");
            DomainError::internal(error.to_string())
        }
    }
}

/// The name of the constraint a unique violation broke, if it was one.
pub fn violated_unique_constraint(error: &DieselError) -> Option<&str> {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name()
        }
        _ => None,
    }
}
