//! An event bus for unit tests: it keeps what was published, to be asserted on.

use std::sync::{Arc, Mutex};

use crate::events::RoomEvent;
use crate::ports::EventBus;

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
