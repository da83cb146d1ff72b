//! Redis and instances dying mid-burst: nothing acknowledged is lost, nothing is
//! delivered twice, and clients resume anywhere.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::watch;
use whisper_e2e::TempDir;

use crate::harness::{
    Cluster, Ending, PROMPTLY, RedisServer, SHARED_REDIS_URL, View, assert_view_is_history,
    free_port, ids, message, messages_until, read_until_gone, send_until_gone,
};

/// Messages each sender sends per phase.
const PER_PHASE: usize = 20;

/// What an instance logs when its Redis link fails and when it works again (the two
/// lines of whisper-redis's `health.rs`).
const BUS_DOWN: &str = "the Redis bus is down";
const BUS_BACK: &str = "the Redis bus is back";
/// The test configuration logs warnings only; "back" is an info line.
const BUS_LOG: (&str, &str) = ("WHISPER_LOG", "warn,whisper_redis::health=info");

#[tokio::test]
async fn redis_killed_and_restarted_mid_burst_loses_and_duplicates_nothing() {
    let logs = TempDir::new("redis");
    let mut redis = RedisServer::start(logs.0.join("redis.log"));
    let cluster = Cluster::start_with(2, Some(&redis.url()), &[BUS_LOG]).await;
    // ada and cyd on A, bob and dee on B; ada and bob send.
    let (people, room, sockets) = cluster.connected_room(&["ada", "bob", "cyd", "dee"]).await;
    let (phase, phases) = watch::channel(0usize);
    let echoes = Arc::new(watch::channel(0usize).0);
    let mut tasks = Vec::new();
    for (index, mut socket) in sockets.into_iter().enumerate() {
        let (mut phases, echoes) = (phases.clone(), echoes.clone());
        let who = people[index].username.clone();
        tasks.push(tokio::spawn(async move {
            let mut view = View::default();
            if index < 2 {
                for current in 0..3 {
                    phases.wait_for(|p| *p >= current).await.unwrap();
                    let numbers = current * PER_PHASE..(current + 1) * PER_PHASE;
                    let ending = view
                        .send_acknowledged(&mut socket, &who, numbers, &echoes)
                        .await;
                    assert_eq!(ending, Ending::Open, "{who} lost the connection");
                }
            }
            let ending = view.read_until(&mut socket, "end").await;
            assert_eq!(ending, Ending::Open, "{who} lost the connection");
            (who, view)
        }));
    }
    let mut progress = echoes.subscribe();

    // Mid-burst: half of the first phase acknowledged, the rest in flight.
    progress.wait_for(|n| *n >= PER_PHASE).await.unwrap();
    redis.kill();
    for index in 0..cluster.len() {
        let health = cluster.readiness_becomes(index, "degraded").await;
        assert_eq!(health["services"]["redis"], "down", "{health}");
        assert_eq!(health["services"]["postgres"], "up", "{health}");
    }
    // While Redis is down, a whole phase is sent and stored.
    phase.send_replace(1);
    progress.wait_for(|n| *n >= 4 * PER_PHASE).await.unwrap();
    redis.restart();
    for index in 0..cluster.len() {
        let health = cluster.readiness_becomes(index, "ready").await;
        assert_eq!(health["services"]["redis"], "up", "{health}");
    }
    phase.send_replace(2);
    progress.wait_for(|n| *n >= 6 * PER_PHASE).await.unwrap();

    let _end = cluster.send_end(1, &people[1], &room).await;
    let stored = cluster.history(0, &people[0], &room).await;
    assert_eq!(
        stored.len(),
        6 * PER_PHASE + 1,
        "every acknowledged message, once"
    );
    for task in tasks {
        let (who, view) = task.await.unwrap();
        assert_view_is_history(&who, &view, &stored);
    }
    // One outage, so one line each way: no flapping, no line per failed retry.
    for index in 0..cluster.len() {
        assert_eq!(cluster.log_count(index, BUS_DOWN), 1, "instance {index}");
        assert_eq!(cluster.log_count(index, BUS_BACK), 1, "instance {index}");
    }
}

#[tokio::test]
async fn an_instance_started_while_redis_is_away_serves_degraded_then_joins_it() {
    // Nothing listens on this port until the test starts a redis-server there.
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    // Starting at all is the first promise: `start` waits for `/health/ready` 200.
    let cluster = Cluster::start_with(1, Some(&url), &[BUS_LOG]).await;
    let (status, health) = cluster.readiness(0).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["services"]["redis"], "down", "{health}");
    assert_eq!(health["services"]["postgres"], "up", "{health}");

    // It chats on its own: sign-up, a room, presence and delivery without Redis.
    let (_people, _room, mut sockets) = cluster.connected_room(&["ada", "bob"]).await;
    sockets[0].send_json(&message("alone", "c-alone")).await;
    for socket in &mut sockets {
        let received = messages_until(socket, "alone", PROMPTLY).await;
        assert_eq!(received.len(), 1, "{received:?}");
    }

    let logs = TempDir::new("redis");
    let _redis = RedisServer::start_on(port, logs.0.join("redis.log"));
    let health = cluster.readiness_becomes(0, "ready").await;
    assert_eq!(health["services"]["redis"], "up", "{health}");
    sockets[1].send_json(&message("joined", "c-joined")).await;
    for socket in &mut sockets {
        let received = messages_until(socket, "joined", PROMPTLY).await;
        assert_eq!(received.len(), 1, "{received:?}");
    }
    assert_eq!(cluster.log_count(0, BUS_DOWN), 1, "told once it is down");
    assert_eq!(cluster.log_count(0, BUS_BACK), 1, "told once it is back");
}

#[tokio::test]
async fn an_instance_killed_mid_burst_loses_no_acknowledged_message_and_clients_resume() {
    let mut cluster = Cluster::start(3, Some(SHARED_REDIS_URL)).await;
    // ada (sending) and dee on A, bob (sending) on B, cyd on C.
    let (people, room, mut sockets) = cluster.connected_room(&["ada", "bob", "cyd", "dee"]).await;
    let (dee_on_a, mut cyd_on_c) = (sockets.remove(3), sockets.remove(2));
    let (mut bob_on_b, ada_on_a) = (sockets.remove(1), sockets.remove(0));
    let ada_echoes = Arc::new(watch::channel(0usize).0);
    let dee_count = Arc::new(watch::channel(0usize).0);
    let (bob_phase, bob_phases) = watch::channel(0usize);
    let bob_echoes = Arc::new(watch::channel(0usize).0);

    let ada_task = send_until_gone(ada_on_a, "ada", &ada_echoes);
    let dee_task = read_until_gone(dee_on_a, &dee_count);
    let bob_task = tokio::spawn({
        let (mut phases, echoes) = (bob_phases, bob_echoes.clone());
        async move {
            let mut view = View::default();
            for current in 0..2 {
                phases.wait_for(|p| *p >= current).await.unwrap();
                let numbers = current * PER_PHASE..(current + 1) * PER_PHASE;
                let ending = view
                    .send_acknowledged(&mut bob_on_b, "bob", numbers, &echoes)
                    .await;
                assert_eq!(ending, Ending::Open, "bob lost the connection");
            }
            assert_eq!(view.read_until(&mut bob_on_b, "end").await, Ending::Open);
            view
        }
    });

    // Mid-burst: ada has ten echoes and dee has read a few messages.
    ada_echoes.subscribe().wait_for(|n| *n >= 10).await.unwrap();
    dee_count.subscribe().wait_for(|n| *n >= 5).await.unwrap();
    cluster.kill(0);
    let ada_before = ada_task.await.unwrap();
    let dee_before = dee_task.await.unwrap();

    // Every message whose echo ada received is stored.
    let stored = cluster.history(1, &people[1], &room).await;
    let stored_ids: HashSet<String> = ids(&stored).into_iter().collect();
    for echo in ada_before.echoes() {
        let id = echo["id"].as_str().unwrap();
        assert!(
            stored_ids.contains(id),
            "acknowledged message {id} was lost"
        );
    }

    // ada and dee come back on other instances from the last message each saw, while bob
    // keeps sending on B.
    let since = |view: &View| format!("?since={}", view.last_id().unwrap());
    let mut ada_on_b = cluster.ws(1, &people[0], &room, &since(&ada_before)).await;
    let mut dee_on_c = cluster.ws(2, &people[3], &room, &since(&dee_before)).await;
    bob_phase.send_replace(1);
    bob_echoes
        .subscribe()
        .wait_for(|n| *n >= 2 * PER_PHASE)
        .await
        .unwrap();
    let _end = cluster.send_end(2, &people[2], &room).await;

    let stored = cluster.history(2, &people[2], &room).await;
    let mut cyd = View::default();
    assert_eq!(cyd.read_until(&mut cyd_on_c, "end").await, Ending::Open);
    assert_view_is_history("cyd", &cyd, &stored);
    assert_view_is_history("bob", &bob_task.await.unwrap(), &stored);
    for (who, mut view, socket) in [
        ("ada", ada_before, &mut ada_on_b),
        ("dee", dee_before, &mut dee_on_c),
    ] {
        let ending = view.read_until(socket, "end").await;
        assert_eq!(ending, Ending::Open, "{who} lost the resumed connection");
        assert_view_is_history(who, &view, &stored);
    }
}
