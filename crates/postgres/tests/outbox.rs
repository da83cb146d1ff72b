#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use chrono::{DateTime, Duration, Utc};
use common::{now, stored_user};
use whisper_domain::ports::{MailOutbox, VerificationCodes};
use whisper_domain::{OutboxItem, OutgoingEmail, SecretDigest, VerificationCode};
use whisper_postgres::repositories::OutboxCounts;
use whisper_postgres::testing::TestDatabase;
use whisper_postgres::{PgMailOutbox, PgVerificationCodes};

/// Queues one verification email per name, in order.
async fn queue(db: &TestDatabase, names: &[&str]) {
    let codes = PgVerificationCodes::new(db.database.clone());
    for (i, name) in names.iter().enumerate() {
        let user = stored_user(db, name).await;
        let digest = SecretDigest::from_bytes([u8::try_from(i).unwrap(); 32]);
        let code = VerificationCode::issue(user.id.clone(), digest, now(), Duration::minutes(10));
        let email = OutgoingEmail::VerifyEmail {
            to: user.email.clone(),
            username: user.username.clone(),
            link: format!("https://w/{name}"),
            expires_in_minutes: 10,
        };
        codes.issue(&code, &email).await.unwrap();
    }
}

/// Claims up to `limit` emails due at `at`, leased for a minute.
async fn claim(outbox: &PgMailOutbox, at: DateTime<Utc>, limit: u32) -> Vec<OutboxItem> {
    outbox
        .claim_due(at, at + Duration::minutes(1), limit)
        .await
        .unwrap()
}

fn recipients(items: &[OutboxItem]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.email.recipient().as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn claimed_emails_are_leased_oldest_first_and_not_claimed_twice() {
    let db = TestDatabase::create().await;
    let outbox = PgMailOutbox::new(db.database.clone());
    queue(&db, &["ada", "bob", "cyd"]).await;
    let t = now() + Duration::seconds(1);

    let first = claim(&outbox, t, 2).await;
    assert_eq!(recipients(&first), ["ada@example.org", "bob@example.org"]);
    let second = claim(&outbox, t, 10).await;
    assert_eq!(recipients(&second), ["cyd@example.org"]);
    assert!(claim(&outbox, t, 10).await.is_empty());

    // A lease that ran out (the deliverer died) lets another deliverer take over.
    let later = t + Duration::minutes(2);
    assert_eq!(claim(&outbox, later, 10).await.len(), 3);
}

#[tokio::test]
async fn concurrent_deliverers_never_claim_the_same_email() {
    let db = TestDatabase::create().await;
    let names: Vec<String> = (0..20).map(|i| format!("user{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    queue(&db, &names).await;
    let t = now() + Duration::seconds(1);
    let deliverers = (0..4).map(|_| {
        let outbox = PgMailOutbox::new(db.database.clone());
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = claim(&outbox, t, 3).await;
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|item| item.id));
            }
        })
    });
    let mut claimed = Vec::new();
    for deliverer in deliverers {
        claimed.extend(deliverer.await.unwrap());
    }
    claimed.sort_unstable();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!((before, claimed.len()), (20, 20));
}

#[tokio::test]
async fn sent_emails_leave_rescheduled_ones_wait_and_abandoned_ones_stop() {
    let db = TestDatabase::create().await;
    let outbox = PgMailOutbox::new(db.database.clone());
    queue(&db, &["ada", "bob", "cyd"]).await;
    let t = now() + Duration::seconds(1);
    let claimed = claim(&outbox, t, 10).await;
    let [ada, bob, cyd] = [&claimed[0], &claimed[1], &claimed[2]];

    outbox.mark_sent(ada.id).await.unwrap();
    outbox
        .reschedule(bob.id, t + Duration::minutes(5), 1, "connection refused")
        .await
        .unwrap();
    outbox.abandon(cyd.id, "550 no such mailbox").await.unwrap();
    // What the metrics show: bob still to send, cyd given up on, ada gone.
    assert_eq!(
        outbox.counts().await.unwrap(),
        OutboxCounts {
            queued: 1,
            abandoned: 1
        }
    );

    // Nothing is due before bob's retry time, even though every lease was released.
    assert!(claim(&outbox, t, 10).await.is_empty());
    let retry = t + Duration::minutes(5);
    let due = claim(&outbox, retry, 10).await;
    assert_eq!(recipients(&due), ["bob@example.org"]);
    assert_eq!(due[0].failed_attempts, 1);
}
