//! The one error type of the business rules. Its details are typed: adapters choose the
//! words of their protocol (codes, field names, statuses) by matching on them, and the
//! sentences people read come from `Display`.

use thiserror::Error;

use crate::problem::{Field, Flaw, Problem};

/// Why a business operation did not happen; adapters map each variant to their protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// Inputs break rules of the business, e.g. an email that is not an email; never empty.
    #[error("invalid input: {}", Problem::list(.0))]
    Invalid(Vec<Problem>),
    /// A well-formed request refused in the current state, e.g. an expired link.
    #[error("{0}")]
    Rejected(Rejection),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(Missing),
    /// The request clashes with existing state, e.g. an email already registered.
    #[error("{0}")]
    Conflict(Clash),
    /// The caller has not proved who they are.
    #[error("{0}")]
    Unauthenticated(Credential),
    /// The caller is known but not allowed to do this.
    #[error("{0}")]
    Forbidden(Denial),
    /// Too many attempts; the caller may try again after the given number of seconds.
    #[error("too many attempts, retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until an attempt may succeed again.
        retry_after_secs: u64,
    },
    /// A backing service (the database) cannot be reached right now.
    #[error("{0} is unavailable")]
    Unavailable(Service),
    /// An outside service we depend on (an identity provider) failed or timed out.
    #[error("{service} failed: {reason}")]
    Upstream {
        /// The service that failed.
        service: Service,
        /// What went wrong, for logs only (never tokens).
        reason: String,
    },
    /// Something that should not happen did; the reason is for logs, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// One input rule broken by `field`.
    pub fn invalid(field: Field, flaw: Flaw) -> Self {
        Self::Invalid(vec![Problem { field, flaw }])
    }

    /// A failure that is nobody's input; the reason goes to logs only.
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::Internal(reason.into())
    }
}

/// Why a well-formed request is refused in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The verification link is older than its lifetime.
    #[error("This verification link has expired; request a new one.")]
    ExpiredLink,
    /// The verification link was not issued by us, or belongs to no pending verification.
    #[error("This verification link is not valid.")]
    InvalidLink,
    /// The email the link verifies is verified already.
    #[error("This email address is already verified.")]
    AlreadyVerified,
    /// The one-time password does not match, has expired or was used before.
    #[error("The code is wrong, expired or already used.")]
    WrongOneTimePassword,
    /// The media is bigger than the server accepts.
    #[error("Media is limited to {max_bytes} bytes.")]
    MediaTooLarge {
        /// The largest accepted size.
        max_bytes: usize,
    },
}

/// What was asked for and does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Missing {
    /// No account uses the email address given.
    #[error("No account uses this email address.")]
    AccountWithEmail,
    /// No account has the id given.
    #[error("No such user.")]
    User,
    /// The account has no authenticator device yet.
    #[error("Create a TOTP device first.")]
    TotpDevice,
    /// The verification code of a link was used (or replaced) meanwhile.
    #[error("This verification link was already used.")]
    UsedVerificationLink,
    /// No sign-in provider of that name is configured.
    #[error("This sign-in provider is not available here.")]
    SocialProvider,
    /// No room has the id given.
    #[error("No such room.")]
    Room,
    /// The user to remove is not a member of the room.
    #[error("That user is not a member of this room.")]
    RoomMember,
    /// The member to remove has no account any more.
    #[error("No such user.")]
    MemberAccount,
    /// The member to remove is named by something that is not a user id.
    #[error("That user is not a member.")]
    UnnamedMember,
    /// No message has the id given.
    #[error("No such message.")]
    Message,
    /// The message has no media to show.
    #[error("This message has no media.")]
    MessageMedia,
    /// The message to resume after is not in this room.
    #[error("No such message in this room.")]
    MessageInRoom,
}

/// The existing state a request clashes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Clash {
    /// Another account has the email address.
    #[error("A user with this email already exists.")]
    EmailTaken,
    /// Another account has the username (ignoring case).
    #[error("A user with this username already exists.")]
    UsernameTaken,
    /// Another room has the name (ignoring case).
    #[error("A room with this name already exists.")]
    RoomNameTaken,
    /// The account's authenticator is confirmed and cannot be replaced.
    #[error("Two-factor authentication is already set up for this account.")]
    TotpAlreadyConfirmed,
    /// A verification link was sent recently and still works.
    #[error("A verification link was sent recently and still works; check your inbox.")]
    VerificationPending,
}

/// Why the caller's proof of identity is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Credential {
    /// The refresh token is forged, expired, revoked or was replayed.
    #[error("The refresh token is invalid or was revoked.")]
    InvalidRefreshToken,
    /// The access token is forged, expired or revoked.
    #[error("The access token is invalid, expired or revoked.")]
    InvalidAccessToken,
    /// The step needs the session of a verified email or a first login step.
    #[error("Start by verifying your email or logging in; this step needs that session.")]
    SessionRequired,
}

/// Why a known caller may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Denial {
    /// Logging in needs a confirmed authenticator first.
    #[error("Set up two-factor authentication before logging in.")]
    TotpSetupRequired,
    /// The step needs a verified email address.
    #[error("Verify your email address first.")]
    EmailNotVerified,
    /// The identity provider vouches for a person but not for their email address.
    #[error("Your identity provider has not verified this email address.")]
    EmailNotVerifiedByProvider,
    /// Only a room's creator adds members.
    #[error("Only the room's creator can add members.")]
    NotCreatorToAdd,
    /// Only a room's creator removes other members.
    #[error("Only the room's creator can remove other members.")]
    NotCreatorToRemove,
    /// Only members read and write in a room.
    #[error("You are not a member of this room.")]
    NotMember,
}

/// A service outside the process that the business depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Service {
    /// Where accounts, rooms and messages are stored.
    #[error("database")]
    Database,
    /// Who vouches for people signing in with another account (Google).
    #[error("identity provider")]
    IdentityProvider,
    /// Where media files are kept (a disk that may be full or read-only).
    #[error("media storage")]
    MediaStorage,
}

/// Shorthand for results of business operations.
pub type DomainResult<T> = Result<T, DomainError>;
