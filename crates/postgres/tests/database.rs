#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use whisper_postgres::database::{quote_identifier, split_database_name};
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{Database, Plans, ensure_database_exists, run_migrations};

#[tokio::test]
async fn a_test_database_is_migrated_and_answers() {
    let db = TestDatabase::create().await;
    db.database.ping().await.expect("ping");
    // Every migration is already applied to the clone.
    assert!(run_migrations(&db.url).await.expect("migrate").is_empty());
}

#[tokio::test]
async fn an_existing_database_is_not_created_again() {
    let db = TestDatabase::create().await;
    assert!(!ensure_database_exists(&db.url).await.expect("ensure"));
}

#[tokio::test]
async fn a_generic_plans_pool_plans_each_statement_once() {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        plan_cache_mode: String,
    }
    let db = TestDatabase::create().await;
    for (plans, expected) in [
        (Plans::Generic, "force_generic_plan"),
        (Plans::Adaptive, "auto"),
    ] {
        let pool = Database::connect(&db.url, 1, plans).unwrap();
        let mut conn = pool.connection().await.unwrap();
        let setting: Setting = diesel::sql_query("SHOW plan_cache_mode")
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(setting.plan_cache_mode, expected);
    }
}

#[tokio::test]
async fn concurrent_starts_create_a_missing_database_once() {
    // A fresh name, dropped again when the test ends; the race starts once it is gone.
    let db = TestDatabase::create_empty().await;
    let (admin_url, name) = split_database_name(&db.url).unwrap();
    let mut admin = AsyncPgConnection::establish(&admin_url).await.unwrap();
    diesel::sql_query(format!(
        "DROP DATABASE {} WITH (FORCE)",
        quote_identifier(&name)
    ))
    .execute(&mut admin)
    .await
    .unwrap();

    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { ensure_database_exists(&url).await })
        })
        .collect();
    let mut created = Vec::new();
    for start in starts {
        created.push(
            start
                .await
                .unwrap()
                .expect("a concurrent creation is no error"),
        );
    }
    assert_eq!(
        created.iter().filter(|created| **created).count(),
        1,
        "{created:?}"
    );
}
