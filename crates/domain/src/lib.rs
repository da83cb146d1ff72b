//! Whisper's business: accounts, rooms and messages, their rules, and the ports through
//! which they reach storage, mail and the network. Free of any framework.

pub mod accounts;
pub mod caching;
pub mod chat;
pub mod clock;
#[cfg(feature = "contracts")]
pub mod contracts;
pub mod delivery;
pub mod email;
pub mod error;
pub mod events;
pub mod id;
pub mod mail;
pub mod media;
pub mod media_kinds;
pub mod message;
pub mod ordering;
pub mod ports;
pub mod problem;
#[cfg(test)]
mod recording_bus;
pub mod room;
pub mod rooms;
pub mod secret;
pub mod session;
pub mod social;
mod text;
pub mod tokens;
pub mod totp;
pub mod user;
pub mod username;
pub mod verification;

pub use accounts::{
    Accounts, AccountsPolicy, AccountsPorts, LockoutPolicy, SocialNextStep, SocialSignIn,
};
pub use caching::{CachedMembership, CachedTokens};
pub use chat::{Chat, ChatPolicy, ChatPorts, Draft, DraftContent, ReadySend, Sent};
pub use clock::{Clock, SystemClock};
pub use delivery::{DeliveryReport, MailDelivery, RetryPolicy};
pub use email::Email;
pub use error::{
    Clash, Credential, Denial, DomainError, DomainResult, Missing, Rejection, Service,
};
pub use events::RoomEvent;
pub use id::{MessageId, RoomId, TokenFamilyId, TokenId, UserId};
pub use mail::{DeliveryFailure, OutboxItem, OutgoingEmail};
pub use media::MediaReader;
pub use message::{
    MediaKey, MediaKind, MediaRef, Message, MessageContent, MessageCursor, MessageText, NewMessage,
    ReplyPreview, Stored,
};
pub use ordering::RoomOrder;
pub use problem::{Field, Flaw, Problem};
pub use room::{Room, RoomName};
pub use rooms::{HistoryPage, MAX_PAGE_SIZE, Rooms, RoomsPorts};
pub use secret::SecretDigest;
pub use session::{Session, SessionEnded, TokenClaims, TokenKind};
pub use social::{SocialAuthorization, SocialIdentity, SocialIdentityProvider};
pub use tokens::{AccessTokenRecord, RefreshFamily, RefreshVerdict};
pub use totp::{TotpDevice, TotpSecret};
pub use user::User;
pub use username::Username;
pub use verification::VerificationCode;
