//! Putting a room's messages back in `seq` order on an instance that hears of them from
//! several places: its own commits, other instances (late, twice, or never) and the
//! record itself. A message is released only when every message before it was, so each
//! connection sees the room's history with no gap and no repeat; what never arrives is
//! read from the record (see [`RoomOrder::missing`]).

use std::collections::BTreeMap;

/// Where an instance stands in one room's history, and the messages it holds back until
/// the ones before them arrive. `T` is whatever the instance delivers for a message.
#[derive(Debug)]
pub struct RoomOrder<T> {
    /// The seq of the last message released; `None` until the start is known.
    released: Option<u64>,
    /// Messages heard of after a hole, by seq.
    held: BTreeMap<u64, T>,
}

impl<T> Default for RoomOrder<T> {
    fn default() -> Self {
        Self {
            released: None,
            held: BTreeMap::new(),
        }
    }
}

impl<T> RoomOrder<T> {
    /// A room whose starting point is not known yet: everything is held until
    /// [`RoomOrder::start_after`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The room's history stood at `seq` when this instance started following it: later
    /// messages are released from `seq + 1` on, earlier ones are dropped. Returns what can
    /// be released now. Learning it again changes nothing.
    pub fn start_after(&mut self, seq: u64) -> Vec<T> {
        if self.released.is_some() {
            return Vec::new();
        }
        self.held = self.held.split_off(&(seq + 1));
        self.released = Some(seq);
        self.release()
    }

    /// Whether the starting point is known.
    pub fn started(&self) -> bool {
        self.released.is_some()
    }

    /// The seq of the last message released, once started.
    pub fn released(&self) -> Option<u64> {
        self.released
    }

    /// Message `seq` was heard of: returns what can be released now, in order (it alone,
    /// it and held ones after it, or nothing when a message before it is missing or it was
    /// released already).
    pub fn arrive(&mut self, seq: u64, item: T) -> Vec<T> {
        if self.released.is_some_and(|released| seq <= released) {
            return Vec::new();
        }
        self.held.entry(seq).or_insert(item);
        self.release()
    }

    /// The messages to read from the record: those after the last one released, when a
    /// later one is held (so some before it are missing). `None` when nothing is missing
    /// or the start is unknown.
    pub fn missing(&self) -> Option<u64> {
        let released = self.released?;
        self.held.keys().next().map(|_| released)
    }

    /// Whether the record, standing at `position`, holds messages not released yet.
    pub fn behind(&self, position: u64) -> bool {
        self.released.is_some_and(|released| position > released)
    }

    fn release(&mut self) -> Vec<T> {
        let Some(mut released) = self.released else {
            return Vec::new();
        };
        let mut ready = Vec::new();
        while let Some(item) = self.held.remove(&(released + 1)) {
            released += 1;
            ready.push(item);
        }
        self.released = Some(released);
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started_after(seq: u64) -> RoomOrder<u64> {
        let mut order = RoomOrder::new();
        assert!(order.start_after(seq).is_empty());
        order
    }

    #[test]
    fn messages_in_order_are_released_at_once() {
        let mut order = started_after(4);
        assert_eq!(order.arrive(5, 5), vec![5]);
        assert_eq!(order.arrive(6, 6), vec![6]);
        assert_eq!(order.released(), Some(6));
        assert_eq!(order.missing(), None);
    }

    #[test]
    fn a_message_after_a_hole_waits_for_the_hole_to_fill() {
        let mut order = started_after(0);
        assert_eq!(order.arrive(1, 1), vec![1]);
        assert!(order.arrive(3, 3).is_empty());
        assert!(order.arrive(4, 4).is_empty());
        assert_eq!(order.missing(), Some(1), "read everything after 1");
        assert_eq!(order.arrive(2, 2), vec![2, 3, 4]);
        assert_eq!(order.missing(), None);
    }

    #[test]
    fn a_message_heard_twice_is_released_once() {
        let mut order = started_after(0);
        assert_eq!(order.arrive(1, 1), vec![1]);
        assert!(order.arrive(1, 1).is_empty(), "already released");
        assert!(order.arrive(3, 3).is_empty());
        assert!(order.arrive(3, 3).is_empty(), "already held");
        assert_eq!(order.arrive(2, 2), vec![2, 3]);
    }

    #[test]
    fn nothing_is_released_before_the_start_is_known() {
        let mut order = RoomOrder::new();
        assert!(order.arrive(7, 7).is_empty());
        assert!(order.arrive(9, 9).is_empty());
        assert_eq!(order.missing(), None, "no start, nothing to read yet");
        assert!(!order.behind(9));
        // History stood at 6 when the room was followed: 7 is next, 8 is missing.
        assert_eq!(order.start_after(6), vec![7]);
        assert_eq!(order.missing(), Some(7));
        assert_eq!(order.arrive(8, 8), vec![8, 9]);
    }

    #[test]
    fn messages_from_before_the_start_are_dropped() {
        let mut order = RoomOrder::new();
        assert!(order.arrive(3, 3).is_empty());
        assert!(order.arrive(5, 5).is_empty());
        assert_eq!(order.start_after(4), vec![5], "3 came before the start");
        assert!(order.arrive(4, 4).is_empty());
        assert!(order.start_after(1).is_empty(), "the start is learned once");
        assert_eq!(order.released(), Some(5));
    }

    #[test]
    fn the_record_is_ahead_when_it_holds_unreleased_messages() {
        let mut order = started_after(2);
        assert!(!order.behind(2));
        assert!(order.behind(3));
        assert_eq!(order.arrive(3, 3), vec![3]);
        assert!(!order.behind(3));
    }
}
