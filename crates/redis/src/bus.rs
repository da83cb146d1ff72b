//! The event bus shared by instances: this instance's listeners hear its events at once,
//! in publishing order (as with the local bus), and other instances following the room
//! hear them through Redis.

use std::sync::Arc;

use whisper_domain::ports::{EventBus, EventListener, EventSource};
use whisper_domain::{RoomEvent, RoomId};

use crate::link::RedisLink;

/// Publishes room events here and to other instances; hears theirs for followed rooms.
#[derive(Debug, Clone)]
pub struct RedisEventBus {
    link: Arc<RedisLink>,
}

impl RedisEventBus {
    /// A bus over `link`; make one per instance.
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self { link }
    }
}

impl EventBus for RedisEventBus {
    fn publish(&self, event: RoomEvent) {
        self.link.hear(&event);
        self.link.send_to_others(&event);
    }
}

impl EventSource for RedisEventBus {
    fn listen(&self, listener: EventListener) {
        self.link.listen(listener);
    }

    fn follow(&self, room: &RoomId) {
        self.link.follow(room);
    }

    fn unfollow(&self, room: &RoomId) {
        self.link.unfollow(room);
    }

    fn is_up(&self) -> bool {
        self.link.is_up()
    }
}
