#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{database_with, now, successes_of_eight};
use tokio::sync::Notify;
use whisper_domain::ports::{MailOutbox, UserRepository, VerificationCodes};
use whisper_domain::{
    DomainError, Missing, OutboxItem, OutgoingEmail, SecretDigest, User, VerificationCode,
};
use whisper_postgres::{PgMailOutbox, PgUsers, PgVerificationCodes};

fn code_for(user: &User, byte: u8) -> VerificationCode {
    VerificationCode::issue(
        user.id.clone(),
        SecretDigest::from_bytes([byte; 32]),
        now(),
        Duration::minutes(10),
    )
}

fn email_for(user: &User, link: &str) -> OutgoingEmail {
    OutgoingEmail::VerifyEmail {
        to: user.email.clone(),
        username: user.username.clone(),
        link: link.to_owned(),
        expires_in_minutes: 10,
    }
}

#[tokio::test]
async fn issuing_stores_the_code_and_queues_its_email_together() {
    let (db, [ada]) = database_with(["ada"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    let outbox = PgMailOutbox::new(db.database.clone());
    let issued = code_for(&ada, 1);

    codes
        .issue(&issued, &email_for(&ada, "https://w/1"))
        .await
        .unwrap();

    assert_eq!(
        codes.find_for_user(&ada.id).await.unwrap(),
        Some(issued.clone())
    );
    assert_eq!(
        codes.find_by_digest(&issued.digest).await.unwrap(),
        Some(issued)
    );
    let queued = due_now(&outbox).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].email, email_for(&ada, "https://w/1"));
    assert_eq!(queued[0].failed_attempts, 0);
}

#[tokio::test]
async fn a_new_code_replaces_the_old_one() {
    let (db, [ada]) = database_with(["ada"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    let first = code_for(&ada, 1);
    let second = code_for(&ada, 2);
    codes.issue(&first, &email_for(&ada, "l1")).await.unwrap();
    codes.issue(&second, &email_for(&ada, "l2")).await.unwrap();
    assert_eq!(codes.find_for_user(&ada.id).await.unwrap(), Some(second));
    assert_eq!(codes.find_by_digest(&first.digest).await.unwrap(), None);
}

#[tokio::test]
async fn an_email_is_not_queued_when_its_code_cannot_be_stored() {
    let (db, [ada, grace]) = database_with(["ada", "grace"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    let outbox = PgMailOutbox::new(db.database.clone());
    codes
        .issue(&code_for(&ada, 1), &email_for(&ada, "l1"))
        .await
        .unwrap();
    // Same digest as ada's code: the unique index refuses it, and the email goes with it.
    let clash = codes
        .issue(&code_for(&grace, 1), &email_for(&grace, "l2"))
        .await;
    assert!(clash.is_err());
    let queued = due_now(&outbox).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
}

/// The queued emails a deliverer would claim now.
async fn due_now(outbox: &PgMailOutbox) -> Vec<OutboxItem> {
    let t = now() + Duration::seconds(1);
    outbox
        .claim_due(t, t + Duration::minutes(1), 10)
        .await
        .unwrap()
}

/// Whether `notify` holds a wake-up, without waiting for one.
async fn was_notified(notify: &Notify) -> bool {
    tokio::select! {
        biased;
        () = notify.notified() => true,
        () = std::future::ready(()) => false,
    }
}

#[tokio::test]
async fn issuing_wakes_the_mail_deliverer_once_the_email_is_committed() {
    let (db, [ada]) = database_with(["ada"]).await;
    let mail_queued = Arc::new(Notify::new());
    let codes = PgVerificationCodes::notifying(db.database.clone(), Arc::clone(&mail_queued));
    let outbox = PgMailOutbox::new(db.database.clone());
    assert!(!was_notified(&mail_queued).await);

    codes
        .issue(&code_for(&ada, 1), &email_for(&ada, "l1"))
        .await
        .unwrap();

    assert!(was_notified(&mail_queued).await);
    // Whoever is woken finds the email already committed.
    let queued = due_now(&outbox).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
}

#[tokio::test]
async fn a_code_that_cannot_be_stored_wakes_nobody() {
    let (db, [ada, grace]) = database_with(["ada", "grace"]).await;
    let mail_queued = Arc::new(Notify::new());
    let codes = PgVerificationCodes::notifying(db.database.clone(), Arc::clone(&mail_queued));
    codes
        .issue(&code_for(&ada, 1), &email_for(&ada, "l1"))
        .await
        .unwrap();
    assert!(was_notified(&mail_queued).await);

    // Same digest as ada's code: the unique index refuses it.
    let clash = codes
        .issue(&code_for(&grace, 1), &email_for(&grace, "l2"))
        .await;
    assert!(clash.is_err());
    assert!(!was_notified(&mail_queued).await);
}

#[tokio::test]
async fn consuming_verifies_the_email_once() {
    let (db, [ada]) = database_with(["ada"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    let users = PgUsers::new(db.database.clone());
    let issued = code_for(&ada, 1);
    codes.issue(&issued, &email_for(&ada, "l")).await.unwrap();

    let verified = codes.consume(&issued.digest).await.unwrap();
    assert!(verified.is_email_verified);
    assert!(
        users
            .find_by_id(&ada.id)
            .await
            .unwrap()
            .unwrap()
            .is_email_verified
    );
    assert_eq!(codes.find_for_user(&ada.id).await.unwrap(), None);
    assert_eq!(
        codes.consume(&issued.digest).await.unwrap_err(),
        DomainError::NotFound(Missing::UsedVerificationLink)
    );
}

#[tokio::test]
async fn concurrent_uses_of_one_link_verify_exactly_once() {
    let (db, [ada]) = database_with(["ada"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    let issued = code_for(&ada, 1);
    codes.issue(&issued, &email_for(&ada, "l")).await.unwrap();
    let successes = successes_of_eight(|| {
        let codes = codes.clone();
        let digest = issued.digest.clone();
        async move { codes.consume(&digest).await.is_ok() }
    })
    .await;
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn discarding_removes_the_code() {
    let (db, [ada]) = database_with(["ada"]).await;
    let codes = PgVerificationCodes::new(db.database.clone());
    codes
        .issue(&code_for(&ada, 1), &email_for(&ada, "l"))
        .await
        .unwrap();
    codes.discard(&ada.id).await.unwrap();
    codes.discard(&ada.id).await.unwrap();
    assert_eq!(codes.find_for_user(&ada.id).await.unwrap(), None);
}
