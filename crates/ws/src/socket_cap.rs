//! The per-user cap on this instance's sockets: one user opening thousands of sockets
//! must not exhaust the memory and tasks every other user shares.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use whisper_domain::UserId;

/// How many sockets each user has open here, bounded by `max`.
pub struct SocketCap {
    max: usize,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
}

/// One open socket of a user; frees its place when dropped.
pub struct SocketSlot {
    user: UserId,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl SocketCap {
    /// A cap of `max` sockets per user.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// A place for one more socket of `user`; `None` when they already have `max` open.
    pub fn take(&self, user: &UserId) -> Option<SocketSlot> {
        let mut open = self.open.lock();
        let count = open.entry(user.clone()).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            user: user.clone(),
            open: self.open.clone(),
        })
    }

    /// How many sockets `user` has open here.
    pub fn open(&self, user: &UserId) -> usize {
        self.open.lock().get(user).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            // Users with no socket are forgotten, so the map does not grow with every user
            // who ever connected.
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn a_user_gets_max_slots_and_a_freed_slot_can_be_taken_again() {
        let cap = SocketCap::new(2);
        let ada = user("AAAAAAAAAAAAAAAAAAAAA");
        let first = cap.take(&ada).unwrap();
        let _second = cap.take(&ada).unwrap();
        assert!(cap.take(&ada).is_none());
        drop(first);
        assert_eq!(cap.open(&ada), 1);
        assert!(cap.take(&ada).is_some());
    }

    #[test]
    fn users_are_capped_separately_and_forgotten_when_they_have_none() {
        let cap = SocketCap::new(1);
        let ada = user("AAAAAAAAAAAAAAAAAAAAA");
        let bob = user("BBBBBBBBBBBBBBBBBBBBB");
        let ada_slot = cap.take(&ada).unwrap();
        let _bob_slot = cap.take(&bob).unwrap();
        assert!(cap.take(&ada).is_none());
        drop(ada_slot);
        assert_eq!(cap.open(&ada), 0);
        assert!(!cap.open.lock().contains_key(&ada));
    }
}
