//! An event bus for unit tests: it keeps what was published, to be asserted on.

use std::sync::{Arc, Mutex};

use crate::events::RoomEvent;
use crate::ports::{EventBus, SessionListener, SessionSignals};
use crate::session::SessionEnded;

/// Keeps every published event, in order; clones share one record.
#[derive(Default, Clone)]
pub struct RecordingBus(Arc<Mutex<Vec<RoomEvent>>>);

impl EventBus for RecordingBus {
    fn publish(&self, event: RoomEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl RecordingBus {
    /// Every event published so far, oldest first.
    pub fn events(&self) -> Vec<RoomEvent> {
        self.0.lock().unwrap().clone()
    }
}

/// Keeps every ended session announced, in order; clones share one record.
#[derive(Default, Clone)]
pub struct RecordingSignals(Arc<Mutex<Vec<SessionEnded>>>);

impl SessionSignals for RecordingSignals {
    fn ended(&self, session: SessionEnded) {
        self.0.lock().unwrap().push(session);
    }

    fn listen(&self, _listener: SessionListener) {}
}

impl RecordingSignals {
    /// Every ended session announced so far, oldest first.
    pub fn ended(&self) -> Vec<SessionEnded> {
        self.0.lock().unwrap().clone()
    }
}
