//! The repository ports of the domain, implemented over PostgreSQL. Each method is one
//! atomic business operation; rows are turned into domain types at this boundary.

mod message_rows;
mod messages;
mod outbox;
mod rooms;
mod tokens;
mod totp;
mod users;
mod verification;

pub use messages::PgMessages;
pub use outbox::PgMailOutbox;
pub use rooms::PgRooms;
pub use tokens::PgTokens;
pub use totp::{PgTotpAttempts, PgTotpDevices};
pub use users::PgUsers;
pub use verification::PgVerificationCodes;

use whisper_domain::DomainError;

/// A stored value that no longer parses means the table was edited behind our back.
fn corrupt(what: &str, error: impl std::fmt::Display) -> DomainError {
    tracing::error!(%error, "corrupt {what} in the database");
    DomainError::internal(format!("corrupt {what} in the database: {error}"))
}

/// Counts and sizes fit in an i64 column; larger ones are refused rather than wrapped.
fn to_i64(value: u64, what: &str) -> Result<i64, DomainError> {
    i64::try_from(value).map_err(|_| DomainError::internal(format!("{what} {value} is too large")))
}
