//! What happens in rooms, announced to whoever listens (the WebSocket hub): the domain
//! publishes events instead of calling listeners.

use crate::id::{RoomId, UserId};
use crate::username::Username;

/// Something that happened in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// `user` became a member of `room`.
    MemberAdded {
        /// The room.
        room: RoomId,
        /// The new member.
        user: UserId,
        /// Their name, for "<username> was added to the chat."
        username: Username,
    },
    /// `user` stopped being a member of `room`.
    MemberRemoved {
        /// The room.
        room: RoomId,
        /// The former member.
        user: UserId,
        /// Their name, for "<username> was removed from the chat."
        username: Username,
        /// Whether they left by themselves ("<username> left the chat.").
        left: bool,
    },
}

impl RoomEvent {
    /// The room the event belongs to.
    pub fn room(&self) -> &RoomId {
        match self {
            Self::MemberAdded { room, .. } | Self::MemberRemoved { room, .. } => room,
        }
    }

    /// The sentence members see, for membership changes.
    pub fn notification(&self) -> String {
        match self {
            Self::MemberAdded { username, .. } => format!("{username} was added to the chat."),
            Self::MemberRemoved {
                username,
                left: true,
                ..
            } => format!("{username} left the chat."),
            Self::MemberRemoved { username, .. } => {
                format!("{username} was removed from the chat.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_say_who_came_and_went() {
        let room = RoomId::generate();
        let user = UserId::generate();
        let username = Username::parse("ada").unwrap();
        let added = RoomEvent::MemberAdded {
            room: room.clone(),
            user: user.clone(),
            username: username.clone(),
        };
        assert_eq!(added.notification(), "ada was added to the chat.");
        assert_eq!(added.room(), &room);
        let removed = |left| RoomEvent::MemberRemoved {
            room: room.clone(),
            user: user.clone(),
            username: username.clone(),
            left,
        };
        assert_eq!(
            removed(false).notification(),
            "ada was removed from the chat."
        );
        assert_eq!(removed(true).notification(), "ada left the chat.");
    }
}
