//! Group commit: a batch of sends, to any rooms, stored by one `insert_many` (one
//! transaction, one log flush, which numbers them), then each announced and answered in
//! batch order (a send's answer is given before a later send's message is announced). One
//! leader per process commits batches one at a time, so a process announces its own
//! messages in `seq` order. The next batch's insert goes out as soon as a batch is
//! committed, before that batch is announced: PostgreSQL stores one while the process
//! announces the other.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, DomainResult, Service};
use crate::events::RoomEvent;
use crate::id::MessageId;
use crate::message::{NewMessage, Stored};

use super::send_queue::QueuedSend;
use super::{CLIENT_ID_WINDOW_HOURS, ChatPorts, Sent};

/// A batch whose insert has returned: committed (or failed), not yet announced. Dropped
/// unannounced, its sends learn that the commit was interrupted.
pub(super) struct Committed {
    batch: AnsweredOnDrop,
    stored: DomainResult<Vec<DomainResult<Stored>>>,
}

/// Stores `batch`; [`Committed::announce`] then tells everyone.
pub(super) async fn store(ports: &ChatPorts, batch: Vec<Arc<QueuedSend>>) -> Committed {
    let batch = AnsweredOnDrop(batch);
    let stored = store_batch(ports, &batch.0).await;
    Committed { batch, stored }
}

impl Committed {
    /// Announces what was stored, in batch order, and answers every send.
    pub(super) fn announce(self, ports: &ChatPorts) {
        let Self { batch, stored } = self;
        match stored {
            Ok(stored) => {
                for (send, stored) in batch.0.iter().zip(stored) {
                    send.answer(announce(ports, send, stored));
                }
            }
            Err(error) => {
                for send in &batch.0 {
                    send.answer(Err(error.clone()));
                }
            }
        }
    }
}

/// Runs `storing` (the next batch's insert) and `announcing` (the batch before it) side
/// by side: the insert is started and given one turn of the executor to reach the
/// database, then the announcing runs while the database works. Announcing always
/// happens before this returns, or when it is dropped (what was committed is announced
/// whatever happens), so batches are still announced in commit order.
pub(super) async fn overlapped<T>(
    storing: impl Future<Output = T>,
    announcing: impl FnOnce(),
) -> T {
    let mut storing = pin!(storing);
    let mut announcing = RunOnDrop(Some(announcing));
    let mut yielded = false;
    poll_fn(|context| {
        let polled = storing.as_mut().poll(context);
        if polled.is_ready() || yielded {
            announcing.run();
        } else {
            // Its request is queued for the connection's own task: let that run first.
            yielded = true;
            context.waker().wake_by_ref();
        }
        polled
    })
    .await
}

/// Work that is done once: when asked, or else when dropped.
struct RunOnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> RunOnDrop<F> {
    fn run(&mut self) {
        if let Some(work) = self.0.take() {
            work();
        }
    }
}

impl<F: FnOnce()> Drop for RunOnDrop<F> {
    fn drop(&mut self) {
        self.run();
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
