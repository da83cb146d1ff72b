//! Message history, read newest first by keyset pagination over (created, id).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use whisper_domain::ports::MessageRepository;
use whisper_domain::{
    ClientSend, DomainError, DomainResult, Field, Flaw, Message, MessageCursor, MessageId,
    NewMessage, RoomId,
};

use super::message_rows::{ClientMessageRow, Columns, MessageRow};
use crate::database::Database;
use crate::errors::unexpected;
use crate::prepared::{BindNext, prepared_sql};
use crate::schema::messages;

/// Messages in `messages`.
#[derive(Clone)]
pub struct PgMessages {
    database: Database,
}

impl PgMessages {
    /// Messages in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// A message as members read it (its sender's name, what it replies to) from the rows
/// `$from` calls `m`, selected by `$select` (`SELECT` and any columns before the message's).
/// A macro so every statement is one constant, composed by `concat!`.
macro_rules! select_message {
    () => {
        select_message!("SELECT", "messages m")
    };
    ($select:literal, $from:literal) => {
        concat!(
            $select,
            " m.id, m.room_id, m.sender_id, u.username AS sender_username, m.message_format, \
             m.text_content, m.media_key, m.media_content_type, m.media_size, m.is_reply, \
             m.created, p.id AS previous_id, p.message_format AS previous_format, \
             p.text_content AS previous_text, p.sender_id AS previous_sender \
             FROM ",
            $from,
            " JOIN users u ON u.id = m.sender_id \
             LEFT JOIN messages p ON p.id = m.previous_message_id"
        )
    };
}

/// One message by id.
const FIND: &str = concat!(select_message!(), " WHERE m.id = $1");

/// A batch of messages in one statement (one commit): the reply checks, the inserts, and
/// the rows as members read them (sender's name, replied-to preview).
const INSERT_MANY: &str = concat!(
    "WITH input AS ( \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
             $5::text[], $6::text[], $7::text[], $8::int8[], $9::text[], \
             $10::timestamptz[], $11::text[]) \
         AS i(id, room_id, sender_id, message_format, text_content, media_key, \
             media_content_type, media_size, previous_message_id, created, client_id)), \
     m AS ( \
         INSERT INTO messages (id, room_id, sender_id, message_format, text_content, \
             media_key, media_content_type, media_size, previous_message_id, is_reply, \
             created, client_id) \
         SELECT id, room_id, sender_id, message_format, text_content, media_key, \
             media_content_type, media_size, previous_message_id, \
             previous_message_id IS NOT NULL, created, client_id \
         FROM input i \
         WHERE i.previous_message_id IS NULL OR EXISTS ( \
             SELECT 1 FROM messages WHERE id = i.previous_message_id \
                 AND room_id = i.room_id) \
         RETURNING *) ",
    select_message!("SELECT", "m")
);

/// The newest page of a room. The row comparison of the next one walks
/// messages_room_created_id_idx backwards: no OFFSET.
const NEWEST_PAGE: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 ORDER BY m.created DESC, m.id DESC LIMIT $2"
);

/// A page of a room older than a cursor.
const PAGE_BEFORE: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 AND (m.created, m.id) < ($2, $3) \
     ORDER BY m.created DESC, m.id DESC LIMIT $4"
);

/// Messages of a room newer than a cursor: the same index, walked forwards.
const AFTER: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 AND (m.created, m.id) > ($2, $3) \
     ORDER BY m.created, m.id LIMIT $4"
);

/// The newest message per (sender, client_id) pair asked for.
const BY_CLIENT_IDS: &str = concat!(
    select_message!(
        "SELECT DISTINCT ON (m.sender_id, m.client_id) m.client_id,",
        "messages m"
    ),
    " JOIN unnest($2::text[], $3::text[]) AS k(sender_id, client_id) \
         ON m.sender_id = k.sender_id AND m.client_id = k.client_id \
     WHERE m.room_id = $1 AND m.created >= $4 \
     ORDER BY m.sender_id, m.client_id, m.created DESC"
);

async fn load_one(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> Result<Option<MessageRow>, DieselError> {
    prepared_sql(FIND)
        .bind::<Text, _>(id)
        .get_result(conn)
        .await
        .optional()
}

fn foreign_reply() -> DomainError {
    DomainError::invalid(Field::ReplyTo, Flaw::ReplyOutsideRoom)
}

#[async_trait]
impl MessageRepository for PgMessages {
    async fn insert_many(&self, rows: &[NewMessage]) -> DomainResult<Vec<DomainResult<Message>>> {
        let columns = Columns::of(rows)?;
        let mut conn = self.database.connection().await?;
        let stored: Vec<MessageRow> = prepared_sql(INSERT_MANY)
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
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        let mut stored: HashMap<String, MessageRow> = stored
            .into_iter()
            .map(|row| (row.id.clone(), row))
            .collect();
        Ok(rows
            .iter()
            .map(|row| match stored.remove(row.id.as_str()) {
                Some(stored) => stored.into_domain(),
                None => Err(foreign_reply()),
            })
            .collect())
    }

    async fn find(&self, id: &MessageId) -> DomainResult<Option<Message>> {
        let mut conn = self.database.connection().await?;
        load_one(&mut conn, id.as_str())
            .await
            .map_err(unexpected)?
            .map(MessageRow::into_domain)
            .transpose()
    }

    async fn page(
        &self,
        room: &RoomId,
        before: Option<MessageCursor>,
        limit: u32,
    ) -> DomainResult<Vec<Message>> {
        let mut conn = self.database.connection().await?;
        let rows: Vec<MessageRow> = match before {
            Some(cursor) => {
                prepared_sql(PAGE_BEFORE)
                    .bind::<Text, _>(room.as_str())
                    .bind::<Timestamptz, _>(cursor.created)
                    .bind::<Text, _>(cursor.id.as_str())
                    .bind::<BigInt, _>(i64::from(limit))
                    .load(&mut conn)
                    .await
            }
            None => {
                prepared_sql(NEWEST_PAGE)
                    .bind::<Text, _>(room.as_str())
                    .bind::<BigInt, _>(i64::from(limit))
                    .load(&mut conn)
                    .await
            }
        }
        .map_err(unexpected)?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    async fn after(
        &self,
        room: &RoomId,
        after: &MessageCursor,
        limit: u32,
    ) -> DomainResult<Vec<Message>> {
        let mut conn = self.database.connection().await?;
        let rows: Vec<MessageRow> = prepared_sql(AFTER)
            .bind::<Text, _>(room.as_str())
            .bind::<Timestamptz, _>(after.created)
            .bind::<Text, _>(after.id.as_str())
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    async fn latest_created(&self, room: &RoomId) -> DomainResult<Option<DateTime<Utc>>> {
        let mut conn = self.database.connection().await?;
        messages::table
            .filter(messages::room_id.eq(room.as_str()))
            .order((messages::created.desc(), messages::id.desc()))
            .select(messages::created)
            .first(&mut conn)
            .await
            .optional()
            .map_err(unexpected)
    }

    async fn find_by_client_ids(
        &self,
        room: &RoomId,
        sends: &[ClientSend],
        since: DateTime<Utc>,
    ) -> DomainResult<Vec<(ClientSend, Message)>> {
        let senders: Vec<&str> = sends.iter().map(|send| send.sender.as_str()).collect();
        let client_ids: Vec<&str> = sends.iter().map(|send| send.client_id.as_str()).collect();
        let mut conn = self.database.connection().await?;
        let rows: Vec<ClientMessageRow> = prepared_sql(BY_CLIENT_IDS)
            .bind::<Text, _>(room.as_str())
            .bind::<Array<Text>, _>(&senders)
            .bind::<Array<Text>, _>(&client_ids)
            .bind::<Timestamptz, _>(since)
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        rows.into_iter()
            .map(|row| {
                let message = row.message.into_domain()?;
                let send = ClientSend {
                    sender: message.sender.clone(),
                    client_id: row.client_id,
                };
                Ok((send, message))
            })
            .collect()
    }
}
