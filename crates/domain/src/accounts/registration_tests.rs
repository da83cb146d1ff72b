use chrono::{DateTime, Duration, Utc};
use futures_executor::block_on;

use super::fixtures::{Harness, email, user};
use crate::error::{Clash, DomainError, Rejection};
use crate::mail::OutgoingEmail;
use crate::secret::SecretDigest;
use crate::user::User;
use crate::username::Username;
use crate::verification::VerificationCode;

fn digest() -> SecretDigest {
    SecretDigest::from_bytes([4; 32])
}

fn issuing_links(harness: &mut Harness) {
    harness
        .link_tokens
        .expect_issue()
        .returning(|_| ("tok3n".to_owned(), digest()));
}

/// A ten-minute verification code of `account` under the fixture digest, issued at `issued`.
fn code_of(account: &User, issued: DateTime<Utc>) -> VerificationCode {
    VerificationCode::issue(account.id.clone(), digest(), issued, Duration::minutes(10))
}

/// Verifies any link as one issued to `account`.
fn links_verify_as(harness: &mut Harness, account: &User) {
    let id = account.id.clone();
    harness
        .link_tokens
        .expect_verify()
        .returning(move |_| Some((id.clone(), digest())));
}

#[test]
fn registering_queues_a_verification_link_to_the_public_url() {
    let mut harness = Harness::new();
    harness.users.expect_insert().times(1).returning(|_| Ok(()));
    issuing_links(&mut harness);
    let now = harness.now;
    harness
        .codes
        .expect_issue()
        .withf(move |code, email| {
            let OutgoingEmail::VerifyEmail {
                link,
                expires_in_minutes,
                ..
            } = email;
            code.expires_at == now + Duration::minutes(10)
                && link == "https://chat.example.org/verify/tok3n/"
                && *expires_in_minutes == 10
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let accounts = harness.build();
    let user = block_on(accounts.register(email(), Some(Username::parse("ada").unwrap()))).unwrap();
    assert!(user.is_username_set);
    assert!(!user.is_email_verified);
}

#[test]
fn a_generated_username_that_collides_is_replaced_by_another() {
    let mut harness = Harness::new();
    let mut calls = 0;
    harness.users.expect_insert().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 {
            Err(DomainError::Conflict(Clash::UsernameTaken))
        } else {
            Ok(())
        }
    });
    issuing_links(&mut harness);
    harness
        .codes
        .expect_issue()
        .times(1)
        .returning(|_, _| Ok(()));
    let user = block_on(harness.build().register(email(), None)).unwrap();
    assert!(!user.is_username_set);
}

#[test]
fn a_chosen_username_that_is_taken_is_refused_and_no_mail_is_sent() {
    let mut harness = Harness::new();
    harness
        .users
        .expect_insert()
        .returning(|_| Err(DomainError::Conflict(Clash::UsernameTaken)));
    harness.codes.expect_issue().never();
    let outcome = block_on(
        harness
            .build()
            .register(email(), Some(Username::parse("ada").unwrap())),
    );
    assert_eq!(
        outcome.err(),
        Some(DomainError::Conflict(Clash::UsernameTaken))
    );
}

#[test]
fn a_new_link_is_refused_while_one_is_live() {
    let mut harness = Harness::new();
    let account = user(false);
    harness.knows(&account);
    let live = code_of(&account, harness.now);
    harness
        .codes
        .expect_find_for_user()
        .returning(move |_| Ok(Some(live.clone())));
    harness.codes.expect_issue().never();
    let outcome = block_on(harness.build().begin_verification(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Conflict(Clash::VerificationPending))
    );
}

#[test]
fn a_new_link_replaces_an_expired_one() {
    let mut harness = Harness::new();
    let account = user(false);
    harness.knows(&account);
    let expired = code_of(&account, harness.now - Duration::minutes(11));
    harness
        .codes
        .expect_find_for_user()
        .returning(move |_| Ok(Some(expired.clone())));
    issuing_links(&mut harness);
    harness
        .codes
        .expect_issue()
        .times(1)
        .returning(|_, _| Ok(()));
    assert_eq!(
        block_on(harness.build().begin_verification(&email())),
        Ok(())
    );
}

#[test]
fn verified_accounts_get_no_new_link() {
    let mut harness = Harness::new();
    harness
        .users
        .expect_find_by_email()
        .returning(|_| Ok(Some(user(true))));
    let outcome = block_on(harness.build().begin_verification(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::AlreadyVerified))
    );
}

#[test]
fn an_expired_link_is_rejected_and_discarded() {
    let mut harness = Harness::new();
    let account = user(false);
    links_verify_as(&mut harness, &account);
    let expired = code_of(&account, harness.now - Duration::minutes(10));
    harness
        .codes
        .expect_find_by_digest()
        .returning(move |_| Ok(Some(expired.clone())));
    harness
        .codes
        .expect_discard()
        .times(1)
        .returning(|_| Ok(()));
    harness.codes.expect_consume().never();
    let outcome = block_on(harness.build().complete_verification("tok3n"));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::ExpiredLink))
    );
}

#[test]
fn a_forged_link_is_invalid() {
    let mut harness = Harness::new();
    harness.link_tokens.expect_verify().returning(|_| None);
    let outcome = block_on(harness.build().complete_verification("forged"));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::InvalidLink))
    );
}

#[test]
fn a_used_link_says_already_verified() {
    let mut harness = Harness::new();
    let account = user(true);
    links_verify_as(&mut harness, &account);
    harness
        .codes
        .expect_find_by_digest()
        .returning(|_| Ok(None));
    harness
        .users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(account.clone())));
    let outcome = block_on(harness.build().complete_verification("tok3n"));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Rejected(Rejection::AlreadyVerified))
    );
}

#[test]
fn a_live_link_verifies_the_email() {
    let mut harness = Harness::new();
    let account = user(false);
    links_verify_as(&mut harness, &account);
    let live = code_of(&account, harness.now);
    harness
        .codes
        .expect_find_by_digest()
        .returning(move |_| Ok(Some(live.clone())));
    harness.codes.expect_consume().times(1).returning(move |_| {
        let mut verified = account.clone();
        verified.is_email_verified = true;
        Ok(verified)
    });
    let verified = block_on(harness.build().complete_verification("tok3n")).unwrap();
    assert!(verified.is_email_verified);
}
