#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use common::{database_with, now, room_of};
use diesel_async::RunQueryDsl;
use whisper_domain::ports::MessageRepository;
use whisper_domain::{
    DomainError, Field, Flaw, MediaKey, MediaKind, MediaRef, Message, MessageContent,
    MessageCursor, MessageId, MessageText, NewMessage, Room, RoomId, Stored, User,
};
use whisper_postgres::testing::insert_message as insert;
use whisper_postgres::{Database, PgMessages, Plans};

fn text(room: &Room, sender: &User, body: &str, created: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        room: room.id.clone(),
        sender: sender.id.clone(),
        content: MessageContent::Text(MessageText::parse(body).unwrap()),
        reply_to: None,
        created,
        client_id: None,
    }
}

/// A media message of `kind` from `sender`, 42 bytes of `content_type`.
fn media(room: &Room, sender: &User, kind: MediaKind, content_type: &str) -> NewMessage {
    NewMessage {
        content: MessageContent::Media(MediaRef {
            kind,
            key: MediaKey::generate(),
            content_type: content_type.into(),
            size: 42,
        }),
        ..text(room, sender, "unused", now())
    }
}

/// Stores `new`, which must be accepted.
async fn store(messages: &PgMessages, new: &NewMessage) -> Message {
    insert(messages, new).await.unwrap()
}

fn body(message: &Message) -> &str {
    match &message.content {
        MessageContent::Text(text) => text.as_str(),
        MessageContent::Media(media) => media.kind.placeholder(),
    }
}

#[tokio::test]
async fn a_stored_message_comes_back_as_members_read_it() {
    let (db, [ada]) = database_with(["ada"]).await;
    let messages = PgMessages::new(db.database.clone());
    let room = room_of(&db, "general", &[&ada]).await;
    let new = text(&room, &ada, "hello", now());

    let stored = store(&messages, &new).await;
    assert_eq!(
        (stored.id.clone(), stored.sender_username.as_str()),
        (new.id.clone(), "ada")
    );
    assert_eq!(
        (
            stored.content.clone(),
            stored.created,
            stored.reply_to.clone()
        ),
        (new.content, new.created, None)
    );
    assert_eq!(messages.find(&new.id).await.unwrap(), Some(stored));
    assert_eq!(messages.find(&MessageId::generate()).await.unwrap(), None);
}

#[tokio::test]
async fn a_plain_batch_answers_each_message_as_it_is_read_back() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let messages = PgMessages::new(db.database.clone());
    let room = room_of(&db, "general", &[&ada, &bob]).await;
    store(&messages, &text(&room, &ada, "before", now())).await;
    let batch = [
        text(&room, &bob, "one", now()),
        media(&room, &ada, MediaKind::Video, "video/mp4"),
        text(&room, &bob, "three", now()),
    ];

    let answers = messages.insert_many(&batch, now()).await.unwrap();
    let mut seqs = Vec::new();
    for (answer, new) in answers.into_iter().zip(&batch) {
        let Stored::New(stored) = answer.unwrap() else {
            panic!("a plain batch has no earlier sends");
        };
        assert_eq!(messages.find(&new.id).await.unwrap(), Some(stored.clone()));
        seqs.push(stored.seq);
    }
    assert_eq!(
        seqs,
        [2, 3, 4],
        "numbered after the room's last message, in order"
    );
}

#[tokio::test]
async fn replies_quote_text_or_a_media_placeholder() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let messages = PgMessages::new(db.database.clone());
    let room = room_of(&db, "general", &[&ada, &bob]).await;
    let question = store(&messages, &text(&room, &ada, "lunch?", now())).await;
    let picture = insert(
        &messages,
        &media(&room, &ada, MediaKind::Image, "image/png"),
    )
    .await
    .unwrap();

    let mut answer = text(&room, &bob, "yes", now());
    answer.reply_to = Some(question.id.clone());
    let answer = store(&messages, &answer).await;
    let preview = answer.reply_to.unwrap();
    assert_eq!(
        (preview.message_id, preview.content.as_str(), preview.sender),
        (question.id, "lunch?", ada.id.clone())
    );

    let mut comment = text(&room, &bob, "nice", now());
    comment.reply_to = Some(picture.id.clone());
    let comment = store(&messages, &comment).await;
    assert_eq!(comment.reply_to.unwrap().content, "IMAGE");
    assert!(
        matches!(picture.content, MessageContent::Media(ref m) if m.size == 42 && m.content_type == "image/png")
    );
}

#[tokio::test]
async fn a_reply_to_another_rooms_message_is_refused_and_not_stored() {
    let (db, [ada]) = database_with(["ada"]).await;
    let messages = PgMessages::new(db.database.clone());
    let here = room_of(&db, "here", &[&ada]).await;
    let there = room_of(&db, "there", &[&ada]).await;
    let elsewhere = store(&messages, &text(&there, &ada, "over there", now())).await;

    for target in [elsewhere.id.clone(), MessageId::generate()] {
        let mut reply = text(&here, &ada, "re", now());
        reply.reply_to = Some(target);
        let id = reply.id.clone();
        assert_eq!(
            insert(&messages, &reply).await.unwrap_err(),
            DomainError::invalid(Field::ReplyTo, Flaw::ReplyOutsideRoom)
        );
        assert_eq!(messages.find(&id).await.unwrap(), None);
    }
}

#[tokio::test]
async fn paging_walks_every_message_once_newest_first_despite_ties_and_new_arrivals() {
    let (db, [ada]) = database_with(["ada"]).await;
    let messages = PgMessages::new(db.database.clone());
    let room = room_of(&db, "busy", &[&ada]).await;
    let other = room_of(&db, "other", &[&ada]).await;
    let start = now() - Duration::hours(1);
    let mut expected = HashSet::new();
    for i in 0..250 {
        // Runs of ten messages share a timestamp: order is seq, not time.
        let created = start + Duration::milliseconds(i / 10);
        expected.insert(
            store(&messages, &text(&room, &ada, &format!("m{i}"), created))
                .await
                .id,
        );
        store(&messages, &text(&other, &ada, "elsewhere", created)).await;
    }

    let mut seen: Vec<Message> = Vec::new();
    let mut cursor = None;
    loop {
        let page = messages.page(&room.id, cursor, 17).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 17);
        cursor = page.last().map(Message::cursor);
        seen.extend(page);
        // Newer messages keep arriving during the walk; they are not part of it.
        store(&messages, &text(&room, &ada, "late", now())).await;
    }

    assert_eq!(seen.len(), 250);
    assert!(seen.iter().all(|m| body(m) != "late" && m.room == room.id));
    assert_eq!(
        seen.iter().map(|m| m.id.clone()).collect::<HashSet<_>>(),
        expected
    );
    for pair in seen.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(
            newer.seq == older.seq + 1,
            "{:?} is not older than {:?}",
            older.cursor(),
            newer.cursor()
        );
    }
}

#[tokio::test]
async fn replay_reads_forward_from_a_cursor_and_positions_name_each_rooms_last_seq() {
    let (db, [ada]) = database_with(["ada"]).await;
    let messages = PgMessages::new(db.database.clone());
    let room = room_of(&db, "general", &[&ada]).await;
    let quiet = room_of(&db, "quiet", &[&ada]).await;
    let start = now() - Duration::minutes(10);
    let mut stored = Vec::new();
    for i in 0..5 {
        let new = text(&room, &ada, &format!("m{i}"), start + Duration::seconds(i));
        stored.push(store(&messages, &new).await);
    }
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    let after_second = messages
        .after(&room.id, &stored[1].cursor(), 2)
        .await
        .unwrap();
    assert_eq!(after_second, stored[2..4]);
    let from_start = messages
        .after(&room.id, &MessageCursor { seq: 0 }, 10)
        .await
        .unwrap();
    assert_eq!(from_start, stored);
    assert!(
        messages
            .after(&room.id, &stored[4].cursor(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let mut positions = messages
        .positions(&[room.id.clone(), quiet.id.clone(), RoomId::generate()])
        .await
        .unwrap();
    positions.sort_by_key(|(_, seq)| *seq);
    assert_eq!(positions, [(quiet.id.clone(), 0), (room.id.clone(), 5)]);
    assert_eq!(messages.positions(&[]).await.unwrap(), []);
}

#[tokio::test]
async fn a_batch_is_stored_in_one_go_except_its_foreign_replies() {
    let (db, [ada]) = database_with(["ada"]).await;
    let messages = PgMessages::new(db.database.clone());
    let here = room_of(&db, "here", &[&ada]).await;
    let there = room_of(&db, "there", &[&ada]).await;
    let elsewhere = store(&messages, &text(&there, &ada, "over there", now())).await;
    let question = store(&messages, &text(&here, &ada, "lunch?", now())).await;
    let start = now();
    let mut batch: Vec<NewMessage> = (0..4)
        .map(|i| {
            text(
                &here,
                &ada,
                &format!("b{i}"),
                start + Duration::microseconds(i),
            )
        })
        .collect();
    batch[1].reply_to = Some(elsewhere.id.clone());
    batch[2].reply_to = Some(question.id.clone());
    batch[3].client_id = Some("c-9".into());

    let results = messages
        .insert_many(&batch, start - Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[1].clone().unwrap_err(),
        DomainError::invalid(Field::ReplyTo, Flaw::ReplyOutsideRoom)
    );
    let kept: Vec<Message> = [0, 2, 3]
        .into_iter()
        .map(|i| match results[i].clone().unwrap() {
            Stored::New(message) => message,
            earlier => panic!("{earlier:?} was not stored now"),
        })
        .collect();
    assert_eq!(
        kept.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [2, 3, 4],
        "the refused reply took no seq"
    );
    assert_eq!(
        kept.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        [&batch[0], &batch[2], &batch[3]].map(|m| m.id.clone()),
        "results follow the batch's order"
    );
    assert_eq!(kept[1].reply_to.as_ref().unwrap().content, "lunch?");
    assert_eq!(messages.find(&batch[1].id).await.unwrap(), None);
    let history = messages.page(&here.id, None, 10).await.unwrap();
    assert_eq!(history.len(), 4, "the question and three of the batch");
    assert_eq!(history[0], kept[2]);
}

#[tokio::test]
async fn a_connection_prepares_the_message_insert_once() {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let (db, [ada]) = database_with(["ada"]).await;
    // One connection, so every statement below runs on it.
    let single = Database::connect(&db.url, 1, Plans::Generic).unwrap();
    let messages = PgMessages::new(single.clone());
    let room = room_of(&db, "general", &[&ada]).await;
    for n in 0..3 {
        store(&messages, &text(&room, &ada, &format!("m{n}"), now())).await;
    }
    let mut conn = single.connection().await.unwrap();
    let prepared: Count = diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements \
         WHERE statement LIKE '%INSERT ' || 'INTO messages%'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(prepared.count, 1, "parsed and planned once, then reused");
}

#[tokio::test]
async fn warming_opens_the_pools_connections_with_the_insert_prepared_on_each() {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let (db, _) = database_with(["ada"]).await;
    let pool = Database::connect(&db.url, 2, Plans::Generic).unwrap();
    assert_eq!(PgMessages::new(pool.clone()).warm(2).await, 2);
    assert_eq!(pool.pool_use().idle, 2, "both connections stay open");

    // Either connection the pool hands out has the statement ready, and nothing was stored.
    let mut conn = pool.connection().await.unwrap();
    let prepared: Count = diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements \
         WHERE statement LIKE 'WITH counter AS%'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(prepared.count, 1);
    assert_eq!(
        whisper_postgres::testing::row_count(&db.url, "messages").await,
        0
    );
}
