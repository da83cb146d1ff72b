//! The Redis event bus between two instances on the shared Redis, each test under its
//! own prefix.
#![allow(clippy::unwrap_used)]

mod support;

use support::{SHARED_REDIS, hearing, link_up, next, unique_prefix};
use whisper_domain::ports::{EventBus, EventSource};
use whisper_domain::{RoomEvent, RoomId, UserId, Username};
use whisper_redis::RedisEventBus;

fn typing(room: &RoomId, n: usize) -> RoomEvent {
    RoomEvent::Typing {
        room: room.clone(),
        user: UserId::generate(),
        username: Username::parse(&format!("user{n}")).unwrap(),
        typing: n.is_multiple_of(2),
    }
}

/// Two instances' buses on one prefix.
async fn two_instances() -> (
    RedisEventBus,
    RedisEventBus,
    [std::sync::Arc<whisper_redis::RedisLink>; 2],
) {
    let prefix = unique_prefix();
    let (a, b) = (
        link_up(SHARED_REDIS, &prefix).await,
        link_up(SHARED_REDIS, &prefix).await,
    );
    assert_ne!(a.instance(), b.instance());
    (
        RedisEventBus::new(a.clone()),
        RedisEventBus::new(b.clone()),
        [a, b],
    )
}

#[tokio::test]
async fn the_redis_bus_keeps_the_ports_promises() {
    let link = link_up(SHARED_REDIS, &unique_prefix()).await;
    whisper_domain::contracts::event_bus(&RedisEventBus::new(link));
}

#[tokio::test]
async fn events_reach_another_instance_only_while_it_follows_the_room() {
    let (here, there, [here_link, there_link]) = two_instances().await;
    let (general, random) = (RoomId::generate(), RoomId::generate());
    let mut heard_there = hearing(&there);
    there.follow(&random);
    there_link.subscriptions_applied().await;

    here.publish(typing(&general, 0));
    // Publishing is queued: wait until Redis has it, or it may arrive after the follow.
    here_link.flushed().await;
    there.follow(&general);
    there_link.subscriptions_applied().await;
    let followed = typing(&general, 1);
    here.publish(followed.clone());
    assert_eq!(
        next(&mut heard_there).await,
        followed,
        "nothing from before the follow"
    );

    there.unfollow(&general);
    there_link.subscriptions_applied().await;
    here.publish(typing(&general, 2));
    // Published after, on another room: once it arrives, the unfollowed event is not coming.
    let marker = typing(&random, 3);
    here.publish(marker.clone());
    assert_eq!(
        next(&mut heard_there).await,
        marker,
        "nothing after the unfollow"
    );
}

#[tokio::test]
async fn own_events_are_heard_once_not_echoed_back() {
    let (here, there, [here_link, _]) = two_instances().await;
    let room = RoomId::generate();
    let mut heard_here = hearing(&here);
    here.follow(&room);
    here_link.subscriptions_applied().await;

    let own = typing(&room, 0);
    here.publish(own.clone());
    assert_eq!(
        next(&mut heard_here).await,
        own,
        "heard at once, in the publisher's task"
    );
    here_link.flushed().await;
    let theirs = typing(&room, 1);
    there.publish(theirs.clone());
    assert_eq!(
        next(&mut heard_here).await,
        theirs,
        "own event did not come back first"
    );
}

#[tokio::test]
async fn a_burst_arrives_complete_and_in_order() {
    let (here, there, [_, there_link]) = two_instances().await;
    let room = RoomId::generate();
    let mut heard_there = hearing(&there);
    there.follow(&room);
    there_link.subscriptions_applied().await;

    let burst: Vec<RoomEvent> = (0..2_000).map(|n| typing(&room, n)).collect();
    for event in &burst {
        here.publish(event.clone());
    }
    for (n, event) in burst.iter().enumerate() {
        assert_eq!(&next(&mut heard_there).await, event, "event {n} in order");
    }
    assert_eq!(there_link.dropped_events(), 0);
}

#[tokio::test]
async fn undecodable_payloads_are_skipped() {
    let (_, there, [_, there_link]) = two_instances().await;
    let room = RoomId::generate();
    let mut heard_there = hearing(&there);
    there.follow(&room);
    there_link.subscriptions_applied().await;
    let prefix = there_link.prefix().to_owned();
    let client = redis::Client::open(SHARED_REDIS).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let channel = format!("{prefix}:room:{room}");
    let _: () = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("not an event")
        .query_async(&mut connection)
        .await
        .unwrap();
    // Sent after the garbage was published: arriving, it shows the garbage was skipped.
    let other = RedisEventBus::new(link_up(SHARED_REDIS, &prefix).await);
    let event = typing(&room, 0);
    other.publish(event.clone());
    assert_eq!(next(&mut heard_there).await, event);
}

#[tokio::test]
async fn an_ended_session_is_heard_here_at_once_and_on_every_other_instance_once() {
    use whisper_domain::ports::SessionSignals;
    use whisper_domain::{SessionEnded, TokenFamilyId, TokenId};

    let (here, there, _links) = two_instances().await;
    let hear = |bus: &RedisEventBus| {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        SessionSignals::listen(
            bus,
            Box::new(move |session: &SessionEnded| {
                let _ = sender.send(session.clone());
            }),
        );
        receiver
    };
    let (mut heard_here, mut heard_there) = (hear(&here), hear(&there));
    let ended = SessionEnded {
        user: UserId::generate(),
        access: Some(TokenId::generate()),
        family: Some(TokenFamilyId::generate()),
    };
    here.ended(ended.clone());
    assert_eq!(
        heard_here.try_recv().ok(),
        Some(ended.clone()),
        "heard here at once"
    );
    assert_eq!(heard_there.recv().await, Some(ended.clone()));
    // A second one marks the end of the stream: the first was not echoed back here.
    let second = SessionEnded {
        access: None,
        ..ended.clone()
    };
    there.ended(second.clone());
    assert_eq!(heard_here.recv().await, Some(second));
    assert!(
        heard_there.try_recv().is_ok(),
        "there hears its own at once"
    );
    assert!(heard_here.try_recv().is_err(), "nothing echoed");
}
