//! Group commit: a batch of sends to one room stored with one insert (one commit, one log
//! flush) while the room's turn is held, then announced in commit order and answered.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, DomainResult};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId};
use crate::message::{ClientSend, Message, NewMessage};
use crate::ports::RoomTurn;

use super::send_queue::QueuedSend;
use super::{CLIENT_ID_WINDOW_HOURS, ChatPorts, Sent};

/// Stores `batch` while `turn` is held, announces what was stored in commit order, and
/// answers every send in it, even when this future is dropped half way.
pub(super) async fn commit(
    store: &ChatPorts,
    turn: &mut dyn RoomTurn,
    room: &RoomId,
    batch: Vec<Arc<QueuedSend>>,
) {
    let batch = AnsweredOnDrop(batch);
    match store_batch(store, turn, room, &batch.0).await {
        Ok(answers) => {
            for (send, answer) in batch.0.iter().zip(answers) {
                send.answer(answer);
            }
        }
        Err(error) => {
            for send in &batch.0 {
                send.answer(Err(error.clone()));
            }
        }
    }
}

/// What becomes of one queued send.
enum Plan {
    /// Its `client_id` was used before this batch: that message is the answer.
    Earlier(Box<Message>),
    /// Its `client_id` came earlier in this batch (at this index): same answer.
    Twin(usize),
    /// Stored by the insert, whose rows follow the batch's order.
    Store,
}

async fn store_batch(
    store: &ChatPorts,
    turn: &mut dyn RoomTurn,
    room: &RoomId,
    batch: &[Arc<QueuedSend>],
) -> DomainResult<Vec<DomainResult<Sent>>> {
    let now = store.clock.now();
    let mut earlier = earlier_sends(store, room, batch, now).await?;
    let mut first_use: HashMap<ClientSend, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for (index, send) in batch.iter().enumerate() {
        if let Some(key) = send.client_send() {
            if let Some(message) = earlier.remove(&key) {
                // A later twin in this batch finds it through `first_use`.
                first_use.insert(key, index);
                plans.push(Plan::Earlier(Box::new(message)));
                continue;
            }
            if let Some(&first) = first_use.get(&key) {
                plans.push(Plan::Twin(first));
                continue;
            }
            first_use.insert(key, index);
        }
        plans.push(Plan::Store);
        rows.push(NewMessage {
            id: MessageId::generate(),
            room: room.clone(),
            sender: send.sender.clone(),
            content: send.content.clone(),
            reply_to: send.reply_to.clone(),
            created: now,
            client_id: send.client_id.clone(),
        });
    }
    if rows.is_empty() {
        return Ok(answer(store, plans, batch, Vec::new()));
    }
    let mut last = match turn.last_created() {
        Some(last) => Some(last),
        None => store.messages.latest_created(room).await?,
    };
    for row in &mut rows {
        row.created = strictly_after(now, last);
        last = Some(row.created);
    }
    let stored = store.messages.insert_many(&rows).await?;
    if let Some(last) = last {
        turn.set_last_created(last);
    }
    Ok(answer(store, plans, batch, stored))
}

/// The answer to each send of the batch, announcing the stored messages in order.
fn answer(
    store: &ChatPorts,
    plans: Vec<Plan>,
    batch: &[Arc<QueuedSend>],
    stored: Vec<DomainResult<Message>>,
) -> Vec<DomainResult<Sent>> {
    let mut stored = stored.into_iter();
    let mut answers: Vec<DomainResult<Sent>> = Vec::with_capacity(batch.len());
    for (plan, send) in plans.into_iter().zip(batch) {
        let answer = match plan {
            Plan::Earlier(message) => Ok(Sent {
                message: *message,
                duplicate: true,
            }),
            Plan::Twin(first) => answers[first].clone().map(|sent| Sent {
                duplicate: true,
                ..sent
            }),
            Plan::Store => stored.next().unwrap_or_else(missing_row).map(|message| {
                store.events.publish(RoomEvent::MessageStored {
                    message: message.clone(),
                    client_id: send.client_id.clone(),
                });
                Sent {
                    message,
                    duplicate: false,
                }
            }),
        };
        answers.push(answer);
    }
    answers
}

fn missing_row() -> DomainResult<Message> {
    Err(DomainError::internal(
        "the insert returned fewer rows than it was given",
    ))
}

/// Messages sent before with the batch's `client_id`s, within the retry window.
async fn earlier_sends(
    store: &ChatPorts,
    room: &RoomId,
    batch: &[Arc<QueuedSend>],
    now: DateTime<Utc>,
) -> DomainResult<HashMap<ClientSend, Message>> {
    let keys: Vec<ClientSend> = batch.iter().filter_map(|send| send.client_send()).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let window_start = now - Duration::hours(CLIENT_ID_WINDOW_HOURS);
    let found = store
        .messages
        .find_by_client_ids(room, &keys, window_start)
        .await?;
    Ok(found.into_iter().collect())
}

/// `now`, or a microsecond after `last` when the clock has not moved past it: creation
/// times in a room strictly increase, so (created, id) order is commit order.
fn strictly_after(now: DateTime<Utc>, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    match last {
        Some(last) if last >= now => last + Duration::microseconds(1),
        _ => now,
    }
}

/// A batch whose sends are all answered when it goes away: those a dropped commit left
/// unanswered learn it was interrupted instead of waiting for ever.
struct AnsweredOnDrop(Vec<Arc<QueuedSend>>);

impl Drop for AnsweredOnDrop {
    fn drop(&mut self) {
        for send in &self.0 {
            send.answer(Err(DomainError::Unavailable {
                service: "database",
            }));
        }
    }
}
