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
        // No SQLSTATE: the connection itself failed (PostgreSQL stopped or restarted), so
        // the database is unavailable, not the query wrong.
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => {
            tracing::warn!(%error, "database connection lost");
            DomainError::Unavailable(Service::Database)
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if is_shutting_down(info.message()) =>
        {
            tracing::warn!(%error, "database stopping or restarting");
            DomainError::Unavailable(Service::Database)
        }
        _ => {
            tracing::error!(%error, "database query failed");
            DomainError::internal(error.to_string())
        }
    }
}

/// What PostgreSQL says to sessions it ends because it stops, restarts or recovers (class
/// 57, operator intervention: 57P01, 57P02, 57P03). diesel keeps no SQLSTATE for them, so
/// they are recognised by their message (the server's default English ones).
const SHUTTING_DOWN: &[&str] = &[
    "terminating connection due to administrator command",
    "terminating connection due to crash of another server process",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
];

fn is_shutting_down(message: &str) -> bool {
    SHUTTING_DOWN.iter().any(|known| message.starts_with(known))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_lost_or_ended_connection_is_unavailable_not_internal() {
        let unavailable = DomainError::Unavailable(Service::Database);
        for error in [
            failure(DatabaseErrorKind::ClosedConnection, "closed"),
            failure(
                DatabaseErrorKind::UnableToSendCommand,
                "error communicating with the server",
            ),
            failure(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            failure(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
        ] {
            assert_eq!(unexpected(error), unavailable);
        }
    }

    #[test]
    fn other_query_failures_stay_internal() {
        let error = failure(DatabaseErrorKind::Unknown, "syntax error at or near \"x\"");
        assert!(matches!(unexpected(error), DomainError::Internal(_)));
    }
}
