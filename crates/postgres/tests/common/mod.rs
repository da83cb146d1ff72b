//! Helpers shared by the repository tests.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use whisper_domain::ports::UserRepository;
use whisper_domain::{Email, User, Username};
use whisper_postgres::PgUsers;
use whisper_postgres::testing::TestDatabase;

/// Now, at the microsecond precision PostgreSQL keeps.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

/// A new account named `name` with email `<name>@example.org`.
pub fn user(name: &str) -> User {
    User::register(
        Email::parse(&format!("{name}@example.org")).unwrap(),
        Username::parse(name).unwrap(),
        true,
        now(),
    )
}

/// Stores a new account named `name`.
pub async fn stored_user(db: &TestDatabase, name: &str) -> User {
    let account = user(name);
    PgUsers::new(db.database.clone())
        .insert(&account)
        .await
        .unwrap();
    account
}
