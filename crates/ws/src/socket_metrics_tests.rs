//! The hub's metrics, recorded by a recorder of the test's thread only.

use metrics_exporter_prometheus::PrometheusBuilder;
use whisper_domain::{RoomEvent, RoomId, UserId, Username};

use super::tests::start;

fn typing(room: &RoomId, user: &UserId) -> RoomEvent {
    RoomEvent::Typing {
        room: room.clone(),
        user: user.clone(),
        username: Username::parse("bob").unwrap(),
        typing: true,
    }
}

#[tokio::test]
async fn sockets_count_while_open_and_typing_shed_under_pressure_counts_as_dropped() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let started = start(2, 4);
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    let (ada_socket, _ada_queue) = started.hub.join(&room, &ada, None);
    let (bob_socket, _bob_queue) = started.hub.join(&room, &bob, None);
    assert!(
        metrics
            .render()
            .contains("whisper_websocket_connections 2\n"),
        "{}",
        metrics.render()
    );

    // Nobody reads ada's queue of 4: typing frames go only while it is at most half full.
    for _ in 0..5 {
        started.publish(&typing(&room, &bob));
    }
    let rendered = metrics.render();
    assert!(
        rendered.contains("whisper_frames_dropped_total 3\n"),
        "{rendered}"
    );

    drop(ada_socket);
    drop(bob_socket);
    assert!(
        metrics
            .render()
            .contains("whisper_websocket_connections 0\n"),
        "{}",
        metrics.render()
    );
}
