//! `GET /metrics` (API.md, "Metrics"): the real binary scraped before and after a short
//! chat, the scrapes parsed as Prometheus text; served on its own listener only, and
//! nowhere when `WHISPER_METRICS_ADDR=off`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

#[allow(dead_code, unused_imports)] // the cluster tests use the rest of it
#[path = "cluster/harness/mod.rs"]
mod harness;
#[path = "metrics/listening.rs"]
mod listening;
#[path = "metrics/scrape.rs"]
mod scrape;

use reqwest::StatusCode;

use harness::{Cluster, PROMPTLY, SHARED_REDIS_URL, free_port, message, messages_until};
use scrape::Scrape;

const MESSAGES: usize = 3;
const PEOPLE: usize = 2;

/// One instance linked through the shared Redis, serving metrics on `metrics_port`.
async fn instance_with_metrics_on(metrics_port: u16) -> Cluster {
    let addr = format!("127.0.0.1:{metrics_port}");
    Cluster::start_with(
        1,
        Some(SHARED_REDIS_URL),
        &[("WHISPER_METRICS_ADDR", &addr)],
    )
    .await
}

#[tokio::test]
async fn a_short_chat_moves_the_counters_of_a_scrape_that_parses_as_prometheus_text() {
    let metrics_port = free_port();
    let cluster = instance_with_metrics_on(metrics_port).await;
    let before = Scrape::of(metrics_port).await;

    let (people, room, mut sockets) = cluster.connected_room(&["ada", "bob"]).await;
    for n in 0..MESSAGES {
        let text = format!("hello-{n}");
        sockets[0].send_json(&message(&text, &text)).await;
    }
    let last = format!("hello-{}", MESSAGES - 1);
    for socket in &mut sockets {
        let received = messages_until(socket, &last, PROMPTLY).await;
        assert_eq!(received.len(), MESSAGES);
    }
    let history = cluster.history(0, &people[1], &room).await;
    assert_eq!(history.len(), MESSAGES);

    // The last frame read can precede its count by a moment: wait for the count.
    let deliveries = (MESSAGES * PEOPLE) as f64;
    let grown = |after: &Scrape, metric: &str| after.value(metric, &[]) - before.value(metric, &[]);
    let after = whisper_e2e::eventually("the deliveries counted", PROMPTLY, || async {
        let after = Scrape::of(metrics_port).await;
        (grown(&after, "whisper_message_deliveries_total") >= deliveries).then_some(after)
    })
    .await;

    assert_eq!(
        grown(&after, "whisper_messages_stored_total"),
        MESSAGES as f64
    );
    assert_eq!(
        grown(&after, "whisper_message_deliveries_total"),
        deliveries
    );
    let latency = "whisper_delivery_latency_seconds";
    assert_eq!(
        after.observations(latency, &[]) - before.observations(latency, &[]),
        (MESSAGES * PEOPLE) as u64
    );
    assert_eq!(
        after.value("whisper_websocket_connections", &[]),
        PEOPLE as f64
    );
    assert_eq!(grown(&after, "whisper_slow_consumer_closes_total"), 0.0);

    // REST requests by route pattern: the history read once, under `{room_id}`.
    let history_route = [
        ("method", "GET"),
        ("route", "/api/v1/chat/home/{room_id}/"),
        ("status", "200"),
    ];
    assert_eq!(
        after.value("whisper_http_requests_total", &history_route)
            - before.value("whisper_http_requests_total", &history_route),
        1.0
    );
    let socket_route = [("route", "/ws/chat/{room_id}/"), ("status", "101")];
    assert_eq!(
        after.value("whisper_http_requests_total", &socket_route),
        PEOPLE as f64
    );
    // No id, token or other path in any label: patterns only.
    let private: Vec<&str> = people
        .iter()
        .flat_map(|person| [person.id.as_str(), person.access.as_str()])
        .chain([room.as_str()])
        .collect();
    for series in &after.series {
        for (name, label) in &series.labels {
            assert!(
                !private.iter().any(|secret| label.contains(secret)),
                "{}{{{name}={label:?}}} carries an id",
                series.metric
            );
        }
    }

    // Histograms with buckets.
    assert!(after.fewest_buckets(latency, &[]) > 1);
    let history_duration = [("route", "/api/v1/chat/home/{room_id}/")];
    assert!(after.fewest_buckets("whisper_http_request_duration_seconds", &history_duration) > 1);

    // The sampled gauges: both pools, the outbox, Redis.
    for pool in ["main", "messages"] {
        for state in ["in_use", "idle"] {
            let labels = [("pool", pool), ("state", state)];
            assert_eq!(
                after.series("whisper_db_pool_connections", &labels).count(),
                1,
                "{pool} {state}"
            );
        }
        assert_eq!(
            after
                .series("whisper_db_pool_waiting", &[("pool", pool)])
                .count(),
            1
        );
    }
    assert!(after.value("whisper_db_pool_connections", &[("pool", "main")]) >= 1.0);
    assert_eq!(after.series("whisper_mail_outbox_depth", &[]).count(), 1);
    assert_eq!(after.value("whisper_mail_abandoned", &[]), 0.0);
    assert_eq!(after.value("whisper_redis_up", &[]), 1.0);
    assert_eq!(
        after
            .series("whisper_redis_dropped_events_total", &[])
            .count(),
        1
    );

    // Closed sockets leave the gauge.
    for mut socket in sockets {
        socket.close().await;
    }
    whisper_e2e::eventually("the sockets gauge back to 0", PROMPTLY, || async {
        let now = Scrape::of(metrics_port).await;
        (now.value("whisper_websocket_connections", &[]) == 0.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn metrics_have_a_listener_of_their_own_never_the_api_port() {
    let metrics_port = free_port();
    let cluster = instance_with_metrics_on(metrics_port).await;
    let api_port = cluster.instances[0].port;

    let on_the_api = reqwest::get(format!("{}/metrics", cluster.url(0)))
        .await
        .unwrap();
    assert_eq!(on_the_api.status(), StatusCode::NOT_FOUND);
    Scrape::of(metrics_port).await;
    assert_eq!(
        listening::ports_of_the_process_on(api_port),
        [api_port, metrics_port].into_iter().collect()
    );
}

#[tokio::test]
async fn off_binds_nothing_but_the_api() {
    // The harness turns metrics off unless told otherwise.
    let cluster = Cluster::start_with(1, None, &[("WHISPER_METRICS_ADDR", "off")]).await;
    let api_port = cluster.instances[0].port;
    assert_eq!(
        listening::ports_of_the_process_on(api_port),
        [api_port].into_iter().collect()
    );
    let on_the_api = reqwest::get(format!("{}/metrics", cluster.url(0)))
        .await
        .unwrap();
    assert_eq!(on_the_api.status(), StatusCode::NOT_FOUND);
}
