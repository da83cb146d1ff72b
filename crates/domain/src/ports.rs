//! What the business needs from the outside world. Adapters implement these traits;
//! with the `mocks` feature each has a mockall mock (`MockUserRepository`, …).
//!
//! Every method returns [`DomainError::Unavailable`] when its backing service cannot be
//! reached and [`DomainError::Internal`] for failures that are nobody's input.

use async_trait::async_trait;

use crate::email::Email;
#[cfg(doc)]
use crate::error::DomainError;
use crate::error::DomainResult;
use crate::id::{MessageId, RoomId, TokenFamilyId, TokenId, UserId};
use crate::message::{Message, MessageCursor, NewMessage};
use crate::room::Room;
use crate::secret::SecretDigest;
use crate::tokens::{AccessTokenRecord, RefreshFamily};
use crate::totp::TotpDevice;
use crate::user::User;
use crate::username::Username;
use crate::verification::VerificationCode;

pub use crate::clock::Clock;
#[cfg(any(test, feature = "mocks"))]
pub use crate::clock::MockClock;

/// Accounts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new account. MUST return `Conflict` with code `email_taken` or
    /// `username_taken` (usernames compared ignoring case) when either is in use.
    async fn insert(&self, user: &User) -> DomainResult<()>;
    /// The account with this id, if any.
    async fn find_by_id(&self, id: &UserId) -> DomainResult<Option<User>>;
    /// The account with this email, if any.
    async fn find_by_email(&self, email: &Email) -> DomainResult<Option<User>>;
    /// The accounts among `ids` that exist, in no particular order.
    async fn find_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>>;
    /// Renames an account and records whether the person chose the name. MUST return
    /// `Conflict` `username_taken` when another account has it, `NotFound` for an unknown id.
    async fn rename(&self, id: &UserId, username: &Username, chosen: bool) -> DomainResult<User>;
    /// Sets the online flag; returns whether it changed (so unchanged writes can be skipped).
    async fn set_online(&self, id: &UserId, online: bool) -> DomainResult<bool>;
    /// Up to `limit` accounts whose username starts with `prefix` (ignoring case), by username.
    async fn search_by_username(&self, prefix: &str, limit: u32) -> DomainResult<Vec<User>>;
}

/// Email verification codes; at most one per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VerificationCodes: Send + Sync {
    /// Stores `code` as the user's only code, replacing any earlier one.
    async fn replace(&self, code: &VerificationCode) -> DomainResult<()>;
    /// The user's code, if any.
    async fn find_for_user(&self, user_id: &UserId) -> DomainResult<Option<VerificationCode>>;
    /// The code whose token has this digest, if any.
    async fn find_by_digest(&self, digest: &SecretDigest)
    -> DomainResult<Option<VerificationCode>>;
    /// In one transaction: deletes the code with this digest and marks its user's email
    /// verified. MUST return `NotFound` when no such code exists (already used).
    async fn consume(&self, digest: &SecretDigest) -> DomainResult<User>;
    /// Deletes the user's code, if any.
    async fn discard(&self, user_id: &UserId) -> DomainResult<()>;
}

/// TOTP devices; at most one per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TotpDevices: Send + Sync {
    /// Stores an unconfirmed device, replacing the user's unconfirmed one. MUST return
    /// `Conflict` `totp_already_confirmed` when the user's device is confirmed.
    async fn enroll(&self, device: &TotpDevice) -> DomainResult<()>;
    /// The user's device, if any.
    async fn find(&self, user_id: &UserId) -> DomainResult<Option<TotpDevice>>;
    /// Atomically records `step` as accepted (and confirms the device when `confirm`), only
    /// if it is later than the last accepted step. Returns false when the step was already
    /// spent (a replay, possibly by a concurrent request); `NotFound` without a device.
    async fn accept_step(&self, user_id: &UserId, step: u64, confirm: bool) -> DomainResult<bool>;
}

/// Issued access tokens and refresh families.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records an issued access token.
    async fn record_access(&self, token: &AccessTokenRecord) -> DomainResult<()>;
    /// The record of access token `jti`, if it was ever issued.
    async fn find_access(&self, jti: &TokenId) -> DomainResult<Option<AccessTokenRecord>>;
    /// Revokes access token `jti`; revoking twice is harmless.
    async fn revoke_access(&self, jti: &TokenId) -> DomainResult<()>;
    /// Stores a new refresh family.
    async fn start_family(&self, family: &RefreshFamily) -> DomainResult<()>;
    /// The family, if it exists.
    async fn find_family(&self, id: &TokenFamilyId) -> DomainResult<Option<RefreshFamily>>;
    /// Atomically replaces the family's current token `from` with `to`. Returns false when
    /// `from` is no longer current (a concurrent rotation won) or the family is revoked.
    async fn rotate(&self, id: &TokenFamilyId, from: &TokenId, to: &TokenId) -> DomainResult<bool>;
    /// Revokes the family and every access token issued with it.
    async fn revoke_family(&self, id: &TokenFamilyId) -> DomainResult<()>;
}

/// Rooms and their members.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RoomRepository: Send + Sync {
    /// Stores a new room with its members. MUST return `Conflict` `room_name_taken` when
    /// the name is in use (ignoring case).
    async fn create(&self, room: &Room) -> DomainResult<()>;
    /// The room with its members, if it exists.
    async fn find(&self, id: &RoomId) -> DomainResult<Option<Room>>;
    /// The rooms `user` belongs to, newest first.
    async fn list_for_member(&self, user: &UserId) -> DomainResult<Vec<Room>>;
    /// Adds members; returns those who were not members before, in the given order.
    async fn add_members(&self, room: &RoomId, users: &[UserId]) -> DomainResult<Vec<UserId>>;
    /// Removes a member; returns whether they were one.
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool>;
    /// Whether `user` belongs to `room` (false for an unknown room).
    async fn is_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool>;
}

/// Message history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageRepository: Send + Sync {
    /// Stores a message and returns it as members read it. MUST return `Invalid` on field
    /// `previous_message_id` when the replied-to message is not in the same room.
    async fn insert(&self, message: &NewMessage) -> DomainResult<Message>;
    /// The message, if it exists.
    async fn find(&self, id: &MessageId) -> DomainResult<Option<Message>>;
    /// Up to `limit` messages of `room` strictly older than `before` (all when `None`),
    /// newest first, ordered by (`created`, `id`).
    async fn page(
        &self,
        room: &RoomId,
        before: Option<MessageCursor>,
        limit: u32,
    ) -> DomainResult<Vec<Message>>;
}
