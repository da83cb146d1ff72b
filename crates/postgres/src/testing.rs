//! Throwaway databases for tests: each test gets its own database, cloned from a template
//! that was migrated once, and dropped when the test ends, so tests run in parallel.
//!
//! The server is found through `DATABASE_URL` (its database name is ignored), defaulting
//! to `postgres://postgres@127.0.0.1:5432`.

use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use url::Url;

use crate::database::{Database, quote_identifier, run_migrations};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database that exists for one test and is dropped with it.
pub struct TestDatabase {
    /// The URL of this test's database.
    pub url: String,
    name: String,
    admin_url: String,
    /// A pool connected to it.
    pub database: Database,
}

impl TestDatabase {
    /// A fresh, fully migrated database of its own.
    pub async fn create() -> Self {
        Self::create_from(true).await
    }

    /// A fresh database with no schema at all, for testing the migrations themselves.
    pub async fn create_empty() -> Self {
        Self::create_from(false).await
    }

    /// A fresh database migrated up to and including the migration whose version is
    /// `last` (e.g. `2026-11-25-000005`), for testing what a later migration does to
    /// existing rows; [`TestDatabase::migrate_rest`] applies the others.
    pub async fn create_migrated_until(last: &str) -> Self {
        let db = Self::create_empty().await;
        let (url, last) = (db.url.clone(), last.to_owned());
        tokio::task::spawn_blocking(move || migrate_until(&url, &last))
            .await
            .unwrap_or_else(|e| panic!("migrating: {e}"));
        db
    }

    /// Applies every migration not applied yet.
    pub async fn migrate_rest(&self) {
        run_migrations(&self.url)
            .await
            .unwrap_or_else(|e| panic!("migrating the rest: {e}"));
    }

    async fn create_from(migrated: bool) -> Self {
        let server = server_url();
        let admin_url = with_database(&server, "postgres");
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL does not answer at {admin_url}: {e}\n\
                 Start it (e.g. `pg_ctlcluster 15 main start`) or point DATABASE_URL at one \
                 (postgres://user@host:port, a user allowed to create databases)."
                )
            });
        let name = format!("whisper_test_{}", nanoid::nanoid!(12, &LOWER_ALPHANUMERIC));
        let mut create = format!("CREATE DATABASE {}", quote_identifier(&name));
        if migrated {
            let template = ensure_template(&server, &mut admin).await;
            create.push_str(&format!(" TEMPLATE {}", quote_identifier(&template)));
        }
        sql_query(create)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&server, &name);
        let database =
            Database::connect(&url, 8, crate::Plans::Adaptive).unwrap_or_else(|e| panic!("{e}"));
        Self {
            url,
            name,
            admin_url,
            database,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(&self.name)
        );
        // Drop runs outside any async context we could borrow, so use a runtime of our own.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await?;
                sql_query(drop).execute(&mut admin).await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(e)) = outcome {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// Runs the pending migrations of the database at `url` up to version `last`, in order.
fn migrate_until(url: &str, last: &str) {
    use diesel::Connection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;
    let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(url)
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    let pending = conn
        .pending_migrations(crate::MIGRATIONS)
        .unwrap_or_else(|e| panic!("listing migrations: {e}"));
    let mut applied = 0;
    for migration in pending {
        if migration.name().version().to_string().replace('-', "") > last.replace('-', "") {
            break;
        }
        conn.run_migration(&*migration)
            .unwrap_or_else(|e| panic!("migration {}: {e}", migration.name()));
        applied += 1;
    }
    assert!(applied > 0, "no migration up to {last}");
}

const LOWER_ALPHANUMERIC: [char; 36] = [
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
];

/// The server URL from `DATABASE_URL`, without a database name.
pub fn server_url() -> String {
    let raw = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
    with_database(&raw, "")
}

/// `server` pointing at database `name`.
pub fn with_database(server: &str, name: &str) -> String {
    let mut url = Url::parse(server).unwrap_or_else(|e| panic!("DATABASE_URL {server:?}: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string().trim_end_matches('/').to_owned()
}

/// The template database for the current migrations, migrating it once. The name carries a
/// hash of the migrations, so a changed migration gets a new template. Test processes
/// serialize on an advisory lock so only one of them builds it.
async fn ensure_template(server: &str, admin: &mut AsyncPgConnection) -> String {
    let template = format!("whisper_template_{}", env!("WHISPER_MIGRATIONS_HASH"));

    sql_query("SELECT pg_advisory_lock(727274)")
        .execute(admin)
        .await
        .unwrap_or_else(|e| panic!("advisory lock: {e}"));
    let exists = sql_query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(&template)
        .execute(admin)
        .await
        .unwrap_or_else(|e| panic!("looking up the template: {e}"))
        > 0;
    if !exists {
        drop_stale_templates(admin).await;
        let building = format!("{template}_building");
        for statement in [
            format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_identifier(&building)
            ),
            format!("CREATE DATABASE {}", quote_identifier(&building)),
        ] {
            sql_query(statement)
                .execute(admin)
                .await
                .unwrap_or_else(|e| panic!("preparing the template: {e}"));
        }
        run_migrations(&with_database(server, &building))
            .await
            .unwrap_or_else(|e| panic!("migrating the template: {e}"));
        // Renamed only once complete, so a half-built template is never cloned.
        let rename = format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_identifier(&building),
            quote_identifier(&template)
        );
        sql_query(rename)
            .execute(admin)
            .await
            .unwrap_or_else(|e| panic!("publishing the template: {e}"));
    }
    sql_query("SELECT pg_advisory_unlock(727274)")
        .execute(admin)
        .await
        .unwrap_or_else(|e| panic!("advisory unlock: {e}"));
    template
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Templates of older migrations are dead weight on a developer's server.
async fn drop_stale_templates(admin: &mut AsyncPgConnection) {
    let stale: Vec<DatabaseName> =
        sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'whisper\\_template\\_%'")
            .load(admin)
            .await
            .unwrap_or_default();
    for DatabaseName { datname } in stale {
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(&datname)
        );
        let _ = sql_query(drop).execute(admin).await;
    }
}

/// Stores one message as a batch of one, the way tests seed history.
pub async fn insert_message(
    messages: &crate::PgMessages,
    message: &whisper_domain::NewMessage,
) -> whisper_domain::DomainResult<whisper_domain::Message> {
    use whisper_domain::ports::MessageRepository;
    let since = message.created - chrono::Duration::hours(24);
    let results = messages
        .insert_many(std::slice::from_ref(message), since)
        .await?;
    let stored = results.into_iter().next().unwrap_or_else(|| {
        Err(whisper_domain::DomainError::internal(
            "a batch of one stored nothing",
        ))
    })?;
    Ok(stored.message().clone())
}

#[derive(diesel::QueryableByName)]
struct QueuedEmail {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    failed_attempts: i32,
}

/// The failed attempts of each email still queued for delivery (not abandoned) in the
/// database at `url`, oldest first: tests wait on it instead of on the clock.
pub async fn queued_email_attempts(url: &str) -> Vec<i32> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    let queued: Vec<QueuedEmail> =
        sql_query("SELECT failed_attempts FROM mail_outbox WHERE abandoned_at IS NULL ORDER BY id")
            .load(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("reading the mail outbox: {e}"));
    queued
        .into_iter()
        .map(|email| email.failed_attempts)
        .collect()
}

#[derive(diesel::QueryableByName)]
struct RowCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// How many rows `table` holds in the database at `url`, for tests that check a refused
/// request left nothing behind. `table` is a name the test wrote, never input.
pub async fn row_count(url: &str, table: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    let query = format!("SELECT count(*) AS count FROM {}", quote_identifier(table));
    let counted: RowCount = sql_query(query)
        .get_result(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("counting {table}: {e}"));
    counted.count
}
