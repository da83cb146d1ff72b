//! Group commit: a batch of sends, to any rooms, stored with one insert (one commit, one
//! log flush) while the turns of its rooms are held, then announced in commit order and
//! answered.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, DomainResult, Service};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId};
use crate::message::{ClientSend, Message, NewMessage};
use crate::ports::RoomTurn;

use super::send_queue::QueuedSend;
use super::{CLIENT_ID_WINDOW_HOURS, ChatPorts, Sent};

/// The turns of a batch's rooms.
type Turns = HashMap<RoomId, Box<dyn RoomTurn>>;

/// Stores `batch` while its rooms' turns are held, announces what was stored in commit
/// order, and answers every send in it, even when this future is dropped half way.
pub(super) async fn commit(store: &ChatPorts, batch: Vec<Arc<QueuedSend>>) {
    let batch = AnsweredOnDrop(batch);
    let mut turns = take_turns(store, &batch.0).await;
    match store_batch(store, &mut turns, &batch.0).await {
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

/// The turn of every room in `batch`, taken in room order so that writers taking several
/// (in other processes) can never wait for each other in a circle.
async fn take_turns(store: &ChatPorts, batch: &[Arc<QueuedSend>]) -> Turns {
    let mut rooms: Vec<&RoomId> = batch.iter().map(|send| &send.room).collect();
    rooms.sort_unstable();
    rooms.dedup();
    let mut turns = Turns::with_capacity(rooms.len());
    for room in rooms {
        turns.insert(room.clone(), store.turns.take(room).await);
    }
    turns
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
    turns: &mut Turns,
    batch: &[Arc<QueuedSend>],
) -> DomainResult<Vec<DomainResult<Sent>>> {
    let now = store.clock.now();
    let mut earlier = earlier_sends(store, batch, now).await?;
    let mut first_use: HashMap<(&RoomId, ClientSend), usize> = HashMap::new();
    let mut plans = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for (index, send) in batch.iter().enumerate() {
        if let Some(key) = send.client_send() {
            let key = (&send.room, key);
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
            room: send.room.clone(),
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
    let last_created = creation_times(store, turns, &mut rows, now).await?;
    let stored = store.messages.insert_many(&rows).await?;
    for (room, last) in last_created {
        if let Some(turn) = turns.get_mut(&room) {
            turn.set_last_created(last);
        }
    }
    Ok(answer(store, plans, batch, stored))
}

/// Gives `rows` their creation times, strictly increasing within each room; returns each
/// room's last one.
async fn creation_times(
    store: &ChatPorts,
    turns: &Turns,
    rows: &mut [NewMessage],
    now: DateTime<Utc>,
) -> DomainResult<HashMap<RoomId, DateTime<Utc>>> {
    let mut last: HashMap<RoomId, DateTime<Utc>> = HashMap::new();
    for row in rows.iter_mut() {
        let before = match last.get(&row.room) {
            Some(&created) => Some(created),
            None => match turns.get(&row.room).and_then(|turn| turn.last_created()) {
                Some(known) => Some(known),
                None => store.messages.latest_created(&row.room).await?,
            },
        };
        row.created = strictly_after(now, before);
        last.insert(row.room.clone(), row.created);
    }
    Ok(last)
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

/// Messages sent before with the batch's `client_id`s, within the retry window: one
/// lookup per room that has any.
async fn earlier_sends<'a>(
    store: &ChatPorts,
    batch: &'a [Arc<QueuedSend>],
    now: DateTime<Utc>,
) -> DomainResult<HashMap<(&'a RoomId, ClientSend), Message>> {
    let mut keys: HashMap<&RoomId, Vec<ClientSend>> = HashMap::new();
    for send in batch {
        if let Some(key) = send.client_send() {
            keys.entry(&send.room).or_default().push(key);
        }
    }
    let window_start = now - Duration::hours(CLIENT_ID_WINDOW_HOURS);
    let mut earlier = HashMap::new();
    for (room, keys) in keys {
        let found = store
            .messages
            .find_by_client_ids(room, &keys, window_start)
            .await?;
        earlier.extend(
            found
                .into_iter()
                .map(|(key, message)| ((room, key), message)),
        );
    }
    Ok(earlier)
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
            send.answer(Err(DomainError::Unavailable(Service::Database)));
        }
    }
}
