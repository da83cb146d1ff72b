//! Storing a batch of messages: in one transaction, lock the batch's rooms, recognise
//! retried `client_id`s and refuse foreign replies under that lock, number the rest from
//! each room's counter, and insert them and advance the counters in one statement.
//! Round trips: the lock, a `client_id` lookup only when the batch has any, a reply lookup
//! only when it has replies, the insert, the commit. A batch for one room with neither
//! needs no lookup, so it is one statement (see [`INSERT_ONE_ROOM`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use whisper_domain::{
    DomainError, DomainResult, Field, Flaw, Message, Missing, NewMessage, Stored, Username,
};

use super::corrupt;
use super::message_rows::{Columns, EarlierRow, MessageRow};
use super::message_sql::{EARLIER_SENDS, INSERT_NUMBERED, INSERT_ONE_ROOM, LOCK_ROOMS, REPLIED_TO};
use super::messages::RoomPosition;
use crate::database::Database;
use crate::errors::unexpected;
use crate::prepared::{BindNext, prepared_sql};

/// Stores `messages` as the `MessageRepository::insert_many` contract says.
pub(super) async fn store(
    database: &Database,
    messages: &[NewMessage],
    client_ids_since: DateTime<Utc>,
) -> DomainResult<Vec<DomainResult<Stored>>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = database.connection().await?;
    if let Some(room) = plain_single_room(messages) {
        let numbered = insert_one_room(&mut conn, room, messages)
            .await
            .map_err(unexpected)?;
        if !numbered.is_empty() {
            crate::storage_metrics::messages_stored(messages.len());
        }
        return answers_one_room(messages, numbered);
    }
    let (fates, stored) = conn
        .transaction::<_, DieselError, _>(async move |conn| {
            let last_seqs = lock_rooms(conn, messages).await?;
            let earlier = earlier_sends(conn, messages, client_ids_since).await?;
            let replied_to = replied_to_rooms(conn, messages).await?;
            let (fates, counters) = plan(messages, last_seqs, earlier, &replied_to);
            let stored = insert_numbered(conn, messages, &fates, counters).await?;
            Ok((fates, stored))
        })
        .await
        .map_err(unexpected)?;
    crate::storage_metrics::messages_stored(stored.len());
    answers(messages, fates, stored)
}

/// The room of a batch whose messages all go to one room, none with a `client_id` or a
/// reply: nothing to look up under the lock.
fn plain_single_room(messages: &[NewMessage]) -> Option<&str> {
    let room = messages.first()?.room.as_str();
    messages
        .iter()
        .all(|m| m.room.as_str() == room && m.client_id.is_none() && m.reply_to.is_none())
        .then_some(room)
}

/// What the one-room statement reads back: the room's counter before the batch, and the
/// name of one of the batch's senders.
#[derive(diesel::QueryableByName)]
struct NumberedBy {
    #[diesel(sql_type = BigInt)]
    base: i64,
    #[diesel(sql_type = Text)]
    sender_id: String,
    #[diesel(sql_type = Text)]
    sender_username: String,
}

/// Stores a plain one-room batch in one statement; no rows when the room is gone.
async fn insert_one_room(
    conn: &mut AsyncPgConnection,
    room: &str,
    messages: &[NewMessage],
) -> Result<Vec<NumberedBy>, DieselError> {
    let placed: Vec<(&NewMessage, i64)> = messages.iter().zip(1..).collect();
    let columns = Columns::of(&placed).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    let count = i64::try_from(messages.len()).unwrap_or(i64::MAX);
    let mut senders: Vec<&str> = messages.iter().map(|m| m.sender.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    prepared_sql(INSERT_ONE_ROOM)
        .bind::<Array<Text>, _>(&columns.id)
        .bind::<Array<Text>, _>(&columns.room)
        .bind::<Array<Text>, _>(&columns.sender)
        .bind::<Array<Text>, _>(&columns.format)
        .bind::<Array<Nullable<Text>>, _>(&columns.text)
        .bind::<Array<Nullable<Text>>, _>(&columns.media_key)
        .bind::<Array<Nullable<Text>>, _>(&columns.content_type)
        .bind::<Array<Nullable<BigInt>>, _>(&columns.media_size)
        .bind::<Array<Nullable<Text>>, _>(&columns.reply_to)
        .bind::<Array<Timestamptz>, _>(&columns.created)
        .bind::<Array<Nullable<Text>>, _>(&columns.client_id)
        .bind::<Array<BigInt>, _>(&columns.seq)
        .bind::<BigInt, _>(count)
        .bind::<Text, _>(room)
        .bind::<Array<Text>, _>(&senders)
        .load(conn)
        .await
}

/// Prepares the one-room statement on `conn` by running it for no message: it finds no
/// room, so it stores nothing and waits for no log flush.
pub(super) async fn prepare_one_room(conn: &mut AsyncPgConnection) -> Result<(), DieselError> {
    insert_one_room(conn, "", &[]).await.map(drop)
}

/// The answers to a plain one-room batch: every message stored as sent, numbered after
/// the counter's old value in batch order, or none (the room is gone).
fn answers_one_room(
    messages: &[NewMessage],
    numbered: Vec<NumberedBy>,
) -> DomainResult<Vec<DomainResult<Stored>>> {
    let Some(base) = <[_]>::first(&numbered).map(|row| row.base) else {
        return Ok(messages
            .iter()
            .map(|_| Err(DomainError::NotFound(Missing::Room)))
            .collect());
    };
    let mut names: HashMap<String, Username> = HashMap::with_capacity(numbered.len());
    for row in numbered {
        let name = Username::parse(&row.sender_username).map_err(|e| corrupt("username", e))?;
        names.insert(row.sender_id, name);
    }
    let base = u64::try_from(base).map_err(|e| corrupt("last seq", e))?;
    Ok(messages
        .iter()
        .zip(1..)
        .map(|(message, place)| {
            let sender_username = names
                .get(message.sender.as_str())
                .cloned()
                .ok_or_else(|| DomainError::internal("a sender's name was not read back"))?;
            Ok(Stored::New(Message {
                id: message.id.clone(),
                room: message.room.clone(),
                sender: message.sender.clone(),
                sender_username,
                content: message.content.clone(),
                reply_to: None,
                created: message.created,
                seq: base + place,
            }))
        })
        .collect())
}

/// What becomes of one message of the batch.
enum Fate {
    /// Stored under this seq.
    New(i64),
    /// Its `client_id` was stored before this batch: that message.
    Earlier(Box<MessageRow>),
    /// Its `client_id` came earlier in this batch, at this index.
    Twin(usize),
    /// Not stored, for this reason.
    Refused(DomainError),
}

/// (room, sender, client_id).
type ClientKey<'a> = (&'a str, &'a str, &'a str);

fn client_key(message: &NewMessage) -> Option<ClientKey<'_>> {
    let client_id = message.client_id.as_deref()?;
    Some((message.room.as_str(), message.sender.as_str(), client_id))
}

async fn lock_rooms(
    conn: &mut AsyncPgConnection,
    messages: &[NewMessage],
) -> Result<HashMap<String, i64>, DieselError> {
    let mut rooms: Vec<&str> = messages.iter().map(|m| m.room.as_str()).collect();
    rooms.sort_unstable();
    rooms.dedup();
    let locked: Vec<RoomPosition> = prepared_sql(LOCK_ROOMS)
        .bind::<Array<Text>, _>(&rooms)
        .load(conn)
        .await?;
    Ok(locked
        .into_iter()
        .map(|room| (room.id, room.last_seq))
        .collect())
}

/// The messages stored since `since` under the batch's `client_id`s, by key.
async fn earlier_sends(
    conn: &mut AsyncPgConnection,
    messages: &[NewMessage],
    since: DateTime<Utc>,
) -> Result<HashMap<(String, String, String), MessageRow>, DieselError> {
    let keys: Vec<ClientKey<'_>> = messages.iter().filter_map(client_key).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rooms: Vec<&str> = keys.iter().map(|key| key.0).collect();
    let senders: Vec<&str> = keys.iter().map(|key| key.1).collect();
    let client_ids: Vec<&str> = keys.iter().map(|key| key.2).collect();
    let rows: Vec<EarlierRow> = prepared_sql(EARLIER_SENDS)
        .bind::<Array<Text>, _>(&rooms)
        .bind::<Array<Text>, _>(&senders)
        .bind::<Array<Text>, _>(&client_ids)
        .bind::<Timestamptz, _>(since)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = (
                row.message.room_id.clone(),
                row.message.sender_id.clone(),
                row.client_id,
            );
            (key, row.message)
        })
        .collect())
}

#[derive(diesel::QueryableByName)]
struct RepliedTo {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    room_id: String,
}

/// The room of each replied-to message that exists.
async fn replied_to_rooms(
    conn: &mut AsyncPgConnection,
    messages: &[NewMessage],
) -> Result<HashMap<String, String>, DieselError> {
    let ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.reply_to.as_ref().map(|id| id.as_str()))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<RepliedTo> = prepared_sql(REPLIED_TO)
        .bind::<Array<Text>, _>(&ids)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.room_id)).collect())
}

/// The fate of each message, in batch order, and each room's new last seq.
fn plan(
    messages: &[NewMessage],
    mut last_seqs: HashMap<String, i64>,
    mut earlier: HashMap<(String, String, String), MessageRow>,
    replied_to: &HashMap<String, String>,
) -> (Vec<Fate>, Vec<(String, i64)>) {
    let mut first_use: HashMap<ClientKey<'_>, usize> = HashMap::new();
    let mut advanced: Vec<String> = Vec::new();
    let mut fates = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        let key = client_key(message);
        if let Some(key) = key {
            let owned = (key.0.to_owned(), key.1.to_owned(), key.2.to_owned());
            if let Some(row) = earlier.remove(&owned) {
                first_use.insert(key, index);
                fates.push(Fate::Earlier(Box::new(row)));
                continue;
            }
            if let Some(&first) = first_use.get(&key) {
                fates.push(Fate::Twin(first));
                continue;
            }
        }
        let reply_in_room = message.reply_to.as_ref().is_none_or(|id| {
            replied_to.get(id.as_str()).map(String::as_str) == Some(message.room.as_str())
        });
        let Some(last_seq) = last_seqs.get_mut(message.room.as_str()) else {
            fates.push(Fate::Refused(DomainError::NotFound(Missing::Room)));
            continue;
        };
        if !reply_in_room {
            fates.push(Fate::Refused(DomainError::invalid(
                Field::ReplyTo,
                Flaw::ReplyOutsideRoom,
            )));
            continue;
        }
        *last_seq += 1;
        if !advanced.iter().any(|room| room == message.room.as_str()) {
            advanced.push(message.room.as_str().to_owned());
        }
        if let Some(key) = key {
            first_use.insert(key, index);
        }
        fates.push(Fate::New(*last_seq));
    }
    let counters = advanced
        .into_iter()
        .map(|room| {
            let last = last_seqs.get(&room).copied().unwrap_or_default();
            (room, last)
        })
        .collect();
    (fates, counters)
}

/// Inserts the messages whose fate is `New` and sets the rooms' counters to `counters`.
async fn insert_numbered(
    conn: &mut AsyncPgConnection,
    messages: &[NewMessage],
    fates: &[Fate],
    counters: Vec<(String, i64)>,
) -> Result<Vec<MessageRow>, DieselError> {
    let numbered: Vec<(&NewMessage, i64)> = messages
        .iter()
        .zip(fates)
        .filter_map(|(message, fate)| match fate {
            Fate::New(seq) => Some((message, *seq)),
            _ => None,
        })
        .collect();
    if numbered.is_empty() {
        return Ok(Vec::new());
    }
    let columns =
        Columns::of(&numbered).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    let (rooms, last_seqs): (Vec<String>, Vec<i64>) = counters.into_iter().unzip();
    prepared_sql(INSERT_NUMBERED)
        .bind::<Array<Text>, _>(&columns.id)
        .bind::<Array<Text>, _>(&columns.room)
        .bind::<Array<Text>, _>(&columns.sender)
        .bind::<Array<Text>, _>(&columns.format)
        .bind::<Array<Nullable<Text>>, _>(&columns.text)
        .bind::<Array<Nullable<Text>>, _>(&columns.media_key)
        .bind::<Array<Nullable<Text>>, _>(&columns.content_type)
        .bind::<Array<Nullable<BigInt>>, _>(&columns.media_size)
        .bind::<Array<Nullable<Text>>, _>(&columns.reply_to)
        .bind::<Array<Timestamptz>, _>(&columns.created)
        .bind::<Array<Nullable<Text>>, _>(&columns.client_id)
        .bind::<Array<BigInt>, _>(&columns.seq)
        .bind::<Array<Text>, _>(&rooms)
        .bind::<Array<BigInt>, _>(&last_seqs)
        .load(conn)
        .await
}

/// One answer per message, in batch order.
fn answers(
    messages: &[NewMessage],
    fates: Vec<Fate>,
    stored: Vec<MessageRow>,
) -> DomainResult<Vec<DomainResult<Stored>>> {
    let mut stored: HashMap<String, MessageRow> = stored
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let mut answers: Vec<DomainResult<Stored>> = Vec::with_capacity(messages.len());
    for (message, fate) in messages.iter().zip(fates) {
        let answer = match fate {
            Fate::New(_) => match stored.remove(message.id.as_str()) {
                Some(row) => row.into_domain().map(Stored::New),
                None => Err(DomainError::internal("a numbered message was not stored")),
            },
            Fate::Earlier(row) => row.into_domain().map(Stored::Earlier),
            Fate::Twin(first) => match answers.get(first) {
                Some(Ok(first)) => Ok(Stored::Earlier(first.message().clone())),
                Some(Err(error)) => Err(error.clone()),
                None => Err(DomainError::internal("a twin came before its original")),
            },
            Fate::Refused(error) => Err(error),
        };
        answers.push(answer);
    }
    Ok(answers)
}
