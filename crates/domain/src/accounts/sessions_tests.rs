use chrono::Duration;
use futures_executor::block_on;

use super::fixtures::{Harness, device, email, user};
use crate::error::{Credential, Denial, DomainError};
use crate::id::{TokenFamilyId, TokenId, UserId};
use crate::session::{SessionEnded, TokenClaims, TokenKind};
use crate::tokens::{AccessTokenRecord, RefreshFamily};
use crate::user::User;
use crate::username::Username;

fn claims(account: &User, kind: TokenKind, jti: TokenId, family: &RefreshFamily) -> TokenClaims {
    TokenClaims {
        subject: account.id.clone(),
        jti,
        kind,
        family: Some(family.id.clone()),
        issued_at: family.created,
        expires_at: family.expires_at,
    }
}

/// A refresh family of `account` started now.
fn family_of(harness: &Harness, account: &User) -> RefreshFamily {
    RefreshFamily::start(account.id.clone(), harness.now, Duration::days(14))
}

/// Decodes every presented token to `claims`.
fn decoding_to(harness: &mut Harness, claims: TokenClaims) {
    harness
        .codec
        .expect_decode()
        .returning(move |_| Some(claims.clone()));
}

/// Finds `family` whatever id is asked for.
fn finding_family(harness: &mut Harness, family: RefreshFamily) {
    harness
        .tokens
        .expect_find_family()
        .returning(move |_| Ok(Some(family.clone())));
}

fn encoding(harness: &mut Harness) {
    harness
        .codec
        .expect_encode()
        .returning(|claims| Ok(format!("{}:{}", claims.kind.as_str(), claims.jti)));
}

#[test]
fn login_is_refused_without_a_confirmed_device() {
    let mut harness = Harness::new();
    let account = user(true);
    harness.knows(&account);
    harness.has_device(device(&account, false, None));
    let outcome = block_on(harness.build().begin_login(&email()));
    assert_eq!(
        outcome.err(),
        Some(DomainError::Forbidden(Denial::TotpSetupRequired))
    );
}

#[test]
fn login_opens_a_session_and_renames_a_generated_name() {
    let mut harness = Harness::new();
    let mut account = user(true);
    account.is_username_set = false;
    harness.knows(&account);
    harness.has_device(device(&account, true, Some(1)));
    harness.no_failures();
    harness
        .attempts
        .expect_record_failure()
        .times(1)
        .returning(|_, _| Ok(()));
    harness.code_matches_step(2);
    harness
        .devices
        .expect_accept_step()
        .returning(|_, _, _| Ok(true));
    harness.attempts.expect_clear().returning(|_| Ok(()));
    harness
        .users
        .expect_rename()
        .times(1)
        .returning(|id, name, chosen| {
            let mut renamed = user(true);
            renamed.id = id.clone();
            renamed.username = name.clone();
            renamed.is_username_set = chosen;
            Ok(renamed)
        });
    harness
        .tokens
        .expect_start_family()
        .times(1)
        .returning(|_| Ok(()));
    harness
        .tokens
        .expect_record_access()
        .times(1)
        .returning(|_| Ok(()));
    encoding(&mut harness);
    let name = Username::parse("lovelace").unwrap();
    let session = block_on(
        harness
            .build()
            .complete_login(&email(), "123456", Some(name)),
    )
    .unwrap();
    assert_eq!(session.user.username.as_str(), "lovelace");
    assert!(session.access_token.starts_with("access:"));
    assert!(session.refresh_token.starts_with("refresh:"));
}

#[test]
fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let stale = claims(&account, TokenKind::Refresh, TokenId::generate(), &family);
    let family_id = family.id.clone();
    let family_id_for_signal = family.id.clone();
    decoding_to(&mut harness, stale);
    finding_family(&mut harness, family);
    harness.tokens.expect_rotate().never();
    harness
        .tokens
        .expect_revoke_family()
        .withf(move |id| *id == family_id)
        .times(1)
        .returning(|_| Ok(()));
    let signals = harness.signals.clone();
    let outcome = block_on(harness.build().refresh("stale"));
    assert_eq!(
        signals.ended().len(),
        1,
        "the copied family's sockets close"
    );
    assert_eq!(
        signals.ended()[0].family,
        Some(family_id_for_signal.clone())
    );
    assert_eq!(
        outcome.err(),
        Some(DomainError::Unauthenticated(
            Credential::InvalidRefreshToken
        ))
    );
}

#[test]
fn losing_a_concurrent_rotation_counts_as_reuse() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let current = claims(
        &account,
        TokenKind::Refresh,
        family.current_jti.clone(),
        &family,
    );
    decoding_to(&mut harness, current);
    finding_family(&mut harness, family);
    harness
        .tokens
        .expect_rotate()
        .returning(|_, _, _| Ok(false));
    harness
        .tokens
        .expect_revoke_family()
        .times(1)
        .returning(|_| Ok(()));
    assert!(block_on(harness.build().refresh("current")).is_err());
}

#[test]
fn the_current_refresh_token_rotates_into_new_tokens() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let current = claims(
        &account,
        TokenKind::Refresh,
        family.current_jti.clone(),
        &family,
    );
    let old_jti = family.current_jti.clone();
    decoding_to(&mut harness, current);
    finding_family(&mut harness, family);
    harness
        .tokens
        .expect_rotate()
        .withf(move |_, from, to| *from == old_jti && *to != old_jti)
        .times(1)
        .returning(|_, _, _| Ok(true));
    harness
        .users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(account.clone())));
    harness
        .tokens
        .expect_record_access()
        .times(1)
        .returning(|_| Ok(()));
    encoding(&mut harness);
    let session = block_on(harness.build().refresh("current")).unwrap();
    assert!(session.refresh_token.starts_with("refresh:"));
}

#[test]
fn an_access_token_is_not_a_refresh_token() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let access = claims(
        &account,
        TokenKind::Access,
        family.current_jti.clone(),
        &family,
    );
    decoding_to(&mut harness, access);
    harness.tokens.expect_find_family().never();
    assert!(block_on(harness.build().refresh("access")).is_err());
}

#[test]
fn revoked_or_unrecorded_access_tokens_do_not_authenticate() {
    for record_state in ["revoked", "unrecorded"] {
        let mut harness = Harness::new();
        let account = user(true);
        let family = family_of(&harness, &account);
        let mut record = AccessTokenRecord::issue(
            account.id.clone(),
            Some(TokenFamilyId::generate()),
            harness.now,
            Duration::minutes(15),
        );
        record.revoked = true;
        let presented = claims(&account, TokenKind::Access, record.jti.clone(), &family);
        decoding_to(&mut harness, presented);
        let stored = (record_state == "revoked").then_some(record);
        harness
            .tokens
            .expect_find_access()
            .returning(move |_| Ok(stored.clone()));
        harness.users.expect_find_by_id().never();
        let outcome = block_on(harness.build().authenticate("token"));
        assert!(
            matches!(
                outcome,
                Err(DomainError::Unauthenticated(Credential::InvalidAccessToken))
            ),
            "{record_state} token authenticated"
        );
    }
}

#[test]
fn expired_access_tokens_do_not_authenticate() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let mut expired = claims(&account, TokenKind::Access, TokenId::generate(), &family);
    expired.expires_at = harness.now - Duration::seconds(1);
    decoding_to(&mut harness, expired);
    harness.tokens.expect_find_access().never();
    assert!(block_on(harness.build().authenticate("token")).is_err());
}

#[test]
fn logout_revokes_the_access_token_and_its_family() {
    let mut harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let record = AccessTokenRecord::issue(
        account.id.clone(),
        Some(family.id.clone()),
        harness.now,
        Duration::minutes(15),
    );
    let presented = claims(&account, TokenKind::Access, record.jti.clone(), &family);
    let record_jti = record.jti.clone();
    decoding_to(&mut harness, presented);
    harness
        .tokens
        .expect_find_access()
        .returning(move |_| Ok(Some(record.clone())));
    harness
        .tokens
        .expect_revoke_access()
        .times(1)
        .returning(|_| Ok(()));
    harness
        .tokens
        .expect_revoke_family()
        .times(1)
        .returning(|_| Ok(()));
    let signals = harness.signals.clone();
    assert_eq!(block_on(harness.build().logout("token")), Ok(()));
    assert_eq!(
        signals.ended(),
        vec![SessionEnded {
            user: account.id.clone(),
            access: Some(record_jti),
            family: Some(family.id.clone()),
        }],
        "every instance hears the session ended"
    );
}

#[test]
fn a_session_counts_as_ended_only_once_revoked_not_merely_expired() {
    for (revoked, expired, recorded) in [
        (false, true, true),
        (true, false, true),
        (false, false, false),
    ] {
        let mut harness = Harness::new();
        let account = user(true);
        let family = family_of(&harness, &account);
        let mut record = AccessTokenRecord::issue(
            account.id.clone(),
            Some(family.id.clone()),
            harness.now,
            Duration::minutes(15),
        );
        record.revoked = revoked;
        let mut presented = claims(&account, TokenKind::Access, record.jti.clone(), &family);
        if expired {
            presented.expires_at = harness.now - Duration::seconds(1);
        }
        decoding_to(&mut harness, presented);
        let stored = recorded.then_some(record);
        harness
            .tokens
            .expect_find_access()
            .returning(move |_| Ok(stored.clone()));
        let ended = block_on(harness.build().access_revoked("token")).unwrap();
        assert_eq!(
            ended,
            revoked || !recorded,
            "{revoked} {expired} {recorded}"
        );
    }
}

#[test]
fn an_ended_session_covers_its_access_token_and_every_token_of_its_family() {
    let harness = Harness::new();
    let account = user(true);
    let family = family_of(&harness, &account);
    let token = claims(&account, TokenKind::Access, TokenId::generate(), &family);
    let logged_out = SessionEnded {
        user: account.id.clone(),
        access: Some(token.jti.clone()),
        family: None,
    };
    assert!(logged_out.covers(&token));
    let revoked_family = SessionEnded {
        user: account.id.clone(),
        access: None,
        family: Some(family.id.clone()),
    };
    assert!(revoked_family.covers(&token));
    let other_token = claims(&account, TokenKind::Access, TokenId::generate(), &family);
    assert!(!logged_out.covers(&other_token), "another session of hers");
    let someone_else = SessionEnded {
        user: UserId::generate(),
        ..revoked_family
    };
    assert!(!someone_else.covers(&token));
}

#[test]
fn only_the_current_token_of_a_live_family_is_usable_and_asking_changes_nothing() {
    let verdict = |revoked: bool, current: bool| {
        let mut harness = Harness::new();
        let account = user(true);
        let mut family = family_of(&harness, &account);
        family.revoked = revoked;
        let jti = if current {
            family.current_jti.clone()
        } else {
            TokenId::generate()
        };
        decoding_to(
            &mut harness,
            claims(&account, TokenKind::Refresh, jti, &family),
        );
        finding_family(&mut harness, family);
        harness.tokens.expect_rotate().never();
        harness.tokens.expect_revoke_family().never();
        block_on(harness.build().refresh_usable("token")).unwrap()
    };
    assert!(verdict(false, true));
    assert!(!verdict(false, false), "a rotated token");
    assert!(!verdict(true, true), "a revoked family");
}
