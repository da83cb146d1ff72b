use chrono::{Duration, SubsecRound as _};
use futures_executor::block_on;
use mockall::predicate::eq;

use super::fixtures::{Harness, device, email, user};
use crate::error::{Clash, Credential, Denial, DomainError, DomainResult, Rejection};
use crate::totp::TotpDevice;
use crate::user::User;

fn with_device(harness: &mut Harness, account: &User, last_step: Option<u64>) {
    harness.knows(account);
    harness.has_device(device(account, false, last_step));
}

/// Presents the code "123456" to confirm ada's device.
fn confirm(harness: Harness) -> DomainResult<(User, TotpDevice)> {
    block_on(harness.build().confirm_totp_device(&email(), "123456"))
}

/// Expects the wrong code to be counted, once.
fn expect_one_failure_recorded(harness: &mut Harness) {
    harness
        .attempts
        .expect_record_failure()
        .times(1)
        .returning(|_, _| Ok(()));
}

#[test]
fn a_device_is_only_created_for_a_verified_email() {
    let mut harness = Harness::new();
    harness
        .users
        .expect_find_by_email()
        .returning(|_| Ok(Some(user(false))));
    harness.devices.expect_enroll().never();
    let outcome = block_on(harness.build().create_totp_device(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Forbidden(Denial::EmailNotVerified))
    );
}

#[test]
fn a_flow_without_a_known_email_needs_a_session() {
    let mut harness = Harness::new();
    harness.users.expect_find_by_email().returning(|_| Ok(None));
    let outcome = block_on(harness.build().totp_provisioning_uri(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Unauthenticated(Credential::SessionRequired))
    );
}

#[test]
fn a_confirmed_secret_is_never_shown_again() {
    let mut harness = Harness::new();
    let account = user(true);
    harness.knows(&account);
    harness.has_device(device(&account, true, Some(5)));
    harness.totp.expect_provisioning_uri().never();
    let outcome = block_on(harness.build().totp_provisioning_uri(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Conflict(Clash::TotpAlreadyConfirmed))
    );
}

#[test]
fn a_valid_code_confirms_the_device_and_spends_its_step() {
    let mut harness = Harness::new();
    let account = user(true);
    with_device(&mut harness, &account, None);
    harness.no_failures();
    expect_one_failure_recorded(&mut harness);
    harness.code_matches_step(1000);
    harness
        .devices
        .expect_accept_step()
        .with(eq(account.id.clone()), eq(1000), eq(true))
        .times(1)
        .returning(|_, _, _| Ok(true));
    harness
        .attempts
        .expect_clear()
        .times(1)
        .returning(|_| Ok(()));
    let (_, confirmed) = confirm(harness).unwrap();
    assert!(confirmed.confirmed);
}

#[test]
fn a_replayed_code_is_refused_and_counted() {
    let mut harness = Harness::new();
    let account = user(true);
    with_device(&mut harness, &account, Some(1000));
    harness.no_failures();
    harness.code_matches_step(1000);
    harness.devices.expect_accept_step().never();
    expect_one_failure_recorded(&mut harness);
    let outcome = confirm(harness);
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::WrongOneTimePassword))
    );
}

#[test]
fn a_code_spent_by_a_concurrent_request_is_refused() {
    let mut harness = Harness::new();
    let account = user(true);
    with_device(&mut harness, &account, Some(999));
    harness.no_failures();
    harness.code_matches_step(1000);
    harness
        .devices
        .expect_accept_step()
        .returning(|_, _, _| Ok(false));
    expect_one_failure_recorded(&mut harness);
    let outcome = confirm(harness);
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::WrongOneTimePassword))
    );
}

#[test]
fn five_failures_lock_checks_and_say_when_to_retry() {
    let mut harness = Harness::new();
    let now = harness.now;
    let account = user(true);
    with_device(&mut harness, &account, None);
    harness
        .attempts
        .expect_failures_since()
        .returning(move |_, _| Ok((0..5).map(|i| now - Duration::minutes(5 - i)).collect()));
    expect_one_failure_recorded(&mut harness);
    // Refused unjudged, the attempt is taken back: hammering does not lengthen the lock.
    harness
        .attempts
        .expect_withdraw_failure()
        .times(1)
        .returning(|_, _| Ok(()));
    harness.totp.expect_matching_step().never();
    let outcome = confirm(harness);
    // The fifth failure was a minute ago: fourteen minutes of lock remain.
    assert_eq!(
        outcome.err(),
        Some(DomainError::RateLimited {
            retry_after_secs: 14 * 60
        })
    );
}

#[test]
fn codes_are_checked_again_once_the_lock_ends() {
    let mut harness = Harness::new();
    let now = harness.now;
    let account = user(true);
    with_device(&mut harness, &account, None);
    harness
        .attempts
        .expect_failures_since()
        .returning(move |_, _| Ok((0..5).map(|i| now - Duration::minutes(20 - i)).collect()));
    expect_one_failure_recorded(&mut harness);
    harness.code_matches_step(7);
    harness
        .devices
        .expect_accept_step()
        .returning(|_, _, _| Ok(true));
    harness.attempts.expect_clear().returning(|_| Ok(()));
    assert!(confirm(harness).is_ok());
}

#[test]
fn an_attempt_is_counted_before_it_is_judged_but_not_against_itself() {
    let mut harness = Harness::new();
    let now = harness.now.trunc_subsecs(6);
    let account = user(true);
    with_device(&mut harness, &account, None);
    // Four earlier failures and this attempt's own record: the attempt is still judged.
    harness
        .attempts
        .expect_failures_since()
        .returning(move |_, _| Ok((0..5).map(|i| now - Duration::minutes(4 - i)).collect()));
    harness
        .attempts
        .expect_record_failure()
        .withf(move |_, at| *at == now)
        .times(1)
        .returning(|_, _| Ok(()));
    harness.attempts.expect_withdraw_failure().never();
    harness.code_matches_step(7);
    harness
        .devices
        .expect_accept_step()
        .returning(|_, _, _| Ok(false));
    assert_eq!(
        confirm(harness).err(),
        Some(DomainError::Rejected(Rejection::WrongOneTimePassword))
    );
}
