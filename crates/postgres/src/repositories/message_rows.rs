//! Rows of `messages` as PostgreSQL returns them, and batches of new messages as it takes
//! them (one array per column, for `unnest`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use whisper_domain::{
    DomainResult, MediaKey, MediaKind, MediaRef, Message, MessageContent, MessageId, MessageText,
    NewMessage, ReplyPreview, RoomId, UserId, Username,
};

use super::{corrupt, to_i64};
/// A message as members read it.
#[derive(QueryableByName, Clone)]
pub(super) struct MessageRow {
    #[diesel(sql_type = Text)]
    pub(super) id: String,
    #[diesel(sql_type = Text)]
    pub(super) room_id: String,
    #[diesel(sql_type = Text)]
    pub(super) sender_id: String,
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
    #[diesel(sql_type = BigInt)]
    seq: i64,
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
    pub(super) fn into_domain(self) -> DomainResult<Message> {
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
            seq: u64::try_from(self.seq).map_err(|e| corrupt("message seq", e))?,
        })
    }
}

/// A message found by the sender's own id for it.
#[derive(QueryableByName)]
pub(super) struct EarlierRow {
    #[diesel(sql_type = Text)]
    pub(super) client_id: String,
    #[diesel(embed)]
    pub(super) message: MessageRow,
}

/// A batch of new messages as one array per column, for `unnest`.
pub(super) struct Columns<'a> {
    pub(super) id: Vec<&'a str>,
    pub(super) room: Vec<&'a str>,
    pub(super) sender: Vec<&'a str>,
    pub(super) format: Vec<&'a str>,
    pub(super) text: Vec<Option<&'a str>>,
    pub(super) media_key: Vec<Option<&'a str>>,
    pub(super) content_type: Vec<Option<&'a str>>,
    pub(super) media_size: Vec<Option<i64>>,
    pub(super) reply_to: Vec<Option<&'a str>>,
    pub(super) created: Vec<DateTime<Utc>>,
    pub(super) client_id: Vec<Option<&'a str>>,
    pub(super) seq: Vec<i64>,
}

impl<'a> Columns<'a> {
    /// The columns of `rows`, each with the `seq` it is stored under.
    pub(super) fn of(rows: &[(&'a NewMessage, i64)]) -> DomainResult<Self> {
        let mut columns = Columns {
            id: Vec::with_capacity(rows.len()),
            room: Vec::with_capacity(rows.len()),
            sender: Vec::with_capacity(rows.len()),
            format: Vec::with_capacity(rows.len()),
            text: Vec::with_capacity(rows.len()),
            media_key: Vec::with_capacity(rows.len()),
            content_type: Vec::with_capacity(rows.len()),
            media_size: Vec::with_capacity(rows.len()),
            reply_to: Vec::with_capacity(rows.len()),
            created: Vec::with_capacity(rows.len()),
            client_id: Vec::with_capacity(rows.len()),
            seq: Vec::with_capacity(rows.len()),
        };
        for &(row, seq) in rows {
            let (text, media) = match &row.content {
                MessageContent::Text(text) => (Some(text.as_str()), None),
                MessageContent::Media(media) => (None, Some(media)),
            };
            columns.id.push(row.id.as_str());
            columns.room.push(row.room.as_str());
            columns.sender.push(row.sender.as_str());
            columns.format.push(row.content.format());
            columns.text.push(text);
            columns.media_key.push(media.map(|m| m.key.as_str()));
            columns
                .content_type
                .push(media.map(|m| m.content_type.as_str()));
            columns
                .media_size
                .push(media.map(|m| to_i64(m.size, "media size")).transpose()?);
            columns
                .reply_to
                .push(row.reply_to.as_ref().map(MessageId::as_str));
            columns.created.push(row.created);
            columns.client_id.push(row.client_id.as_deref());
            columns.seq.push(seq);
        }
        Ok(columns)
    }
}
