//! Whether this instance's link to Redis works right now, with the two log lines an
//! operator needs: one when it goes down, one when it is back.

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::watch;

const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// The link's state and how many times it has come up, so presence can re-register
/// everything after Redis returns (possibly empty: it keeps nothing on disk).
pub(crate) struct Health {
    state: AtomicU8,
    ups: watch::Sender<u64>,
}

impl Health {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU8::new(STARTING),
            ups: watch::Sender::new(0),
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.state.load(Ordering::Acquire) == UP
    }

    /// A probe came back: events flow both ways again. Only the subscriber task changes
    /// the state; the count of ups changes first, so whoever sees the link up and then
    /// asks presence something finds the re-registration already due.
    pub(crate) fn mark_up(&self) {
        let before = self.state.load(Ordering::Acquire);
        if before == UP {
            return;
        }
        self.ups.send_modify(|ups| *ups += 1);
        self.state.store(UP, Ordering::Release);
        if before == DOWN {
            tracing::info!("the Redis bus is back: events from other instances flow again");
        } else {
            tracing::info!("connected to the Redis bus");
        }
    }

    /// The link failed or went silent; `why` says how.
    pub(crate) fn mark_down(&self, why: &str) {
        if self.state.swap(DOWN, Ordering::AcqRel) != DOWN {
            tracing::warn!(
                why,
                "the Redis bus is down: other instances' events are not arriving; \
                 retrying in the background"
            );
        }
    }

    /// Changes each time the link comes up.
    pub(crate) fn ups(&self) -> watch::Receiver<u64> {
        self.ups.subscribe()
    }
}
