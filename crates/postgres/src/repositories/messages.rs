//! Message history, read newest first by keyset pagination over (created, id).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use whisper_domain::ports::MessageRepository;
use whisper_domain::{
    DomainError, DomainResult, MediaKey, MediaKind, MediaRef, Message, MessageContent,
    MessageCursor, MessageId, MessageText, NewMessage, ReplyPreview, RoomId, UserId, Username,
};

use super::{corrupt, to_i64};
use crate::database::Database;
use crate::errors::unexpected;
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

/// A message as members read it: with its sender's name and what it replies to.
const SELECT_MESSAGE: &str = "\
SELECT m.id, m.room_id, m.sender_id, u.username AS sender_username, m.message_format, \
       m.text_content, m.media_key, m.media_content_type, m.media_size, m.is_reply, m.created, \
       p.id AS previous_id, p.message_format AS previous_format, \
       p.text_content AS previous_text, p.sender_id AS previous_sender \
FROM messages m \
JOIN users u ON u.id = m.sender_id \
LEFT JOIN messages p ON p.id = m.previous_message_id";

#[derive(QueryableByName)]
struct MessageRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    room_id: String,
    #[diesel(sql_type = Text)]
    sender_id: String,
    #[diesel(sql_type = Text)]
    sender_username: String,
    #[diesel(sql_type = Text)]
    message_format: String,
    #[diesel(sql_type = Nullable<Text>)]
    text_content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    media_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    media_content_type: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    media_size: Option<i64>,
    #[diesel(sql_type = Bool)]
    #[allow(dead_code)]
    is_reply: bool,
    #[diesel(sql_type = Timestamptz)]
    created: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    previous_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    previous_format: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    previous_text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    previous_sender: Option<String>,
}

fn content(
    format: &str,
    text: Option<String>,
    media_key: Option<String>,
    content_type: Option<String>,
    size: Option<i64>,
) -> DomainResult<MessageContent> {
    if format == "text" {
        let text = text.ok_or_else(|| corrupt("message", "text message without text"))?;
        return Ok(MessageContent::Text(
            MessageText::parse(&text).map_err(|e| corrupt("message text", e))?,
        ));
    }
    let (Some(key), Some(content_type), Some(size)) = (media_key, content_type, size) else {
        return Err(corrupt("message", "media message without its media"));
    };
    Ok(MessageContent::Media(MediaRef {
        kind: MediaKind::parse(format).map_err(|e| corrupt("message format", e))?,
        key: MediaKey::parse(&key).map_err(|e| corrupt("media key", e))?,
        content_type,
        size: u64::try_from(size).map_err(|e| corrupt("media size", e))?,
    }))
}

impl MessageRow {
    fn into_domain(self) -> DomainResult<Message> {
        let reply_to = match (self.previous_id, self.previous_format, self.previous_sender) {
            (Some(id), Some(format), Some(sender)) => Some(ReplyPreview {
                message_id: MessageId::parse(&id).map_err(|e| corrupt("message id", e))?,
                // Media placeholders come from the kind alone; the media itself is not needed.
                content: match MediaKind::parse(&format) {
                    Ok(kind) => kind.placeholder().to_owned(),
                    Err(_) => self.previous_text.unwrap_or_default(),
                },
                sender: UserId::parse(&sender).map_err(|e| corrupt("user id", e))?,
            }),
            _ => None,
        };
        Ok(Message {
            id: MessageId::parse(&self.id).map_err(|e| corrupt("message id", e))?,
            room: RoomId::parse(&self.room_id).map_err(|e| corrupt("room id", e))?,
            sender: UserId::parse(&self.sender_id).map_err(|e| corrupt("user id", e))?,
            sender_username: Username::parse(&self.sender_username)
                .map_err(|e| corrupt("username", e))?,
            content: content(
                &self.message_format,
                self.text_content,
                self.media_key,
                self.media_content_type,
                self.media_size,
            )?,
            reply_to,
            created: self.created,
        })
    }
}

async fn load_one(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> Result<Option<MessageRow>, DieselError> {
    diesel::sql_query(format!("{SELECT_MESSAGE} WHERE m.id = $1"))
        .bind::<Text, _>(id)
        .get_result(conn)
        .await
        .optional()
}

fn foreign_reply() -> DomainError {
    DomainError::invalid(
        "previous_message_id",
        "The message replied to is not in this room.",
    )
}

#[async_trait]
impl MessageRepository for PgMessages {
    async fn insert(&self, message: &NewMessage) -> DomainResult<Message> {
        let (text, media) = match &message.content {
            MessageContent::Text(text) => (Some(text.as_str()), None),
            MessageContent::Media(media) => (None, Some(media)),
        };
        let media_size = media.map(|m| to_i64(m.size, "media size")).transpose()?;
        let mut conn = self.database.connection().await?;
        // One statement, one round trip: the reply check, the insert, and the row as
        // members read it (sender's name, replied-to preview).
        let stored: Option<MessageRow> = diesel::sql_query(format!(
            "WITH m AS ( \
                 INSERT INTO messages (id, room_id, sender_id, message_format, text_content, \
                     media_key, media_content_type, media_size, previous_message_id, is_reply, \
                     created, client_id) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9 IS NOT NULL, $10, $11 \
                 WHERE $9 IS NULL OR EXISTS ( \
                     SELECT 1 FROM messages WHERE id = $9 AND room_id = $2) \
                 RETURNING *) \
             {}",
            SELECT_MESSAGE.replace("FROM messages m", "FROM m")
        ))
        .bind::<Text, _>(message.id.as_str())
        .bind::<Text, _>(message.room.as_str())
        .bind::<Text, _>(message.sender.as_str())
        .bind::<Text, _>(message.content.format())
        .bind::<Nullable<Text>, _>(text)
        .bind::<Nullable<Text>, _>(media.map(|m| m.key.as_str()))
        .bind::<Nullable<Text>, _>(media.map(|m| m.content_type.as_str()))
        .bind::<Nullable<BigInt>, _>(media_size)
        .bind::<Nullable<Text>, _>(message.reply_to.as_ref().map(MessageId::as_str))
        .bind::<Timestamptz, _>(message.created)
        .bind::<Nullable<Text>, _>(message.client_id.as_deref())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(unexpected)?;
        match stored {
            Some(row) => row.into_domain(),
            None => Err(foreign_reply()),
        }
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
        let order = "ORDER BY m.created DESC, m.id DESC LIMIT";
        let rows: Vec<MessageRow> = match before {
            // The row comparison walks messages_room_created_id_idx backwards: no OFFSET.
            Some(cursor) => diesel::sql_query(format!(
                "{SELECT_MESSAGE} WHERE m.room_id = $1 AND (m.created, m.id) < ($2, $3) {order} $4"
            ))
            .bind::<Text, _>(room.as_str())
            .bind::<Timestamptz, _>(cursor.created)
            .bind::<Text, _>(cursor.id.as_str())
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await,
            None => {
                diesel::sql_query(format!("{SELECT_MESSAGE} WHERE m.room_id = $1 {order} $2"))
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
        // The same index as history, walked forwards.
        let rows: Vec<MessageRow> = diesel::sql_query(format!(
            "{SELECT_MESSAGE} WHERE m.room_id = $1 AND (m.created, m.id) > ($2, $3) \
             ORDER BY m.created, m.id LIMIT $4"
        ))
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

    async fn find_by_client_id(
        &self,
        room: &RoomId,
        sender: &UserId,
        client_id: &str,
        since: DateTime<Utc>,
    ) -> DomainResult<Option<Message>> {
        let mut conn = self.database.connection().await?;
        let row: Option<MessageRow> = diesel::sql_query(format!(
            "{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.sender_id = $2 AND m.client_id = $3 \
             AND m.created >= $4 ORDER BY m.created DESC LIMIT 1"
        ))
        .bind::<Text, _>(room.as_str())
        .bind::<Text, _>(sender.as_str())
        .bind::<Text, _>(client_id)
        .bind::<Timestamptz, _>(since)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(unexpected)?;
        row.map(MessageRow::into_domain).transpose()
    }
}
