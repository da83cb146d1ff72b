//! Group commit: a batch of sends, to any rooms, stored by one `insert_many` (one
//! transaction, one log flush, which numbers them), then each announced and answered in
//! batch order (a send's answer is given before a later send's message is announced). One
//! leader per process commits batches one at a time, so a process announces its own
//! messages in `seq` order.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, DomainResult, Service};
use crate::events::RoomEvent;
use crate::id::MessageId;
use crate::message::{NewMessage, Stored};

use super::send_queue::QueuedSend;
use super::{CLIENT_ID_WINDOW_HOURS, ChatPorts, Sent};

/// Stores `batch`, announces what was stored in batch order, and answers every send in
/// it, even when this future is dropped half way.
pub(super) async fn commit(store: &ChatPorts, batch: Vec<Arc<QueuedSend>>) {
    let batch = AnsweredOnDrop(batch);
    match store_batch(store, &batch.0).await {
        Ok(stored) => {
            for (send, stored) in batch.0.iter().zip(stored) {
                send.answer(announce(store, send, stored));
            }
        }
        Err(error) => {
            for send in &batch.0 {
                send.answer(Err(error.clone()));
            }
        }
    }
}

/// Stores the batch's rows: one result per send, in batch order.
async fn store_batch(
    store: &ChatPorts,
    batch: &[Arc<QueuedSend>],
) -> DomainResult<Vec<DomainResult<Stored>>> {
    let now = to_microseconds(store.clock.now());
    let rows: Vec<NewMessage> = batch
        .iter()
        .map(|send| NewMessage {
            id: MessageId::generate(),
            room: send.room.clone(),
            sender: send.sender.clone(),
            content: send.content.clone(),
            reply_to: send.reply_to.clone(),
            created: now,
            client_id: send.client_id.clone(),
        })
        .collect();
    let window_start = now - Duration::hours(CLIENT_ID_WINDOW_HOURS);
    let mut stored = store
        .messages
        .insert_many(&rows, window_start)
        .await?
        .into_iter();
    Ok(batch
        .iter()
        .map(|_| stored.next().unwrap_or_else(missing_row))
        .collect())
}

/// Announces a newly stored message; what `send` is answered with.
fn announce(
    store: &ChatPorts,
    send: &QueuedSend,
    stored: DomainResult<Stored>,
) -> DomainResult<Sent> {
    match stored? {
        Stored::New(message) => {
            store.events.publish(RoomEvent::MessageStored {
                message: message.clone(),
                client_id: send.client_id.clone(),
            });
            Ok(Sent {
                message,
                duplicate: false,
            })
        }
        Stored::Earlier(message) => Ok(Sent {
            message,
            duplicate: true,
        }),
    }
}

fn missing_row() -> DomainResult<Stored> {
    Err(DomainError::internal(
        "the insert returned fewer results than it was given messages",
    ))
}

/// PostgreSQL keeps microseconds: the time a message is answered with is the time it is
/// read back with.
fn to_microseconds(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// A batch whose sends are all answered when it goes away: those a dropped commit left
/// unanswered learn it was interrupted instead of waiting for ever.
struct AnsweredOnDrop(Vec<Arc<QueuedSend>>);

impl Drop for AnsweredOnDrop {
    fn drop(&mut self) {
        for send in &self.0 {
            send.answer(Err(DomainError::Unavailable(Service::Database)));
        }
    }
}
