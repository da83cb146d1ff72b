#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{ensure_database_exists, run_migrations};

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
