//! Turns at writing to a room, for one process: a queue per room (fair, FIFO), remembering
//! the room's newest creation time so it need not be read back from the database.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use whisper_domain::RoomId;
use whisper_domain::ports::{RoomTurn, RoomTurns};

type RoomState = Arc<AsyncMutex<Option<DateTime<Utc>>>>;

/// Per-room turns held in memory.
#[derive(Default)]
pub struct LocalTurns {
    rooms: Mutex<HashMap<RoomId, RoomState>>,
}

impl LocalTurns {
    /// No room has been written to yet.
    pub fn new() -> Self {
        Self::default()
    }
}

struct Turn(OwnedMutexGuard<Option<DateTime<Utc>>>);

impl RoomTurn for Turn {
    fn last_created(&self) -> Option<DateTime<Utc>> {
        *self.0
    }

    fn set_last_created(&mut self, at: DateTime<Utc>) {
        *self.0 = Some(at);
    }
}

#[async_trait]
impl RoomTurns for LocalTurns {
    async fn take(&self, room: &RoomId) -> Box<dyn RoomTurn> {
        let state = {
            let mut rooms = self.rooms.lock();
            rooms.entry(room.clone()).or_default().clone()
        };
        Box::new(Turn(state.lock_owned().await))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_turn_remembers_the_rooms_last_creation_time_and_excludes_others() {
        let turns = Arc::new(LocalTurns::new());
        let room = RoomId::generate();
        let mut first = turns.take(&room).await;
        assert_eq!(first.last_created(), None);
        let now = Utc::now();
        first.set_last_created(now);

        let waiting = {
            let (turns, room) = (turns.clone(), room.clone());
            tokio::spawn(async move { turns.take(&room).await.last_created() })
        };
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "a second writer waits for the first"
        );
        // Another room is not held up.
        drop(turns.take(&RoomId::generate()).await);
        drop(first);
        assert_eq!(waiting.await.unwrap(), Some(now));
    }
}
