//! The sends waiting to be stored, whatever their room, and who stores them. The first
//! send to find no leader leads: it commits batch after batch until none is waiting (or it
//! is dropped), then hands over to the oldest send still waiting, if any. The others wait
//! for their answer only, never for a lock, so nobody queues behind a commit just to learn
//! it is done, and sends to many rooms share commits as sends to one room do.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

use crate::error::DomainResult;
use crate::id::{MessageId, RoomId, UserId};
use crate::message::MessageContent;

use super::Sent;

/// The most sends one commit stores; more wait for the next. Every commit waits for one
/// WAL flush and one round of announcing, so the more rows share it the better, up to
/// where PostgreSQL's per-row work dominates (a burst stored 1.6 times as many rows/s
/// with 256 as with 64, and 1.2 times as many again with 512, see docs/BENCHMARKS.md). A
/// commit's messages reach each connection at once, so this stays well below a
/// connection's queue (2,048 frames).
pub(super) const MAX_BATCH: usize = 512;

/// A send waiting to be stored, and then its answer.
pub(super) struct QueuedSend {
    pub(super) room: RoomId,
    pub(super) sender: UserId,
    pub(super) content: MessageContent,
    pub(super) reply_to: Option<MessageId>,
    pub(super) client_id: Option<String>,
    slot: Mutex<Slot>,
}

/// Told a send's answer the moment it is given (see [`super::ReadySend::tell`]).
pub(super) type Teller = Box<dyn FnOnce(&DomainResult<Sent>) + Send>;

#[derive(Default)]
struct Slot {
    answer: Option<DomainResult<Sent>>,
    teller: Option<Teller>,
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
        room: RoomId,
        sender: UserId,
        content: MessageContent,
        reply_to: Option<MessageId>,
        client_id: Option<String>,
    ) -> Self {
        Self {
            room,
            sender,
            content,
            reply_to,
            client_id,
            slot: Mutex::new(Slot::default()),
        }
    }

    /// Waits until the send is answered or its room is left without a leader.
    pub(super) async fn woken(&self) -> Woken {
        poll_fn(|context| {
            let mut slot = self.slot.lock();
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

    /// Calls `teller` with the answer when it is given.
    pub(super) fn tell(&self, teller: Teller) {
        self.slot.lock().teller = Some(teller);
    }

    /// Answers the send unless it already was, telling its teller at once.
    pub(super) fn answer(&self, answer: DomainResult<Sent>) {
        let mut slot = self.slot.lock();
        if slot.answer.is_none() {
            if let Some(teller) = slot.teller.take() {
                teller(&answer);
            }
            slot.answer = Some(answer);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }

    fn nudge(&self) {
        let mut slot = self.slot.lock();
        slot.nudged = true;
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }
}

/// The waiting sends, oldest first, and whether someone leads.
#[derive(Default)]
pub(super) struct SendQueue {
    state: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    sends: VecDeque<Arc<QueuedSend>>,
    led: bool,
}

impl Waiting {
    /// Offers the lead to the oldest waiting send, if nobody leads.
    fn nudge_next(&self) {
        if !self.led
            && let Some(next) = self.sends.front()
        {
            next.nudge();
        }
    }
}

impl SendQueue {
    /// Queues `send`; true when the caller must lead (nobody else does).
    pub(super) fn push(&self, send: Arc<QueuedSend>) -> bool {
        let mut waiting = self.state.lock();
        waiting.sends.push_back(send);
        !std::mem::replace(&mut waiting.led, true)
    }

    /// The leader's next batch, oldest first: up to [`MAX_BATCH`] sends.
    pub(super) fn next_batch(&self) -> Vec<Arc<QueuedSend>> {
        let mut waiting = self.state.lock();
        let count = waiting.sends.len().min(MAX_BATCH);
        waiting.sends.drain(..count).collect()
    }

    /// Takes the lead when nobody has it, if `send` is still waiting.
    pub(super) fn claim(&self, send: &Arc<QueuedSend>) -> bool {
        let mut waiting = self.state.lock();
        if waiting.led || !waiting.sends.iter().any(|w| Arc::ptr_eq(w, send)) {
            return false;
        }
        waiting.led = true;
        true
    }

    /// The leader stops leading (nothing was left to commit, or it was dropped): the
    /// oldest waiting send, if one came meanwhile, is told to take over.
    pub(super) fn hand_over(&self) {
        let mut waiting = self.state.lock();
        waiting.led = false;
        waiting.nudge_next();
    }

    /// A send given up before it was stored (its sender went away) leaves the queue, and
    /// passes on the lead it may have been offered.
    pub(super) fn withdraw(&self, send: &Arc<QueuedSend>) {
        let mut waiting = self.state.lock();
        waiting.sends.retain(|w| !Arc::ptr_eq(w, send));
        waiting.nudge_next();
    }
}
