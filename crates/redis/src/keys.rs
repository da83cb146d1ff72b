//! The names of every key and channel this crate uses, in one place, each under the
//! deployment's prefix.

use whisper_domain::{RoomId, UserId};

/// Builds key and channel names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where a room's events are published.
    pub(crate) fn room_channel(&self, room: &RoomId) -> String {
        format!("{}:room:{room}", self.prefix)
    }

    /// Where an instance sends its liveness probes to itself.
    pub(crate) fn probe_channel(&self, instance: &str) -> String {
        format!("{}:probe:{instance}", self.prefix)
    }

    /// Sorted set of `{user}|{instance}` connected to a room, scored by expiry (ms).
    pub(crate) fn presence_room(&self, room: &RoomId) -> String {
        format!("{}:presence:room:{room}", self.prefix)
    }

    /// Sorted set of `{room}|{instance}` a user is connected to, scored by expiry (ms).
    pub(crate) fn presence_user(&self, user: &UserId) -> String {
        format!("{}:presence:user:{user}", self.prefix)
    }

    /// Sorted set of instances holding presence entries, scored by expiry (ms).
    pub(crate) fn presence_instances(&self) -> String {
        format!("{}:presence:instances", self.prefix)
    }

    /// Set of `{room}|{user}` one instance registered, so a survivor can remove a dead
    /// instance's entries without scanning every room.
    pub(crate) fn presence_instance(&self, instance: &str) -> String {
        format!("{}:presence:instance:{instance}", self.prefix)
    }

    /// One caller's token bucket in one scope.
    pub(crate) fn quota(&self, scope: &str, caller: &str) -> String {
        format!("{}:quota:{scope}:{caller}", self.prefix)
    }
}

/// `{left}|{right}`: ids and instance ids never contain `|`.
pub(crate) fn pair(left: &str, right: &str) -> String {
    format!("{left}|{right}")
}

/// The two halves of a [`pair`].
pub(crate) fn split_pair(member: &str) -> Option<(&str, &str)> {
    member.split_once('|')
}
