//! Email verification codes: the one-time links that prove a person reads their mail.

use chrono::{DateTime, Duration, Utc};

use crate::id::UserId;
use crate::secret::SecretDigest;

/// A one-time email verification code; a user has at most one live code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// Whose email the code verifies.
    pub user_id: UserId,
    /// Digest of the token sent in the link; the token itself is never stored.
    pub digest: SecretDigest,
    /// When it was issued.
    pub created: DateTime<Utc>,
    /// After this instant the link no longer works.
    pub expires_at: DateTime<Utc>,
}

impl VerificationCode {
    /// A code for `user_id` issued `now` and usable for `lifetime`.
    pub fn issue(
        user_id: UserId,
        digest: SecretDigest,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Self {
        Self {
            user_id,
            digest,
            created: now,
            expires_at: now + lifetime,
        }
    }

    /// Whether the link has run out at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_until_its_lifetime_ends() {
        let now = Utc::now();
        let code = VerificationCode::issue(
            UserId::generate(),
            SecretDigest::from_bytes([7; 32]),
            now,
            Duration::minutes(10),
        );
        assert!(!code.is_expired(now));
        assert!(!code.is_expired(now + Duration::seconds(599)));
        assert!(code.is_expired(now + Duration::minutes(10)));
    }
}
