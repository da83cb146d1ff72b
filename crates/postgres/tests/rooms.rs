#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use common::{database_with, now};
use whisper_domain::ports::RoomRepository;
use whisper_domain::{Clash, DomainError, Field, Flaw, Room, RoomId, RoomName, UserId};
use whisper_postgres::PgRooms;

fn room(name: &str, creator: &UserId, invited: &[&UserId]) -> Room {
    Room::open(
        RoomName::parse(name).unwrap(),
        creator.clone(),
        invited.iter().map(|&user| user.clone()),
        now(),
    )
}

fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}

#[tokio::test]
async fn a_room_is_stored_with_its_members() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let rooms = PgRooms::new(db.database.clone());
    let general = room("general", &ada.id, &[&bob.id]);
    rooms.create(&general).await.unwrap();

    let found = rooms.find(&general.id).await.unwrap().unwrap();
    assert_eq!(
        sorted(found.members.clone()),
        sorted(general.members.clone())
    );
    assert_eq!(
        (found.name, found.creator, found.created),
        (general.name, general.creator, general.created)
    );
    assert!(rooms.is_member(&general.id, &bob.id).await.unwrap());
    assert_eq!(rooms.find(&RoomId::generate()).await.unwrap(), None);
    assert!(!rooms.is_member(&RoomId::generate(), &ada.id).await.unwrap());
}

#[tokio::test]
async fn room_names_are_unique_ignoring_case() {
    let (db, [ada]) = database_with(["ada"]).await;
    let rooms = PgRooms::new(db.database.clone());
    rooms.create(&room("General", &ada.id, &[])).await.unwrap();
    let clash = rooms.create(&room("gEnErAl", &ada.id, &[])).await;
    assert_eq!(
        clash.unwrap_err(),
        DomainError::Conflict(Clash::RoomNameTaken)
    );
}

#[tokio::test]
async fn a_room_with_an_unknown_member_is_not_created() {
    let (db, [ada]) = database_with(["ada"]).await;
    let rooms = PgRooms::new(db.database.clone());
    let ghost = room("ghosts", &ada.id, &[&UserId::generate()]);
    assert_eq!(
        rooms.create(&ghost).await.unwrap_err(),
        DomainError::invalid(Field::Members, Flaw::UnknownUser)
    );
    assert_eq!(rooms.find(&ghost.id).await.unwrap(), None);
}

#[tokio::test]
async fn members_list_only_their_rooms_newest_first() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let rooms = PgRooms::new(db.database.clone());
    let older = room("older", &ada.id, &[&bob.id]);
    rooms.create(&older).await.unwrap();
    let private = room("private", &ada.id, &[]);
    rooms.create(&private).await.unwrap();
    let newer = room("newer", &bob.id, &[&ada.id]);
    rooms.create(&newer).await.unwrap();

    let names = |list: Vec<Room>| {
        list.into_iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(rooms.list_for_member(&ada.id).await.unwrap()),
        ["newer", "private", "older"]
    );
    let bobs = rooms.list_for_member(&bob.id).await.unwrap();
    assert_eq!(
        sorted(bobs[0].members.clone()),
        sorted(vec![ada.id.clone(), bob.id.clone()])
    );
    assert_eq!(names(bobs), ["newer", "older"]);
}

#[tokio::test]
async fn adding_members_reports_only_newcomers_in_the_given_order() {
    let (db, [ada, bob, cyd, dan]) = database_with(["ada", "bob", "cyd", "dan"]).await;
    let rooms = PgRooms::new(db.database.clone());
    let general = room("general", &ada.id, &[&bob.id]);
    rooms.create(&general).await.unwrap();

    let added = rooms
        .add_members(
            &general.id,
            &[
                dan.id.clone(),
                bob.id.clone(),
                cyd.id.clone(),
                dan.id.clone(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added, [dan.id.clone(), cyd.id.clone()]);
    assert_eq!(
        rooms
            .find(&general.id)
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        4
    );
    let unknown = rooms.add_members(&general.id, &[UserId::generate()]).await;
    assert_eq!(
        unknown.unwrap_err(),
        DomainError::invalid(Field::Members, Flaw::UnknownUser)
    );
}

#[tokio::test]
async fn removing_a_member_says_whether_they_were_one() {
    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let rooms = PgRooms::new(db.database.clone());
    let general = room("general", &ada.id, &[&bob.id]);
    rooms.create(&general).await.unwrap();
    assert!(rooms.remove_member(&general.id, &bob.id).await.unwrap());
    assert!(!rooms.remove_member(&general.id, &bob.id).await.unwrap());
    assert!(!rooms.is_member(&general.id, &bob.id).await.unwrap());
    assert!(rooms.list_for_member(&bob.id).await.unwrap().is_empty());
}
