//! Presence across instances on the shared Redis, each test under its own prefix.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::server::RedisServer;
use support::{Flags, SHARED_REDIS, hearing, link_up, next, unique_prefix, until};
use whisper_domain::ports::{EventSource, Presence};
use whisper_domain::{RoomEvent, RoomId, UserId};
use whisper_redis::{PresenceTiming, RedisEventBus, RedisPresence};

fn quick_presence() -> PresenceTiming {
    PresenceTiming {
        heartbeat: Duration::from_millis(100),
        expiry: Duration::from_millis(600),
    }
}

#[tokio::test]
async fn redis_presence_keeps_the_ports_promises() {
    let link = link_up(SHARED_REDIS, &unique_prefix()).await;
    let flags = Flags::new();
    let presence = RedisPresence::start(link, flags.repository, PresenceTiming::default());
    whisper_domain::contracts::presence(&presence).await;
}

#[tokio::test]
async fn members_are_counted_across_instances_and_others_are_told_to_recount() {
    let prefix = unique_prefix();
    let (a, b) = (
        link_up(SHARED_REDIS, &prefix).await,
        link_up(SHARED_REDIS, &prefix).await,
    );
    let mut flags = Flags::new();
    let here = RedisPresence::start(
        a.clone(),
        flags.repository.clone(),
        PresenceTiming::default(),
    );
    let there = RedisPresence::start(
        b.clone(),
        flags.repository.clone(),
        PresenceTiming::default(),
    );
    let bus_there = RedisEventBus::new(b.clone());
    let mut heard_there = hearing(&bus_there);
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    bus_there.follow(&room);
    b.subscriptions_applied().await;

    here.connect(&room, &ada);
    assert_eq!(
        next(&mut heard_there).await,
        RoomEvent::PresenceChanged { room: room.clone() },
        "the other instance is told to recount"
    );
    assert_eq!(
        there.members_connected(&room).await.unwrap(),
        1,
        "ada, connected elsewhere"
    );
    assert!(there.is_online(&ada).await.unwrap());
    flags.written(&ada, true).await;

    there.connect(&room, &ada);
    there.connect(&room, &bob);
    // Each handle sees its own changes at once: asking there first makes sure they landed.
    assert_eq!(
        there.members_connected(&room).await.unwrap(),
        2,
        "ada once, and bob"
    );
    assert_eq!(here.members_connected(&room).await.unwrap(), 2);

    here.disconnect(&room, &ada);
    assert_eq!(
        here.members_connected(&room).await.unwrap(),
        2,
        "ada still has a socket there"
    );
    assert!(here.is_online(&ada).await.unwrap());
    there.disconnect(&room, &ada);
    flags.written(&ada, false).await;
    assert_eq!(there.members_connected(&room).await.unwrap(), 1, "only bob");
    assert_eq!(here.members_connected(&room).await.unwrap(), 1);
}

#[tokio::test]
async fn a_dead_instance_stops_counting_after_expiry_and_its_users_go_offline() {
    let prefix = unique_prefix();
    let mut flags = Flags::new();
    let survivor_link = link_up(SHARED_REDIS, &prefix).await;
    let survivor = RedisPresence::start(survivor_link, flags.repository.clone(), quick_presence());
    let doomed_link = link_up(SHARED_REDIS, &prefix).await;
    let doomed = RedisPresence::start(
        doomed_link.clone(),
        flags.repository.clone(),
        quick_presence(),
    );
    let (room, ada) = (RoomId::generate(), UserId::generate());
    doomed.connect(&room, &ada);
    assert_eq!(doomed.members_connected(&room).await.unwrap(), 1);
    flags.written(&ada, true).await;
    assert_eq!(survivor.members_connected(&room).await.unwrap(), 1);

    // Gone without a word: no disconnect, no cleanup.
    drop(doomed);
    drop(doomed_link);
    flags.written(&ada, false).await;
    assert_eq!(survivor.members_connected(&room).await.unwrap(), 0);
    assert!(!survivor.is_online(&ada).await.unwrap());
}

#[tokio::test]
async fn presence_answers_locally_while_redis_is_down_and_is_rebuilt_when_it_returns_empty() {
    let server = RedisServer::start().await;
    let prefix = unique_prefix();
    let mut flags = Flags::new();
    let (a, b) = (
        link_up(&server.url(), &prefix).await,
        link_up(&server.url(), &prefix).await,
    );
    let here = RedisPresence::start(a.clone(), flags.repository.clone(), quick_presence());
    let there = RedisPresence::start(b.clone(), flags.repository.clone(), quick_presence());
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    here.connect(&room, &ada);
    there.connect(&room, &bob);
    assert_eq!(here.members_connected(&room).await.unwrap(), 2);

    let port = server.kill().await;
    until(
        || !a.is_up() && !b.is_up(),
        "both links notice Redis is gone",
    )
    .await;
    assert_eq!(
        here.members_connected(&room).await.unwrap(),
        1,
        "only its own sockets"
    );
    assert!(here.is_online(&ada).await.unwrap());

    let _server = RedisServer::start_on(port).await;
    until(|| a.is_up() && b.is_up(), "both links come back").await;
    // Each instance writes its entries again as soon as its link is up, before answering
    // anything asked after: once both have answered, both are rebuilt.
    here.members_connected(&room).await.unwrap();
    there.members_connected(&room).await.unwrap();
    assert_eq!(
        here.members_connected(&room).await.unwrap(),
        2,
        "ada again, and bob"
    );
    assert_eq!(there.members_connected(&room).await.unwrap(), 2);
    assert!(there.is_online(&ada).await.unwrap());
    flags.written(&bob, true).await;
}
