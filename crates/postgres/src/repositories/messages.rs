//! Message history, read by each room's `seq` (keyset pagination over `(room_id, seq)`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use whisper_domain::ports::MessageRepository;
use whisper_domain::{DomainResult, Message, MessageCursor, MessageId, NewMessage, RoomId, Stored};

use super::corrupt;
use super::message_batch;
use super::message_rows::MessageRow;
use super::message_sql::{AFTER, FIND, NEWEST_PAGE, PAGE_BEFORE, POSITIONS};
use crate::database::Database;
use crate::errors::unexpected;
use crate::prepared::{BindNext, prepared_sql};

/// Messages in `messages`, numbered by the counters of `rooms`.
#[derive(Clone)]
pub struct PgMessages {
    database: Database,
}

impl PgMessages {
    /// Messages in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Opens `connections` of the pool's connections and prepares the one-room insert on
    /// each, so that the first messages after a start wait for neither (together about
    /// 20 ms a connection). Returns how many it prepared; what fails is left for the first
    /// send to meet.
    pub async fn warm(&self, connections: usize) -> usize {
        // All held at once, so that each is a connection of its own.
        let mut held = Vec::with_capacity(connections);
        for _ in 0..connections {
            match self.database.connection().await {
                Ok(conn) => held.push(conn),
                Err(_) => break,
            }
        }
        let mut prepared = 0;
        for conn in &mut held {
            if message_batch::prepare_one_room(conn).await.is_ok() {
                prepared += 1;
            }
        }
        prepared
    }
}

/// A room's last seq.
#[derive(QueryableByName)]
pub(super) struct RoomPosition {
    #[diesel(sql_type = Text)]
    pub(super) id: String,
    #[diesel(sql_type = BigInt)]
    pub(super) last_seq: i64,
}

/// A position as a column value; positions beyond any stored seq stay beyond them.
fn seq_column(cursor: &MessageCursor) -> i64 {
    i64::try_from(cursor.seq).unwrap_or(i64::MAX)
}

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

#[async_trait]
impl MessageRepository for PgMessages {
    async fn insert_many(
        &self,
        messages: &[NewMessage],
        client_ids_since: DateTime<Utc>,
    ) -> DomainResult<Vec<DomainResult<Stored>>> {
        message_batch::store(&self.database, messages, client_ids_since).await
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
                    .bind::<BigInt, _>(seq_column(&cursor))
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
            .bind::<BigInt, _>(seq_column(after))
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    async fn positions(&self, rooms: &[RoomId]) -> DomainResult<Vec<(RoomId, u64)>> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = rooms.iter().map(RoomId::as_str).collect();
        let mut conn = self.database.connection().await?;
        let rows: Vec<RoomPosition> = prepared_sql(POSITIONS)
            .bind::<Array<Text>, _>(&ids)
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    RoomId::parse(&row.id).map_err(|e| corrupt("room id", e))?,
                    u64::try_from(row.last_seq).map_err(|e| corrupt("room seq", e))?,
                ))
            })
            .collect()
    }
}
