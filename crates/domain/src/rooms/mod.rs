//! The rooms use case: rooms and their members, message history and media, with the
//! membership rules (the creator adds and removes, a member may leave, strangers see nothing).

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Missing};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId, UserId};
use crate::media::MediaReader;
use crate::message::{MediaRef, Message, MessageContent, MessageCursor};
use crate::ports::{
    Clock, EventBus, MediaStore, MessageRepository, RoomRepository, UserRepository,
};
use crate::problem::{Field, Flaw, Problem};
use crate::room::{Room, RoomName};

/// The most messages one history page holds.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The ports the rooms use case needs.
#[derive(Clone)]
pub struct RoomsPorts {
    /// Accounts, to check invited users exist and name them.
    pub users: Arc<dyn UserRepository>,
    /// Rooms and members.
    pub rooms: Arc<dyn RoomRepository>,
    /// Message history.
    pub messages: Arc<dyn MessageRepository>,
    /// Media files.
    pub media: Arc<dyn MediaStore>,
    /// Where membership events go.
    pub events: Arc<dyn EventBus>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// One page of a room's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist before the last one.
    pub has_older: bool,
}

/// Rooms, members, history and media.
pub struct Rooms {
    ports: RoomsPorts,
}

impl Rooms {
    /// The use case over `ports`.
    pub fn new(ports: RoomsPorts) -> Self {
        Self { ports }
    }

    /// Opens a room named `name`; the creator is always a member. Every invited user must
    /// exist (`Invalid` on `user_ids`, listing the unknown ones, one per line).
    pub async fn create(
        &self,
        creator: &UserId,
        name: RoomName,
        invited: Vec<UserId>,
    ) -> DomainResult<Room> {
        self.ensure_users_exist(&invited).await?;
        let room = Room::open(name, creator.clone(), invited, self.ports.clock.now());
        self.ports.rooms.create(&room).await?;
        Ok(room)
    }

    /// The rooms `member` belongs to, newest first.
    pub async fn list(&self, member: &UserId) -> DomainResult<Vec<Room>> {
        self.ports.rooms.list_for_member(member).await
    }

    /// The room, for one of its members: `NotFound` if it does not exist, `Forbidden` for
    /// anyone else.
    pub async fn room_for_member(&self, actor: &UserId, room: &RoomId) -> DomainResult<Room> {
        let room = self.find_room(room).await?;
        room.ensure_member(actor)?;
        Ok(room)
    }

    /// Whether `actor` may read `room`: one membership lookup on the common path;
    /// `NotFound` for an unknown room, `Forbidden` for anyone else.
    pub async fn check_member(&self, actor: &UserId, room: &RoomId) -> DomainResult<()> {
        if self.ports.rooms.is_member(room, actor).await? {
            return Ok(());
        }
        self.room_for_member(actor, room).await.map(|_| ())
    }

    /// The accounts of the room's members, by username.
    pub async fn member_accounts(&self, room: &Room) -> DomainResult<Vec<crate::user::User>> {
        let mut members = self.ports.users.find_many(&room.members).await?;
        members.sort_by_key(|user| user.username.as_str().to_lowercase());
        Ok(members)
    }

    /// The creator adds members; each newcomer is announced.
    pub async fn add_members(
        &self,
        actor: &UserId,
        room: &RoomId,
        users: Vec<UserId>,
    ) -> DomainResult<Room> {
        let found = self.find_room(room).await?;
        found.ensure_member(actor)?;
        found.ensure_can_add_members(actor)?;
        let accounts = self.ensure_users_exist(&users).await?;
        let added = self.ports.rooms.add_members(room, &users).await?;
        for user in &added {
            if let Some(account) = accounts.iter().find(|account| &account.id == user) {
                self.ports.events.publish(RoomEvent::MemberAdded {
                    room: room.clone(),
                    user: user.clone(),
                    username: account.username.clone(),
                });
            }
        }
        self.find_room(room).await
    }

    /// The creator removes anyone, a member removes themself; the removal is announced.
    pub async fn remove_member(
        &self,
        actor: &UserId,
        room: &RoomId,
        target: &UserId,
    ) -> DomainResult<()> {
        let found = self.find_room(room).await?;
        found.ensure_member(actor)?;
        found.ensure_can_remove(actor, target)?;
        if !found.is_member(target) {
            return Err(DomainError::NotFound(Missing::RoomMember));
        }
        let account = self
            .ports
            .users
            .find_by_id(target)
            .await?
            .ok_or(DomainError::NotFound(Missing::MemberAccount))?;
        if self.ports.rooms.remove_member(room, target).await? {
            self.ports.events.publish(RoomEvent::MemberRemoved {
                room: room.clone(),
                user: target.clone(),
                username: account.username,
                left: actor == target,
            });
        }
        Ok(())
    }

    /// A page of the room's history strictly older than `before`, newest first, for a
    /// member. `page_size` is capped at [`MAX_PAGE_SIZE`].
    pub async fn history(
        &self,
        actor: &UserId,
        room: &RoomId,
        before: Option<MessageCursor>,
        page_size: u32,
    ) -> DomainResult<HistoryPage> {
        self.check_member(actor, room).await?;
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        // One more than asked tells whether older messages remain, without a count.
        let mut messages = self.ports.messages.page(room, before, size + 1).await?;
        let has_older = messages.len() > size as usize;
        messages.truncate(size as usize);
        Ok(HistoryPage {
            messages,
            has_older,
        })
    }

    /// The media of a message, for a member of its room.
    pub async fn media(
        &self,
        actor: &UserId,
        message: &MessageId,
    ) -> DomainResult<(MediaRef, Box<dyn MediaReader>)> {
        let message = self
            .ports
            .messages
            .find(message)
            .await?
            .ok_or(DomainError::NotFound(Missing::Message))?;
        self.check_member(actor, &message.room).await?;
        let MessageContent::Media(media) = message.content else {
            return Err(DomainError::NotFound(Missing::MessageMedia));
        };
        let reader = self.ports.media.open(&media.key).await?.ok_or_else(|| {
            DomainError::internal(format!("media {} is missing", media.key.as_str()))
        })?;
        Ok((media, reader))
    }

    async fn find_room(&self, room: &RoomId) -> DomainResult<Room> {
        self.ports
            .rooms
            .find(room)
            .await?
            .ok_or(DomainError::NotFound(Missing::Room))
    }

    /// The accounts of `ids`, or `Invalid` with one problem per unknown member.
    async fn ensure_users_exist(&self, ids: &[UserId]) -> DomainResult<Vec<crate::user::User>> {
        let found = self.ports.users.find_many(ids).await?;
        let unknown: Vec<Problem> = ids
            .iter()
            .filter(|id| !found.iter().any(|user| &user.id == *id))
            .map(|id| Problem {
                field: Field::Members,
                flaw: Flaw::UnknownUserId(id.clone()),
            })
            .collect();
        if unknown.is_empty() {
            Ok(found)
        } else {
            Err(DomainError::Invalid(unknown))
        }
    }
}
