#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
//! Every migration applies, reverts and applies again, leaving the same schema.

use diesel::{Connection, QueryableByName, RunQueryDsl, sql_query};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;
use whisper_postgres::MIGRATIONS;
use whisper_postgres::testing::TestDatabase;

type SyncConnection = AsyncConnectionWrapper<AsyncPgConnection>;

#[derive(QueryableByName, Debug, PartialEq)]
struct SchemaLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// Tables, columns, constraints, indexes, domains, triggers and functions of the public
/// schema, as sorted text.
fn schema_dump(conn: &mut SyncConnection) -> Vec<String> {
    let lines: Vec<SchemaLine> = sql_query(
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' \
             || is_nullable || ' ' || coalesce(column_default, '') AS line \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
         UNION ALL \
         SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
             || pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
             AND conrelid::regclass::text <> '__diesel_schema_migrations' \
         UNION ALL \
         SELECT 'index ' || indexdef FROM pg_indexes \
         WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' \
         UNION ALL \
         SELECT 'type ' || typname FROM pg_type \
         WHERE typnamespace = 'public'::regnamespace AND typtype = 'd' \
         UNION ALL \
         SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal \
         UNION ALL \
         SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc \
         WHERE pronamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .load(conn)
    .unwrap();
    lines.into_iter().map(|l| l.line).collect()
}

#[tokio::test]
async fn each_migration_applies_reverts_and_applies_again_to_the_same_schema() {
    let db = TestDatabase::create_empty().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).unwrap();
        let empty = schema_dump(&mut conn);
        assert!(empty.is_empty(), "a new database has a schema: {empty:?}");

        let pending = conn.pending_migrations(MIGRATIONS).unwrap().len();
        assert!(pending >= 3, "only {pending} migrations found");
        for _ in 0..pending {
            let before = schema_dump(&mut conn);
            conn.run_next_migration(MIGRATIONS).unwrap();
            let applied = schema_dump(&mut conn);
            assert_ne!(applied, before, "a migration changed nothing");
            conn.revert_last_migration(MIGRATIONS).unwrap();
            assert_eq!(schema_dump(&mut conn), before, "down did not undo up");
            conn.run_next_migration(MIGRATIONS).unwrap();
            assert_eq!(schema_dump(&mut conn), applied, "up again differs");
        }

        let full = schema_dump(&mut conn);
        conn.revert_all_migrations(MIGRATIONS).unwrap();
        assert!(
            schema_dump(&mut conn).is_empty(),
            "reverting all left objects behind"
        );
        conn.run_pending_migrations(MIGRATIONS).unwrap();
        assert_eq!(schema_dump(&mut conn), full);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_schema_has_the_indexes_that_queries_rely_on() {
    let db = TestDatabase::create().await;
    let url = db.url.clone();
    let dump = tokio::task::spawn_blocking(move || {
        schema_dump(&mut SyncConnection::establish(&url).unwrap())
    })
    .await
    .unwrap();
    for expected in [
        "index CREATE UNIQUE INDEX users_email_key",
        "index CREATE UNIQUE INDEX users_username_lower_key",
        "index CREATE UNIQUE INDEX rooms_room_name_lower_key",
        "index CREATE UNIQUE INDEX messages_room_seq_key ON public.messages USING btree (room_id, seq)",
        "index CREATE INDEX mail_outbox_due_idx",
    ] {
        assert!(
            dump.iter().any(|line| line.starts_with(expected)),
            "missing {expected:?} in {dump:#?}"
        );
    }
}

#[tokio::test]
async fn the_seq_migration_numbers_existing_messages_in_their_former_order() {
    let db = TestDatabase::create_migrated_until("2026-11-25-000005").await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).unwrap();
        // Two rooms; ties on `created` were broken by id.
        for statement in [
            "INSERT INTO users (id, email, username, is_username_set, is_email_verified) \
             VALUES ('uuuuuuuuuuuuuuuuuuuu1', 'a@example.org', 'ada', true, true)",
            "INSERT INTO rooms (id, room_name, creator) VALUES \
             ('rrrrrrrrrrrrrrrrrrrr1', 'one', 'uuuuuuuuuuuuuuuuuuuu1'), \
             ('rrrrrrrrrrrrrrrrrrrr2', 'two', 'uuuuuuuuuuuuuuuuuuuu1'), \
             ('rrrrrrrrrrrrrrrrrrrr3', 'empty', 'uuuuuuuuuuuuuuuuuuuu1')",
            "INSERT INTO messages (id, room_id, sender_id, message_format, text_content, created) \
             VALUES \
             ('mmmmmmmmmmmmmmmmmmmmC', 'rrrrrrrrrrrrrrrrrrrr1', 'uuuuuuuuuuuuuuuuuuuu1', 'text', 'c', '2026-01-01 00:00:02+00'), \
             ('mmmmmmmmmmmmmmmmmmmmB', 'rrrrrrrrrrrrrrrrrrrr1', 'uuuuuuuuuuuuuuuuuuuu1', 'text', 'b', '2026-01-01 00:00:01+00'), \
             ('mmmmmmmmmmmmmmmmmmmmA', 'rrrrrrrrrrrrrrrrrrrr1', 'uuuuuuuuuuuuuuuuuuuu1', 'text', 'a', '2026-01-01 00:00:01+00'), \
             ('mmmmmmmmmmmmmmmmmmmmX', 'rrrrrrrrrrrrrrrrrrrr2', 'uuuuuuuuuuuuuuuuuuuu1', 'text', 'x', '2026-01-01 00:00:00+00')",
        ] {
            sql_query(statement).execute(&mut conn).unwrap();
        }
    })
    .await
    .unwrap();
    db.migrate_rest().await;

    let url = db.url.clone();
    let numbered = tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).unwrap();
        let lines: Vec<SchemaLine> = sql_query(
            "SELECT room_id || ' ' || text_content || ' ' || seq AS line FROM messages \
             UNION ALL SELECT id || ' last ' || last_seq FROM rooms ORDER BY 1",
        )
        .load(&mut conn)
        .unwrap();
        lines.into_iter().map(|l| l.line).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(
        numbered,
        [
            "rrrrrrrrrrrrrrrrrrrr1 a 1",
            "rrrrrrrrrrrrrrrrrrrr1 b 2",
            "rrrrrrrrrrrrrrrrrrrr1 c 3",
            "rrrrrrrrrrrrrrrrrrrr1 last 3",
            "rrrrrrrrrrrrrrrrrrrr2 last 1",
            "rrrrrrrrrrrrrrrrrrrr2 x 1",
            "rrrrrrrrrrrrrrrrrrrr3 last 0",
        ]
    );
}
