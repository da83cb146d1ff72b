//! A connection's sends still committing. A send is queued for commit as soon as it is
//! checked and runs as a task of its own, so the reader goes on reading while earlier
//! sends commit (and any of them can lead group commits without waiting for this
//! connection's reader). A send tells its client of a refusal or a retry through its
//! teller, in commit order (see `commands`); what is owed here is only the moment each is
//! answered, to bound how many are in flight and to answer a refusal found by the reader
//! after every earlier send: a client matches a `chat.error` to its command by order.

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::{mpsc, oneshot};
use whisper_domain::DomainError;

use crate::frames::{error_frame, error_of};
use crate::outgoing::Outgoing;

/// The sends still committing, oldest first, and where answers go.
pub(crate) struct InFlight {
    sends: FuturesOrdered<oneshot::Receiver<()>>,
    most: usize,
    own: mpsc::Sender<Outgoing>,
}

impl InFlight {
    /// Up to `most` sends in flight; answers are queued on `own`.
    pub(crate) fn new(most: usize, own: mpsc::Sender<Outgoing>) -> Self {
        Self {
            sends: FuturesOrdered::new(),
            most: most.max(1),
            own,
        }
    }

    /// Whether another command may be read: fewer than the most sends in flight.
    pub(crate) fn may_read(&self) -> bool {
        self.sends.len() < self.most
    }

    /// Whether every send read so far is answered.
    pub(crate) fn is_empty(&self) -> bool {
        self.sends.is_empty()
    }

    /// Where this connection's frames are queued.
    pub(crate) fn own(&self) -> mpsc::Sender<Outgoing> {
        self.own.clone()
    }

    /// A send committing, `told` when it is answered.
    pub(crate) fn push(&mut self, told: oneshot::Receiver<()>) {
        self.sends.push_back(told);
    }

    /// Waits for the oldest send to be answered; `None` at once when none is in flight.
    pub(crate) async fn next_done(&mut self) -> Option<()> {
        if self.sends.next().await?.is_err() {
            // Its teller was dropped uncalled: the client must still hear of it.
            tracing::warn!("a send ended without an answer");
            let failure = DomainError::internal("the send task ended");
            self.answer(Outgoing::frame(error_frame(&error_of(&failure))));
        }
        Some(())
    }

    /// Answers `outgoing` after every send in flight is answered.
    pub(crate) async fn answer_after_earlier(&mut self, outgoing: Outgoing) {
        while self.next_done().await.is_some() {}
        self.answer(outgoing);
    }

    fn answer(&self, outgoing: Outgoing) {
        // Like every frame of this connection: a client too slow for it is closed.
        let _ = self.own.try_send(outgoing);
    }
}
