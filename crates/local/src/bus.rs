//! The in-process event bus. Listeners (the hub) are called in the publisher's task, in
//! publishing order, so an event reaches the connections' queues without waking another
//! task first. Subscribers get a channel instead, for consumers that may lag (a lagging
//! one is told so; it never blocks a publisher).

use std::sync::Arc;

use parking_lot::RwLock;

use tokio::sync::broadcast;
use whisper_domain::RoomEvent;
use whisper_domain::ports::{EventBus, EventListener, EventSource};

/// Events buffered per subscriber before a lagging one misses some.
const CAPACITY: usize = 65_536;

/// Publishes room events to every listener and subscriber of this process.
#[derive(Clone)]
pub struct LocalEventBus {
    listeners: Arc<RwLock<Vec<EventListener>>>,
    sender: broadcast::Sender<RoomEvent>,
}

impl LocalEventBus {
    /// A bus with no listeners or subscribers yet.
    pub fn new() -> Self {
        Self {
            listeners: Arc::default(),
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

impl std::fmt::Debug for LocalEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEventBus")
            .field("subscribers", &self.sender.receiver_count())
            .finish_non_exhaustive()
    }
}

impl EventBus for LocalEventBus {
    fn publish(&self, event: RoomEvent) {
        for listener in self.listeners.read().iter() {
            listener(&event);
        }
        // No subscriber is not an error: nobody is listening that way.
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(event);
        }
    }
}

impl EventSource for LocalEventBus {
    fn listen(&self, listener: EventListener) {
        self.listeners.write().push(listener);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use whisper_domain::{RoomId, UserId, Username};

    use super::*;

    fn typing(room: &RoomId) -> RoomEvent {
        RoomEvent::Typing {
            room: room.clone(),
            user: UserId::generate(),
            username: Username::parse("ada").unwrap(),
            typing: true,
        }
    }

    #[test]
    fn the_local_bus_keeps_the_ports_promises() {
        whisper_domain::contracts::event_bus(&LocalEventBus::new());
    }

    #[test]
    fn listeners_hear_each_event_before_publish_returns_and_subscribers_after() {
        let bus = LocalEventBus::new();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let recorder = heard.clone();
        bus.listen(Box::new(move |event| {
            recorder.lock().unwrap().push(event.room().clone())
        }));
        let mut subscriber = bus.subscribe();
        let rooms = [RoomId::generate(), RoomId::generate()];
        for room in &rooms {
            bus.publish(typing(room));
        }
        assert_eq!(*heard.lock().unwrap(), rooms);
        for room in &rooms {
            assert_eq!(subscriber.try_recv().unwrap().room(), room);
        }
    }
}
