//! Group commit. Sends to a room queue up while another send holds the room's turn; whoever
//! takes the turn next stores everything queued with one insert (one commit, one log
//! flush) and announces it in order. Every send is answered before the turn passes on, so
//! a sender finding its answer at its own turn knows it is done.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, DomainResult};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId, UserId};
use crate::message::{ClientSend, Message, MessageContent, NewMessage};
use crate::ports::RoomTurn;

use super::{CLIENT_ID_WINDOW_HOURS, ChatPorts, Sent};

/// The most sends one commit stores; more wait for the next.
const MAX_BATCH: usize = 128;

/// A send waiting to be stored, and then its answer.
pub(super) struct QueuedSend {
    sender: UserId,
    content: MessageContent,
    reply_to: Option<MessageId>,
    client_id: Option<String>,
    answer: Mutex<Option<DomainResult<Sent>>>,
}

impl QueuedSend {
    pub(super) fn new(
        sender: UserId,
        content: MessageContent,
        reply_to: Option<MessageId>,
        client_id: Option<String>,
    ) -> Self {
        Self {
            sender,
            content,
            reply_to,
            client_id,
            answer: Mutex::new(None),
        }
    }

    /// The answer, once a commit has given it.
    pub(super) fn take_answer(&self) -> Option<DomainResult<Sent>> {
        lock(&self.answer).take()
    }

    fn give_answer(&self, answer: DomainResult<Sent>) {
        *lock(&self.answer) = Some(answer);
    }

    fn client_send(&self) -> Option<ClientSend> {
        self.client_id.as_ref().map(|client_id| ClientSend {
            sender: self.sender.clone(),
            client_id: client_id.clone(),
        })
    }
}

/// Each room's sends waiting to be stored, oldest first.
#[derive(Default)]
pub(super) struct SendQueues {
    rooms: Mutex<HashMap<RoomId, VecDeque<Arc<QueuedSend>>>>,
}

impl SendQueues {
    pub(super) fn push(&self, room: &RoomId, send: Arc<QueuedSend>) {
        lock(&self.rooms)
            .entry(room.clone())
            .or_default()
            .push_back(send);
    }

    /// Up to [`MAX_BATCH`] of the room's oldest queued sends, removed from the queue.
    pub(super) fn take_batch(&self, room: &RoomId) -> Vec<Arc<QueuedSend>> {
        let mut rooms = lock(&self.rooms);
        let Some(queue) = rooms.get_mut(room) else {
            return Vec::new();
        };
        let count = queue.len().min(MAX_BATCH);
        let batch = queue.drain(..count).collect();
        if queue.is_empty() {
            rooms.remove(room);
        }
        batch
    }
}

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
                send.give_answer(answer);
            }
        }
        Err(error) => {
            for send in &batch.0 {
                send.give_answer(Err(error.clone()));
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
            let mut answer = lock(&send.answer);
            if answer.is_none() {
                *answer = Some(Err(DomainError::Unavailable {
                    service: "database",
                }));
            }
        }
    }
}

/// The data behind a lock even if a panicking holder poisoned it: every write here is a
/// single assignment, so it is never half done.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
