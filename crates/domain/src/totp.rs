//! TOTP devices: the authenticator app that proves a second factor.

use chrono::{DateTime, Utc};

use crate::id::UserId;

/// The shared secret of an authenticator; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

/// Secrets are 160 bits, as authenticator apps expect for SHA-1.
pub const TOTP_SECRET_BYTES: usize = 20;

impl TotpSecret {
    /// Wraps secret bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// A user's authenticator; at most one per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpDevice {
    /// Whose device it is.
    pub user_id: UserId,
    /// The shared secret.
    pub secret: TotpSecret,
    /// Whether the person proved the app holds the secret; a confirmed secret is never shown again.
    pub confirmed: bool,
    /// The latest 30-second time step whose code was accepted; codes of that step or earlier are spent.
    pub last_accepted_step: Option<u64>,
    /// When the device was created.
    pub created: DateTime<Utc>,
}

impl TotpDevice {
    /// A new unconfirmed device.
    pub fn enroll(user_id: UserId, secret: TotpSecret, now: DateTime<Utc>) -> Self {
        Self {
            user_id,
            secret,
            confirmed: false,
            last_accepted_step: None,
            created: now,
        }
    }

    /// Whether a code of time step `step` is still unspent: each step is accepted at most once,
    /// and never one older than the latest accepted.
    pub fn is_step_unspent(&self, step: u64) -> bool {
        self.last_accepted_step.is_none_or(|last| step > last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_spent_once_accepted_and_so_are_older_ones() {
        let mut device = TotpDevice::enroll(
            UserId::generate(),
            TotpSecret::from_bytes(vec![1; TOTP_SECRET_BYTES]),
            Utc::now(),
        );
        assert!(device.is_step_unspent(100));
        device.last_accepted_step = Some(100);
        assert!(!device.is_step_unspent(100));
        assert!(!device.is_step_unspent(99));
        assert!(device.is_step_unspent(101));
    }

    #[test]
    fn secrets_are_never_printed() {
        let secret = TotpSecret::from_bytes(b"supersecretsupersecr".to_vec());
        assert_eq!(format!("{secret:?}"), "TotpSecret(..)");
    }
}
