//! Session tokens: recorded access tokens and rotating refresh-token families.

use chrono::{DateTime, Duration, Utc};

use crate::id::{TokenFamilyId, TokenId, UserId};

/// A recorded access token; only recorded, unrevoked, unexpired tokens authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// The token's `jti`.
    pub jti: TokenId,
    /// Whom it authenticates.
    pub user_id: UserId,
    /// The refresh family it was issued with; revoking the family revokes it too.
    pub family_id: Option<TokenFamilyId>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working on its own.
    pub expires_at: DateTime<Utc>,
    /// Whether it was revoked (logout, family revocation).
    pub revoked: bool,
}

impl AccessTokenRecord {
    /// A new record for a token issued `now` and valid for `lifetime`.
    pub fn issue(
        user_id: UserId,
        family_id: Option<TokenFamilyId>,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Self {
        Self {
            jti: TokenId::generate(),
            user_id,
            family_id,
            issued_at: now,
            expires_at: now + lifetime,
            revoked: false,
        }
    }

    /// Whether the token authenticates at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// The refresh tokens descended from one login: only the newest (`current_jti`) may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// The family's identity.
    pub id: TokenFamilyId,
    /// Whose session it is.
    pub user_id: UserId,
    /// The `jti` of the only refresh token that may be used next.
    pub current_jti: TokenId,
    /// When the login happened.
    pub created: DateTime<Utc>,
    /// When the whole family stops working.
    pub expires_at: DateTime<Utc>,
    /// Whether the family was revoked (logout, reuse detected).
    pub revoked: bool,
}

/// What presenting a refresh token means for its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// The newest token: rotate to a new one.
    Rotate,
    /// An already rotated token: it was stolen or replayed, so the family must be revoked.
    ReuseDetected,
    /// The family is revoked or expired: refuse.
    Dead,
}

impl RefreshFamily {
    /// A new family started at login `now`, lasting `lifetime`.
    pub fn start(user_id: UserId, now: DateTime<Utc>, lifetime: Duration) -> Self {
        Self {
            id: TokenFamilyId::generate(),
            user_id,
            current_jti: TokenId::generate(),
            created: now,
            expires_at: now + lifetime,
            revoked: false,
        }
    }

    /// Judges a presented refresh token `jti` at `now`.
    pub fn judge(&self, jti: &TokenId, now: DateTime<Utc>) -> RefreshVerdict {
        if self.revoked || now >= self.expires_at {
            RefreshVerdict::Dead
        } else if *jti == self.current_jti {
            RefreshVerdict::Rotate
        } else {
            RefreshVerdict::ReuseDetected
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_work_until_expiry_or_revocation() {
        let now = Utc::now();
        let mut token =
            AccessTokenRecord::issue(UserId::generate(), None, now, Duration::minutes(15));
        assert!(token.is_usable(now));
        assert!(!token.is_usable(now + Duration::minutes(15)));
        token.revoked = true;
        assert!(!token.is_usable(now));
    }

    #[test]
    fn only_the_newest_refresh_token_rotates_and_older_ones_reveal_reuse() {
        let now = Utc::now();
        let family = RefreshFamily::start(UserId::generate(), now, Duration::days(14));
        assert_eq!(
            family.judge(&family.current_jti.clone(), now),
            RefreshVerdict::Rotate
        );
        assert_eq!(
            family.judge(&TokenId::generate(), now),
            RefreshVerdict::ReuseDetected
        );
    }

    #[test]
    fn revoked_or_expired_families_refuse_every_token() {
        let now = Utc::now();
        let mut family = RefreshFamily::start(UserId::generate(), now, Duration::days(14));
        let current = family.current_jti.clone();
        assert_eq!(
            family.judge(&current, now + Duration::days(14)),
            RefreshVerdict::Dead
        );
        family.revoked = true;
        assert_eq!(family.judge(&current, now), RefreshVerdict::Dead);
    }
}
