//! SIGTERM drains an instance: its sockets finish the command in hand, close with 1001,
//! and their clients resume on another instance with nothing lost; the process exits
//! within its shutdown timeout, leaving nobody marked online by its sockets.

use std::sync::Arc;
use std::time::Duration;

use diesel::dsl::sql;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::watch;

use crate::harness::{
    Cluster, DEADLINE, Ending, SHARED_REDIS_URL, View, assert_view_is_history, read_until_gone,
    send_until_gone,
};

/// The instances' `WHISPER_SHUTDOWN_TIMEOUT`.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;
/// What the binary may take beyond it: the mail worker's hand-over (2 s, see
/// `startup::AFTER_STOP_WAIT`) and the process's own exit, generously.
const EXIT_ALLOWANCE: Duration = Duration::from_secs(10);
const CLOSE_GOING_AWAY: u16 = 1001;

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_and_clients_resume_elsewhere_losing_nothing() {
    let timeout = SHUTDOWN_TIMEOUT_SECS.to_string();
    let mut cluster = Cluster::start_with(
        2,
        Some(SHARED_REDIS_URL),
        &[
            ("WHISPER_SHUTDOWN_TIMEOUT", &timeout),
            ("WHISPER_LOG", "warn,whisper_app::drain=info"),
        ],
    )
    .await;
    // ada (sending) and cyd on A, bob on B.
    let (people, room, mut sockets) = cluster.connected_room(&["ada", "bob", "cyd"]).await;
    let (cyd_on_a, mut bob_on_b, ada_on_a) =
        (sockets.remove(2), sockets.remove(1), sockets.remove(0));
    let ada_echoes = Arc::new(watch::channel(0usize).0);
    let cyd_count = Arc::new(watch::channel(0usize).0);
    let ada_task = send_until_gone(ada_on_a, "ada", &ada_echoes);
    let cyd_task = read_until_gone(cyd_on_a, &cyd_count);

    // Mid-burst: ada has ten echoes and cyd has read a few messages.
    ada_echoes.subscribe().wait_for(|n| *n >= 10).await.unwrap();
    cyd_count.subscribe().wait_for(|n| *n >= 5).await.unwrap();
    let (status, took) = cluster.terminate(0).await;
    assert!(status.success(), "{status}:\n{}", cluster.logs());
    assert!(
        took < Duration::from_secs(SHUTDOWN_TIMEOUT_SECS) + EXIT_ALLOWANCE,
        "the drain took {took:?}:\n{}",
        cluster.logs()
    );
    let ada_before = ada_task.await.unwrap();
    let cyd_before = cyd_task.await.unwrap();
    for (who, view) in [("ada", &ada_before), ("cyd", &cyd_before)] {
        assert_eq!(
            view.closed_with,
            Some(Some(CLOSE_GOING_AWAY)),
            "{who}'s socket"
        );
    }

    // Every message of ada's that was stored was answered before the close: the send in
    // hand finished and was announced, none was cut half-way.
    let stored = cluster.history(1, &people[1], &room).await;
    let ada_stored: Vec<&str> = stored
        .iter()
        .filter(|m| {
            m["text_content"]
                .as_str()
                .is_some_and(|t| t.starts_with("ada-"))
        })
        .filter_map(|m| m["id"].as_str())
        .collect();
    let ada_answered: Vec<&str> = ada_before
        .echoes()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        ada_stored, ada_answered,
        "stored but never answered, or lost"
    );

    // Both resume on B from the last message each saw; bob saw everything live.
    let since = |view: &View| format!("?since={}", view.last_id().unwrap());
    let mut ada_on_b = cluster.ws(1, &people[0], &room, &since(&ada_before)).await;
    let mut cyd_on_b = cluster.ws(1, &people[2], &room, &since(&cyd_before)).await;
    let _end = cluster.send_end(1, &people[1], &room).await;
    let stored = cluster.history(1, &people[1], &room).await;
    let mut bob = View::default();
    assert_eq!(bob.read_until(&mut bob_on_b, "end").await, Ending::Open);
    assert_view_is_history("bob", &bob, &stored);
    for (who, mut view, socket) in [
        ("ada", ada_before, &mut ada_on_b),
        ("cyd", cyd_before, &mut cyd_on_b),
    ] {
        let ending = view.read_until(socket, "end").await;
        assert_eq!(ending, Ending::Open, "{who} lost the resumed connection");
        assert_view_is_history(who, &view, &stored);
    }
    let log = cluster.instances[0].log();
    assert!(log.contains("draining"), "{log}");
}

/// How many accounts the database has marked online.
async fn online_users(cluster: &Cluster) -> i64 {
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    diesel::select(sql::<BigInt>(
        "(SELECT count(*) FROM users WHERE is_online)",
    ))
    .get_result(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_stopped_instance_marks_its_connected_users_offline_and_logs_no_error() {
    let mut cluster = Cluster::start(1, None).await;
    let (_people, _room, _sockets) = cluster.connected_room(&["ada", "bob"]).await;
    whisper_e2e::eventually("both marked online", DEADLINE, || async {
        (online_users(&cluster).await == 2).then_some(())
    })
    .await;

    let before = cluster.instances[0].log().len();
    let (status, _) = cluster.terminate(0).await;
    assert!(status.success(), "{status}:\n{}", cluster.logs());
    // Recorded before the process ended: nobody waits for it here.
    assert_eq!(online_users(&cluster).await, 0, "{}", cluster.logs());
    let log = cluster.instances[0].log();
    let stopping = &log[before..];
    assert!(
        !stopping.contains("WARN") && !stopping.contains("ERROR"),
        "the test configuration logs warnings and errors only:\n{stopping}"
    );
}
