//! What the business needs from the outside world. Adapters implement these traits;
//! with the `mocks` feature each has a mockall mock (`MockUserRepository`, …).
//!
//! Every method returns [`DomainError::Unavailable`] when its backing service cannot be
//! reached and [`DomainError::Internal`] for failures that are nobody's input.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::email::Email;
use crate::error::DomainResult;
#[cfg(doc)]
use crate::error::{Clash, DomainError, Missing};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId, TokenFamilyId, TokenId, UserId};
use crate::mail::{DeliveryFailure, OutboxItem, OutgoingEmail};
use crate::media::MediaReader;
use crate::message::{MediaKey, Message, MessageCursor, NewMessage, Stored};
#[cfg(doc)]
use crate::problem::{Field, Flaw};
use crate::room::Room;
use crate::secret::SecretDigest;
use crate::session::{SessionEnded, TokenClaims};
use crate::tokens::{AccessTokenRecord, RefreshFamily};
use crate::totp::{TotpDevice, TotpSecret};
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
    /// Stores a new account. MUST return `Conflict` [`Clash::EmailTaken`] or
    /// [`Clash::UsernameTaken`] (usernames compared ignoring case) when either is in use.
    async fn insert(&self, user: &User) -> DomainResult<()>;
    /// The account with this id, if any.
    async fn find_by_id(&self, id: &UserId) -> DomainResult<Option<User>>;
    /// The account with this email, if any.
    async fn find_by_email(&self, email: &Email) -> DomainResult<Option<User>>;
    /// The accounts among `ids` that exist, in no particular order.
    async fn find_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>>;
    /// Renames an account and records whether the person chose the name. MUST return
    /// `Conflict` [`Clash::UsernameTaken`] when another account has it, `NotFound`
    /// [`Missing::User`] for an unknown id.
    async fn rename(&self, id: &UserId, username: &Username, chosen: bool) -> DomainResult<User>;
    /// Sets the online flag; returns whether it changed (so unchanged writes can be skipped).
    async fn set_online(&self, id: &UserId, online: bool) -> DomainResult<bool>;
    /// Up to `limit` accounts whose username starts with `prefix` (ignoring case), by username.
    async fn search_by_username(&self, prefix: &str, limit: u32) -> DomainResult<Vec<User>>;
    /// Records that `backend`'s person `subject` signs in as `user`; recording it again is
    /// harmless.
    async fn link_identity(&self, user: &UserId, backend: &str, subject: &str) -> DomainResult<()>;
}

/// Email verification codes; at most one per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VerificationCodes: Send + Sync {
    /// In one transaction: stores `code` as the user's only code, replacing any earlier
    /// one, and queues `email` (which carries its link) in the mail outbox.
    async fn issue(&self, code: &VerificationCode, email: &OutgoingEmail) -> DomainResult<()>;
    /// The user's code, if any.
    async fn find_for_user(&self, user_id: &UserId) -> DomainResult<Option<VerificationCode>>;
    /// The code whose token has this digest, if any.
    async fn find_by_digest(&self, digest: &SecretDigest)
    -> DomainResult<Option<VerificationCode>>;
    /// In one transaction: deletes the code with this digest and marks its user's email
    /// verified. MUST return `NotFound` [`Missing::UsedVerificationLink`] when no such code exists.
    async fn consume(&self, digest: &SecretDigest) -> DomainResult<User>;
    /// Deletes the user's code, if any.
    async fn discard(&self, user_id: &UserId) -> DomainResult<()>;
}

/// TOTP devices; at most one per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TotpDevices: Send + Sync {
    /// Stores an unconfirmed device, replacing the user's unconfirmed one. MUST return
    /// `Conflict` [`Clash::TotpAlreadyConfirmed`] when the user's device is confirmed.
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
    /// Stores a new room with its members. MUST return `Conflict`
    /// [`Clash::RoomNameTaken`] when the name is in use (ignoring case).
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

/// Message history. PostgreSQL (one database for every instance) numbers each room's
/// messages, so order and `client_id` idempotency hold across instances.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageRepository: Send + Sync {
    /// Stores a batch of messages, to any rooms, and returns one result per message in the
    /// same order. An implementation MUST:
    ///
    /// - do it all in one transaction, taking first the rows of the batch's rooms, locked in
    ///   room id order (so writers on other instances never wait for each other in a
    ///   circle), e.g. `SELECT id, last_seq FROM rooms WHERE id = ANY($1) ORDER BY id FOR
    ///   UPDATE`;
    /// - then, under that lock, answer [`Stored::Earlier`] with that message, storing
    ///   nothing, for a message whose (room, sender, `client_id`) was stored at or after
    ///   `client_ids_since`, before this batch or earlier in it;
    /// - answer `Invalid` on [`Field::ReplyTo`] with [`Flaw::ReplyOutsideRoom`], storing
    ///   nothing, for a reply whose replied-to message is not in its room, and `NotFound`
    ///   [`Missing::Room`] for a message to a room that does not exist;
    /// - give the rest consecutive `seq`s per room, in batch order, from the room's last
    ///   `seq` + 1, store them and advance the room's last `seq`, answering
    ///   [`Stored::New`]; then commit.
    ///
    /// So commit order is `seq` order, a rejected message consumes no `seq`, and there are
    /// no holes however many writers share a room. The outer error means nothing was
    /// stored.
    async fn insert_many(
        &self,
        messages: &[NewMessage],
        client_ids_since: DateTime<Utc>,
    ) -> DomainResult<Vec<DomainResult<Stored>>>;
    /// The message, if it exists.
    async fn find(&self, id: &MessageId) -> DomainResult<Option<Message>>;
    /// Up to `limit` messages of `room` before position `before` (`seq` below it; all when
    /// `None`), newest first.
    async fn page(
        &self,
        room: &RoomId,
        before: Option<MessageCursor>,
        limit: u32,
    ) -> DomainResult<Vec<Message>>;
    /// Up to `limit` messages of `room` after position `after` (`seq` above it), oldest
    /// first.
    async fn after(
        &self,
        room: &RoomId,
        after: &MessageCursor,
        limit: u32,
    ) -> DomainResult<Vec<Message>>;
    /// Each listed room's last `seq` (0 when it has no messages), in no particular order;
    /// unknown rooms are left out.
    async fn positions(&self, rooms: &[RoomId]) -> DomainResult<Vec<(RoomId, u64)>>;
}

/// Emails queued for delivery. Queuing happens inside the repository operation that
/// produces the email (e.g. issuing a verification code), so both commit together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MailOutbox: Send + Sync {
    /// Reserves up to `limit` emails due at `now` until `lease_until`, oldest first; an email
    /// reserved by another deliverer is skipped until its lease ends.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> DomainResult<Vec<OutboxItem>>;
    /// Removes a delivered email from the queue.
    async fn mark_sent(&self, id: i64) -> DomainResult<()>;
    /// Records a failed attempt and when to try again.
    async fn reschedule(
        &self,
        id: i64,
        retry_at: DateTime<Utc>,
        failed_attempts: u32,
        reason: &str,
    ) -> DomainResult<()>;
    /// Stops trying an email the mail server refused for good, keeping it for operators.
    async fn abandon(&self, id: i64, reason: &str) -> DomainResult<()>;
}

/// Hands emails to a mail server.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email, saying whether a failure is worth retrying.
    async fn send(&self, email: &OutgoingEmail) -> Result<(), DeliveryFailure>;
}

/// Failed second-factor attempts, for locking out guessers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TotpAttempts: Send + Sync {
    /// Records a failed attempt by `user_id` at `at`.
    async fn record_failure(&self, user_id: &UserId, at: DateTime<Utc>) -> DomainResult<()>;
    /// The user's failed attempts at or after `since`, oldest first.
    async fn failures_since(
        &self,
        user_id: &UserId,
        since: DateTime<Utc>,
    ) -> DomainResult<Vec<DateTime<Utc>>>;
    /// Forgets the user's failed attempts (after a success).
    async fn clear(&self, user_id: &UserId) -> DomainResult<()>;
    /// Forgets the attempt recorded at `at` (one refused unjudged while locked).
    async fn withdraw_failure(&self, user_id: &UserId, at: DateTime<Utc>) -> DomainResult<()>;
}

/// Signed one-time tokens for emailed links.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait LinkTokens: Send + Sync {
    /// A fresh token for `user_id`, to put in a link, and the digest to store instead of it.
    fn issue(&self, user_id: &UserId) -> (String, SecretDigest);
    /// The user a genuine token was issued for, and its digest; `None` for a forged or
    /// malformed token.
    fn verify(&self, token: &str) -> Option<(UserId, SecretDigest)>;
}

/// The addresses emailed links point to; the domain knows what a link is for, not where
/// it is served.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait AccountLinks: Send + Sync {
    /// The absolute address that verifies an email address with link token `token`.
    fn email_verification(&self, token: &str) -> String;
}

/// Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TotpAlgorithm: Send + Sync {
    /// A new random 160-bit secret.
    fn generate_secret(&self) -> TotpSecret;
    /// The time step, among the one at `now` and one either side, whose code is `code`.
    fn matching_step(&self, secret: &TotpSecret, code: &str, now: DateTime<Utc>) -> Option<u64>;
    /// The `otpauth://` URI an authenticator app reads, labelled with `account`.
    fn provisioning_uri(&self, secret: &TotpSecret, account: &Email) -> String;
}

/// Signs and reads session tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// The signed token carrying `claims`.
    fn encode(&self, claims: &TokenClaims) -> DomainResult<String>;
    /// The claims of a token whose signature is genuine, expired or not; `None` otherwise.
    /// Expiry is judged by the caller against its clock.
    fn decode(&self, token: &str) -> Option<TokenClaims>;
}

/// Encrypts small secrets (TOTP seeds) before they are stored, so a leaked table is useless.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SecretSealer: Send + Sync {
    /// The sealed (encrypted and authenticated) form of `plaintext`.
    fn seal(&self, plaintext: &[u8]) -> Vec<u8>;
    /// The plaintext of something `seal` produced; `Internal` if it was tampered with or
    /// sealed under another key.
    fn open(&self, sealed: &[u8]) -> DomainResult<Vec<u8>>;
}

/// Where room events go; the WebSocket hub (and, scaled out, Redis) listens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EventBus: Send + Sync {
    /// Announces `event` to the listeners of its room. Never blocks on slow listeners.
    fn publish(&self, event: RoomEvent);
}

/// Someone who hears every room event published from the moment they start listening.
pub type EventListener = Box<dyn Fn(&RoomEvent) + Send + Sync>;

/// Where the WebSocket hub hears room events: those published here and, scaled out, on
/// other instances.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EventSource: Send + Sync {
    /// Calls `listener` with every event from now on, in publishing order and in the
    /// publisher's task: it must be quick and must not publish.
    fn listen(&self, listener: EventListener);
    /// This instance now has a socket open to `room`: events published for it on other
    /// instances must reach the listeners. One instance needs nothing.
    fn follow(&self, _room: &RoomId) {}
    /// This instance's last socket to `room` closed: other instances' events for it may
    /// stop arriving.
    fn unfollow(&self, _room: &RoomId) {}
    /// Whether events published on other instances reach this one right now; false while
    /// the link between instances is down (then listeners must read what they miss from
    /// the record). One instance is always up.
    fn is_up(&self) -> bool {
        true
    }
}

/// Someone who hears of every session that ends, from the moment they start listening.
pub type SessionListener = Box<dyn Fn(&SessionEnded) + Send + Sync>;

/// Where ended sessions are announced to every instance, so sockets opened with them close
/// at once rather than at their next check.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SessionSignals: Send + Sync {
    /// Announces that `session` ended. Never blocks.
    fn ended(&self, session: SessionEnded);
    /// Calls `listener` with every ended session from now on; it must be quick.
    fn listen(&self, listener: SessionListener);
}

/// Who is connected where: the sockets members hold open to rooms. Changes return at
/// once; the implementation records them in the order they were made, and this handle's
/// own queries see them at once. An implementation shared by instances counts every
/// instance's sockets.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Presence: Send + Sync {
    /// A socket of `user` opened to `room`.
    fn connect(&self, room: &RoomId, user: &UserId);
    /// A socket of `user` to `room` closed; a socket never connected is ignored.
    fn disconnect(&self, room: &RoomId, user: &UserId);
    /// Whether `user` has a socket open to any room.
    async fn is_online(&self, user: &UserId) -> DomainResult<bool>;
    /// How many distinct members have a socket open to `room`.
    async fn members_connected(&self, room: &RoomId) -> DomainResult<usize>;
    /// Returns once every change made before the call is recorded (online flags
    /// included): a stopping instance waits for it, so the sockets it closed leave
    /// nobody marked online, before its database connections go.
    async fn settle(&self);
}

/// How many requests a caller may make: a burst, then a steady rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Requests allowed at once, from a full budget.
    pub burst: u32,
    /// Requests the budget regains per second, up to `burst`.
    pub per_second: f64,
}

impl Budget {
    /// A burst of `per_minute` requests, regained at `per_minute` a minute.
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            burst: per_minute,
            per_second: f64::from(per_minute) / 60.0,
        }
    }
}

/// Request budgets shared by every instance, so limits count a caller's requests on all
/// of them together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Quotas: Send + Sync {
    /// Counts one request of `caller` against its `budget` in `scope` (e.g. anonymous
    /// requests, a member's messages). MUST return `RateLimited` when the budget is spent.
    async fn take(&self, scope: &str, caller: &str, budget: Budget) -> DomainResult<()>;
}

/// Media files, named by server-made keys.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores `bytes` under `key`, durably, before returning.
    async fn put(&self, key: &MediaKey, bytes: &[u8]) -> DomainResult<()>;
    /// A reader of the file under `key`, or `None` if there is none.
    async fn open(&self, key: &MediaKey) -> DomainResult<Option<Box<dyn MediaReader>>>;
}

/// Opaque, tamper-proof page cursors for message history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PageCursors: Send + Sync {
    /// The cursor text for a position in history.
    fn encode(&self, cursor: &MessageCursor) -> String;
    /// The position a genuine cursor stands for; `None` for a forged or damaged one.
    fn decode(&self, text: &str) -> Option<MessageCursor>;
}
