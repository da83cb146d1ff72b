//! The connection pool, database creation and embedded migrations.

use std::time::Duration;

use diesel::{Connection, ConnectionError, ConnectionResult, sql_query};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use url::Url;
use whisper_domain::{DomainError, Service};

use crate::errors::StorageError;

/// Every migration of `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// How long a caller waits for a connection, or for a new one to be established.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How PostgreSQL plans the prepared statements of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plans {
    /// PostgreSQL's default: a statement is re-planned with its values whenever that
    /// promises a better plan (needed by a `LIKE $1` prefix search to use its index).
    Adaptive,
    /// Each statement is planned once per connection (`plan_cache_mode =
    /// force_generic_plan`), for statements whose best plan never depends on their values.
    /// Re-planning the message insert's joins cost more than running it: measured 45,500
    /// against 74,500 to 80,500 fanout deliveries/s.
    Generic,
}

/// How a pool's connections are used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections handed out.
    pub in_use: usize,
    /// Connections open and free.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// A pool of connections to Whisper's PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
}

impl Database {
    /// A pool of at most `max_connections` to `url`. Connects lazily: building never fails
    /// because PostgreSQL is down, and the pool recovers by itself when it comes back.
    pub fn connect(url: &str, max_connections: usize, plans: Plans) -> Result<Self, StorageError> {
        // No test query on every checkout: it doubled the round trips of short statements.
        // A connection that broke is found on its first use and discarded.
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Fast;
        if plans == Plans::Generic {
            config.custom_setup = Box::new(|url| Box::pin(establish_planning_once(url.to_owned())));
        }
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .wait_timeout(Some(ACQUIRE_TIMEOUT))
            .create_timeout(Some(ACQUIRE_TIMEOUT))
            .recycle_timeout(Some(ACQUIRE_TIMEOUT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| StorageError::Setup(format!("connection pool: {e}")))?;
        Ok(Self { pool })
    }

    /// A connection from the pool, or `Unavailable` when PostgreSQL does not answer in time.
    pub async fn connection(&self) -> Result<Object<AsyncPgConnection>, DomainError> {
        self.pool.get().await.map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            DomainError::Unavailable(Service::Database)
        })
    }

    /// How the pool's connections are used right now (no query: the pool's own counts).
    pub fn pool_use(&self) -> PoolUse {
        let status = self.pool.status();
        PoolUse {
            in_use: status.size.saturating_sub(status.available),
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// Whether PostgreSQL answers a trivial query now.
    pub async fn ping(&self) -> Result<(), DomainError> {
        let mut conn = self.connection().await?;
        let query = sql_query("SELECT 1").execute(&mut conn);
        match tokio::time::timeout(ACQUIRE_TIMEOUT, query).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "database ping failed");
                Err(DomainError::Unavailable(Service::Database))
            }
            Err(_) => Err(DomainError::Unavailable(Service::Database)),
        }
    }
}

async fn establish_planning_once(url: String) -> ConnectionResult<AsyncPgConnection> {
    let mut connection = AsyncPgConnection::establish(&url).await?;
    connection
        .batch_execute("SET plan_cache_mode = force_generic_plan")
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

/// Creates the database named in `url` when it does not exist, connecting to the server's
/// `postgres` database to do so. Returns whether it was created.
pub async fn ensure_database_exists(url: &str) -> Result<bool, StorageError> {
    let (admin_url, name) = split_database_name(url)?;
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(|e| StorageError::Connect(e.to_string()))?;
    if database_exists(&mut conn, &name).await? {
        return Ok(false);
    }
    let create = format!("CREATE DATABASE {}", quote_identifier(&name));
    let Err(error) = sql_query(create).execute(&mut conn).await else {
        return Ok(true);
    };
    // Another instance may have created it between our check and our CREATE: PostgreSQL
    // then answers duplicate_database (SQLSTATE 42P04), or unique_violation when both
    // commit at once. diesel keeps no SQLSTATE (42P04 becomes an `Unknown` kind), so the
    // race is recognised by its outcome instead of by the error's text: the database
    // exists now. Any other failure leaves no database behind and is reported.
    if database_exists(&mut conn, &name).await? {
        tracing::debug!(%error, database = %name, "created concurrently by someone else");
        return Ok(false);
    }
    Err(StorageError::from(error))
}

/// Whether the server has a database called `name`.
async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, StorageError> {
    let existing: Vec<DatabaseName> =
        sql_query("SELECT datname FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(name)
            .load(conn)
            .await
            .map_err(StorageError::from)?;
    Ok(!existing.is_empty())
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    datname: String,
}

/// Applies every pending migration; returns the versions applied.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, StorageError> {
    let url = url.to_owned();
    // The wrapper blocks on its own runtime, so it must run off the async executor.
    tokio::task::spawn_blocking(move || {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(&url)
            .map_err(|e| StorageError::Connect(e.to_string()))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| StorageError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|e| StorageError::Migration(format!("migration task failed: {e}")))?
}

/// Splits `postgres://…/name?…` into the same URL pointing at the `postgres` database, and `name`.
pub fn split_database_name(url: &str) -> Result<(String, String), StorageError> {
    let mut parsed =
        Url::parse(url).map_err(|e| StorageError::Setup(format!("DATABASE_URL: {e}")))?;
    let name = parsed.path().trim_start_matches('/').to_owned();
    if name.is_empty() {
        return Err(StorageError::Setup(
            "DATABASE_URL names no database (expected postgres://host:port/name)".into(),
        ));
    }
    parsed.set_path("/postgres");
    Ok((parsed.to_string(), name))
}

/// Quotes a PostgreSQL identifier so any name is safe inside SQL.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
