//! Rooms: named conversations between members.

use chrono::{DateTime, Utc};

use crate::error::{Denial, DomainError};
use crate::id::{RoomId, UserId};
use crate::problem::{Field, Flaw};

/// A room's display name: 1 to 64 characters, no control characters, unique among rooms.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoomName(String);

/// The longest allowed room name, in characters.
pub const ROOM_NAME_MAX: usize = 64;

impl RoomName {
    /// Accepts a room name that follows the rules, trimming surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let candidate = raw.trim();
        if candidate.is_empty() {
            return Err(DomainError::invalid(Field::RoomName, Flaw::RoomNameMissing));
        }
        if candidate.chars().count() > ROOM_NAME_MAX {
            return Err(DomainError::invalid(Field::RoomName, Flaw::RoomNameTooLong));
        }
        if candidate.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                Field::RoomName,
                Flaw::RoomNameControlCharacters,
            ));
        }
        Ok(Self(candidate.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::text::display_as_text!(RoomName);

/// A conversation: its creator and the members who may read and write in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The room's identity.
    pub id: RoomId,
    /// The room's unique name.
    pub name: RoomName,
    /// Who created the room; the only one who may add or remove others.
    pub creator: UserId,
    /// Everyone who belongs to the room, the creator included.
    pub members: Vec<UserId>,
    /// When the room was created.
    pub created: DateTime<Utc>,
}

impl Room {
    /// A new room whose members are the creator plus `invited`, each once.
    pub fn open(
        name: RoomName,
        creator: UserId,
        invited: impl IntoIterator<Item = UserId>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut members = vec![creator.clone()];
        for user in invited {
            if !members.contains(&user) {
                members.push(user);
            }
        }
        Self {
            id: RoomId::generate(),
            name,
            creator,
            members,
            created: now,
        }
    }

    /// Whether `user` belongs to the room.
    pub fn is_member(&self, user: &UserId) -> bool {
        self.members.contains(user)
    }

    /// Only the creator adds members.
    pub fn ensure_can_add_members(&self, actor: &UserId) -> Result<(), DomainError> {
        if *actor == self.creator {
            Ok(())
        } else {
            Err(DomainError::Forbidden(Denial::NotCreatorToAdd))
        }
    }

    /// The creator removes anyone; a member removes only themself.
    pub fn ensure_can_remove(&self, actor: &UserId, target: &UserId) -> Result<(), DomainError> {
        if *actor == self.creator || actor == target {
            Ok(())
        } else {
            Err(DomainError::Forbidden(Denial::NotCreatorToRemove))
        }
    }

    /// Members refuse strangers with `Forbidden`.
    pub fn ensure_member(&self, user: &UserId) -> Result<(), DomainError> {
        if self.is_member(user) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(Denial::NotMember))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room_of(creator: &UserId, invited: &[UserId]) -> Room {
        let name = RoomName::parse("General").unwrap_or_else(|e| panic!("{e}"));
        Room::open(name, creator.clone(), invited.to_vec(), Utc::now())
    }

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(
            RoomName::parse("  Lobby ").map(|n| n.to_string()),
            Ok("Lobby".to_owned())
        );
        assert!(RoomName::parse("   ").is_err());
        assert!(RoomName::parse(&"x".repeat(ROOM_NAME_MAX + 1)).is_err());
        assert!(RoomName::parse(&"é".repeat(ROOM_NAME_MAX)).is_ok());
        assert!(RoomName::parse("bad\u{7}name").is_err());
    }

    #[test]
    fn the_creator_is_always_a_member_and_members_are_unique() {
        let creator = UserId::generate();
        let friend = UserId::generate();
        let room = room_of(&creator, &[friend.clone(), creator.clone(), friend.clone()]);
        assert_eq!(room.members, vec![creator.clone(), friend.clone()]);
        assert!(room.is_member(&creator));
    }

    #[test]
    fn only_the_creator_adds_members() {
        let creator = UserId::generate();
        let friend = UserId::generate();
        let room = room_of(&creator, std::slice::from_ref(&friend));
        assert!(room.ensure_can_add_members(&creator).is_ok());
        assert!(room.ensure_can_add_members(&friend).is_err());
    }

    #[test]
    fn members_remove_themselves_and_only_the_creator_removes_others() {
        let creator = UserId::generate();
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let room = room_of(&creator, &[ann.clone(), bob.clone()]);
        assert!(room.ensure_can_remove(&creator, &ann).is_ok());
        assert!(room.ensure_can_remove(&ann, &ann).is_ok());
        assert!(matches!(
            room.ensure_can_remove(&ann, &bob),
            Err(DomainError::Forbidden(Denial::NotCreatorToRemove))
        ));
    }

    #[test]
    fn strangers_are_not_members() {
        let room = room_of(&UserId::generate(), &[]);
        assert!(room.ensure_member(&UserId::generate()).is_err());
    }
}
