//! Short-lived caches in front of the two lookups every authenticated read repeats: the
//! access-token record and room membership. Each cache wraps the one repository this
//! process writes through, so a revocation or removal made here takes effect here at once;
//! one made by another instance is honoured within [`REVALIDATE_AFTER`], or at once when
//! its announcement arrives (`forget`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;

use crate::clock::Clock;
use crate::error::DomainResult;
use crate::id::{RoomId, TokenFamilyId, TokenId, UserId};
use crate::ports::{RoomRepository, TokenStore};
use crate::room::Room;
use crate::session::SessionEnded;
use crate::tokens::{AccessTokenRecord, RefreshFamily};

/// How long a cached answer is trusted before the repository is asked again: another
/// instance's revocation or removal is honoured within 2 s.
pub const REVALIDATE_AFTER: TimeDelta = TimeDelta::seconds(2);
/// Entries kept at most; beyond it, stale ones go, then everything.
const CAPACITY: usize = 100_000;

/// Answers remembered for [`REVALIDATE_AFTER`]. Writers invalidate after their change
/// commits; every invalidation starts a new generation, and an answer read during an older
/// one is not stored, so a lookup racing a revocation cannot put the revoked answer back.
struct FreshFor<K, V> {
    state: Mutex<Entries<K, V>>,
    clock: Arc<dyn Clock>,
}

struct Entries<K, V> {
    map: HashMap<K, (V, DateTime<Utc>)>,
    generation: u64,
}

/// Whether an answer stored at `stored` may still be given at `now`. A clock that went
/// back makes it stale rather than fresh for longer.
fn is_fresh(stored: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    stored <= now && now - stored < REVALIDATE_AFTER
}

impl<K: Eq + Hash, V: Clone> FreshFor<K, V> {
    fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
            clock,
        }
    }

    /// The fresh answer for `key`, or the generation to pass to `insert` after asking.
    fn get(&self, key: &K) -> Result<V, u64> {
        let now = self.clock.now();
        let state = self.state.lock();
        match state.map.get(key) {
            Some((value, stored)) if is_fresh(*stored, now) => Ok(value.clone()),
            _ => Err(state.generation),
        }
    }

    fn insert(&self, key: K, value: V, asked_in: u64) {
        let now = self.clock.now();
        let mut state = self.state.lock();
        if state.generation != asked_in {
            return;
        }
        if state.map.len() >= CAPACITY {
            state.map.retain(|_, (_, stored)| is_fresh(*stored, now));
            if state.map.len() >= CAPACITY {
                state.map.clear();
            }
        }
        state.map.insert(key, (value, now));
    }

    fn invalidate(&self, key: &K) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.map.remove(key);
    }

    fn invalidate_where(&self, mut stale: impl FnMut(&K, &V) -> bool) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.map.retain(|key, (value, _)| !stale(key, value));
    }
}

/// A token store whose live access-token records are cached. Revocations through it
/// evict at once; expiry is still checked on every use from the record itself.
pub struct CachedTokens<T> {
    inner: T,
    live: FreshFor<TokenId, AccessTokenRecord>,
}

impl<T> CachedTokens<T> {
    /// Caches `inner`'s access-token records for [`REVALIDATE_AFTER`] of `clock`'s time.
    pub fn new(inner: T, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            live: FreshFor::new(clock),
        }
    }

    /// Forgets the records of a session another instance ended, so it is refused here at
    /// once rather than within [`REVALIDATE_AFTER`].
    pub fn forget(&self, ended: &SessionEnded) {
        self.live.invalidate_where(|jti, record| {
            ended.access.as_ref() == Some(jti)
                || (ended.family.is_some() && record.family_id == ended.family)
        });
    }
}

#[async_trait]
impl<T: TokenStore> TokenStore for CachedTokens<T> {
    async fn record_access(&self, token: &AccessTokenRecord) -> DomainResult<()> {
        self.inner.record_access(token).await
    }

    async fn find_access(&self, jti: &TokenId) -> DomainResult<Option<AccessTokenRecord>> {
        let asked_in = match self.live.get(jti) {
            Ok(record) => return Ok(Some(record)),
            Err(generation) => generation,
        };
        let record = self.inner.find_access(jti).await?;
        // Only live records: a revoked or unknown token is asked about afresh each time.
        if let Some(record) = record.as_ref().filter(|record| !record.revoked) {
            self.live.insert(jti.clone(), record.clone(), asked_in);
        }
        Ok(record)
    }

    async fn revoke_access(&self, jti: &TokenId) -> DomainResult<()> {
        let revoked = self.inner.revoke_access(jti).await;
        self.live.invalidate(jti);
        revoked
    }

    async fn start_family(&self, family: &RefreshFamily) -> DomainResult<()> {
        self.inner.start_family(family).await
    }

    async fn find_family(&self, id: &TokenFamilyId) -> DomainResult<Option<RefreshFamily>> {
        self.inner.find_family(id).await
    }

    async fn rotate(&self, id: &TokenFamilyId, from: &TokenId, to: &TokenId) -> DomainResult<bool> {
        self.inner.rotate(id, from, to).await
    }

    async fn revoke_family(&self, id: &TokenFamilyId) -> DomainResult<()> {
        let of_family =
            |_: &TokenId, record: &AccessTokenRecord| record.family_id.as_ref() == Some(id);
        let revoked = self.inner.revoke_family(id).await;
        self.live.invalidate_where(of_family);
        revoked
    }
}

/// A room repository that remembers who is a member. Only "yes" is cached, so someone just
/// added is never turned away; a removal through it evicts at once.
pub struct CachedMembership<R> {
    inner: R,
    members: FreshFor<(RoomId, UserId), ()>,
}

impl<R> CachedMembership<R> {
    /// Caches `inner`'s membership answers for [`REVALIDATE_AFTER`] of `clock`'s time.
    pub fn new(inner: R, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            members: FreshFor::new(clock),
        }
    }

    /// Forgets that `user` belongs to `room`: another instance removed them.
    pub fn forget(&self, room: &RoomId, user: &UserId) {
        self.members.invalidate(&(room.clone(), user.clone()));
    }
}

#[async_trait]
impl<R: RoomRepository> RoomRepository for CachedMembership<R> {
    async fn create(&self, room: &Room) -> DomainResult<()> {
        self.inner.create(room).await
    }

    async fn find(&self, id: &RoomId) -> DomainResult<Option<Room>> {
        self.inner.find(id).await
    }

    async fn list_for_member(&self, user: &UserId) -> DomainResult<Vec<Room>> {
        self.inner.list_for_member(user).await
    }

    async fn add_members(&self, room: &RoomId, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        self.inner.add_members(room, users).await
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool> {
        let key = (room.clone(), user.clone());
        let removed = self.inner.remove_member(room, user).await;
        self.members.invalidate(&key);
        removed
    }

    async fn is_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool> {
        let key = (room.clone(), user.clone());
        let asked_in = match self.members.get(&key) {
            Ok(()) => return Ok(true),
            Err(generation) => generation,
        };
        let member = self.inner.is_member(room, user).await?;
        if member {
            self.members.insert(key, (), asked_in);
        }
        Ok(member)
    }
}

#[cfg(test)]
#[path = "caching_tests.rs"]
mod tests;
