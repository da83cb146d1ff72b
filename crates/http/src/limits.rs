//! Request rate limits without a web framework: token buckets refilled continuously (a
//! burst is allowed, then a steady rate), one bucket per caller, and the limits of a server
//! process. Time is passed in, or read from the domain's [`Clock`], so tests drive it.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use whisper_domain::DomainError;
use whisper_domain::ports::{Budget, Clock, Quotas};

/// The budget scope of anonymous requests, by client IP.
const ANONYMOUS: &str = "anonymous";
/// The budget scope of authenticated requests, by account.
const ACCOUNT: &str = "account";

/// How many requests a caller may make per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Whether limits apply at all (`WHISPER_RATE_LIMITS=off` turns them off).
    pub enabled: bool,
    /// Requests per minute per client IP for anonymous endpoints.
    pub anonymous_per_minute: u32,
    /// Requests per minute per account for authenticated endpoints.
    pub user_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            anonymous_per_minute: 50,
            user_per_minute: 100,
        }
    }
}

/// The request limits: buckets of this process, or budgets shared by every instance.
pub struct RateLimits {
    enabled: bool,
    anonymous: KeyedBuckets<IpAddr>,
    users: KeyedBuckets<String>,
    clock: Arc<dyn Clock>,
    settings: RateLimitSettings,
    shared: Option<Arc<dyn Quotas>>,
}

impl RateLimits {
    /// Limiters with `settings`, refilled as `clock` tells the time.
    pub fn new(settings: RateLimitSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            enabled: settings.enabled,
            anonymous: KeyedBuckets::new(settings.anonymous_per_minute),
            users: KeyedBuckets::new(settings.user_per_minute),
            clock,
            settings,
            shared: None,
        }
    }

    /// The same limits counted in `quotas`, shared by every instance, instead of here.
    pub fn shared(mut self, quotas: Arc<dyn Quotas>) -> Self {
        self.shared = Some(quotas);
        self
    }

    /// Counts an anonymous request from `ip`; `RateLimited` when over the limit.
    pub async fn check_anonymous(&self, ip: IpAddr) -> Result<(), DomainError> {
        if !self.enabled {
            return Ok(());
        }
        match &self.shared {
            Some(quotas) => {
                let budget = Budget::per_minute(self.settings.anonymous_per_minute.max(1));
                quotas.take(ANONYMOUS, &ip.to_string(), budget).await
            }
            None => self.anonymous.take(ip, self.clock.now()),
        }
    }

    /// Counts a request by account `user`; `RateLimited` when over the limit.
    pub async fn check_user(&self, user: &str) -> Result<(), DomainError> {
        if !self.enabled {
            return Ok(());
        }
        match &self.shared {
            Some(quotas) => {
                let budget = Budget::per_minute(self.settings.user_per_minute.max(1));
                quotas.take(ACCOUNT, user, budget).await
            }
            None => self.users.take(user.to_owned(), self.clock.now()),
        }
    }
}

/// A token bucket: a burst of `capacity`, refilled continuously at `per_second`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: DateTime<Utc>,
}

/// The time from `earlier` to `later`; none when the clock went back.
fn elapsed(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
    (later - earlier)
        .to_std()
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(capacity: u32, per_second: f64, now: DateTime<Utc>) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            capacity,
            per_second,
            tokens: capacity,
            updated: now,
        }
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        self.tokens =
            (self.tokens + elapsed(self.updated, now) * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// Takes one token at `now`, or says how long until one is there.
    pub fn take(&mut self, now: DateTime<Utc>) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }

    /// Whether the bucket would be full at `now` (an idle caller).
    fn is_full_at(&self, now: DateTime<Utc>) -> bool {
        self.tokens + elapsed(self.updated, now) * self.per_second >= self.capacity
    }
}

/// One bucket per caller, each allowing `per_minute` requests a minute.
struct KeyedBuckets<K> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Past this many callers, idle (full) buckets are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl<K: Hash + Eq> KeyedBuckets<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: K, now: DateTime<Utc>) -> Result<(), DomainError> {
        let mut buckets = self.buckets.lock();
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, bucket| !bucket.is_full_at(now));
        }
        let per_minute = self.per_minute;
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(per_minute, f64::from(per_minute) / 60.0, now))
            .take(now)
            .map_err(|wait| DomainError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use futures_executor::block_on;

    use super::*;

    /// A clock that moves only when the test says so.
    struct FakeClock(Mutex<DateTime<Utc>>);

    impl FakeClock {
        fn advance(&self, by: Duration) {
            *self.0.lock() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock()
        }
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_the_wait() {
        let buckets = KeyedBuckets::new(60);
        let start = start();
        for _ in 0..60 {
            assert!(buckets.take("ip", start).is_ok());
        }
        assert_eq!(
            buckets.take("ip", start),
            Err(DomainError::RateLimited {
                retry_after_secs: 1
            })
        );
        // Another caller is unaffected, and a second later one more request fits.
        assert!(buckets.take("other", start).is_ok());
        assert!(buckets.take("ip", start + Duration::from_secs(1)).is_ok());
        assert!(buckets.take("ip", start + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn the_wait_reflects_the_rate() {
        let buckets = KeyedBuckets::new(6);
        let start = start();
        for _ in 0..6 {
            assert!(buckets.take(1, start).is_ok());
        }
        assert_eq!(
            buckets.take(1, start),
            Err(DomainError::RateLimited {
                retry_after_secs: 10
            })
        );
    }

    #[test]
    fn a_per_second_bucket_allows_its_burst_then_the_rate() {
        let start = start();
        let mut bucket = TokenBucket::new(40, 20.0, start);
        assert_eq!((0..40).filter(|_| bucket.take(start).is_ok()).count(), 40);
        assert!(bucket.take(start).is_err());
        assert!(bucket.take(start + Duration::from_millis(50)).is_ok());
        assert!(bucket.take(start + Duration::from_millis(50)).is_err());
    }

    #[test]
    fn a_clock_going_back_refills_nothing() {
        let start = start();
        let mut bucket = TokenBucket::new(1, 1.0, start);
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start - Duration::from_secs(3600)).is_err());
        // Measured from the earlier time now: one second after it, one token is back.
        assert!(bucket.take(start - Duration::from_secs(3599)).is_ok());
    }

    #[test]
    fn idle_callers_are_forgotten_once_there_are_many() {
        let buckets = KeyedBuckets::new(60);
        let start = start();
        for caller in 0..=PRUNE_ABOVE {
            assert!(buckets.take(caller, start).is_ok());
        }
        assert_eq!(buckets.len(), PRUNE_ABOVE + 1);
        // A minute later every bucket is full again: the next request prunes them.
        assert!(
            buckets
                .take(usize::MAX, start + Duration::from_secs(60))
                .is_ok()
        );
        assert_eq!(buckets.len(), 1);
    }

    #[test]
    fn the_limits_refill_as_the_clock_moves() {
        let clock = Arc::new(FakeClock(Mutex::new(start())));
        let limits = RateLimits::new(
            RateLimitSettings {
                enabled: true,
                anonymous_per_minute: 2,
                user_per_minute: 1,
            },
            clock.clone(),
        );
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert!(block_on(limits.check_anonymous(ip)).is_ok());
        assert!(block_on(limits.check_anonymous(ip)).is_ok());
        assert_eq!(
            block_on(limits.check_anonymous(ip)),
            Err(DomainError::RateLimited {
                retry_after_secs: 30
            })
        );
        assert!(block_on(limits.check_user("ada")).is_ok());
        assert_eq!(
            block_on(limits.check_user("ada")),
            Err(DomainError::RateLimited {
                retry_after_secs: 60
            })
        );

        clock.advance(Duration::from_secs(30));
        assert!(block_on(limits.check_anonymous(ip)).is_ok());
        assert!(block_on(limits.check_anonymous(ip)).is_err());
        assert_eq!(
            block_on(limits.check_user("ada")),
            Err(DomainError::RateLimited {
                retry_after_secs: 30
            })
        );
        clock.advance(Duration::from_secs(30));
        assert!(block_on(limits.check_user("ada")).is_ok());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = RateLimits::new(
            RateLimitSettings {
                enabled: false,
                anonymous_per_minute: 1,
                user_per_minute: 1,
            },
            Arc::new(FakeClock(Mutex::new(start()))),
        );
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(block_on(limits.check_anonymous(ip)).is_ok());
            assert!(block_on(limits.check_user("u")).is_ok());
        }
    }

    #[test]
    fn shared_limits_are_counted_in_the_quotas_of_every_instance() {
        let mut quotas = whisper_domain::ports::MockQuotas::new();
        quotas
            .expect_take()
            .withf(|scope, caller, budget| {
                scope == "anonymous" && caller == "127.0.0.1" && *budget == Budget::per_minute(2)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        quotas
            .expect_take()
            .withf(|scope, caller, budget| {
                scope == "account" && caller == "ada" && *budget == Budget::per_minute(1)
            })
            .times(1)
            .returning(|_, _, _| {
                Err(DomainError::RateLimited {
                    retry_after_secs: 7,
                })
            });
        let limits = RateLimits::new(
            RateLimitSettings {
                enabled: true,
                anonymous_per_minute: 2,
                user_per_minute: 1,
            },
            Arc::new(FakeClock(Mutex::new(start()))),
        )
        .shared(Arc::new(quotas));
        assert!(block_on(limits.check_anonymous([127, 0, 0, 1].into())).is_ok());
        assert_eq!(
            block_on(limits.check_user("ada")),
            Err(DomainError::RateLimited {
                retry_after_secs: 7
            })
        );
    }
}
