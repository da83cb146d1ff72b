//! Mocked ports for unit tests of the accounts rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Accounts, AccountsPolicy, AccountsPorts};
use crate::email::Email;
use crate::ports::{
    MockAccountLinks, MockClock, MockLinkTokens, MockTokenCodec, MockTokenStore, MockTotpAlgorithm,
    MockTotpAttempts, MockTotpDevices, MockUserRepository, MockVerificationCodes,
};
use crate::recording_bus::RecordingSignals;
use crate::totp::{TotpDevice, TotpSecret};
use crate::user::User;
use crate::username::Username;

/// Every port of `Accounts` as a mock, to be given expectations and then built.
pub struct Harness {
    pub users: MockUserRepository,
    pub codes: MockVerificationCodes,
    pub devices: MockTotpDevices,
    pub attempts: MockTotpAttempts,
    pub tokens: MockTokenStore,
    pub link_tokens: MockLinkTokens,
    pub totp: MockTotpAlgorithm,
    pub codec: MockTokenCodec,
    pub signals: RecordingSignals,
    pub now: DateTime<Utc>,
}

impl Harness {
    pub fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            codes: MockVerificationCodes::new(),
            devices: MockTotpDevices::new(),
            attempts: MockTotpAttempts::new(),
            tokens: MockTokenStore::new(),
            link_tokens: MockLinkTokens::new(),
            totp: MockTotpAlgorithm::new(),
            codec: MockTokenCodec::new(),
            signals: RecordingSignals::default(),
            now: Utc::now(),
        }
    }

    pub fn build(self) -> Accounts {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(self.now);
        let mut links = MockAccountLinks::new();
        links
            .expect_email_verification()
            .returning(|token| format!("https://chat.example.org/verify/{token}/"));
        let ports = AccountsPorts {
            users: Arc::new(self.users),
            codes: Arc::new(self.codes),
            devices: Arc::new(self.devices),
            attempts: Arc::new(self.attempts),
            tokens: Arc::new(self.tokens),
            link_tokens: Arc::new(self.link_tokens),
            links: Arc::new(links),
            totp: Arc::new(self.totp),
            codec: Arc::new(self.codec),
            signals: Arc::new(self.signals),
            clock: Arc::new(clock),
        };
        Accounts::new(ports, AccountsPolicy::default())
    }

    /// Finds `account` by its email.
    pub fn knows(&mut self, account: &User) {
        let known = account.clone();
        self.users
            .expect_find_by_email()
            .returning(move |_| Ok(Some(known.clone())));
    }

    /// Finds `device` as the TOTP device of whoever asks.
    pub fn has_device(&mut self, device: TotpDevice) {
        self.devices
            .expect_find()
            .returning(move |_| Ok(Some(device.clone())));
    }

    /// Takes any code presented as the one for time step `step`.
    pub fn code_matches_step(&mut self, step: u64) {
        self.totp
            .expect_matching_step()
            .returning(move |_, _, _| Some(step));
    }

    /// Records no recent wrong one-time passwords.
    pub fn no_failures(&mut self) {
        self.attempts
            .expect_failures_since()
            .returning(|_, _| Ok(vec![]));
    }
}

pub fn email() -> Email {
    Email::parse("ada@example.org").unwrap()
}

pub fn user(verified: bool) -> User {
    let mut user = User::register(email(), Username::parse("ada").unwrap(), true, Utc::now());
    user.is_email_verified = verified;
    user
}

pub fn device(user: &User, confirmed: bool, last_accepted_step: Option<u64>) -> TotpDevice {
    let mut device = TotpDevice::enroll(
        user.id.clone(),
        TotpSecret::from_bytes(vec![9; 20]),
        Utc::now(),
    );
    device.confirmed = confirmed;
    device.last_accepted_step = last_accepted_step;
    device
}
