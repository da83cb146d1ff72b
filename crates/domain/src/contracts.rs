//! What every implementation of a port must do, as suites each adapter runs against its
//! own implementation (feature `contracts`), so one for one instance and one shared by
//! many instances keep the same promises.

use crate::id::{RoomId, UserId};
use crate::ports::Presence;

/// Presence counts distinct members per room, knows who is online anywhere, and ignores
/// a socket closed that never opened. `presence` must start with nobody connected.
pub async fn presence(presence: &dyn Presence) {
    let (general, random) = (RoomId::generate(), RoomId::generate());
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let members = |room: &RoomId| {
        let room = room.clone();
        async move { presence.members_connected(&room).await.ok() }
    };
    let online = |user: &UserId| {
        let user = user.clone();
        async move { presence.is_online(&user).await.ok() }
    };
    assert_eq!(members(&general).await, Some(0), "nobody connected yet");
    assert_eq!(online(&ada).await, Some(false));

    presence.connect(&general, &ada);
    presence.connect(&general, &ada);
    presence.connect(&general, &bob);
    presence.connect(&random, &ada);
    assert_eq!(
        members(&general).await,
        Some(2),
        "a member with two sockets counts once"
    );
    assert_eq!(members(&random).await, Some(1));
    assert_eq!(
        (online(&ada).await, online(&bob).await),
        (Some(true), Some(true))
    );

    presence.disconnect(&general, &ada);
    assert_eq!(
        members(&general).await,
        Some(2),
        "ada still has a socket open to general"
    );
    presence.disconnect(&general, &ada);
    presence.disconnect(&general, &ada);
    assert_eq!(
        members(&general).await,
        Some(1),
        "a socket closed twice counts once"
    );
    assert_eq!(
        online(&ada).await,
        Some(true),
        "ada is still connected to random"
    );

    presence.disconnect(&random, &ada);
    presence.disconnect(&general, &bob);
    assert_eq!(
        (members(&general).await, members(&random).await),
        (Some(0), Some(0))
    );
    assert_eq!(
        (online(&ada).await, online(&bob).await),
        (Some(false), Some(false))
    );
}
