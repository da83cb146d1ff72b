//! Enrolling an authenticator app and checking its codes.

use crate::email::Email;
use crate::error::{Clash, Credential, Denial, DomainError, DomainResult, Missing, Rejection};
use crate::totp::TotpDevice;
use crate::user::User;

use chrono::SubsecRound as _;

use super::Accounts;

impl Accounts {
    /// Creates (or replaces) the unconfirmed authenticator of the verified account `email`.
    pub async fn create_totp_device(&self, email: &Email) -> DomainResult<(User, TotpDevice)> {
        let user = self.flow_user(email).await?;
        if !user.is_email_verified {
            return Err(email_not_verified());
        }
        let secret = self.ports.totp.generate_secret();
        let device = TotpDevice::enroll(user.id.clone(), secret, self.ports.clock.now());
        self.ports.devices.enroll(&device).await?;
        Ok((user, device))
    }

    /// The `otpauth://` URI of the account's unconfirmed authenticator; once confirmed, the
    /// secret is never shown again.
    pub async fn totp_provisioning_uri(&self, email: &Email) -> DomainResult<String> {
        let user = self.flow_user(email).await?;
        let device = self.device_of(&user).await?;
        if device.confirmed {
            return Err(already_confirmed());
        }
        Ok(self
            .ports
            .totp
            .provisioning_uri(&device.secret, &user.email))
    }

    /// Confirms the account's authenticator with a code it shows.
    pub async fn confirm_totp_device(
        &self,
        email: &Email,
        code: &str,
    ) -> DomainResult<(User, TotpDevice)> {
        let user = self.flow_user(email).await?;
        let mut device = self.device_of(&user).await?;
        if device.confirmed {
            return Err(already_confirmed());
        }
        self.check_code(&user, &device, code, true).await?;
        device.confirmed = true;
        Ok((user, device))
    }

    /// The account a flow in progress (email kept in the session) is about.
    pub(super) async fn flow_user(&self, email: &Email) -> DomainResult<User> {
        self.ports
            .users
            .find_by_email(email)
            .await?
            .ok_or_else(session_required)
    }

    async fn device_of(&self, user: &User) -> DomainResult<TotpDevice> {
        self.ports
            .devices
            .find(&user.id)
            .await?
            .ok_or(DomainError::NotFound(Missing::TotpDevice))
    }

    /// Accepts `code` once for `user`, unless second-factor checks are locked; counts
    /// failures (replays included) towards the lock.
    pub(super) async fn check_code(
        &self,
        user: &User,
        device: &TotpDevice,
        code: &str,
        confirm: bool,
    ) -> DomainResult<()> {
        // Microseconds, as the record keeps them, so the attempt can be found again.
        let now = self.ports.clock.now().trunc_subsecs(6);
        let policy = self.policy.lockout;
        // Counted as failed before it is judged, so concurrent guesses (other sessions,
        // other instances) see each other: of any burst, only the first `max_failures`
        // recorded find fewer than `max_failures` before them.
        self.ports.attempts.record_failure(&user.id, now).await?;
        let mut failures = self
            .ports
            .attempts
            .failures_since(&user.id, now - policy.lookback())
            .await?;
        if let Some(own) = failures.iter().rposition(|&failed_at| failed_at == now) {
            failures.remove(own);
        }
        if let Some(until) = policy.locked_until(&failures, now) {
            // Refused unjudged: it must not lengthen the lock nor pile up rows.
            self.ports.attempts.withdraw_failure(&user.id, now).await?;
            let wait = (until - now).num_seconds().max(1);
            return Err(DomainError::RateLimited {
                retry_after_secs: u64::try_from(wait).unwrap_or(1),
            });
        }
        let accepted = match self
            .ports
            .totp
            .matching_step(&device.secret, code.trim(), now)
        {
            Some(step) if device.is_step_unspent(step) => {
                self.ports
                    .devices
                    .accept_step(&user.id, step, confirm)
                    .await?
            }
            _ => false,
        };
        if accepted {
            self.ports.attempts.clear(&user.id).await?;
            Ok(())
        } else {
            // Already counted above.
            Err(DomainError::Rejected(Rejection::WrongOneTimePassword))
        }
    }
}

pub(super) fn session_required() -> DomainError {
    DomainError::Unauthenticated(Credential::SessionRequired)
}

pub(super) fn email_not_verified() -> DomainError {
    DomainError::Forbidden(Denial::EmailNotVerified)
}

fn already_confirmed() -> DomainError {
    DomainError::Conflict(Clash::TotpAlreadyConfirmed)
}
