//! Emails the business sends, and the outbox that guarantees they leave.

use chrono::{DateTime, Utc};

use crate::email::Email;
use crate::username::Username;

/// An email the business wants delivered; adapters render it from templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutgoingEmail {
    /// Asks the person to prove they read mail at `to` by following `link`.
    VerifyEmail {
        /// The address being verified.
        to: Email,
        /// Whom to greet.
        username: Username,
        /// The one-time verification link.
        link: String,
        /// How long the link works, in minutes.
        expires_in_minutes: u32,
    },
}

impl OutgoingEmail {
    /// The recipient.
    pub fn recipient(&self) -> &Email {
        match self {
            Self::VerifyEmail { to, .. } => to,
        }
    }

    /// A stable name for the kind of email, used by templates and storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::VerifyEmail { .. } => "verify_email",
        }
    }
}

/// An email waiting in the outbox, claimed by one deliverer at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The outbox entry's identity.
    pub id: i64,
    /// What to send.
    pub email: OutgoingEmail,
    /// How many delivery attempts failed before this one.
    pub failed_attempts: u32,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// Why an email could not be handed to the mail server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryFailure {
    /// Worth retrying: the server is down, busy, or answered with a 4xx.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Retrying cannot help: the server refused the message for good (5xx).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}
