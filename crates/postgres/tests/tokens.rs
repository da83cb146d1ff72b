#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use chrono::Duration;
use common::{database_with, now, successes_of_eight};
use whisper_domain::ports::TokenStore;
use whisper_domain::{AccessTokenRecord, RefreshFamily, TokenFamilyId, TokenId};
use whisper_postgres::PgTokens;

/// Whether the stored copy of `token`, which must exist, is revoked.
async fn access_revoked(tokens: &PgTokens, token: &AccessTokenRecord) -> bool {
    tokens
        .find_access(&token.jti)
        .await
        .unwrap()
        .unwrap()
        .revoked
}

#[tokio::test]
async fn access_tokens_are_recorded_found_and_revoked() {
    let (db, [ada]) = database_with(["ada"]).await;
    let tokens = PgTokens::new(db.database.clone());
    let token = AccessTokenRecord::issue(ada.id.clone(), None, now(), Duration::minutes(15));
    tokens.record_access(&token).await.unwrap();
    assert_eq!(
        tokens.find_access(&token.jti).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(
        tokens.find_access(&TokenId::generate()).await.unwrap(),
        None
    );

    tokens.revoke_access(&token.jti).await.unwrap();
    tokens.revoke_access(&token.jti).await.unwrap();
    assert!(access_revoked(&tokens, &token).await);
}

#[tokio::test]
async fn rotation_moves_the_current_token_once() {
    let (db, [ada]) = database_with(["ada"]).await;
    let tokens = PgTokens::new(db.database.clone());
    let family = RefreshFamily::start(ada.id.clone(), now(), Duration::days(14));
    tokens.start_family(&family).await.unwrap();
    assert_eq!(
        tokens.find_family(&family.id).await.unwrap(),
        Some(family.clone())
    );
    assert_eq!(
        tokens
            .find_family(&TokenFamilyId::generate())
            .await
            .unwrap(),
        None
    );

    let next = TokenId::generate();
    assert!(
        tokens
            .rotate(&family.id, &family.current_jti, &next)
            .await
            .unwrap()
    );
    // The old token lost: a second rotation from it fails.
    assert!(
        !tokens
            .rotate(&family.id, &family.current_jti, &TokenId::generate())
            .await
            .unwrap()
    );
    assert_eq!(
        tokens
            .find_family(&family.id)
            .await
            .unwrap()
            .unwrap()
            .current_jti,
        next
    );
}

#[tokio::test]
async fn concurrent_rotations_of_one_token_have_one_winner() {
    let (db, [ada]) = database_with(["ada"]).await;
    let tokens = PgTokens::new(db.database.clone());
    let family = RefreshFamily::start(ada.id.clone(), now(), Duration::days(14));
    tokens.start_family(&family).await.unwrap();
    let winners = successes_of_eight(|| {
        let tokens = tokens.clone();
        let (id, from) = (family.id.clone(), family.current_jti.clone());
        async move {
            tokens
                .rotate(&id, &from, &TokenId::generate())
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn revoking_a_family_revokes_its_access_tokens_and_stops_rotation() {
    let (db, [ada]) = database_with(["ada"]).await;
    let tokens = PgTokens::new(db.database.clone());
    let family = RefreshFamily::start(ada.id.clone(), now(), Duration::days(14));
    tokens.start_family(&family).await.unwrap();
    let issued = AccessTokenRecord::issue(
        ada.id.clone(),
        Some(family.id.clone()),
        now(),
        Duration::minutes(15),
    );
    let unrelated = AccessTokenRecord::issue(ada.id.clone(), None, now(), Duration::minutes(15));
    tokens.record_access(&issued).await.unwrap();
    tokens.record_access(&unrelated).await.unwrap();

    tokens.revoke_family(&family.id).await.unwrap();

    assert!(
        tokens
            .find_family(&family.id)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(access_revoked(&tokens, &issued).await);
    assert!(!access_revoked(&tokens, &unrelated).await);
    assert!(
        !tokens
            .rotate(&family.id, &family.current_jti, &TokenId::generate())
            .await
            .unwrap()
    );
}
