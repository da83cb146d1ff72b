#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{database_with, now, successes_of_eight};
use diesel::sql_query;
use diesel_async::RunQueryDsl;
use whisper_domain::ports::{SecretSealer, TotpAttempts, TotpDevices};
use whisper_domain::{Clash, DomainError, DomainResult, Missing, TotpDevice, TotpSecret, UserId};
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{PgTotpAttempts, PgTotpDevices};

/// Reverses the bytes behind a marker: enough to see that stored secrets are not plain.
struct MarkingSealer;

impl SecretSealer for MarkingSealer {
    fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut sealed = b"sealed:".to_vec();
        sealed.extend(plaintext.iter().rev());
        sealed
    }

    fn open(&self, sealed: &[u8]) -> DomainResult<Vec<u8>> {
        let body = sealed
            .strip_prefix(b"sealed:")
            .ok_or_else(|| DomainError::internal("not sealed"))?;
        Ok(body.iter().rev().copied().collect())
    }
}

fn devices(db: &TestDatabase) -> PgTotpDevices {
    PgTotpDevices::new(db.database.clone(), Arc::new(MarkingSealer))
}

fn device_for(user: &UserId, byte: u8) -> TotpDevice {
    TotpDevice::enroll(
        user.clone(),
        TotpSecret::from_bytes(vec![byte, 2, 3, 4]),
        now(),
    )
}

#[derive(diesel::QueryableByName)]
struct StoredSecret {
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    secret: Vec<u8>,
}

#[tokio::test]
async fn a_device_round_trips_with_its_secret_sealed_at_rest() {
    let (db, [ada]) = database_with(["ada"]).await;
    let device = device_for(&ada.id, 1);
    devices(&db).enroll(&device).await.unwrap();
    assert_eq!(devices(&db).find(&ada.id).await.unwrap(), Some(device));

    let mut conn = db.database.connection().await.unwrap();
    let stored: StoredSecret = sql_query("SELECT secret FROM totp_devices")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored.secret, b"sealed:\x04\x03\x02\x01");
}

#[tokio::test]
async fn an_unconfirmed_device_is_replaced_and_a_confirmed_one_is_kept() {
    let (db, [ada]) = database_with(["ada"]).await;
    devices(&db).enroll(&device_for(&ada.id, 1)).await.unwrap();
    let replacement = device_for(&ada.id, 9);
    devices(&db).enroll(&replacement).await.unwrap();
    assert_eq!(
        devices(&db).find(&ada.id).await.unwrap(),
        Some(replacement.clone())
    );

    assert!(devices(&db).accept_step(&ada.id, 100, true).await.unwrap());
    let again = devices(&db).enroll(&device_for(&ada.id, 5)).await;
    assert_eq!(
        again.unwrap_err(),
        DomainError::Conflict(Clash::TotpAlreadyConfirmed)
    );
    let kept = devices(&db).find(&ada.id).await.unwrap().unwrap();
    assert_eq!(kept.secret, replacement.secret);
    assert!(kept.confirmed);
    assert_eq!(kept.last_accepted_step, Some(100));
}

#[tokio::test]
async fn each_step_is_accepted_once_and_never_an_older_one() {
    let (db, [ada]) = database_with(["ada"]).await;
    devices(&db).enroll(&device_for(&ada.id, 1)).await.unwrap();
    let store = devices(&db);
    assert!(store.accept_step(&ada.id, 100, false).await.unwrap());
    assert!(!store.accept_step(&ada.id, 100, false).await.unwrap());
    assert!(!store.accept_step(&ada.id, 99, false).await.unwrap());
    assert!(store.accept_step(&ada.id, 101, false).await.unwrap());
    // Accepting without confirming leaves an unconfirmed device unconfirmed.
    assert!(!store.find(&ada.id).await.unwrap().unwrap().confirmed);
    let missing = store.accept_step(&UserId::generate(), 1, false).await;
    assert_eq!(
        missing.unwrap_err(),
        DomainError::NotFound(Missing::TotpDevice)
    );
}

#[tokio::test]
async fn concurrent_uses_of_one_code_succeed_exactly_once() {
    let (db, [ada]) = database_with(["ada"]).await;
    devices(&db).enroll(&device_for(&ada.id, 1)).await.unwrap();
    let accepted = successes_of_eight(|| {
        let store = devices(&db);
        let user = ada.id.clone();
        async move { store.accept_step(&user, 500, false).await.unwrap() }
    })
    .await;
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn failures_are_counted_per_user_since_a_time_and_cleared() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let attempts = PgTotpAttempts::new(db.database.clone());
    let t = now();
    for minutes in [20, 10, 5, 1] {
        attempts
            .record_failure(&ada.id, t - Duration::minutes(minutes))
            .await
            .unwrap();
    }
    attempts.record_failure(&bob.id, t).await.unwrap();

    let recent = attempts
        .failures_since(&ada.id, t - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(
        recent,
        [
            t - Duration::minutes(10),
            t - Duration::minutes(5),
            t - Duration::minutes(1)
        ]
    );
    attempts.clear(&ada.id).await.unwrap();
    assert!(
        attempts
            .failures_since(&ada.id, t - Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(attempts.failures_since(&bob.id, t).await.unwrap(), [t]);
}

#[tokio::test]
async fn a_withdrawn_failure_is_the_only_one_forgotten() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let attempts = PgTotpAttempts::new(db.database.clone());
    let t = now();
    let earlier = t - Duration::minutes(1);
    attempts.record_failure(&ada.id, earlier).await.unwrap();
    attempts.record_failure(&ada.id, t).await.unwrap();
    attempts.record_failure(&bob.id, t).await.unwrap();
    attempts.withdraw_failure(&ada.id, t).await.unwrap();
    let since = t - Duration::minutes(15);
    assert_eq!(
        attempts.failures_since(&ada.id, since).await.unwrap(),
        [earlier]
    );
    assert_eq!(attempts.failures_since(&bob.id, since).await.unwrap(), [t]);
}
