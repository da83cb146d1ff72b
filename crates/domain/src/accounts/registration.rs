//! Registering and proving an email address.

use crate::email::Email;
use crate::error::{DomainError, DomainResult};
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
                Err(DomainError::Conflict {
                    code: "username_taken",
                    ..
                }) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(DomainError::internal("no free generated username"))
    }

    /// Sends a fresh verification link, unless the email is verified or a live link exists.
    pub async fn begin_verification(&self, email: &Email) -> DomainResult<()> {
        let user = self
            .ports
            .users
            .find_by_email(email)
            .await?
            .ok_or_else(|| {
                DomainError::not_found("not_found", "No account uses this email address.")
            })?;
        if user.is_email_verified {
            return Err(already_verified());
        }
        let now = self.ports.clock.now();
        if let Some(code) = self.ports.codes.find_for_user(&user.id).await?
            && !code.is_expired(now)
        {
            return Err(DomainError::conflict(
                "verification_pending",
                "A verification link was sent recently and still works; check your inbox.",
            ));
        }
        self.send_verification(&user).await
    }

    /// Verifies the email of the link's account; the link works once.
    pub async fn complete_verification(&self, token: &str) -> DomainResult<User> {
        let (user_id, digest) = self
            .ports
            .link_tokens
            .verify(token)
            .ok_or_else(invalid_token)?;
        let Some(code) = self.ports.codes.find_by_digest(&digest).await? else {
            // A used link: say so plainly when it did its job.
            let user = self.ports.users.find_by_id(&user_id).await?;
            return Err(match user {
                Some(user) if user.is_email_verified => already_verified(),
                _ => invalid_token(),
            });
        };
        if code.is_expired(self.ports.clock.now()) {
            self.ports.codes.discard(&code.user_id).await?;
            return Err(DomainError::rejected(
                "expired_token",
                "This verification link has expired; request a new one.",
            ));
        }
        match self.ports.codes.consume(&digest).await {
            Err(DomainError::NotFound { .. }) => Err(invalid_token()),
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
            link: format!(
                "{}/api/v1/user/verify-email/complete/{token}/",
                self.policy.public_url
            ),
            expires_in_minutes: u32::try_from(lifetime.num_minutes()).unwrap_or(u32::MAX),
        };
        self.ports.codes.issue(&code, &email).await
    }
}

fn invalid_token() -> DomainError {
    DomainError::rejected("invalid_token", "This verification link is not valid.")
}

fn already_verified() -> DomainError {
    DomainError::rejected(
        "already_verified",
        "This email address is already verified.",
    )
}
