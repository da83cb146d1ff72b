//! Redis going away and coming back, and a wedged path to it, on private servers.
#![allow(clippy::unwrap_used)]

mod support;

use support::proxy::FreezingProxy;
use support::server::RedisServer;
use support::{hearing, link, link_up, next, unique_prefix, until};
use whisper_domain::ports::{EventBus, EventSource};
use whisper_domain::{RoomEvent, RoomId};
use whisper_redis::RedisEventBus;

fn ping(room: &RoomId) -> RoomEvent {
    RoomEvent::PresenceChanged { room: room.clone() }
}

#[tokio::test]
async fn an_unreachable_redis_at_start_is_no_error_and_the_link_comes_up_later() {
    let server = RedisServer::start().await;
    let port = server.kill().await;
    let link = link(&format!("redis://127.0.0.1:{port}"), &unique_prefix());
    assert!(!link.is_up(), "nothing answers yet");
    let _server = RedisServer::start_on(port).await;
    until(|| link.is_up(), "the link comes up once Redis answers").await;
}

#[tokio::test]
async fn a_killed_redis_is_noticed_and_subscriptions_are_rebuilt_when_it_returns_empty() {
    let server = RedisServer::start().await;
    let prefix = unique_prefix();
    let here = link_up(&server.url(), &prefix).await;
    let there = link_up(&server.url(), &prefix).await;
    let (here_bus, there_bus) = (
        RedisEventBus::new(here.clone()),
        RedisEventBus::new(there.clone()),
    );
    let room = RoomId::generate();
    let mut heard_there = hearing(&there_bus);
    there_bus.follow(&room);
    there.subscriptions_applied().await;

    let port = server.kill().await;
    until(
        || !here.is_up() && !there.is_up(),
        "both links notice Redis is gone",
    )
    .await;
    here_bus.publish(ping(&room));
    assert!(
        here.dropped_events() >= 1,
        "an event published while down is dropped, not queued"
    );

    let _server = RedisServer::start_on(port).await;
    until(|| here.is_up() && there.is_up(), "both links come back").await;
    there.subscriptions_applied().await;
    let after = ping(&room);
    here_bus.publish(after.clone());
    assert_eq!(
        next(&mut heard_there).await,
        after,
        "the room was subscribed again"
    );
}

#[tokio::test]
async fn a_wedged_link_is_detected_by_the_probe_and_rebuilt_on_fresh_connections() {
    let server = RedisServer::start().await;
    let proxy = FreezingProxy::start(server.port).await;
    let link = link_up(&proxy.url(), &unique_prefix()).await;

    let bus = RedisEventBus::new(link.clone());
    let room = RoomId::generate();
    let mut heard = hearing(&bus);
    let other = RedisEventBus::new(link_up(&server.url(), link.prefix()).await);
    bus.follow(&room);
    link.subscriptions_applied().await;

    proxy.freeze();
    until(|| !link.is_up(), "a silent link counts as down").await;
    proxy.open_new_connections();
    // The wedged connections stay wedged: coming back means both the subscription and
    // the command connection (which carries the probes) were built anew.
    until(|| link.is_up(), "the link is rebuilt").await;
    link.subscriptions_applied().await;
    let after = ping(&room);
    other.publish(after.clone());
    assert_eq!(
        next(&mut heard).await,
        after,
        "the room was subscribed again"
    );
}
