//! Request budgets shared by every instance: one token bucket per (scope, caller) in
//! Redis, taken atomically by a script on the server's clock. While Redis cannot be
//! reached each instance keeps its own buckets, so limits still hold, per instance.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;
use redis::Script;
use tokio::time::{Instant, timeout};
use whisper_domain::ports::{Budget, Quotas};
use whisper_domain::{DomainError, DomainResult};

use crate::link::RedisLink;

/// Takes one token: ARGV[1] is the burst, ARGV[2] the tokens regained a second. Returns
/// {1, 0} when taken, {0, ms until a token is back} when spent. The key expires once a
/// full bucket would be back, so idle callers cost nothing.
const TAKE: &str = r"
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / 1000
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local taken, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(capacity / per_ms)))
return {taken, wait_ms}
";

/// The slowest refill there is, in tokens a second (one a year).
const MIN_RATE: f64 = 1.0 / 31_536_000.0;

/// Buckets beyond which full ones are forgotten, so callers seen once cost nothing.
const LOCAL_BUCKETS: usize = 10_000;

/// Budgets kept in Redis, falling back to this instance's memory while it is down.
pub struct RedisQuotas {
    link: Arc<RedisLink>,
    take: Script,
    local: Mutex<HashMap<(String, String), (f64, Instant)>>,
    /// Whether the fallback is in use, so it is logged once per outage.
    falling_back: AtomicBool,
}

impl RedisQuotas {
    /// Budgets over `link`.
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self {
            link,
            take: Script::new(TAKE),
            local: Mutex::default(),
            falling_back: AtomicBool::new(false),
        }
    }

    /// Ms until a token is back (0 when one was taken), from Redis.
    async fn take_shared(&self, scope: &str, caller: &str, budget: Budget) -> Result<u64, String> {
        let mut invocation = self.take.key(self.link.keys().quota(scope, caller));
        invocation.arg(budget.burst).arg(budget.per_second);
        let mut connection = self.link.commands();
        let answer = timeout(
            self.link.command_timeout(),
            invocation.invoke_async(&mut connection),
        );
        match answer.await {
            Ok(Ok((1_u8, _))) => Ok(0),
            Ok(Ok((_, wait_ms))) => Ok(wait_ms),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("Redis did not answer in time".into()),
        }
    }

    /// Ms until a token is back (0 when one was taken), from this instance's memory.
    fn take_local(&self, scope: &str, caller: &str, budget: Budget) -> u64 {
        let capacity = f64::from(budget.burst);
        let per_ms = budget.per_second / 1_000.0;
        let now = Instant::now();
        let mut buckets = self.local.lock();
        if buckets.len() >= LOCAL_BUCKETS {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * 1_000.0 * per_ms < capacity
            });
        }
        let (tokens, at) = buckets
            .entry((scope.to_owned(), caller.to_owned()))
            .or_insert((capacity, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * 1_000.0 * per_ms).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            0
        } else {
            // Saturates for a rate near zero: the caller waits as long as can be said.
            ((1.0 - *tokens) / per_ms).ceil() as u64
        }
    }
}

impl std::fmt::Debug for RedisQuotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQuotas").finish_non_exhaustive()
    }
}

#[async_trait]
impl Quotas for RedisQuotas {
    async fn take(&self, scope: &str, caller: &str, budget: Budget) -> DomainResult<()> {
        // A budget that lets nothing through needs no Redis.
        if budget.burst == 0 {
            return Err(DomainError::RateLimited {
                retry_after_secs: 60,
            });
        }
        // A rate of zero (or nonsense) would divide by zero: it becomes one a year.
        let budget = Budget {
            per_second: budget.per_second.max(MIN_RATE),
            ..budget
        };
        let shared = if self.link.is_up() {
            self.take_shared(scope, caller, budget).await
        } else {
            Err("the link to Redis is down".to_owned())
        };
        let wait_ms = match shared {
            Ok(wait_ms) => {
                if self.falling_back.swap(false, Ordering::Relaxed) {
                    tracing::info!("request budgets are shared through Redis again");
                }
                wait_ms
            }
            Err(trouble) => {
                if !self.falling_back.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%trouble, "request budgets fall back to this instance's memory");
                }
                self.take_local(scope, caller, budget)
            }
        };
        if wait_ms == 0 {
            Ok(())
        } else {
            Err(DomainError::RateLimited {
                retry_after_secs: wait_ms.div_ceil(1_000),
            })
        }
    }
}
