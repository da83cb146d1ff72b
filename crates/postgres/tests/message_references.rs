#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
//! A message's room and sender are checked once per statement instead of by per-row
//! foreign keys: the same refusals, the same locks, the same delete rules.

mod common;

use common::{database_with, now, room_of};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, RunQueryDsl, sql_query};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use whisper_domain::ports::MessageRepository;
use whisper_domain::{
    DomainError, MessageContent, MessageId, MessageText, NewMessage, Room, RoomId, UserId,
};
use whisper_postgres::PgMessages;
use whisper_postgres::testing::{TestDatabase, row_count};

type SyncConnection = AsyncConnectionWrapper<AsyncPgConnection>;

fn text(room: &Room, sender: &UserId) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        room: room.id.clone(),
        sender: sender.clone(),
        content: MessageContent::Text(MessageText::parse("hello").unwrap()),
        reply_to: None,
        created: now(),
        client_id: None,
    }
}

/// Runs `statement` on a connection of its own, in a blocking task.
async fn run(url: &str, statement: String) -> Result<usize, DieselError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).unwrap();
        sql_query(statement).execute(&mut conn)
    })
    .await
    .unwrap()
}

fn is_foreign_key_violation(outcome: &Result<usize, DieselError>) -> bool {
    matches!(
        outcome,
        Err(DieselError::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            _
        ))
    )
}

async fn last_seq(db: &TestDatabase, room: &Room) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct LastSeq {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_seq: i64,
    }
    let url = db.url.clone();
    let room = room.id.as_str().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).unwrap();
        let row: LastSeq = sql_query("SELECT last_seq FROM rooms WHERE id = $1")
            .bind::<diesel::sql_types::Text, _>(room)
            .get_result(&mut conn)
            .unwrap();
        row.last_seq
    })
    .await
    .unwrap()
}

fn insert_sql(room: &str, sender: &str, seq: i64) -> String {
    format!(
        "INSERT INTO messages (id, room_id, sender_id, message_format, text_content, created, seq) \
         VALUES ('{}', '{room}', '{sender}', 'text', 'hi', now(), {seq})",
        MessageId::generate().as_str()
    )
}

#[tokio::test]
async fn a_batch_with_an_unknown_sender_stores_nothing_and_numbers_nothing() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let room = room_of(&db, "general", &[&ada, &bob]).await;
    let messages = PgMessages::new(db.database.clone());
    let ghost = UserId::generate();

    for batch in [
        vec![text(&room, &ada.id), text(&room, &ghost)],
        // With a client_id the batch takes the path that locks rooms first.
        vec![NewMessage {
            client_id: Some("c1".into()),
            ..text(&room, &ghost)
        }],
    ] {
        let outcome = messages.insert_many(&batch, now()).await;
        assert!(
            matches!(outcome, Err(DomainError::Internal(_))),
            "{outcome:?}"
        );
    }
    assert_eq!(row_count(&db.url, "messages").await, 0);
    assert_eq!(last_seq(&db, &room).await, 0, "no seq was used up");

    let stored = messages
        .insert_many(&[text(&room, &bob.id)], now())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].as_ref().unwrap().message().seq, 1);
}

#[tokio::test]
async fn rows_naming_a_missing_room_or_sender_are_refused_as_a_foreign_key_would() {
    let (db, [ada, cy]) = database_with(["ada", "cyd"]).await;
    let room = room_of(&db, "general", &[&ada]).await;
    let (room_id, ada_id) = (room.id.as_str(), ada.id.as_str());
    let nobody = UserId::generate();
    let nowhere = RoomId::generate();

    let unknown_sender = run(&db.url, insert_sql(room_id, nobody.as_str(), 1)).await;
    assert!(
        is_foreign_key_violation(&unknown_sender),
        "{unknown_sender:?}"
    );
    let unknown_room = run(&db.url, insert_sql(nowhere.as_str(), ada_id, 1)).await;
    assert!(is_foreign_key_violation(&unknown_room), "{unknown_room:?}");
    assert_eq!(
        run(&db.url, insert_sql(room_id, ada_id, 1)).await.unwrap(),
        1
    );

    let moved = run(
        &db.url,
        format!(
            "UPDATE messages SET sender_id = '{}' WHERE room_id = '{room_id}'",
            nobody.as_str()
        ),
    )
    .await;
    assert!(is_foreign_key_violation(&moved), "{moved:?}");
    // cy is referenced by nothing: no foreign key is left to refuse it, the trigger does.
    let renumbered = run(
        &db.url,
        format!(
            "UPDATE users SET id = '{}' WHERE id = '{}'",
            nobody.as_str(),
            cy.id.as_str()
        ),
    )
    .await;
    assert!(is_foreign_key_violation(&renumbered), "{renumbered:?}");
}

#[tokio::test]
async fn a_sender_stays_while_a_room_takes_its_messages_with_it() {
    let (db, [ada, bob, cy]) = database_with(["ada", "bob", "cyd"]).await;
    let room = room_of(&db, "general", &[&ada, &bob]).await;
    let other = room_of(&db, "other", &[&ada]).await;
    let messages = PgMessages::new(db.database.clone());
    messages
        .insert_many(
            &[
                text(&room, &bob.id),
                text(&room, &ada.id),
                text(&other, &ada.id),
            ],
            now(),
        )
        .await
        .unwrap();

    let bob_id = bob.id.as_str();
    let deleted = run(&db.url, format!("DELETE FROM users WHERE id = '{bob_id}'")).await;
    assert!(is_foreign_key_violation(&deleted), "{deleted:?}");
    let silent = run(
        &db.url,
        format!("DELETE FROM users WHERE id = '{}'", cy.id.as_str()),
    )
    .await;
    assert_eq!(silent.unwrap(), 1, "a user who sent nothing can go");

    let room_id = room.id.as_str();
    run(
        &db.url,
        format!("DELETE FROM room_members WHERE room_id = '{room_id}'"),
    )
    .await
    .unwrap();
    run(&db.url, format!("DELETE FROM rooms WHERE id = '{room_id}'"))
        .await
        .unwrap();
    assert_eq!(
        row_count(&db.url, "messages").await,
        1,
        "only other's message"
    );
}

#[tokio::test]
async fn an_uncommitted_insert_holds_its_sender_until_it_commits() {
    // bob is a member, not the creator: only his message refers to him.
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let room = room_of(&db, "general", &[&ada, &bob]).await;
    let url = db.url.clone();
    let (room_id, bob_id) = (room.id.as_str().to_owned(), bob.id.as_str().to_owned());

    let mut inserter = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || SyncConnection::establish(&url).unwrap())
            .await
            .unwrap()
    };
    let inserter = tokio::task::spawn_blocking(move || {
        sql_query("BEGIN").execute(&mut inserter).unwrap();
        sql_query(insert_sql(&room_id, &bob_id, 1))
            .execute(&mut inserter)
            .unwrap();
        inserter
    })
    .await
    .unwrap();

    // Without a lock the delete would find no message and go through at once.
    let bob_id = bob.id.as_str();
    let waited = tokio::task::spawn_blocking({
        let (url, bob_id) = (url.clone(), bob_id.to_owned());
        move || {
            let mut conn = SyncConnection::establish(&url).unwrap();
            sql_query("SET lock_timeout = '50ms'")
                .execute(&mut conn)
                .unwrap();
            sql_query(format!("DELETE FROM users WHERE id = '{bob_id}'")).execute(&mut conn)
        }
    })
    .await
    .unwrap();
    assert!(
        matches!(&waited, Err(DieselError::DatabaseError(_, info)) if info.message().contains("lock timeout")),
        "{waited:?}"
    );

    let mut inserter = inserter;
    tokio::task::spawn_blocking(move || sql_query("COMMIT").execute(&mut inserter).unwrap())
        .await
        .unwrap();
    let deleted = run(&url, format!("DELETE FROM users WHERE id = '{bob_id}'")).await;
    assert!(is_foreign_key_violation(&deleted), "{deleted:?}");
}
