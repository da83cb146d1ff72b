//! Rate limits shared by every instance (API.md, "Several instances"): a client that
//! spreads its requests over instances gets no more than one instance would give it.

use reqwest::StatusCode;
use serde_json::Value;
use whisper_e2e::accounts::fresh_client;
use whisper_http::routes;

use crate::harness::{Cluster, SHARED_REDIS_URL};

/// The per-IP budget of anonymous requests (API.md: 50 per minute, as a burst).
const ANONYMOUS_BUDGET: usize = 50;

#[tokio::test]
async fn anonymous_requests_alternating_over_instances_share_one_budget() {
    let cluster =
        Cluster::start_with(2, Some(SHARED_REDIS_URL), &[("WHISPER_RATE_LIMITS", "on")]).await;
    // `GET totp/verify/` is anonymous (it takes an `AnonymousCaller`) and answers 200.
    // Each instance is sent one request fewer than the budget: alone, neither would refuse.
    let per_instance = ANONYMOUS_BUDGET - 1;
    let client = fresh_client();
    let mut answered = vec![0usize; cluster.len()];
    let mut refused = Vec::new();
    for n in 0..per_instance * cluster.len() {
        let index = n % cluster.len();
        let url = format!("{}{}", cluster.url(index), routes::TOTP_VERIFY);
        let response = client.get(url).send().await.unwrap();
        answered[index] += 1;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "rate_limited", "{body}");
                refused.push(index);
            }
            other => panic!("request {n} on instance {index} answered {other}"),
        }
    }
    for (index, count) in answered.iter().enumerate() {
        assert!(
            *count < ANONYMOUS_BUDGET,
            "instance {index} alone answered {count} requests"
        );
    }
    // The budget refills at 50 a minute, far slower than these requests are sent: the
    // shared bucket runs dry whatever the timing.
    assert!(
        !refused.is_empty(),
        "{} requests over two instances and none was refused",
        per_instance * cluster.len()
    );
    // Both instances refuse once the shared budget is spent, not just one of them.
    for index in 0..cluster.len() {
        assert!(
            refused.contains(&index),
            "instance {index} never refused: refusals came from {refused:?}"
        );
    }
}
