//! Each room's sends waiting to be stored, and who stores them. The first send to find no
//! leader for its room leads: it commits batch after batch until its own send is stored,
//! then hands over to the oldest waiting send. The others wait for their answer only,
//! never for a lock, so nobody queues behind a commit just to learn it is done.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use crate::error::DomainResult;
use crate::id::{MessageId, RoomId, UserId};
use crate::message::{ClientSend, MessageContent};

use super::Sent;

/// The most sends one commit stores; more wait for the next. A commit's messages reach
/// each connection at once, so this stays well below a connection's queue (256 frames).
const MAX_BATCH: usize = 64;

/// A send waiting to be stored, and then its answer.
pub(super) struct QueuedSend {
    pub(super) sender: UserId,
    pub(super) content: MessageContent,
    pub(super) reply_to: Option<MessageId>,
    pub(super) client_id: Option<String>,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    answer: Option<DomainResult<Sent>>,
    /// Set when the leader went away: the waiter should see whether it must lead.
    nudged: bool,
    waker: Option<Waker>,
}

/// What a waiting send learns.
pub(super) enum Woken {
    /// Its answer.
    Answered(Box<DomainResult<Sent>>),
    /// The room's leader went away before storing it.
    Leaderless,
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
            slot: Mutex::new(Slot::default()),
        }
    }

    pub(super) fn client_send(&self) -> Option<ClientSend> {
        self.client_id.as_ref().map(|client_id| ClientSend {
            sender: self.sender.clone(),
            client_id: client_id.clone(),
        })
    }

    /// Waits until the send is answered or its room is left without a leader.
    pub(super) async fn woken(&self) -> Woken {
        poll_fn(|context| {
            let mut slot = lock(&self.slot);
            if let Some(answer) = slot.answer.take() {
                return Poll::Ready(Woken::Answered(Box::new(answer)));
            }
            if std::mem::take(&mut slot.nudged) {
                return Poll::Ready(Woken::Leaderless);
            }
            slot.waker = Some(context.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Whether a commit has answered the send.
    pub(super) fn is_answered(&self) -> bool {
        lock(&self.slot).answer.is_some()
    }

    /// Answers the send unless it already was.
    pub(super) fn answer(&self, answer: DomainResult<Sent>) {
        let mut slot = lock(&self.slot);
        if slot.answer.is_none() {
            slot.answer = Some(answer);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }

    fn nudge(&self) {
        let mut slot = lock(&self.slot);
        slot.nudged = true;
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }
}

#[derive(Default)]
struct RoomQueue {
    waiting: VecDeque<Arc<QueuedSend>>,
    led: bool,
}

/// Every room's waiting sends and whether someone leads it.
#[derive(Default)]
pub(super) struct SendQueues {
    rooms: Mutex<HashMap<RoomId, RoomQueue>>,
}

impl SendQueues {
    /// Queues `send`; true when the caller must lead the room (nobody else does).
    pub(super) fn push(&self, room: &RoomId, send: Arc<QueuedSend>) -> bool {
        let mut rooms = lock(&self.rooms);
        let queue = rooms.entry(room.clone()).or_default();
        queue.waiting.push_back(send);
        !std::mem::replace(&mut queue.led, true)
    }

    /// The leader's next batch, oldest first: up to [`MAX_BATCH`] sends. Empty when none
    /// is waiting, which ends the leadership.
    pub(super) fn next_batch(&self, room: &RoomId) -> Vec<Arc<QueuedSend>> {
        let mut rooms = lock(&self.rooms);
        let Some(queue) = rooms.get_mut(room) else {
            return Vec::new();
        };
        let count = queue.waiting.len().min(MAX_BATCH);
        let batch: Vec<_> = queue.waiting.drain(..count).collect();
        if batch.is_empty() {
            rooms.remove(room);
        }
        batch
    }

    /// Takes over a room left without a leader, if `send` is still waiting there.
    pub(super) fn claim(&self, room: &RoomId, send: &Arc<QueuedSend>) -> bool {
        let mut rooms = lock(&self.rooms);
        match rooms.get_mut(room) {
            Some(queue) if !queue.led && queue.waiting.iter().any(|w| Arc::ptr_eq(w, send)) => {
                queue.led = true;
                true
            }
            _ => false,
        }
    }

    /// The leader stops leading (its send is stored, or it was dropped): the oldest waiting
    /// send is told to take over.
    pub(super) fn hand_over(&self, room: &RoomId) {
        let mut rooms = lock(&self.rooms);
        let Some(queue) = rooms.get_mut(room) else {
            return;
        };
        queue.led = false;
        match queue.waiting.front() {
            Some(next) => next.nudge(),
            None => {
                rooms.remove(room);
            }
        }
    }

    /// A send given up before it was stored (its sender went away) leaves the queue, and
    /// passes on the lead it may have been offered.
    pub(super) fn withdraw(&self, room: &RoomId, send: &Arc<QueuedSend>) {
        let mut rooms = lock(&self.rooms);
        let Some(queue) = rooms.get_mut(room) else {
            return;
        };
        queue.waiting.retain(|waiting| !Arc::ptr_eq(waiting, send));
        if !queue.led {
            match queue.waiting.front() {
                Some(next) => next.nudge(),
                None => {
                    rooms.remove(room);
                }
            }
        }
    }
}

/// The data behind a lock even if a panicking holder poisoned it: every write here leaves
/// it whole.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
