//! Social sign-in rules, with mocked ports.

use mockall::predicate::eq;

use super::fixtures::{Harness, device, email, user};
use super::{SocialNextStep, SocialSignIn};
use crate::error::{Clash, Denial, DomainError, DomainResult};
use crate::social::SocialIdentity;

const BACKEND: &str = "google-oauth2";

fn identity(verified: bool, name: Option<&str>) -> SocialIdentity {
    SocialIdentity {
        subject: "google-sub-1".into(),
        email: "Ada@Example.org".into(),
        email_verified: verified,
        name: name.map(str::to_owned),
    }
}

/// Signs in through `BACKEND` as the identity `identity(verified, name)` describes.
fn sign_in(h: Harness, verified: bool, name: Option<&str>) -> DomainResult<SocialSignIn> {
    futures_executor::block_on(h.build().sign_in_with(BACKEND, &identity(verified, name)))
}

#[test]
fn a_new_email_creates_a_verified_account_named_from_the_profile() {
    let mut h = Harness::new();
    h.users.expect_find_by_email().returning(|_| Ok(None));
    h.users
        .expect_insert()
        .withf(|u| {
            u.username.as_str() == "Ada_Lovelace" && u.is_email_verified && !u.is_username_set
        })
        .times(1)
        .returning(|_| Ok(()));
    h.users
        .expect_link_identity()
        .withf(|_, backend, subject| backend == BACKEND && subject == "google-sub-1")
        .times(1)
        .returning(|_, _, _| Ok(()));
    let signed_in = sign_in(h, true, Some("Ada Lovelace")).unwrap();
    assert!(signed_in.is_new);
    assert_eq!(signed_in.next, SocialNextStep::SetUpTotp);
    assert_eq!(signed_in.user.email, email());
    assert!(signed_in.user.is_email_verified);
}

#[test]
fn a_taken_profile_name_falls_back_to_a_generated_one() {
    let mut h = Harness::new();
    h.users.expect_find_by_email().returning(|_| Ok(None));
    h.users
        .expect_insert()
        .withf(|u| u.username.as_str() == "Ada_Lovelace")
        .returning(|_| Err(DomainError::Conflict(Clash::UsernameTaken)));
    h.users
        .expect_insert()
        .withf(|u| u.username.as_str() != "Ada_Lovelace" && u.is_email_verified)
        .times(1)
        .returning(|_| Ok(()));
    h.users.expect_link_identity().returning(|_, _, _| Ok(()));
    let signed_in = sign_in(h, true, Some("Ada Lovelace")).unwrap();
    assert!(signed_in.is_new);
    assert!(!signed_in.user.is_username_set);
    assert_ne!(signed_in.user.username.as_str(), "Ada_Lovelace");
}

#[test]
fn an_email_the_provider_does_not_vouch_for_is_refused_before_anything_is_stored() {
    let h = Harness::new();
    let refused = sign_in(h, false, None).unwrap_err();
    assert_eq!(
        refused,
        DomainError::Forbidden(Denial::EmailNotVerifiedByProvider)
    );
}

#[test]
fn an_existing_account_that_never_verified_its_email_is_refused() {
    let mut h = Harness::new();
    h.users
        .expect_find_by_email()
        .with(eq(email()))
        .returning(|_| Ok(Some(user(false))));
    let refused = sign_in(h, true, None).unwrap_err();
    assert_eq!(refused, DomainError::Forbidden(Denial::EmailNotVerified));
}

#[test]
fn an_existing_account_goes_to_setup_or_to_the_code_depending_on_its_device() {
    for (existing_device, expected) in [
        (None, SocialNextStep::TotpSetupRequired),
        (Some(false), SocialNextStep::TotpSetupRequired),
        (Some(true), SocialNextStep::VerifyTotp),
    ] {
        let mut h = Harness::new();
        let account = user(true);
        h.knows(&account);
        h.users
            .expect_link_identity()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let owner = account.clone();
        h.devices.expect_find().returning(move |_| {
            Ok(existing_device.map(|confirmed| device(&owner, confirmed, None)))
        });
        let signed_in = sign_in(h, true, None).unwrap();
        assert!(!signed_in.is_new);
        assert_eq!(signed_in.user, account);
        assert_eq!(signed_in.next, expected);
    }
}
