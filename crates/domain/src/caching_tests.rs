use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_executor::block_on;
use whisper_domain::ports::{MockRoomRepository, MockTokenStore, RoomRepository, TokenStore};
use whisper_domain::{AccessTokenRecord, RoomId, TokenFamilyId, UserId};

use super::{CachedMembership, CachedTokens, FreshFor, REVALIDATE_AFTER};

fn record(family: Option<TokenFamilyId>) -> AccessTokenRecord {
    AccessTokenRecord::issue(
        UserId::generate(),
        family,
        Utc::now(),
        chrono::Duration::hours(1),
    )
}

#[test]
fn a_live_token_record_is_read_once_while_fresh() {
    let live = record(None);
    let jti = live.jti.clone();
    let mut store = MockTokenStore::new();
    let answer = live.clone();
    store
        .expect_find_access()
        .times(1)
        .returning(move |_| Ok(Some(answer.clone())));
    let cached = CachedTokens::new(store);
    for _ in 0..3 {
        assert_eq!(
            block_on(cached.find_access(&jti)).unwrap(),
            Some(live.clone())
        );
    }
}

#[test]
fn revoked_unknown_and_stale_records_are_read_again() {
    let mut revoked = record(None);
    revoked.revoked = true;
    let jti = revoked.jti.clone();
    let mut store = MockTokenStore::new();
    store
        .expect_find_access()
        .times(2)
        .returning(move |_| Ok(Some(revoked.clone())));
    let cached = CachedTokens::new(store);
    block_on(cached.find_access(&jti)).unwrap();
    block_on(cached.find_access(&jti)).unwrap();

    let live = record(None);
    let mut store = MockTokenStore::new();
    store
        .expect_find_access()
        .times(2)
        .returning(move |_| Ok(Some(live.clone())));
    let stale_at_once = CachedTokens::with_ttl(store, Duration::ZERO);
    block_on(stale_at_once.find_access(&jti)).unwrap();
    block_on(stale_at_once.find_access(&jti)).unwrap();
}

#[test]
fn revoking_a_token_or_its_family_through_the_cache_evicts_it() {
    let family = TokenFamilyId::generate();
    let in_family = record(Some(family.clone()));
    let other = record(None);
    let mut store = MockTokenStore::new();
    let (first, second) = (in_family.clone(), other.clone());
    store.expect_find_access().returning(move |jti| {
        Ok(Some(if *jti == first.jti {
            first.clone()
        } else {
            second.clone()
        }))
    });
    store.expect_revoke_family().times(1).returning(|_| Ok(()));
    store.expect_revoke_access().times(1).returning(|_| Ok(()));
    let cached = CachedTokens::new(store);
    block_on(cached.find_access(&in_family.jti)).unwrap();
    block_on(cached.find_access(&other.jti)).unwrap();

    block_on(cached.revoke_family(&family)).unwrap();
    assert!(
        cached.live.get(&in_family.jti).is_err(),
        "the family's token is gone"
    );
    assert!(cached.live.get(&other.jti).is_ok(), "another token stays");
    block_on(cached.revoke_access(&other.jti)).unwrap();
    assert!(cached.live.get(&other.jti).is_err());
}

#[test]
fn an_answer_read_before_an_invalidation_is_not_stored() {
    let cache: FreshFor<&str, bool> = FreshFor::new(REVALIDATE_AFTER);
    let Err(asked_in) = cache.get(&"ada") else {
        panic!("nothing cached yet");
    };
    // A revocation commits while the lookup is on its way back.
    cache.invalidate(&"ada");
    cache.insert("ada", true, asked_in);
    assert!(cache.get(&"ada").is_err());
}

#[test]
fn membership_is_cached_only_when_it_holds_and_removal_evicts_it() {
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    let mut rooms = MockRoomRepository::new();
    let member = ada.clone();
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    rooms.expect_is_member().returning(move |_, user| {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(*user == member)
    });
    rooms
        .expect_remove_member()
        .times(1)
        .returning(|_, _| Ok(true));
    let cached = CachedMembership::new(rooms);
    let lookups = || asked.load(std::sync::atomic::Ordering::SeqCst);

    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert_eq!(lookups(), 1, "a member is remembered");
    assert!(!block_on(cached.is_member(&room, &bob)).unwrap());
    assert!(!block_on(cached.is_member(&room, &bob)).unwrap());
    assert_eq!(lookups(), 3, "a non-member is asked about every time");

    block_on(cached.remove_member(&room, &ada)).unwrap();
    block_on(cached.is_member(&room, &ada)).unwrap();
    assert_eq!(lookups(), 4, "a removed member is asked about again");
}
