//! The in-process event bus: room events fanned out to subscribers in this process (the
//! hub). A slow subscriber lags and is told so; it never blocks a publisher.

use tokio::sync::broadcast;
use whisper_domain::RoomEvent;
use whisper_domain::ports::EventBus;

/// Events buffered per subscriber before a lagging one misses some.
const CAPACITY: usize = 65_536;

/// Publishes room events to every subscriber of this process.
#[derive(Debug, Clone)]
pub struct LocalEventBus {
    sender: broadcast::Sender<RoomEvent>,
}

impl LocalEventBus {
    /// A bus with no subscribers yet.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RoomEvent> {
        self.sender.subscribe()
    }
}

impl Default for LocalEventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus for LocalEventBus {
    fn publish(&self, event: RoomEvent) {
        // No subscriber is not an error: nobody is connected to hear it.
        let _ = self.sender.send(event);
    }
}
