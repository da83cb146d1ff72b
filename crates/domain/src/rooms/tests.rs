//! Room rules, with mocked ports.

use std::sync::Arc;

use chrono::Utc;

use super::{Rooms, RoomsPorts};
use crate::email::Email;
use crate::error::{Denial, DomainError, Missing};
use crate::events::RoomEvent;
use crate::id::{RoomId, UserId};
use crate::message::{Message, MessageContent, MessageText};
use crate::ports::{
    MockClock, MockMediaStore, MockMessageRepository, MockRoomRepository, MockUserRepository,
};
use crate::problem::{Field, Flaw, Problem};
use crate::recording_bus::RecordingBus;
use crate::room::{Room, RoomName};
use crate::user::User;
use crate::username::Username;

struct Harness {
    users: MockUserRepository,
    rooms: MockRoomRepository,
    messages: MockMessageRepository,
    media: MockMediaStore,
    bus: RecordingBus,
}

impl Harness {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            rooms: MockRoomRepository::new(),
            messages: MockMessageRepository::new(),
            media: MockMediaStore::new(),
            bus: RecordingBus::default(),
        }
    }

    fn knowing(mut self, accounts: &[User]) -> Self {
        let accounts = accounts.to_vec();
        let by_id = accounts.clone();
        self.users.expect_find_many().returning(move |ids| {
            Ok(accounts
                .iter()
                .filter(|u| ids.contains(&u.id))
                .cloned()
                .collect())
        });
        self.users
            .expect_find_by_id()
            .returning(move |id| Ok(by_id.iter().find(|u| &u.id == id).cloned()));
        self
    }

    fn with_room(mut self, room: &Room) -> Self {
        let found = room.clone();
        self.rooms
            .expect_find()
            .returning(move |id| Ok((id == &found.id).then(|| found.clone())));
        let members = room.clone();
        self.rooms
            .expect_is_member()
            .returning(move |id, user| Ok(id == &members.id && members.is_member(user)));
        self
    }

    fn build(self) -> (Rooms, RecordingBus) {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(Utc::now());
        let bus = self.bus.clone();
        let rooms = Rooms::new(RoomsPorts {
            users: Arc::new(self.users),
            rooms: Arc::new(self.rooms),
            messages: Arc::new(self.messages),
            media: Arc::new(self.media),
            events: Arc::new(self.bus),
            clock: Arc::new(clock),
        });
        (rooms, bus)
    }
}

fn person(name: &str) -> User {
    User::register(
        Email::parse(&format!("{name}@example.org")).unwrap(),
        Username::parse(name).unwrap(),
        true,
        Utc::now(),
    )
}

fn room_of(creator: &User, members: &[&User]) -> Room {
    Room::open(
        RoomName::parse("general").unwrap(),
        creator.id.clone(),
        members.iter().map(|m| m.id.clone()),
        Utc::now(),
    )
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    futures_executor::block_on(future)
}

#[test]
fn a_new_room_has_its_creator_as_a_member() {
    let (ada, bob) = (person("ada"), person("bob"));
    let mut h = Harness::new().knowing(&[ada.clone(), bob.clone()]);
    h.rooms.expect_create().times(1).returning(|_| Ok(()));
    let (rooms, _) = h.build();
    let room = run(rooms.create(
        &ada.id,
        RoomName::parse("general").unwrap(),
        vec![bob.id.clone()],
    ))
    .unwrap();
    assert_eq!(room.members, [ada.id.clone(), bob.id.clone()]);
    assert_eq!(room.creator, ada.id);
}

#[test]
fn unknown_invitees_are_listed_and_nothing_is_created() {
    let ada = person("ada");
    let ghosts = [UserId::generate(), UserId::generate()];
    let h = Harness::new().knowing(std::slice::from_ref(&ada));
    let (rooms, _) = h.build();
    let refused = run(rooms.create(
        &ada.id,
        RoomName::parse("general").unwrap(),
        ghosts.to_vec(),
    ))
    .unwrap_err();
    let unknown = |id: &UserId| Problem {
        field: Field::Members,
        flaw: Flaw::UnknownUserId(id.clone()),
    };
    assert_eq!(
        refused,
        DomainError::Invalid(vec![unknown(&ghosts[0]), unknown(&ghosts[1])])
    );
}

#[test]
fn strangers_see_nothing_and_unknown_rooms_are_not_found() {
    let (ada, eve) = (person("ada"), person("eve"));
    let room = room_of(&ada, &[]);
    let (rooms, _) = Harness::new()
        .knowing(&[ada.clone(), eve.clone()])
        .with_room(&room)
        .build();
    assert_eq!(
        run(rooms.room_for_member(&eve.id, &room.id)).unwrap_err(),
        DomainError::Forbidden(Denial::NotMember)
    );
    assert_eq!(
        run(rooms.history(&eve.id, &room.id, None, 10)).unwrap_err(),
        DomainError::Forbidden(Denial::NotMember)
    );
    assert_eq!(
        run(rooms.add_members(&eve.id, &room.id, vec![eve.id.clone()])).unwrap_err(),
        DomainError::Forbidden(Denial::NotMember)
    );
    assert_eq!(
        run(rooms.remove_member(&eve.id, &room.id, &ada.id)).unwrap_err(),
        DomainError::Forbidden(Denial::NotMember)
    );
    let unknown = RoomId::generate();
    assert_eq!(
        run(rooms.room_for_member(&ada.id, &unknown)).unwrap_err(),
        DomainError::NotFound(Missing::Room)
    );
}

#[test]
fn only_the_creator_adds_and_each_newcomer_is_announced_once() {
    let (ada, bob, cyd) = (person("ada"), person("bob"), person("cyd"));
    let room = room_of(&ada, &[&bob]);
    let mut h = Harness::new()
        .knowing(&[ada.clone(), bob.clone(), cyd.clone()])
        .with_room(&room);
    let newcomer = cyd.id.clone();
    h.rooms
        .expect_add_members()
        .times(1)
        .returning(move |_, _| Ok(vec![newcomer.clone()]));
    let (rooms, bus) = h.build();
    assert_eq!(
        run(rooms.add_members(&bob.id, &room.id, vec![cyd.id.clone()])).unwrap_err(),
        DomainError::Forbidden(Denial::NotCreatorToAdd)
    );
    run(rooms.add_members(&ada.id, &room.id, vec![bob.id.clone(), cyd.id.clone()])).unwrap();
    assert_eq!(
        bus.events(),
        [RoomEvent::MemberAdded {
            room: room.id.clone(),
            user: cyd.id.clone(),
            username: cyd.username.clone(),
        }]
    );
}

#[test]
fn members_leave_by_themselves_and_only_the_creator_removes_others() {
    let (ada, bob, cyd) = (person("ada"), person("bob"), person("cyd"));
    let room = room_of(&ada, &[&bob, &cyd]);
    let mut h = Harness::new()
        .knowing(&[ada.clone(), bob.clone(), cyd.clone()])
        .with_room(&room);
    h.rooms
        .expect_remove_member()
        .times(2)
        .returning(|_, _| Ok(true));
    let (rooms, bus) = h.build();

    assert_eq!(
        run(rooms.remove_member(&bob.id, &room.id, &cyd.id)).unwrap_err(),
        DomainError::Forbidden(Denial::NotCreatorToRemove)
    );
    run(rooms.remove_member(&bob.id, &room.id, &bob.id)).unwrap();
    run(rooms.remove_member(&ada.id, &room.id, &cyd.id)).unwrap();
    let notes: Vec<String> = bus
        .events()
        .iter()
        .filter_map(RoomEvent::notification)
        .collect();
    assert_eq!(
        notes,
        ["bob left the chat.", "cyd was removed from the chat."]
    );
    let outsider = UserId::generate();
    assert_eq!(
        run(rooms.remove_member(&ada.id, &room.id, &outsider)).unwrap_err(),
        DomainError::NotFound(Missing::RoomMember)
    );
}

#[test]
fn history_pages_are_capped_and_say_whether_older_messages_remain() {
    let ada = person("ada");
    let room = room_of(&ada, &[]);
    let mut h = Harness::new()
        .knowing(std::slice::from_ref(&ada))
        .with_room(&room);
    let (sender, room_id) = (ada.clone(), room.id.clone());
    h.messages.expect_page().returning(move |_, _, limit| {
        // Pretend the room holds 150 messages.
        Ok((0..limit.min(150))
            .map(|i| Message {
                id: crate::id::MessageId::generate(),
                room: room_id.clone(),
                sender: sender.id.clone(),
                sender_username: sender.username.clone(),
                content: MessageContent::Text(MessageText::parse(&format!("m{i}")).unwrap()),
                reply_to: None,
                created: Utc::now(),
                seq: u64::from(i) + 1,
            })
            .collect())
    });
    let (rooms, _) = h.build();
    let page = run(rooms.history(&ada.id, &room.id, None, 10)).unwrap();
    assert_eq!((page.messages.len(), page.has_older), (10, true));
    let page = run(rooms.history(&ada.id, &room.id, None, 1000)).unwrap();
    assert_eq!((page.messages.len(), page.has_older), (100, true));
    let page = run(rooms.history(&ada.id, &room.id, None, 0)).unwrap();
    assert_eq!(page.messages.len(), 1);
}

#[test]
fn a_members_history_needs_only_the_membership_lookup() {
    let ada = person("ada");
    let room = room_of(&ada, &[]);
    let mut h = Harness::new();
    h.rooms.expect_is_member().returning(|_, _| Ok(true));
    h.rooms.expect_find().never();
    h.messages.expect_page().returning(|_, _, _| Ok(vec![]));
    let (rooms, _) = h.build();
    let page = run(rooms.history(&ada.id, &room.id, None, 10)).unwrap();
    assert!(page.messages.is_empty() && !page.has_older);
}
