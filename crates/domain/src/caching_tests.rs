use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use futures_executor::block_on;
use parking_lot::Mutex;

use super::{CachedMembership, CachedTokens, FreshFor, REVALIDATE_AFTER};
use crate::clock::Clock;
use crate::id::{RoomId, TokenFamilyId, UserId};
use crate::ports::{MockClock, MockRoomRepository, MockTokenStore, RoomRepository, TokenStore};
use crate::session::SessionEnded;
use crate::tokens::AccessTokenRecord;

/// A clock that moves only when the test says so.
#[derive(Clone)]
struct Time(Arc<Mutex<DateTime<Utc>>>);

impl Time {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Utc::now())))
    }

    fn clock(&self) -> Arc<dyn Clock> {
        let now = self.0.clone();
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || *now.lock());
        Arc::new(clock)
    }

    fn advance(&self, by: TimeDelta) {
        *self.0.lock() += by;
    }
}

/// A token store that answers `record` to exactly `times` lookups.
fn store_answering(record: &AccessTokenRecord, times: usize) -> MockTokenStore {
    let answer = record.clone();
    let mut store = MockTokenStore::new();
    store
        .expect_find_access()
        .times(times)
        .returning(move |_| Ok(Some(answer.clone())));
    store
}

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
    let time = Time::new();
    let cached = CachedTokens::new(store_answering(&live, 1), time.clock());
    for _ in 0..3 {
        assert_eq!(
            block_on(cached.find_access(&jti)).unwrap(),
            Some(live.clone())
        );
        time.advance(REVALIDATE_AFTER / 3);
    }
}

#[test]
fn revoked_unknown_and_stale_records_are_read_again() {
    let mut revoked = record(None);
    revoked.revoked = true;
    let jti = revoked.jti.clone();
    let time = Time::new();
    let cached = CachedTokens::new(store_answering(&revoked, 2), time.clock());
    block_on(cached.find_access(&jti)).unwrap();
    block_on(cached.find_access(&jti)).unwrap();

    let cached = CachedTokens::new(store_answering(&record(None), 2), time.clock());
    block_on(cached.find_access(&jti)).unwrap();
    // Another instance's revocation is honoured within REVALIDATE_AFTER.
    time.advance(REVALIDATE_AFTER);
    block_on(cached.find_access(&jti)).unwrap();
}

#[test]
fn an_answer_is_stale_when_the_clock_goes_back() {
    let time = Time::new();
    let cache: FreshFor<&str, bool> = FreshFor::new(time.clock());
    let Err(asked_in) = cache.get(&"ada") else {
        panic!("nothing cached yet");
    };
    cache.insert("ada", true, asked_in);
    time.advance(REVALIDATE_AFTER - TimeDelta::milliseconds(1));
    assert_eq!(cache.get(&"ada"), Ok(true), "fresh until the last moment");
    time.advance(-REVALIDATE_AFTER);
    assert!(cache.get(&"ada").is_err());
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
    let cached = CachedTokens::new(store, Time::new().clock());
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
    let cache: FreshFor<&str, bool> = FreshFor::new(Time::new().clock());
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
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    rooms.expect_is_member().returning(move |_, user| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(*user == member)
    });
    rooms
        .expect_remove_member()
        .times(1)
        .returning(|_, _| Ok(true));
    let time = Time::new();
    let cached = CachedMembership::new(rooms, time.clock());
    let lookups = || asked.load(Ordering::SeqCst);

    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert_eq!(lookups(), 1, "a member is remembered");
    assert!(!block_on(cached.is_member(&room, &bob)).unwrap());
    assert!(!block_on(cached.is_member(&room, &bob)).unwrap());
    assert_eq!(lookups(), 3, "a non-member is asked about every time");

    time.advance(REVALIDATE_AFTER);
    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert_eq!(lookups(), 4, "a membership is asked about again once stale");

    block_on(cached.remove_member(&room, &ada)).unwrap();
    block_on(cached.is_member(&room, &ada)).unwrap();
    assert_eq!(lookups(), 5, "a removed member is asked about again");
}

#[test]
fn a_session_ended_elsewhere_is_forgotten_at_once() {
    let family = TokenFamilyId::generate();
    let (by_jti, by_family, other) = (record(None), record(Some(family.clone())), record(None));
    let time = Time::new();
    let mut store = MockTokenStore::new();
    let records = [by_jti.clone(), by_family.clone(), other.clone()];
    store
        .expect_find_access()
        .returning(move |jti| Ok(records.iter().find(|r| &r.jti == jti).cloned()));
    let cached = CachedTokens::new(store, time.clock());
    for live in [&by_jti, &by_family, &other] {
        block_on(cached.find_access(&live.jti)).unwrap();
    }
    cached.forget(&SessionEnded {
        user: by_jti.user_id.clone(),
        access: Some(by_jti.jti.clone()),
        family: None,
    });
    cached.forget(&SessionEnded {
        user: by_family.user_id.clone(),
        access: None,
        family: Some(family),
    });
    let state = cached.live.state.lock();
    assert!(!state.map.contains_key(&by_jti.jti), "the logged-out token");
    assert!(
        !state.map.contains_key(&by_family.jti),
        "a token of the family"
    );
    assert!(
        state.map.contains_key(&other.jti),
        "another session stays cached"
    );
}

#[test]
fn a_removal_elsewhere_is_forgotten_at_once() {
    let (room, ada) = (RoomId::generate(), UserId::generate());
    let mut inner = MockRoomRepository::new();
    inner.expect_is_member().times(2).returning(|_, _| Ok(true));
    let cached = CachedMembership::new(inner, Time::new().clock());
    assert!(block_on(cached.is_member(&room, &ada)).unwrap());
    assert!(block_on(cached.is_member(&room, &ada)).unwrap(), "cached");
    cached.forget(&room, &ada);
    assert!(
        block_on(cached.is_member(&room, &ada)).unwrap(),
        "asked again"
    );
}
