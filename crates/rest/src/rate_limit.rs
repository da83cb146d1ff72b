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

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Buckets<K> {
    per_minute: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

/// Past this many callers, idle (full) buckets are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl<K: std::hash::Hash + Eq> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: K, now: Instant) -> Result<(), DomainError> {
        let rate_per_sec = self.per_minute / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| DomainError::internal("rate limiter lock poisoned"))?;
        if buckets.len() > PRUNE_ABOVE {
            let capacity = self.per_minute;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate_per_sec < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * rate_per_sec;
        bucket.tokens = (bucket.tokens + refill).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / rate_per_sec);
        Err(DomainError::RateLimited {
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
