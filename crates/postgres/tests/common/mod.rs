//! Helpers shared by the repository tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;

use chrono::{DateTime, Utc};
use whisper_domain::ports::{RoomRepository, UserRepository};
use whisper_domain::{Email, Room, RoomName, User, Username};
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{PgRooms, PgUsers};

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

/// A fresh database holding one stored account for each of `names`, in order.
pub async fn database_with<const N: usize>(names: [&str; N]) -> (TestDatabase, [User; N]) {
    let db = TestDatabase::create().await;
    let mut accounts = Vec::with_capacity(N);
    for name in names {
        accounts.push(stored_user(&db, name).await);
    }
    let accounts = accounts.try_into().unwrap();
    (db, accounts)
}

/// Starts eight copies of `attempt` before awaiting any, and counts the ones that succeeded.
pub async fn successes_of_eight<F>(attempt: impl Fn() -> F) -> usize
where
    F: Future<Output = bool> + Send + 'static,
{
    let running: Vec<_> = (0..8).map(|_| tokio::spawn(attempt())).collect();
    let mut successes = 0;
    for outcome in running {
        successes += usize::from(outcome.await.unwrap());
    }
    successes
}

/// A stored room named `name`, created by the first of `members`.
pub async fn room_of(db: &TestDatabase, name: &str, members: &[&User]) -> Room {
    let room = Room::open(
        RoomName::parse(name).unwrap(),
        members[0].id.clone(),
        members.iter().map(|m| m.id.clone()),
        now(),
    );
    PgRooms::new(db.database.clone())
        .create(&room)
        .await
        .unwrap();
    room
}
