#![allow(clippy::unwrap_used)]

use tokio::sync::mpsc;
use whisper_domain::ports::MockUserRepository;

use super::*;

/// A user repository that reports every flag written, until the writer ends.
fn recording_users() -> (
    Arc<dyn UserRepository>,
    mpsc::UnboundedReceiver<(UserId, bool)>,
) {
    let (written, writes) = mpsc::unbounded_channel();
    let mut users = MockUserRepository::new();
    users.expect_set_online().returning(move |user, online| {
        let _ = written.send((user.clone(), online));
        Ok(true)
    });
    (Arc::new(users), writes)
}

/// Every flag still to be written: the writer ends once the presence is dropped and it
/// has written what was left, which closes the channel.
async fn remaining(mut writes: mpsc::UnboundedReceiver<(UserId, bool)>) -> Vec<(UserId, bool)> {
    let mut rest = Vec::new();
    while let Some(write) = writes.recv().await {
        rest.push(write);
    }
    rest
}

#[tokio::test]
async fn local_presence_keeps_the_ports_promises() {
    let (users, _writes) = recording_users();
    whisper_domain::contracts::presence(&LocalPresence::start(users)).await;
}

#[tokio::test]
async fn the_online_flag_is_written_once_per_change() {
    let (users, mut writes) = recording_users();
    let presence = LocalPresence::start(users);
    let (general, random, ada) = (RoomId::generate(), RoomId::generate(), UserId::generate());

    presence.connect(&general, &ada);
    presence.connect(&random, &ada);
    assert_eq!(writes.recv().await, Some((ada.clone(), true)));
    // Sockets come and go while another stays open: the flag does not change.
    presence.disconnect(&general, &ada);
    tokio::task::yield_now().await;
    presence.connect(&general, &ada);
    tokio::task::yield_now().await;
    presence.disconnect(&general, &ada);
    presence.disconnect(&random, &ada);
    drop(presence);
    assert_eq!(remaining(writes).await, [(ada, false)]);
}

#[tokio::test]
async fn changes_made_before_the_writer_looks_leave_only_the_final_flag() {
    let (users, writes) = recording_users();
    let presence = LocalPresence::start(users);
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());

    // The test's runtime has one thread: the writer runs only when this task waits, so
    // all of these changes are made before it looks.
    presence.connect(&room, &ada);
    presence.disconnect(&room, &ada);
    presence.connect(&room, &ada);
    presence.disconnect(&room, &ada);
    presence.connect(&room, &bob);
    drop(presence);
    let mut written = remaining(writes).await;
    written.sort_by_key(|(_, online)| *online);
    assert_eq!(written, [(ada, false), (bob, true)]);
}

#[tokio::test]
async fn a_failed_write_does_not_stop_the_writer() {
    let (written, writes) = mpsc::unbounded_channel();
    let mut users = MockUserRepository::new();
    let mut attempts = 0;
    users.expect_set_online().returning(move |user, online| {
        attempts += 1;
        let _ = written.send((user.clone(), online));
        if attempts == 1 {
            Err(whisper_domain::DomainError::Unavailable(
                whisper_domain::Service::Database,
            ))
        } else {
            Ok(true)
        }
    });
    let presence = LocalPresence::start(Arc::new(users));
    let (room, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    let mut writes = writes;
    presence.connect(&room, &ada);
    assert_eq!(writes.recv().await, Some((ada, true)));
    presence.connect(&room, &bob);
    drop(presence);
    assert_eq!(remaining(writes).await, [(bob, true)]);
}

#[tokio::test]
async fn settle_returns_once_every_change_before_it_is_written() {
    let (users, mut writes) = recording_users();
    let presence = LocalPresence::start(users);
    let (general, ada, bob) = (RoomId::generate(), UserId::generate(), UserId::generate());
    presence.connect(&general, &ada);
    presence.connect(&general, &bob);
    presence.disconnect(&general, &ada);
    presence.settle().await;
    let mut written = Vec::new();
    while let Ok(write) = writes.try_recv() {
        written.push(write);
    }
    written.sort_by_key(|(user, _)| *user == bob);
    assert_eq!(written, [(ada, false), (bob, true)]);
    // Nothing changed since: it answers at once.
    presence.settle().await;
}
