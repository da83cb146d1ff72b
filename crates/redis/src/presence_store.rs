//! Presence as Redis holds it. Each entry is scored by when it expires (Redis server
//! time, in ms), so a silent instance's entries stop counting by themselves:
//! - `presence:room:{room}`: `{user}|{instance}` of the sockets open to the room;
//! - `presence:user:{user}`: `{room}|{instance}` of the user's sockets;
//! - `presence:instance:{instance}`: `{room}|{user}`, what to remove when it dies;
//! - `presence:instances`: every instance with entries, scored like them.
//!
//! Keys also carry a TTL of twice the expiry, so nothing outlives its writers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::{Pipeline, RedisResult, Script};
use std::sync::Arc;
use tokio::time::timeout;
use whisper_domain::{RoomId, UserId};

use crate::keys::{Keys, pair, split_pair};
use crate::link::RedisLink;

/// Counts the distinct users among a room's live entries inside Redis, so a count costs
/// one small answer whatever the room's size.
const COUNT_DISTINCT: &str = r"
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
local seen, count = {}, 0
for _, entry in ipairs(entries) do
  local user = string.match(entry, '^[^|]*')
  if not seen[user] then seen[user] = true; count = count + 1 end
end
return count
";

/// What went wrong talking to Redis, for the logs.
pub(crate) type Trouble = String;

/// This instance's view of the presence keys.
pub(crate) struct PresenceStore {
    keys: Keys,
    instance: String,
    link: Arc<RedisLink>,
    limit: Duration,
    expiry_ms: i64,
    /// Redis's clock minus ours, measured at each heartbeat: every instance scores by the
    /// server's clock, whatever its own says.
    offset_ms: AtomicI64,
    count_distinct: Script,
}

impl PresenceStore {
    pub(crate) fn new(
        keys: Keys,
        instance: String,
        link: Arc<RedisLink>,
        limit: Duration,
        expiry: Duration,
    ) -> Self {
        Self {
            keys,
            instance,
            link,
            limit,
            expiry_ms: i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX),
            offset_ms: AtomicI64::new(0),
            count_distinct: Script::new(COUNT_DISTINCT),
        }
    }

    /// Now by the server's clock, in ms.
    fn now_ms(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
            });
        local + self.offset_ms.load(Ordering::Relaxed)
    }

    async fn run<T: redis::FromRedisValue>(&self, pipe: &Pipeline) -> Result<T, Trouble> {
        let answer: RedisResult<T> =
            match timeout(self.limit, pipe.query_async(&mut self.link.commands())).await {
                Ok(answer) => answer,
                Err(_) => return Err("Redis did not answer in time".into()),
            };
        answer.map_err(|error| error.to_string())
    }

    /// Reads Redis's clock, so scores agree across instances.
    pub(crate) async fn sync_clock(&self) -> Result<(), Trouble> {
        let before = self.now_ms() - self.offset_ms.load(Ordering::Relaxed);
        let ((seconds, micros),): ((i64, i64),) = self.run(redis::pipe().cmd("TIME")).await?;
        let offset = seconds * 1_000 + micros / 1_000 - before;
        self.offset_ms.store(offset, Ordering::Relaxed);
        Ok(())
    }

    /// Adds (or refreshes) the entries of `entries`, one pipeline whatever their number.
    pub(crate) async fn register(&self, entries: &[(RoomId, UserId)]) -> Result<(), Trouble> {
        let expires = self.now_ms() + self.expiry_ms;
        let ttl = self.expiry_ms * 2;
        let instance_key = self.keys.presence_instance(&self.instance);
        let mut pipe = redis::pipe();
        for (room, user) in entries {
            let (room_key, user_key) =
                (self.keys.presence_room(room), self.keys.presence_user(user));
            pipe.zadd(&room_key, pair(user.as_str(), &self.instance), expires)
                .ignore();
            pipe.pexpire(&room_key, ttl).ignore();
            pipe.zadd(&user_key, pair(room.as_str(), &self.instance), expires)
                .ignore();
            pipe.pexpire(&user_key, ttl).ignore();
            pipe.sadd(&instance_key, pair(room.as_str(), user.as_str()))
                .ignore();
        }
        pipe.pexpire(&instance_key, ttl).ignore();
        let instances = self.keys.presence_instances();
        pipe.zadd(&instances, &self.instance, expires).ignore();
        pipe.pexpire(&instances, ttl).ignore();
        self.run(&pipe).await
    }

    /// Removes this instance's entry for `user` in `room`.
    pub(crate) async fn unregister(&self, room: &RoomId, user: &UserId) -> Result<(), Trouble> {
        let mut pipe = redis::pipe();
        pipe.zrem(
            self.keys.presence_room(room),
            pair(user.as_str(), &self.instance),
        )
        .ignore();
        pipe.zrem(
            self.keys.presence_user(user),
            pair(room.as_str(), &self.instance),
        )
        .ignore();
        pipe.srem(
            self.keys.presence_instance(&self.instance),
            pair(room.as_str(), user.as_str()),
        )
        .ignore();
        self.run(&pipe).await
    }

    /// How many distinct users have a live entry in `room`, on any instance.
    pub(crate) async fn members(&self, room: &RoomId) -> Result<usize, Trouble> {
        let mut invocation = self.count_distinct.key(self.keys.presence_room(room));
        invocation.arg(self.now_ms());
        let answer = timeout(
            self.limit,
            invocation.invoke_async(&mut self.link.commands()),
        )
        .await;
        match answer {
            Ok(answer) => answer.map_err(|error| error.to_string()),
            Err(_) => Err("Redis did not answer in time".into()),
        }
    }

    /// Whether `user` has a live entry anywhere.
    pub(crate) async fn is_online(&self, user: &UserId) -> Result<bool, Trouble> {
        let mut pipe = redis::pipe();
        pipe.zcount(self.keys.presence_user(user), self.now_ms(), "+inf");
        let (live,): (u64,) = self.run(&pipe).await?;
        Ok(live > 0)
    }

    /// Removes the entries of instances whose entries all expired (dead or cut off),
    /// each claimed by one sweeper; returns the rooms and users they touched.
    pub(crate) async fn sweep(&self) -> Result<(Vec<RoomId>, Vec<UserId>), Trouble> {
        let instances = self.keys.presence_instances();
        let mut pipe = redis::pipe();
        pipe.zrangebyscore(&instances, "-inf", self.now_ms());
        let (dead,): (Vec<String>,) = self.run(&pipe).await?;
        let (mut rooms, mut users) = (HashSet::new(), HashSet::new());
        for instance in dead.into_iter().filter(|dead| *dead != self.instance) {
            // ZREM answers 1 to one sweeper only: the others leave this instance alone.
            let mut claim = redis::pipe();
            claim.zrem(&instances, &instance);
            claim.smembers(self.keys.presence_instance(&instance));
            let (claimed, entries): (u32, Vec<String>) = self.run(&claim).await?;
            if claimed == 0 {
                continue;
            }
            let mut removal = redis::pipe();
            for (room, user) in entries.iter().filter_map(|entry| split_pair(entry)) {
                let (Ok(room), Ok(user)) = (RoomId::parse(room), UserId::parse(user)) else {
                    continue;
                };
                removal
                    .zrem(
                        self.keys.presence_room(&room),
                        pair(user.as_str(), &instance),
                    )
                    .ignore();
                removal
                    .zrem(
                        self.keys.presence_user(&user),
                        pair(room.as_str(), &instance),
                    )
                    .ignore();
                rooms.insert(room);
                users.insert(user);
            }
            removal.del(self.keys.presence_instance(&instance)).ignore();
            self.run::<()>(&removal).await?;
        }
        Ok((rooms.into_iter().collect(), users.into_iter().collect()))
    }
}
