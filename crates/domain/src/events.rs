//! What happens in rooms, announced to whoever listens (the WebSocket hub): the domain
//! publishes events instead of calling listeners.

use crate::id::{RoomId, UserId};
use crate::message::Message;
use crate::username::Username;

/// Something that happened in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
// Most events are messages: boxing the large variant would add an allocation to the
// common case to save bytes only on the rare small ones.
#[allow(clippy::large_enum_variant)]
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
    /// A message was committed; members receive it in commit order.
    MessageStored {
        /// The message as members read it.
        message: Message,
        /// The sender's own id for it, echoed only to the sender.
        client_id: Option<String>,
    },
    /// A member started or stopped typing.
    Typing {
        /// The room.
        room: RoomId,
        /// Who types.
        user: UserId,
        /// Their name, for "<username> is typing...".
        username: Username,
        /// Whether they are typing now.
        typing: bool,
    },
    /// The members connected to `room` may have changed on another instance: whoever
    /// shows the count should count again.
    PresenceChanged {
        /// The room.
        room: RoomId,
    },
}

impl RoomEvent {
    /// The room the event belongs to.
    pub fn room(&self) -> &RoomId {
        match self {
            Self::MemberAdded { room, .. }
            | Self::MemberRemoved { room, .. }
            | Self::Typing { room, .. }
            | Self::PresenceChanged { room } => room,
            Self::MessageStored { message, .. } => &message.room,
        }
    }

    /// The sentence members see, for membership changes.
    pub fn notification(&self) -> Option<String> {
        match self {
            Self::MemberAdded { username, .. } => {
                Some(format!("{username} was added to the chat."))
            }
            Self::MemberRemoved {
                username,
                left: true,
                ..
            } => Some(format!("{username} left the chat.")),
            Self::MemberRemoved { username, .. } => {
                Some(format!("{username} was removed from the chat."))
            }
            Self::MessageStored { .. } | Self::Typing { .. } | Self::PresenceChanged { .. } => None,
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
        assert_eq!(added.notification().unwrap(), "ada was added to the chat.");
        assert_eq!(added.room(), &room);
        let removed = |left| RoomEvent::MemberRemoved {
            room: room.clone(),
            user: user.clone(),
            username: username.clone(),
            left,
        };
        assert_eq!(
            removed(false).notification().unwrap(),
            "ada was removed from the chat."
        );
        assert_eq!(removed(true).notification().unwrap(), "ada left the chat.");
    }
}
