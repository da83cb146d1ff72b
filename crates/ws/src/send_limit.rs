//! How fast a member may send: per connection on one instance, per member on all of them
//! together when budgets are shared between instances.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use whisper_domain::ports::{Budget, Quotas};
use whisper_domain::{DomainError, UserId};
use whisper_http::limits::TokenBucket;

/// The budget scope of a member's messages.
const SENDS: &str = "sends";

/// A connection's send limit.
pub enum SendLimit {
    /// Sends are not limited.
    Off,
    /// This connection's own bucket.
    Local(TokenBucket),
    /// The member's budget, shared by every instance.
    Shared {
        /// Where the budgets are kept.
        quotas: Arc<dyn Quotas>,
        /// The member's budget.
        budget: Budget,
    },
}

impl SendLimit {
    /// The limit of `rate` (sends per second after a burst), kept in `quotas` when given.
    pub fn new(
        rate: Option<(u32, u32)>,
        quotas: Option<Arc<dyn Quotas>>,
        now: DateTime<Utc>,
    ) -> Self {
        let Some((per_second, burst)) = rate else {
            return Self::Off;
        };
        let per_second = f64::from(per_second.max(1));
        match quotas {
            Some(quotas) => Self::Shared {
                quotas,
                budget: Budget { burst, per_second },
            },
            None => Self::Local(TokenBucket::new(burst, per_second, now)),
        }
    }

    /// Whether `sender` may send one more message now.
    pub async fn allow(&mut self, sender: &UserId, now: DateTime<Utc>) -> bool {
        match self {
            Self::Off => true,
            Self::Local(bucket) => bucket.take(now).is_ok(),
            Self::Shared { quotas, budget } => {
                match quotas.take(SENDS, sender.as_str(), *budget).await {
                    Err(DomainError::RateLimited { .. }) => false,
                    // The budgets being out of reach is no reason to refuse a member.
                    Ok(()) | Err(_) => true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_executor::block_on;
    use whisper_domain::ports::MockQuotas;

    use super::*;

    #[test]
    fn a_shared_limit_counts_the_member_in_the_shared_budget() {
        let ada = UserId::generate();
        let expected = ada.clone();
        let mut quotas = MockQuotas::new();
        let mut calls = 0;
        quotas
            .expect_take()
            .withf(move |scope, caller, budget| {
                scope == SENDS
                    && caller == expected.as_str()
                    && *budget
                        == Budget {
                            burst: 40,
                            per_second: 20.0,
                        }
            })
            .times(3)
            .returning(move |_, _, _| {
                calls += 1;
                match calls {
                    1 => Ok(()),
                    2 => Err(DomainError::RateLimited {
                        retry_after_secs: 1,
                    }),
                    _ => Err(DomainError::internal("redis went away")),
                }
            });
        let now = Utc::now();
        let mut limit = SendLimit::new(Some((20, 40)), Some(Arc::new(quotas)), now);
        assert!(block_on(limit.allow(&ada, now)));
        assert!(!block_on(limit.allow(&ada, now)), "the budget is spent");
        assert!(
            block_on(limit.allow(&ada, now)),
            "unreachable budgets refuse nobody"
        );
    }

    #[test]
    fn a_local_limit_allows_the_burst_then_refuses() {
        let now = Utc::now();
        let ada = UserId::generate();
        let mut limit = SendLimit::new(Some((1, 2)), None, now);
        assert!(block_on(limit.allow(&ada, now)));
        assert!(block_on(limit.allow(&ada, now)));
        assert!(!block_on(limit.allow(&ada, now)));
        let mut off = SendLimit::new(None, None, now);
        assert!((0..100).all(|_| block_on(off.allow(&ada, now))));
    }
}
