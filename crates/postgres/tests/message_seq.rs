#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
//! Room order across instances: PostgreSQL numbers each room's messages under the room
//! row's lock, so several writers (each with a pool of its own, as instances have) never
//! leave holes, commit in seq order, and store a retried `client_id` once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;
use common::{database_with, now, room_of};
use whisper_domain::ports::MessageRepository;
use whisper_domain::{
    Message, MessageContent, MessageCursor, MessageId, MessageText, NewMessage, Room, Stored, User,
};
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{Database, PgMessages, Plans};

fn text(room: &Room, sender: &User, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        room: room.id.clone(),
        sender: sender.id.clone(),
        content: MessageContent::Text(MessageText::parse(body).unwrap()),
        reply_to: None,
        created: now(),
        client_id: client_id.map(str::to_owned),
    }
}

/// A writer with a pool of its own, as another instance would have.
fn instance(db: &TestDatabase) -> PgMessages {
    PgMessages::new(Database::connect(&db.url, 2, Plans::Generic).unwrap())
}

fn window_start() -> chrono::DateTime<chrono::Utc> {
    now() - Duration::hours(24)
}

/// Every message of the room, by seq.
async fn history(messages: &PgMessages, room: &Room) -> Vec<Message> {
    messages
        .after(&room.id, &MessageCursor { seq: 0 }, 10_000)
        .await
        .unwrap()
}

fn new_message(result: &whisper_domain::DomainResult<Stored>) -> Message {
    match result {
        Ok(Stored::New(message)) => message.clone(),
        other => panic!("expected a new message, got {other:?}"),
    }
}

#[tokio::test]
async fn two_instances_writing_one_room_get_seqs_without_holes_in_commit_order() {
    const BATCHES: usize = 25;
    const BATCH: usize = 4;
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let room = room_of(&db, "busy", &[&ada, &bob]).await;
    let writing = Arc::new(AtomicBool::new(true));

    // While the writers run, whatever a reader sees is a prefix of the room: 1..=n. A
    // later seq committed before an earlier one would show as a hole.
    let reader = {
        let (messages, room, writing) = (instance(&db), room.clone(), writing.clone());
        tokio::spawn(async move {
            let mut looks = 0;
            while writing.load(Ordering::SeqCst) || looks == 0 {
                let seen: Vec<u64> = history(&messages, &room)
                    .await
                    .iter()
                    .map(|m| m.seq)
                    .collect();
                assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>(), "a hole");
                looks += 1;
            }
        })
    };
    let writer = |sender: User| {
        let (messages, room) = (instance(&db), room.clone());
        tokio::spawn(async move {
            let mut answered = Vec::new();
            for b in 0..BATCHES {
                // Odd batches carry client ids, so they take the locking transaction; even
                // ones are plain and take the one-statement path: both interleave.
                let batch: Vec<NewMessage> = (0..BATCH)
                    .map(|i| {
                        let body = format!("{b}.{i}");
                        let client_id = (b % 2 == 1).then(|| format!("c-{body}"));
                        text(&room, &sender, &body, client_id.as_deref())
                    })
                    .collect();
                let results = messages.insert_many(&batch, window_start()).await.unwrap();
                let stored: Vec<Message> = results.iter().map(new_message).collect();
                let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
                let first = seqs[0];
                assert_eq!(seqs, (first..first + BATCH as u64).collect::<Vec<_>>());
                answered.extend(stored);
            }
            answered
        })
    };
    let (ada_writes, bob_writes) = (writer(ada.clone()), writer(bob.clone()));
    let (ada_answers, bob_answers) = (ada_writes.await.unwrap(), bob_writes.await.unwrap());
    writing.store(false, Ordering::SeqCst);
    reader.await.unwrap();

    let all = history(&instance(&db), &room).await;
    let total = (2 * BATCHES * BATCH) as u64;
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    for (writer, answers) in [(&ada, &ada_answers), (&bob, &bob_answers)] {
        let theirs: Vec<&Message> = all.iter().filter(|m| m.sender == writer.id).collect();
        assert_eq!(
            theirs,
            answers.iter().collect::<Vec<_>>(),
            "a writer's messages are in history in the order it was answered"
        );
    }
    let positions = instance(&db)
        .positions(std::slice::from_ref(&room.id))
        .await
        .unwrap();
    assert_eq!(positions, [(room.id.clone(), total)]);
}

#[tokio::test]
async fn a_client_id_sent_through_two_instances_at_once_is_stored_once() {
    let (db, [ada]) = database_with(["ada"]).await;
    let room = room_of(&db, "general", &[&ada]).await;
    let (here, there) = (instance(&db), instance(&db));
    for attempt in 0..20 {
        let client_id = format!("c-{attempt}");
        let (first, second) = (
            text(&room, &ada, "hello", Some(&client_id)),
            text(&room, &ada, "hello", Some(&client_id)),
        );
        let (a, b) = tokio::join!(
            here.insert_many(std::slice::from_ref(&first), window_start()),
            there.insert_many(std::slice::from_ref(&second), window_start()),
        );
        let (a, b) = (a.unwrap().remove(0).unwrap(), b.unwrap().remove(0).unwrap());
        assert_eq!(
            a.message(),
            b.message(),
            "both are answered with one message"
        );
        assert!(
            matches!(
                (&a, &b),
                (Stored::New(_), Stored::Earlier(_)) | (Stored::Earlier(_), Stored::New(_))
            ),
            "exactly one stored it: {a:?} {b:?}"
        );
    }
    let all = history(&here, &room).await;
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn client_ids_are_per_room_and_sender_and_last_one_window() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let (here, there) = (
        room_of(&db, "here", &[&ada, &bob]).await,
        room_of(&db, "there", &[&ada, &bob]).await,
    );
    let messages = instance(&db);
    let batch = [
        text(&here, &ada, "one", Some("c-1")),
        text(&here, &ada, "one again", Some("c-1")),
        text(&here, &bob, "bob's", Some("c-1")),
        text(&there, &ada, "elsewhere", Some("c-1")),
    ];
    let results = messages.insert_many(&batch, window_start()).await.unwrap();
    let original = new_message(&results[0]);
    assert_eq!(
        results[1],
        Ok(Stored::Earlier(original.clone())),
        "a twin in the batch"
    );
    assert_eq!(
        new_message(&results[2]).seq,
        2,
        "another sender's id, numbered next"
    );
    assert_eq!(
        new_message(&results[3]).seq,
        1,
        "another room's id, its own numbering"
    );

    let retry = [text(&here, &ada, "one", Some("c-1"))];
    let results = messages.insert_many(&retry, window_start()).await.unwrap();
    assert_eq!(results, [Ok(Stored::Earlier(original.clone()))]);
    let after_the_window = now() + Duration::seconds(1);
    let results = messages
        .insert_many(&retry, after_the_window)
        .await
        .unwrap();
    assert_eq!(
        new_message(&results[0]).seq,
        3,
        "outside the window it is new"
    );
}
