//! The accounts use case: passwordless registration, email verification, TOTP two-factor
//! authentication and token sessions.

mod lockout;
mod profile;
mod registration;
mod sessions;
mod social;
mod two_factor;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod registration_tests;
#[cfg(test)]
mod sessions_tests;
#[cfg(test)]
mod social_tests;
#[cfg(test)]
mod two_factor_tests;

use std::sync::Arc;

use chrono::Duration;

use crate::email::Email;
use crate::error::{DomainError, DomainResult, Missing};
use crate::user::User;

pub use lockout::LockoutPolicy;
pub use social::{SocialNextStep, SocialSignIn};

use crate::ports::{
    AccountLinks, Clock, LinkTokens, SessionSignals, TokenCodec, TokenStore, TotpAlgorithm,
    TotpAttempts, TotpDevices, UserRepository, VerificationCodes,
};

/// Lifetimes and limits of the accounts rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsPolicy {
    /// How long an emailed verification link works.
    pub verification_lifetime: Duration,
    /// How long an access token works.
    pub access_lifetime: Duration,
    /// How long a refresh family lives after login.
    pub refresh_lifetime: Duration,
    /// When second-factor guessing is locked out.
    pub lockout: LockoutPolicy,
}

impl Default for AccountsPolicy {
    fn default() -> Self {
        Self {
            verification_lifetime: Duration::minutes(10),
            access_lifetime: Duration::minutes(15),
            refresh_lifetime: Duration::days(14),
            lockout: LockoutPolicy::default(),
        }
    }
}

/// The ports the accounts use case needs.
#[derive(Clone)]
pub struct AccountsPorts {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Email verification codes (and their outgoing emails).
    pub codes: Arc<dyn VerificationCodes>,
    /// Authenticator devices.
    pub devices: Arc<dyn TotpDevices>,
    /// Failed second-factor attempts.
    pub attempts: Arc<dyn TotpAttempts>,
    /// Issued tokens.
    pub tokens: Arc<dyn TokenStore>,
    /// Signed link tokens.
    pub link_tokens: Arc<dyn LinkTokens>,
    /// Where emailed links point.
    pub links: Arc<dyn AccountLinks>,
    /// One-time password maths.
    pub totp: Arc<dyn TotpAlgorithm>,
    /// Session token signing.
    pub codec: Arc<dyn TokenCodec>,
    /// Where ended sessions are announced.
    pub signals: Arc<dyn SessionSignals>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Registration, verification, two-factor setup, sign-in and sessions.
pub struct Accounts {
    ports: AccountsPorts,
    policy: AccountsPolicy,
}

impl Accounts {
    /// The use case over `ports`, following `policy`.
    pub fn new(ports: AccountsPorts, policy: AccountsPolicy) -> Self {
        Self { ports, policy }
    }

    /// The rules in force.
    pub fn policy(&self) -> &AccountsPolicy {
        &self.policy
    }

    /// The account registered with `email`; `NotFound` when there is none.
    async fn registered_user(&self, email: &Email) -> DomainResult<User> {
        self.ports
            .users
            .find_by_email(email)
            .await?
            .ok_or(DomainError::NotFound(Missing::AccountWithEmail))
    }
}
