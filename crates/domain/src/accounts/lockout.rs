//! Locking out second-factor guessers.

use chrono::{DateTime, Duration, Utc};

/// After `max_failures` failed codes within `window`, checks are refused for `lock_for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that trigger a lock.
    pub max_failures: usize,
    /// The span within which those failures must fall.
    pub window: Duration,
    /// How long a lock lasts, from the failure that triggered it.
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            lock_for: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// How far back failures matter: a lock still running started at most `lock_for` ago,
    /// and the failures behind it lie at most `window` before that.
    pub fn lookback(&self) -> Duration {
        self.window + self.lock_for
    }

    /// Until when checks are locked at `now`, given failures sorted oldest first.
    pub fn locked_until(
        &self,
        failures: &[DateTime<Utc>],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if self.max_failures == 0 || failures.len() < self.max_failures {
            return None;
        }
        let span = self.max_failures - 1;
        (span..failures.len())
            .filter(|&last| failures[last] - failures[last - span] <= self.window)
            .map(|last| failures[last] + self.lock_for)
            .max()
            .filter(|&until| until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: DateTime<Utc>, minutes: &[i64]) -> Vec<DateTime<Utc>> {
        minutes
            .iter()
            .map(|m| base + Duration::minutes(*m))
            .collect()
    }

    #[test]
    fn four_failures_do_not_lock() {
        let base = Utc::now();
        let policy = LockoutPolicy::default();
        assert_eq!(
            policy.locked_until(&at(base, &[0, 1, 2, 3]), base + Duration::minutes(4)),
            None
        );
    }

    #[test]
    fn five_failures_within_the_window_lock_for_fifteen_minutes_from_the_fifth() {
        let base = Utc::now();
        let policy = LockoutPolicy::default();
        let failures = at(base, &[0, 1, 2, 3, 14]);
        let until = base + Duration::minutes(29);
        assert_eq!(
            policy.locked_until(&failures, base + Duration::minutes(14)),
            Some(until)
        );
        assert_eq!(
            policy.locked_until(&failures, base + Duration::minutes(28)),
            Some(until)
        );
    }

    #[test]
    fn the_lock_ends_by_itself() {
        let base = Utc::now();
        let policy = LockoutPolicy::default();
        let failures = at(base, &[0, 1, 2, 3, 4]);
        assert_eq!(
            policy.locked_until(&failures, base + Duration::minutes(19)),
            None
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let base = Utc::now();
        let policy = LockoutPolicy::default();
        let failures = at(base, &[0, 4, 8, 12, 16]);
        assert_eq!(
            policy.locked_until(&failures, base + Duration::minutes(16)),
            None
        );
    }
}
