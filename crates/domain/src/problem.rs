//! What is wrong with an input: which value, and which rule it breaks.

use thiserror::Error;

use crate::chat::CLIENT_ID_MAX;
use crate::email::EMAIL_MAX;
use crate::id::{ID_LENGTH, UserId};
use crate::message::{MediaKind, TEXT_MAX};
use crate::room::ROOM_NAME_MAX;
use crate::username::{USERNAME_MAX, USERNAME_MIN};

/// One broken rule of one input value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The value that breaks it.
    pub field: Field,
    /// The rule it breaks.
    pub flaw: Flaw,
}

impl Problem {
    /// The problems as one line, for logs.
    pub fn list(problems: &[Problem]) -> String {
        let described: Vec<String> = problems
            .iter()
            .map(|problem| format!("{:?}: {}", problem.field, problem.flaw))
            .collect();
        described.join("; ")
    }
}

/// An input value the business judges; adapters give each its name on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The email address of an account.
    Email,
    /// The username of an account.
    Username,
    /// The name of a room.
    RoomName,
    /// The accounts a room is opened with or given.
    Members,
    /// The words of a text message.
    MessageText,
    /// The message a reply answers.
    ReplyTo,
    /// The bytes of a media message.
    Media,
    /// The kind of media a message says it carries.
    MediaFormat,
    /// The stored name of media.
    MediaKey,
    /// The sender's own id for a send.
    ClientId,
    /// A position in a room's history.
    Cursor,
    /// How many messages a history page holds.
    PageSize,
    /// The code an identity provider hands back after sign-in.
    AuthorizationCode,
    /// The id of an account.
    UserId,
    /// The id of a room.
    RoomId,
    /// The id of a message.
    MessageId,
    /// The id of an issued token.
    TokenId,
    /// The id of a chain of refresh tokens.
    TokenFamilyId,
}

/// A rule an input value breaks; its `Display` is the sentence people read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Flaw {
    /// Not an identifier of ours.
    #[error("must be {ID_LENGTH} characters of A-Z, a-z, 0-9, '_' or '-'")]
    MalformedId,
    /// An email address left blank.
    #[error("Enter an email address.")]
    EmailMissing,
    /// An email address longer than any real one.
    #[error("An email address has at most {EMAIL_MAX} characters.")]
    EmailTooLong,
    /// Text that is not an email address.
    #[error("Enter a valid email address.")]
    EmailMalformed,
    /// A username too short or too long.
    #[error("A username has {USERNAME_MIN} to {USERNAME_MAX} characters.")]
    UsernameLength,
    /// A username with characters it may not have.
    #[error("Use letters, digits, '.', '_' or '-', starting with a letter or digit.")]
    UsernameCharacters,
    /// A room name left blank.
    #[error("Enter a room name.")]
    RoomNameMissing,
    /// A room name too long.
    #[error("A room name has at most {ROOM_NAME_MAX} characters.")]
    RoomNameTooLong,
    /// A room name with control characters.
    #[error("A room name cannot contain control characters.")]
    RoomNameControlCharacters,
    /// A text message with nothing to say.
    #[error("A message cannot be empty.")]
    MessageEmpty,
    /// A text message too long.
    #[error("A message has at most {TEXT_MAX} characters.")]
    MessageTooLong,
    /// A reply to a message of another room.
    #[error("The message replied to is not in this room.")]
    ReplyOutsideRoom,
    /// A media kind other than image, audio or video.
    #[error("Use image, audio or video.")]
    MediaKindUnknown,
    /// Bytes that are not a format the media kind allows.
    #[error("These bytes are not a supported {} format.", .0.as_str())]
    MediaFormatUnsupported(MediaKind),
    /// A media name the server did not make.
    #[error("Not a media key.")]
    MediaKeyMalformed,
    /// A sender's id for a send that is blank or too long.
    #[error("A client_id has 1 to {CLIENT_ID_MAX} characters.")]
    ClientIdLength,
    /// A history position the server never gave out.
    #[error("This cursor is not one the server gave out.")]
    ForeignCursor,
    /// A history page of no messages.
    #[error("Ask for at least one message.")]
    EmptyPage,
    /// A sign-in that came back from the provider without its code.
    #[error("The provider sent no code.")]
    AuthorizationCodeMissing,
    /// Text among member ids that is not a user id; shown as given.
    #[error("Not a user id: {0}")]
    NotAUserId(String),
    /// A member id no account has.
    #[error("Unknown user: {0}")]
    UnknownUserId(UserId),
    /// A member whose account disappeared while the room was written.
    #[error("Unknown user.")]
    UnknownUser,
}
