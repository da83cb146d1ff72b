//! Signing in with an identity provider: the provider vouches for the email, so a new
//! account starts verified; then the same two-factor gate as every login.

use crate::email::Email;
use crate::error::{Clash, Denial, DomainError, DomainResult};
use crate::social::SocialIdentity;
use crate::user::User;
use crate::username::Username;

use super::Accounts;
use super::two_factor::email_not_verified;

/// What a social sign-in leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocialNextStep {
    /// A new account: set up two-factor authentication.
    SetUpTotp,
    /// An existing account without two-factor authentication: it must be set up first.
    TotpSetupRequired,
    /// An existing account with two-factor authentication: enter a code.
    VerifyTotp,
}

/// The account a social sign-in reached, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialSignIn {
    /// The account.
    pub user: User,
    /// Whether the account was created just now.
    pub is_new: bool,
    /// The step that follows.
    pub next: SocialNextStep,
}

impl Accounts {
    /// Signs in (or up) the person `identity` describes, as vouched for by `backend`.
    /// Accounts match by email; an email the provider does not vouch for, or an account
    /// that never verified its email, is refused.
    pub async fn sign_in_with(
        &self,
        backend: &str,
        identity: &SocialIdentity,
    ) -> DomainResult<SocialSignIn> {
        if !identity.email_verified {
            return Err(DomainError::Forbidden(Denial::EmailNotVerifiedByProvider));
        }
        let email = Email::parse(&identity.email)?;
        let users = &self.ports.users;
        if let Some(user) = users.find_by_email(&email).await? {
            if !user.is_email_verified {
                return Err(email_not_verified());
            }
            users
                .link_identity(&user.id, backend, &identity.subject)
                .await?;
            let confirmed = self
                .ports
                .devices
                .find(&user.id)
                .await?
                .is_some_and(|device| device.confirmed);
            let next = if confirmed {
                SocialNextStep::VerifyTotp
            } else {
                SocialNextStep::TotpSetupRequired
            };
            return Ok(SocialSignIn {
                user,
                is_new: false,
                next,
            });
        }
        let user = self.create_vouched_account(email, identity).await?;
        users
            .link_identity(&user.id, backend, &identity.subject)
            .await?;
        Ok(SocialSignIn {
            user,
            is_new: true,
            next: SocialNextStep::SetUpTotp,
        })
    }

    /// A verified account named after the profile when that name is free, else generated.
    /// Either way the name counts as generated, so it can be replaced at `totp/verify/`.
    async fn create_vouched_account(
        &self,
        email: Email,
        identity: &SocialIdentity,
    ) -> DomainResult<User> {
        let now = self.ports.clock.now();
        if let Some(name) = identity
            .name
            .as_deref()
            .and_then(Username::from_display_name)
        {
            let mut user = User::register(email.clone(), name, false, now);
            user.is_email_verified = true;
            match self.ports.users.insert(&user).await {
                Ok(()) => return Ok(user),
                Err(DomainError::Conflict(Clash::UsernameTaken)) => {}
                Err(other) => return Err(other),
            }
        }
        self.register_with_generated_name(email, now, true).await
    }
}
