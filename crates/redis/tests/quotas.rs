//! Request budgets shared by instances, and kept per instance while Redis is away.
#![allow(clippy::unwrap_used)]

mod support;

use support::server::RedisServer;
use support::{SHARED_REDIS, link_up, unique_prefix, until};
use whisper_domain::DomainError;
use whisper_domain::ports::{Budget, Quotas};
use whisper_redis::RedisQuotas;

#[tokio::test]
async fn two_instances_share_one_budget_and_refuse_past_it() {
    let prefix = unique_prefix();
    let here = RedisQuotas::new(link_up(SHARED_REDIS, &prefix).await);
    let there = RedisQuotas::new(link_up(SHARED_REDIS, &prefix).await);
    for n in 0_u32..6 {
        let quotas = if n.is_multiple_of(2) { &here } else { &there };
        assert_eq!(
            quotas.take("messages", "ada", Budget::per_minute(6)).await,
            Ok(()),
            "request {n} is within budget"
        );
    }
    for quotas in [&here, &there] {
        assert!(matches!(
            quotas.take("messages", "ada", Budget::per_minute(6)).await,
            Err(DomainError::RateLimited { retry_after_secs }) if (1..=10).contains(&retry_after_secs)
        ));
    }
    assert_eq!(
        here.take("messages", "bob", Budget::per_minute(6)).await,
        Ok(()),
        "bob has his own budget"
    );
    assert_eq!(
        here.take("anonymous", "ada", Budget::per_minute(6)).await,
        Ok(()),
        "each scope has its own"
    );
}

#[tokio::test]
async fn budgets_still_hold_per_instance_while_redis_is_down() {
    let server = RedisServer::start().await;
    let link = link_up(&server.url(), &unique_prefix()).await;
    let quotas = RedisQuotas::new(link.clone());
    let _ = server.kill().await;
    until(|| !link.is_up(), "the link notices Redis is gone").await;
    for _ in 0..3 {
        assert_eq!(
            quotas.take("messages", "ada", Budget::per_minute(3)).await,
            Ok(())
        );
    }
    assert!(matches!(
        quotas.take("messages", "ada", Budget::per_minute(3)).await,
        Err(DomainError::RateLimited { .. })
    ));
}
