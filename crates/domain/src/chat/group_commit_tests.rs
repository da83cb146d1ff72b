//! Group commit, driven by hand: futures are polled in a chosen order, and the repository
//! holds its first insert open until the test lets it go.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::task::noop_waker;

use super::{Chat, ChatPolicy, ChatPorts, Draft, DraftContent, Sent};
use crate::email::Email;
use crate::error::{DomainError, DomainResult, Service};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId, UserId};
use crate::message::{Message, MessageContent, MessageCursor, NewMessage, Stored};
use crate::ports::{MessageRepository, MockClock, MockMediaStore};
use crate::problem::{Field, Flaw, Problem};
use crate::recording_bus::RecordingBus;
use crate::user::User;
use crate::username::Username;

/// Follows the repository contract in memory: numbers each room's messages from 1, answers
/// a `client_id` used before (in an earlier batch or earlier in this one) with that message,
/// and refuses rows whose text is "bad reply" without numbering them. Holds inserts open
/// while `held`, holds batch number `held_for_ever` (counting from 0) open for ever, and
/// fails batch number `failing` as a whole. Notes how many events `watched` had seen when
/// each insert was called.
#[derive(Default)]
struct Repository {
    held: AtomicBool,
    held_for_ever: Option<usize>,
    failing: Option<usize>,
    watched: Option<RecordingBus>,
    announced_at_insert: Mutex<Vec<usize>>,
    batches: Mutex<Vec<Vec<NewMessage>>>,
    history: Mutex<History>,
}

#[derive(Default)]
struct History {
    last_seq: HashMap<RoomId, u64>,
    by_client_id: HashMap<(RoomId, UserId, String), Message>,
}

#[async_trait]
impl MessageRepository for Repository {
    async fn insert_many(
        &self,
        rows: &[NewMessage],
        _: DateTime<Utc>,
    ) -> DomainResult<Vec<DomainResult<Stored>>> {
        let number = {
            let mut announced = self.announced_at_insert.lock().unwrap();
            announced.push(self.watched.as_ref().map_or(0, |bus| bus.events().len()));
            announced.len() - 1
        };
        std::future::poll_fn(|_| {
            if self.held.load(Ordering::SeqCst) || self.held_for_ever == Some(number) {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        self.batches.lock().unwrap().push(rows.to_vec());
        if self.failing == Some(number) {
            return Err(DomainError::Unavailable(Service::Database));
        }
        let mut history = self.history.lock().unwrap();
        Ok(rows.iter().map(|row| history.store(row)).collect())
    }
    async fn find(&self, _: &MessageId) -> DomainResult<Option<Message>> {
        Ok(None)
    }
    async fn page(
        &self,
        _: &RoomId,
        _: Option<MessageCursor>,
        _: u32,
    ) -> DomainResult<Vec<Message>> {
        Ok(Vec::new())
    }
    async fn after(&self, _: &RoomId, _: &MessageCursor, _: u32) -> DomainResult<Vec<Message>> {
        Ok(Vec::new())
    }
    async fn positions(&self, _: &[RoomId]) -> DomainResult<Vec<(RoomId, u64)>> {
        Ok(Vec::new())
    }
}

impl History {
    fn store(&mut self, row: &NewMessage) -> DomainResult<Stored> {
        let key = row
            .client_id
            .clone()
            .map(|client_id| (row.room.clone(), row.sender.clone(), client_id));
        if let Some(earlier) = key.as_ref().and_then(|key| self.by_client_id.get(key)) {
            return Ok(Stored::Earlier(earlier.clone()));
        }
        if matches!(&row.content, MessageContent::Text(text) if text.as_str() == "bad reply") {
            return Err(DomainError::invalid(Field::ReplyTo, Flaw::ReplyOutsideRoom));
        }
        let seq = self.last_seq.entry(row.room.clone()).or_default();
        *seq += 1;
        let message = Message {
            id: row.id.clone(),
            room: row.room.clone(),
            sender: row.sender.clone(),
            sender_username: Username::parse("ada").unwrap(),
            content: row.content.clone(),
            reply_to: None,
            created: row.created,
            seq: *seq,
        };
        if let Some(key) = key {
            self.by_client_id.insert(key, message.clone());
        }
        Ok(Stored::New(message))
    }
}

impl Repository {
    /// How many rows each insert was given, in order.
    fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().iter().map(Vec::len).collect()
    }
}

impl RecordingBus {
    fn texts(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|event| match event {
                RoomEvent::MessageStored {
                    message:
                        Message {
                            content: MessageContent::Text(text),
                            ..
                        },
                    ..
                } => text.as_str().to_owned(),
                other => panic!("unexpected event {other:?}"),
            })
            .collect()
    }
}

/// A chat over a fake repository, with one sender and the room the tests send to.
struct Fixture {
    repository: Arc<Repository>,
    chat: Arc<Chat>,
    bus: RecordingBus,
    sender: User,
    room: RoomId,
}

impl Fixture {
    fn new() -> Self {
        Self::over(Repository::default())
    }

    fn over(mut repository: Repository) -> Self {
        let bus = RecordingBus::default();
        repository.watched = Some(bus.clone());
        let repository = Arc::new(repository);
        let mut clock = MockClock::new();
        // A clock that never moves: order comes from the repository's numbering alone.
        clock.expect_now().return_const(Utc::now());
        let chat = Chat::new(
            ChatPorts {
                messages: repository.clone(),
                media: Arc::new(MockMediaStore::new()),
                events: Arc::new(bus.clone()),
                clock: Arc::new(clock),
            },
            ChatPolicy::default(),
        );
        let sender = User::register(
            Email::parse("ada@example.org").unwrap(),
            Username::parse("ada").unwrap(),
            true,
            Utc::now(),
        );
        Self {
            repository,
            chat: Arc::new(chat),
            bus,
            sender,
            room: RoomId::generate(),
        }
    }

    /// A send of `text` to the fixture's room, not polled yet.
    fn send(&self, text: &str) -> Sending {
        self.send_to(&self.room, text, None)
    }

    fn send_to(&self, room: &RoomId, text: &str, client_id: Option<&str>) -> Sending {
        let (chat, sender, room) = (self.chat.clone(), self.sender.clone(), room.clone());
        let draft = Draft {
            content: DraftContent::Text(text.into()),
            reply_to: None,
            client_id: client_id.map(str::to_owned),
        };
        Box::pin(async move { chat.send(&sender, &room, draft).await })
    }

    /// Starts sending "first", held inside its insert, and queues `later` behind it; then
    /// lets inserts through.
    fn behind_a_held_commit(&self, mut later: Vec<Sending>) -> (Sending, Vec<Sending>) {
        self.repository.held.store(true, Ordering::SeqCst);
        let mut first = self.send("first");
        assert!(
            poll(&mut first).is_pending(),
            "the first send is held in its insert"
        );
        for sending in &mut later {
            assert!(
                poll(sending).is_pending(),
                "a later send waits for its answer"
            );
        }
        self.repository.held.store(false, Ordering::SeqCst);
        (first, later)
    }
}

type Sending = Pin<Box<dyn Future<Output = DomainResult<Sent>>>>;

fn poll(sending: &mut Sending) -> Poll<DomainResult<Sent>> {
    sending
        .as_mut()
        .poll(&mut Context::from_waker(&noop_waker()))
}

/// Polls `sending` until it finishes (everything it waits for is already free).
fn finish(mut sending: Sending) -> DomainResult<Sent> {
    for _ in 0..100 {
        if let Poll::Ready(answer) = poll(&mut sending) {
            return answer;
        }
    }
    panic!("the send never finished");
}

/// Finishes `first`, then each of `later`, all successfully.
fn finish_in_order(first: Sending, later: Vec<Sending>) -> Vec<Sent> {
    std::iter::once(first)
        .chain(later)
        .map(|sending| finish(sending).unwrap())
        .collect()
}

#[test]
fn sends_queued_behind_a_commit_share_the_next_one_and_keep_their_order() {
    let f = Fixture::new();
    let (first, later) = f.behind_a_held_commit(vec![f.send("second"), f.send("third")]);

    let answers = finish_in_order(first, later);
    assert_eq!(
        f.repository.batch_sizes(),
        [1, 2],
        "the two queued sends were stored by one insert"
    );
    assert_eq!(f.bus.texts(), ["first", "second", "third"]);
    assert!(answers.iter().all(|sent| !sent.duplicate));
    let seqs: Vec<u64> = answers.iter().map(|sent| sent.message.seq).collect();
    assert_eq!(seqs, [1, 2, 3], "answers carry the seqs of commit order");
}

#[test]
fn a_queue_longer_than_a_batch_is_stored_in_full_batches_in_order() {
    let f = Fixture::new();
    let count = 2 * super::send_queue::MAX_BATCH + 3;
    let texts: Vec<String> = (0..count).map(|n| format!("m{n}")).collect();
    let (first, later) = f.behind_a_held_commit(texts.iter().map(|t| f.send(t)).collect());

    let answers = finish_in_order(first, later);
    let max = super::send_queue::MAX_BATCH;
    assert_eq!(f.repository.batch_sizes(), [1, max, max, 3]);
    let seqs: Vec<u64> = answers.iter().map(|sent| sent.message.seq).collect();
    assert_eq!(seqs, (1..=count as u64 + 1).collect::<Vec<_>>());
    assert_eq!(f.bus.texts()[1..], texts[..]);
}

#[test]
fn the_next_batch_is_inserted_before_the_batch_before_it_is_announced() {
    let f = Fixture::new();
    let (first, later) = f.behind_a_held_commit(vec![f.send("second"), f.send("third")]);

    finish_in_order(first, later);
    assert_eq!(f.repository.batch_sizes(), [1, 2]);
    assert_eq!(
        *f.repository.announced_at_insert.lock().unwrap(),
        [0, 0],
        "the second insert went out before \"first\" was announced"
    );
    assert_eq!(f.bus.texts(), ["first", "second", "third"]);
}

#[test]
fn a_leader_dropped_while_committing_answers_every_send_and_announces_what_was_committed() {
    let f = Fixture::over(Repository {
        held_for_ever: Some(1),
        ..Repository::default()
    });
    let (mut first, later) = f.behind_a_held_commit(vec![f.send("second"), f.send("third")]);
    assert!(
        poll(&mut first).is_pending(),
        "\"first\" is committed, the next batch held in its insert"
    );
    drop(first);

    assert_eq!(f.bus.texts(), ["first"], "what was committed is announced");
    for sending in later {
        assert!(matches!(
            finish(sending),
            Err(DomainError::Unavailable(Service::Database))
        ));
    }
}

#[test]
fn sends_to_different_rooms_share_a_commit_and_keep_each_rooms_order() {
    let f = Fixture::new();
    let there = RoomId::generate();
    let later = vec![
        f.send_to(&there, "there 1", None),
        f.send("here 2"),
        f.send_to(&there, "there 2", None),
    ];
    let (first, later) = f.behind_a_held_commit(later);
    let answers = finish_in_order(first, later);

    assert_eq!(
        f.repository.batch_sizes(),
        [1, 3],
        "one insert for both rooms"
    );
    assert_eq!(f.bus.texts(), ["first", "there 1", "here 2", "there 2"]);
    let seqs: Vec<u64> = answers.iter().map(|sent| sent.message.seq).collect();
    assert_eq!(
        seqs,
        [1, 1, 2, 2],
        "each room numbered on its own, in batch order"
    );
}

#[test]
fn a_client_id_used_twice_in_one_batch_is_stored_once() {
    let f = Fixture::new();
    let room = f.room.clone();
    let twice = vec![
        f.send_to(&room, "hello", Some("c-1")),
        f.send_to(&room, "hello", Some("c-1")),
    ];
    let (first, later) = f.behind_a_held_commit(twice);
    let answers = finish_in_order(first, later);

    let (original, retry) = (&answers[1], &answers[2]);
    assert!(!original.duplicate);
    assert!(retry.duplicate);
    assert_eq!(retry.message.id, original.message.id);
    assert_eq!(
        f.repository.batch_sizes(),
        [1, 2],
        "the repository, not the domain, recognises the twin"
    );
    assert_eq!(
        f.bus.texts(),
        ["first", "hello"],
        "a retry is not announced"
    );
}

#[test]
fn a_failed_commit_fails_every_send_in_it_and_announces_none() {
    let f = Fixture::over(Repository {
        failing: Some(1),
        ..Repository::default()
    });
    let (first, later) = f.behind_a_held_commit(vec![f.send("second"), f.send("third")]);
    finish(first).unwrap();
    for sending in later {
        assert!(matches!(
            finish(sending),
            Err(DomainError::Unavailable(Service::Database))
        ));
    }
    assert_eq!(f.bus.texts(), ["first"]);
}

#[test]
fn a_refused_reply_leaves_the_rest_of_its_batch_stored() {
    let f = Fixture::new();
    let (first, later) = f.behind_a_held_commit(vec![f.send("bad reply"), f.send("third")]);
    finish(first).unwrap();
    let mut later = later.into_iter();
    assert!(matches!(
        finish(later.next().unwrap()),
        Err(DomainError::Invalid(problems)) if problems == [Problem {
            field: Field::ReplyTo,
            flaw: Flaw::ReplyOutsideRoom,
        }]
    ));
    finish(later.next().unwrap()).unwrap();
    assert_eq!(f.bus.texts(), ["first", "third"]);
}

#[test]
fn a_dropped_leader_hands_the_room_to_the_next_sender() {
    let f = Fixture::new();
    f.repository.held.store(true, Ordering::SeqCst);
    let mut first = f.send("first");
    assert!(poll(&mut first).is_pending());
    let mut later = [f.send("second"), f.send("third")];
    for sending in &mut later {
        assert!(poll(sending).is_pending());
    }
    drop(first);
    f.repository.held.store(false, Ordering::SeqCst);

    for sending in later {
        finish(sending).unwrap();
    }
    assert_eq!(f.bus.texts(), ["second", "third"]);
}

#[test]
fn a_send_given_up_while_waiting_is_not_stored() {
    let f = Fixture::new();
    let (first, later) = f.behind_a_held_commit(vec![f.send("second"), f.send("third")]);
    let mut later = later.into_iter();
    drop(later.next());
    finish(first).unwrap();
    finish(later.next().unwrap()).unwrap();
    assert_eq!(f.bus.texts(), ["first", "third"]);
}

#[test]
fn a_client_id_retried_in_a_later_batch_answers_the_stored_message_unannounced() {
    let f = Fixture::new();
    let room = f.room.clone();
    let original = finish(f.send_to(&room, "hello", Some("c-1"))).unwrap();
    let retry = finish(f.send_to(&room, "hello", Some("c-1"))).unwrap();

    assert!(!original.duplicate && retry.duplicate);
    assert_eq!(retry.message, original.message);
    assert_eq!(f.bus.texts(), ["hello"], "a retry is not announced");
}

impl Fixture {
    /// `text` prepared and submitted (queued) at once; when answered, the teller notes
    /// how many messages had been announced by then.
    fn submit_told(&self, text: &str, told: &Arc<Mutex<Vec<(String, usize)>>>) -> Sending {
        let draft = Draft {
            content: DraftContent::Text(text.into()),
            reply_to: None,
            client_id: None,
        };
        let mut preparing: Pin<Box<dyn Future<Output = _>>> =
            Box::pin(self.chat.prepare_send(&self.sender, &self.room, draft));
        let Poll::Ready(Ok(ready)) = preparing
            .as_mut()
            .poll(&mut Context::from_waker(&noop_waker()))
        else {
            panic!("a text needs nothing to be prepared");
        };
        let (told, bus, text) = (told.clone(), self.bus.clone(), text.to_owned());
        let ready = ready.tell(move |_| told.lock().unwrap().push((text, bus.events().len())));
        Box::pin(self.chat.submit(ready))
    }
}

#[test]
fn sends_submitted_one_after_another_commit_in_that_order_whichever_is_polled_first() {
    // One connection with several sends in flight: each is queued when submitted.
    let f = Fixture::new();
    let told = Arc::default();
    f.repository.held.store(true, Ordering::SeqCst);
    let mut answers: Vec<Sending> = ["one", "two", "three"]
        .into_iter()
        .map(|text| f.submit_told(text, &told))
        .collect();
    // Polled last first: the queue still holds them in the order they were submitted.
    for answer in answers.iter_mut().rev() {
        assert!(poll(answer).is_pending(), "held in the insert");
    }
    f.repository.held.store(false, Ordering::SeqCst);
    let answers: Vec<Sent> = answers.into_iter().map(|a| finish(a).unwrap()).collect();
    assert_eq!(f.bus.texts(), ["one", "two", "three"]);
    let seqs: Vec<u64> = answers.iter().map(|sent| sent.message.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[test]
fn each_send_is_told_its_answer_before_a_later_message_is_announced() {
    let f = Fixture::new();
    let told = Arc::default();
    f.repository.held.store(true, Ordering::SeqCst);
    let answers: Vec<Sending> = ["a", "bad reply", "c"]
        .into_iter()
        .map(|text| f.submit_told(text, &told))
        .collect();
    f.repository.held.store(false, Ordering::SeqCst);
    let results: Vec<bool> = answers.into_iter().map(|a| finish(a).is_ok()).collect();
    assert_eq!(results, [true, false, true]);
    assert_eq!(f.repository.batch_sizes(), [3], "one commit");
    // "a" is told once it is announced, the refusal before "c" is announced.
    let told = told.lock().unwrap().clone();
    let expected = [("a", 1), ("bad reply", 1), ("c", 2)].map(|(t, n)| (t.to_owned(), n));
    assert_eq!(told, expected);
}
