//! Accounts of the people who chat.

use chrono::{DateTime, Utc};

use crate::email::Email;
use crate::id::UserId;
use crate::username::Username;

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account's identity.
    pub id: UserId,
    /// Where the account receives mail; unique among accounts.
    pub email: Email,
    /// The name shown in rooms; unique among accounts, ignoring case.
    pub username: Username,
    /// Whether the person chose the username (false when it was generated).
    pub is_username_set: bool,
    /// Whether the person proved they read mail at `email`.
    pub is_email_verified: bool,
    /// Whether the person has at least one live connection.
    pub is_online: bool,
    /// When the account was created.
    pub created: DateTime<Utc>,
}

impl User {
    /// A fresh, unverified, offline account.
    pub fn register(
        email: Email,
        username: Username,
        is_username_set: bool,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: UserId::generate(),
            email,
            username,
            is_username_set,
            is_email_verified: false,
            is_online: false,
            created: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_user_starts_unverified_and_offline() {
        let user = User::register(
            Email::parse("ada@example.org").unwrap(),
            Username::parse("ada").unwrap(),
            true,
            Utc::now(),
        );
        assert!(!user.is_email_verified);
        assert!(!user.is_online);
        assert!(user.is_username_set);
    }
}
