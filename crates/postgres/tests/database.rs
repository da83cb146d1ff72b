#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
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
