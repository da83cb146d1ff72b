//! Request rate limits: per client IP for anonymous calls, per account for authenticated
//! ones. Token buckets refilled continuously, so a burst is allowed and then a steady rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use whisper_domain::DomainError;

use crate::errors::ApiError;

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

/// The limiters of one server process.
pub struct RateLimits {
    enabled: bool,
    anonymous: Buckets<IpAddr>,
    users: Buckets<String>,
}

impl RateLimits {
    /// Limiters with `settings`.
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            enabled: settings.enabled,
            anonymous: Buckets::new(settings.anonymous_per_minute),
            users: Buckets::new(settings.user_per_minute),
        }
    }

    /// Counts an anonymous request from `ip`; `RateLimited` when over the limit.
    pub fn check_anonymous(&self, ip: IpAddr) -> Result<(), DomainError> {
        if !self.enabled {
            return Ok(());
        }
        self.anonymous.take(ip, Instant::now())
    }

    /// Counts a request by account `user`; `RateLimited` when over the limit.
    pub fn check_user(&self, user: &str) -> Result<(), DomainError> {
        if !self.enabled {
            return Ok(());
        }
        self.users.take(user.to_owned(), Instant::now())
    }
}

/// A token bucket: a burst of `capacity`, refilled continuously at `per_second`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(capacity: u32, per_second: f64, now: Instant) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            capacity,
            per_second,
            tokens: capacity,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// Takes one token at `now`, or says how long until one is there.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
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
    fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * self.per_second >= self.capacity
    }
}

struct Buckets<K> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Past this many callers, idle (full) buckets are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl<K: std::hash::Hash + Eq> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: K, now: Instant) -> Result<(), DomainError> {
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| DomainError::internal("rate limiter lock poisoned"))?;
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
}

/// The client's address: the peer, or behind a proxy on this machine the address that
/// proxy appended to `X-Forwarded-For` (a remote client cannot forge that one).
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    if peer.is_loopback()
        && let Some(forwarded) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok())
    {
        return Some(forwarded);
    }
    Some(peer)
}

/// An anonymous caller within the per-IP rate limit. Taking it as a handler argument is
/// what subjects an endpoint to that limit.
pub struct AnonymousCaller;

impl FromRequest for AnonymousCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = match (
            request.app_data::<web::Data<RateLimits>>(),
            client_ip(request),
        ) {
            (Some(limits), Some(ip)) => limits.check_anonymous(ip).map_err(ApiError::from),
            _ => Ok(()),
        };
        std::future::ready(outcome.map(|()| Self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_the_wait() {
        let buckets = Buckets::new(60);
        let start = Instant::now();
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
        let buckets = Buckets::new(6);
        let start = Instant::now();
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
        let start = Instant::now();
        let mut bucket = TokenBucket::new(40, 20.0, start);
        assert_eq!((0..40).filter(|_| bucket.take(start).is_ok()).count(), 40);
        assert!(bucket.take(start).is_err());
        assert!(bucket.take(start + Duration::from_millis(50)).is_ok());
        assert!(bucket.take(start + Duration::from_millis(50)).is_err());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = RateLimits::new(RateLimitSettings {
            enabled: false,
            anonymous_per_minute: 1,
            user_per_minute: 1,
        });
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(limits.check_anonymous(ip).is_ok());
            assert!(limits.check_user("u").is_ok());
        }
    }
}
