//! The repository ports of the domain, implemented over PostgreSQL. Each method is one
//! atomic business operation; rows are turned into domain types at this boundary.

mod message_batch;
mod message_rows;
mod message_sql;
mod messages;
mod outbox;
mod rooms;
mod tokens;
mod totp;
mod users;
mod verification;

pub use messages::PgMessages;
pub use outbox::{OutboxCounts, PgMailOutbox};
pub use rooms::PgRooms;
pub use tokens::PgTokens;
pub use totp::{PgTotpAttempts, PgTotpDevices};
pub use users::PgUsers;
pub use verification::PgVerificationCodes;

use std::pin::Pin;

use diesel::OptionalExtension;
use diesel::dsl::Limit;
use diesel::query_dsl::methods::LimitDsl;
use diesel_async::methods::{ExecuteDsl, LoadQuery};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use whisper_domain::{DomainError, DomainResult};

use crate::database::Database;
use crate::errors::unexpected;

/// A stored value that no longer parses means the table was edited behind our back.
fn corrupt(what: &str, error: impl std::fmt::Display) -> DomainError {
    tracing::error!(%error, "corrupt {what} in the database");
    DomainError::internal(format!("corrupt {what} in the database: {error}"))
}

/// Counts and sizes fit in an i64 column; larger ones are refused rather than wrapped.
fn to_i64(value: u64, what: &str) -> Result<i64, DomainError> {
    i64::try_from(value).map_err(|_| DomainError::internal(format!("{what} {value} is too large")))
}

/// A boxed query future: naming it `Send` here spares every `async_trait` caller the
/// compiler's "not general enough" on the query's borrowed lifetimes.
type Query<'a, T> = Pin<Box<dyn Future<Output = DomainResult<T>> + Send + 'a>>;

/// The first row `query` selects, or `None`, read on a connection of `database`.
fn first_row<'a, Q, Row>(database: &'a Database, query: Q) -> Query<'a, Option<Row>>
where
    Q: LimitDsl + Send + 'a,
    Limit<Q>: LoadQuery<'a, AsyncPgConnection, Row> + Send + 'a,
    Row: Send + 'static,
{
    Box::pin(async move {
        let mut conn = database.connection().await?;
        query.first(&mut conn).await.optional().map_err(unexpected)
    })
}

/// The first row `query` selects as its domain value (by `into_domain`), or `None`.
fn find_one<'a, Q, Row, T>(
    database: &'a Database,
    query: Q,
    into_domain: fn(Row) -> DomainResult<T>,
) -> Query<'a, Option<T>>
where
    Q: LimitDsl + Send + 'a,
    Limit<Q>: LoadQuery<'a, AsyncPgConnection, Row> + Send + 'a,
    Row: Send + 'static,
    T: Send + 'a,
{
    let row = first_row(database, query);
    Box::pin(async move { row.await?.map(into_domain).transpose() })
}

/// Runs `statement` on a connection of `database`, whatever the rows it touches.
fn run<'a, Q>(database: &'a Database, statement: Q) -> Query<'a, ()>
where
    Q: ExecuteDsl<AsyncPgConnection> + Send + 'a,
{
    Box::pin(async move {
        let mut conn = database.connection().await?;
        statement.execute(&mut conn).await.map_err(unexpected)?;
        Ok(())
    })
}
