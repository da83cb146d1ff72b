//! Signing in with email and a TOTP code, and the token sessions that follow.

use crate::email::Email;
use crate::error::{Credential, Denial, DomainError, DomainResult};
use crate::id::TokenId;
use crate::session::{Session, SessionEnded, TokenClaims, TokenKind};
use crate::tokens::{AccessTokenRecord, RefreshFamily, RefreshVerdict};
use crate::user::User;
use crate::username::Username;

use super::Accounts;
use super::two_factor::email_not_verified;

impl Accounts {
    /// First login step: the account must exist, be verified, and have a confirmed
    /// authenticator; the caller then asks for a TOTP code.
    pub async fn begin_login(&self, email: &Email) -> DomainResult<User> {
        let user = self.registered_user(email).await?;
        self.ensure_two_factor_ready(&user).await?;
        Ok(user)
    }

    /// Second login step: a valid, unused TOTP code opens a session. `username` renames an
    /// account whose name was generated.
    pub async fn complete_login(
        &self,
        email: &Email,
        code: &str,
        username: Option<Username>,
    ) -> DomainResult<Session> {
        let mut user = self.flow_user(email).await?;
        self.ensure_two_factor_ready(&user).await?;
        let device = self
            .ports
            .devices
            .find(&user.id)
            .await?
            .ok_or_else(totp_setup_required)?;
        self.check_code(&user, &device, code, false).await?;
        if let Some(name) = username
            && !user.is_username_set
        {
            user = self.ports.users.rename(&user.id, &name, true).await?;
        }
        self.open_session(user).await
    }

    /// Whether the account may sign in with a second factor now.
    async fn ensure_two_factor_ready(&self, user: &User) -> DomainResult<()> {
        if !user.is_email_verified {
            return Err(email_not_verified());
        }
        match self.ports.devices.find(&user.id).await? {
            Some(device) if device.confirmed => Ok(()),
            _ => Err(totp_setup_required()),
        }
    }

    /// Starts a refresh family for `user` and issues its first tokens.
    pub async fn open_session(&self, user: User) -> DomainResult<Session> {
        let now = self.ports.clock.now();
        let family = RefreshFamily::start(user.id.clone(), now, self.policy.refresh_lifetime);
        self.ports.tokens.start_family(&family).await?;
        let refresh_jti = family.current_jti.clone();
        self.issue_tokens(user, &family, refresh_jti).await
    }

    /// Exchanges a refresh token for new tokens. The old one stops working; presenting an
    /// already exchanged one revokes the whole family (it was copied).
    pub async fn refresh(&self, refresh_token: &str) -> DomainResult<Session> {
        let claims = self.decode(refresh_token, TokenKind::Refresh, invalid_refresh)?;
        let family_id = claims.family.ok_or_else(invalid_refresh)?;
        let family = self
            .ports
            .tokens
            .find_family(&family_id)
            .await?
            .filter(|family| family.user_id == claims.subject)
            .ok_or_else(invalid_refresh)?;
        match family.judge(&claims.jti, self.ports.clock.now()) {
            RefreshVerdict::Dead => return Err(invalid_refresh()),
            RefreshVerdict::ReuseDetected => {
                self.revoke_family(&family).await?;
                return Err(invalid_refresh());
            }
            RefreshVerdict::Rotate => {}
        }
        let next = TokenId::generate();
        if !self
            .ports
            .tokens
            .rotate(&family.id, &claims.jti, &next)
            .await?
        {
            // A concurrent exchange of the same token won: the token was used twice.
            self.revoke_family(&family).await?;
            return Err(invalid_refresh());
        }
        let user = self
            .ports
            .users
            .find_by_id(&family.user_id)
            .await?
            .ok_or_else(invalid_refresh)?;
        self.issue_tokens(user, &family, next).await
    }

    /// Whether `refresh_token` could still be exchanged: genuine, unexpired, and the
    /// current token of a live family. Nothing changes; pages offer to renew only then.
    pub async fn refresh_usable(&self, refresh_token: &str) -> DomainResult<bool> {
        let Ok(claims) = self.decode(refresh_token, TokenKind::Refresh, invalid_refresh) else {
            return Ok(false);
        };
        let Some(family_id) = claims.family else {
            return Ok(false);
        };
        let family = self.ports.tokens.find_family(&family_id).await?;
        Ok(family.is_some_and(|family| {
            family.user_id == claims.subject
                && matches!(
                    family.judge(&claims.jti, self.ports.clock.now()),
                    RefreshVerdict::Rotate
                )
        }))
    }

    /// The account an access token authenticates: recorded, unrevoked and unexpired.
    pub async fn authenticate(&self, access_token: &str) -> DomainResult<User> {
        let record = self.live_access_record(access_token).await?;
        self.ports
            .users
            .find_by_id(&record.user_id)
            .await?
            .ok_or_else(invalid_access)
    }

    /// Ends the session of an access token: it and its refresh family stop working.
    pub async fn logout(&self, access_token: &str) -> DomainResult<()> {
        let record = self.live_access_record(access_token).await?;
        self.ports.tokens.revoke_access(&record.jti).await?;
        if let Some(family) = &record.family_id {
            self.ports.tokens.revoke_family(family).await?;
        }
        self.ports.signals.ended(SessionEnded {
            user: record.user_id,
            access: Some(record.jti),
            family: record.family_id,
        });
        Ok(())
    }

    /// The claims of a genuine access token, expired or not: what a socket opened with it
    /// compares ended sessions with.
    pub fn access_claims(&self, access_token: &str) -> Option<TokenClaims> {
        self.ports
            .codec
            .decode(access_token)
            .filter(|claims| claims.kind == TokenKind::Access)
    }

    /// Revokes a copied refresh family, and says so to every socket opened with it.
    async fn revoke_family(&self, family: &RefreshFamily) -> DomainResult<()> {
        self.ports.tokens.revoke_family(&family.id).await?;
        self.ports.signals.ended(SessionEnded {
            user: family.user_id.clone(),
            access: None,
            family: Some(family.id.clone()),
        });
        Ok(())
    }

    /// Whether the session of an access token was ended (logout, family revocation).
    /// Expiry alone does not count: a connection opened with the token may outlive it.
    pub async fn access_revoked(&self, access_token: &str) -> DomainResult<bool> {
        let Some(claims) = self.ports.codec.decode(access_token) else {
            return Ok(true);
        };
        let record = self.ports.tokens.find_access(&claims.jti).await?;
        Ok(record.is_none_or(|record| record.revoked))
    }

    async fn live_access_record(&self, access_token: &str) -> DomainResult<AccessTokenRecord> {
        let claims = self.decode(access_token, TokenKind::Access, invalid_access)?;
        let record = self
            .ports
            .tokens
            .find_access(&claims.jti)
            .await?
            .filter(|record| record.user_id == claims.subject)
            .ok_or_else(invalid_access)?;
        if record.is_usable(self.ports.clock.now()) {
            Ok(record)
        } else {
            Err(invalid_access())
        }
    }

    fn decode(
        &self,
        token: &str,
        kind: TokenKind,
        refusal: fn() -> DomainError,
    ) -> DomainResult<TokenClaims> {
        let claims = self.ports.codec.decode(token).ok_or_else(refusal)?;
        if claims.kind != kind || claims.expires_at <= self.ports.clock.now() {
            return Err(refusal());
        }
        Ok(claims)
    }

    async fn issue_tokens(
        &self,
        user: User,
        family: &RefreshFamily,
        refresh_jti: TokenId,
    ) -> DomainResult<Session> {
        let now = self.ports.clock.now();
        let access = AccessTokenRecord::issue(
            user.id.clone(),
            Some(family.id.clone()),
            now,
            self.policy.access_lifetime,
        );
        self.ports.tokens.record_access(&access).await?;
        let access_token = self.ports.codec.encode(&TokenClaims {
            subject: user.id.clone(),
            jti: access.jti.clone(),
            kind: TokenKind::Access,
            family: Some(family.id.clone()),
            issued_at: now,
            expires_at: access.expires_at,
        })?;
        let refresh_token = self.ports.codec.encode(&TokenClaims {
            subject: user.id.clone(),
            jti: refresh_jti,
            kind: TokenKind::Refresh,
            family: Some(family.id.clone()),
            issued_at: now,
            expires_at: family.expires_at,
        })?;
        Ok(Session {
            user,
            access_token,
            refresh_token,
        })
    }
}

fn totp_setup_required() -> DomainError {
    DomainError::Forbidden(Denial::TotpSetupRequired)
}

fn invalid_refresh() -> DomainError {
    DomainError::Unauthenticated(Credential::InvalidRefreshToken)
}

fn invalid_access() -> DomainError {
    DomainError::Unauthenticated(Credential::InvalidAccessToken)
}
