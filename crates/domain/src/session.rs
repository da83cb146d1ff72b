//! What signed session tokens say, independent of their encoding.

use chrono::{DateTime, Utc};

use crate::id::{TokenFamilyId, TokenId, UserId};
use crate::user::User;

/// Which of the two session tokens a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived; authenticates requests.
    Access,
    /// Long-lived; exchanged for a new access token and a new refresh token.
    Refresh,
}

impl TokenKind {
    /// The wire name (`token_type` claim).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// The claims a session token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// Whose token it is (`sub`).
    pub subject: UserId,
    /// The token's own identity (`jti`).
    pub jti: TokenId,
    /// Access or refresh (`token_type`).
    pub kind: TokenKind,
    /// The refresh family the token belongs to, if any.
    pub family: Option<TokenFamilyId>,
    /// When it was issued (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When it stops working (`exp`).
    pub expires_at: DateTime<Utc>,
}

/// A signed-in session: who, and the two tokens that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in person.
    pub user: User,
    /// The access token to send as `Authorization: Bearer`.
    pub access_token: String,
    /// The refresh token to exchange for new tokens.
    pub refresh_token: String,
}

/// A session that ended (logout, or its refresh family revoked): sockets opened with its
/// tokens must close, on every instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnded {
    /// Whose session it was.
    pub user: UserId,
    /// The access token logged out, if one was.
    pub access: Option<TokenId>,
    /// The refresh family revoked, if any: every access token issued with it ended too.
    pub family: Option<TokenFamilyId>,
}

impl SessionEnded {
    /// Whether an access token with these claims belongs to the ended session.
    pub fn covers(&self, claims: &TokenClaims) -> bool {
        claims.subject == self.user
            && (self.access.as_ref() == Some(&claims.jti)
                || (self.family.is_some() && self.family == claims.family))
    }
}
