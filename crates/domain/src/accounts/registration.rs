//! Registering and proving an email address.

use crate::email::Email;
use crate::error::{Clash, DomainError, DomainResult, Rejection};
use crate::mail::OutgoingEmail;
use crate::user::User;
use crate::username::Username;
use crate::verification::VerificationCode;

use super::Accounts;

/// Tries at a free generated username before giving up.
const GENERATED_NAME_ATTEMPTS: usize = 8;

impl Accounts {
    /// Opens an unverified account and emails it a verification link. Without a chosen
    /// username a readable one is generated (`is_username_set` false).
    pub async fn register(&self, email: Email, username: Option<Username>) -> DomainResult<User> {
        let now = self.ports.clock.now();
        let user = match username {
            Some(chosen) => {
                let user = User::register(email, chosen, true, now);
                self.ports.users.insert(&user).await?;
                user
            }
            None => self.register_with_generated_name(email, now, false).await?,
        };
        self.send_verification(&user).await?;
        Ok(user)
    }

    /// Stores an account with a generated username, retrying when the name is taken.
    pub(super) async fn register_with_generated_name(
        &self,
        email: Email,
        now: chrono::DateTime<chrono::Utc>,
        email_verified: bool,
    ) -> DomainResult<User> {
        for _ in 0..GENERATED_NAME_ATTEMPTS {
            let mut user = User::register(email.clone(), Username::generate_readable(), false, now);
            user.is_email_verified = email_verified;
            match self.ports.users.insert(&user).await {
                Ok(()) => return Ok(user),
                Err(DomainError::Conflict(Clash::UsernameTaken)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(DomainError::internal("no free generated username"))
    }

    /// Sends a fresh verification link, unless the email is verified or a live link exists.
    pub async fn begin_verification(&self, email: &Email) -> DomainResult<()> {
        let user = self.registered_user(email).await?;
        if user.is_email_verified {
            return Err(ALREADY_VERIFIED);
        }
        let now = self.ports.clock.now();
        if let Some(code) = self.ports.codes.find_for_user(&user.id).await?
            && !code.is_expired(now)
        {
            return Err(DomainError::Conflict(Clash::VerificationPending));
        }
        self.send_verification(&user).await
    }

    /// Verifies the email of the link's account; the link works once.
    pub async fn complete_verification(&self, token: &str) -> DomainResult<User> {
        let (user_id, digest) = self.ports.link_tokens.verify(token).ok_or(INVALID_LINK)?;
        let Some(code) = self.ports.codes.find_by_digest(&digest).await? else {
            // A used link: say so plainly when it did its job.
            let user = self.ports.users.find_by_id(&user_id).await?;
            return Err(match user {
                Some(user) if user.is_email_verified => ALREADY_VERIFIED,
                _ => INVALID_LINK,
            });
        };
        if code.is_expired(self.ports.clock.now()) {
            self.ports.codes.discard(&code.user_id).await?;
            return Err(DomainError::Rejected(Rejection::ExpiredLink));
        }
        match self.ports.codes.consume(&digest).await {
            Err(DomainError::NotFound(_)) => Err(INVALID_LINK),
            other => other,
        }
    }

    async fn send_verification(&self, user: &User) -> DomainResult<()> {
        let now = self.ports.clock.now();
        let (token, digest) = self.ports.link_tokens.issue(&user.id);
        let lifetime = self.policy.verification_lifetime;
        let code = VerificationCode::issue(user.id.clone(), digest, now, lifetime);
        let email = OutgoingEmail::VerifyEmail {
            to: user.email.clone(),
            username: user.username.clone(),
            link: self.ports.links.email_verification(&token),
            expires_in_minutes: u32::try_from(lifetime.num_minutes()).unwrap_or(u32::MAX),
        };
        self.ports.codes.issue(&code, &email).await
    }
}

const INVALID_LINK: DomainError = DomainError::Rejected(Rejection::InvalidLink);

const ALREADY_VERIFIED: DomainError = DomainError::Rejected(Rejection::AlreadyVerified);
