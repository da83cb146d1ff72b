//! The chat use case: members sending messages, replies and media, and typing. A message
//! is committed before anyone hears of it, and a room's messages are committed and
//! announced in one order.

mod group_commit;
#[cfg(test)]
mod group_commit_tests;
mod send_queue;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Missing, Rejection};
use crate::events::RoomEvent;
use crate::id::{MessageId, RoomId};
use crate::media_kinds::sniff;
use crate::message::{
    MediaKey, MediaKind, MediaRef, Message, MessageContent, MessageCursor, MessageText,
};
use crate::ports::{Clock, EventBus, MediaStore, MessageRepository};
use crate::problem::{Field, Flaw};
use crate::user::User;
use group_commit::Committed;
use send_queue::{QueuedSend, SendQueue, Woken};

/// How long a `client_id` identifies a send: a retry within this window is not stored again.
pub const CLIENT_ID_WINDOW_HOURS: i64 = 24;
/// The longest `client_id` accepted.
pub const CLIENT_ID_MAX: usize = 64;
/// How many messages one replay query reads.
const REPLAY_BATCH: u32 = 500;

/// The ports the chat use case needs.
#[derive(Clone)]
pub struct ChatPorts {
    /// Message history.
    pub messages: Arc<dyn MessageRepository>,
    /// Media files.
    pub media: Arc<dyn MediaStore>,
    /// Where messages and typing are announced.
    pub events: Arc<dyn EventBus>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Limits of the chat rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatPolicy {
    /// The largest media file accepted, in bytes.
    pub media_max_bytes: usize,
}

impl Default for ChatPolicy {
    fn default() -> Self {
        Self {
            media_max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What a member wants to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftContent {
    /// Text, as typed.
    Text(String),
    /// Media bytes of the declared kind.
    Media {
        /// The kind the sender says it is.
        kind: MediaKind,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// A message about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// What is said.
    pub content: DraftContent,
    /// The message it answers, in the same room.
    pub reply_to: Option<MessageId>,
    /// The sender's own id for it, to make retries harmless.
    pub client_id: Option<String>,
}

/// A checked draft whose media is stored, ready for [`Chat::submit`].
pub struct ReadySend(Arc<QueuedSend>);

impl ReadySend {
    /// Calls `teller` with the send's answer the moment its commit gives it, in commit
    /// order: before any later send's message is announced. A connection answers its
    /// client this way, so a refusal or a retried send's echo arrives in the order the
    /// commands were sent, among the messages that commit announces.
    pub fn tell(self, teller: impl FnOnce(&DomainResult<Sent>) + Send + 'static) -> Self {
        self.0.tell(Box::new(teller));
        self
    }
}

impl std::fmt::Debug for ReadySend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadySend").finish_non_exhaustive()
    }
}

/// The outcome of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The stored message.
    pub message: Message,
    /// True when the `client_id` was used before: nothing new was stored or announced.
    pub duplicate: bool,
}

/// Sending and reading messages in rooms the caller belongs to. Membership is checked by
/// the caller (the connection was admitted for a member). Concurrent sends share commits,
/// whatever their rooms (see `send_queue` and `group_commit`).
pub struct Chat {
    ports: ChatPorts,
    policy: ChatPolicy,
    queue: SendQueue,
}

impl Chat {
    /// The use case over `ports`, following `policy`.
    pub fn new(ports: ChatPorts, policy: ChatPolicy) -> Self {
        Self {
            ports,
            policy,
            queue: SendQueue::default(),
        }
    }

    /// Stores `draft` from `sender` in `room` and announces it. The caller may lead the
    /// commits of everyone else's sends meanwhile, until none is left (see `lead`).
    pub async fn send(&self, sender: &User, room: &RoomId, draft: Draft) -> DomainResult<Sent> {
        let ready = self.prepare_send(sender, room, draft).await?;
        let leads = self.queue.push(ready.0.clone());
        self.answer_of(&ready.0, leads).await
    }

    /// The first half of a send: checks `draft` and stores its media, so that
    /// [`Chat::submit`] only has to queue it.
    pub async fn prepare_send(
        &self,
        sender: &User,
        room: &RoomId,
        draft: Draft,
    ) -> DomainResult<ReadySend> {
        if let Some(client_id) = &draft.client_id
            && (client_id.is_empty() || client_id.chars().count() > CLIENT_ID_MAX)
        {
            return Err(DomainError::invalid(Field::ClientId, Flaw::ClientIdLength));
        }
        let content = match self.prepare(draft.content)? {
            Prepared::Text(text) => MessageContent::Text(text),
            Prepared::Media { media, bytes } => {
                // The file is durable before the message that points to it commits.
                self.ports.media.put(&media.key, &bytes).await?;
                MessageContent::Media(media)
            }
        };
        Ok(ReadySend(Arc::new(QueuedSend::new(
            room.clone(),
            sender.id.clone(),
            content,
            draft.reply_to,
            draft.client_id,
        ))))
    }

    /// The second half: queues `ready` for commit now, before returning, so sends
    /// submitted one after another are committed (and numbered) in that order; the future
    /// is its answer, given when it leads once nothing is left to commit (a caller that
    /// must not wait that long hears the answer through [`ReadySend::tell`]). A caller may
    /// hold many at once: that is how one connection keeps several sends in flight.
    /// Dropped before it is answered, the send is withdrawn.
    pub fn submit(
        self: &Arc<Self>,
        ready: ReadySend,
    ) -> impl Future<Output = DomainResult<Sent>> + Send + 'static {
        let leads = self.queue.push(ready.0.clone());
        let chat = self.clone();
        async move { chat.answer_of(&ready.0, leads).await }
    }

    /// Waits for `send`'s answer, leading commits whenever it is its turn.
    async fn answer_of(&self, send: &Arc<QueuedSend>, mut leads: bool) -> DomainResult<Sent> {
        let mut waiting = Withdrawn {
            queue: &self.queue,
            send,
            answered: false,
        };
        loop {
            if leads {
                self.lead().await;
            }
            match send.woken().await {
                Woken::Answered(answer) => {
                    waiting.answered = true;
                    return *answer;
                }
                Woken::Leaderless => leads = self.queue.claim(send),
            }
        }
    }

    /// Commits the waiting sends, batch after batch, until none is left (the leader's own
    /// is among them); then whoever queues next leads. Each batch's insert goes out before
    /// the batch before it is announced, so the database is not left idle meanwhile.
    async fn lead(&self) {
        let _leadership = Leadership(&self.queue);
        let mut committed: Option<Committed> = None;
        loop {
            let batch = self.queue.next_batch();
            committed = match (committed.take(), batch.is_empty()) {
                (None, true) => break,
                (Some(done), true) => {
                    done.announce(&self.ports);
                    None
                }
                (None, false) => Some(group_commit::store(&self.ports, batch).await),
                (Some(done), false) => {
                    let storing = group_commit::store(&self.ports, batch);
                    Some(group_commit::overlapped(storing, || done.announce(&self.ports)).await)
                }
            };
        }
    }

    /// Announces that `user` started or stopped typing in `room`.
    pub fn typing(&self, user: &User, room: &RoomId, typing: bool) {
        self.ports.events.publish(RoomEvent::Typing {
            room: room.clone(),
            user: user.id.clone(),
            username: user.username.clone(),
            typing,
        });
    }

    /// Where the room's history stands after message `since`: `NotFound`
    /// (`unknown_message`) when it is not a message of this room.
    pub async fn resume_point(
        &self,
        room: &RoomId,
        since: &MessageId,
    ) -> DomainResult<MessageCursor> {
        match self.ports.messages.find(since).await? {
            Some(message) if &message.room == room => Ok(message.cursor()),
            _ => Err(DomainError::NotFound(Missing::MessageInRoom)),
        }
    }

    /// The next messages committed after `after`, oldest first (an empty batch: caught up).
    pub async fn replay(&self, room: &RoomId, after: &MessageCursor) -> DomainResult<Vec<Message>> {
        self.ports.messages.after(room, after, REPLAY_BATCH).await
    }

    fn prepare(&self, content: DraftContent) -> DomainResult<Prepared> {
        match content {
            DraftContent::Text(text) => Ok(Prepared::Text(MessageText::parse(&text)?)),
            DraftContent::Media { kind, bytes } => {
                if bytes.len() > self.policy.media_max_bytes {
                    return Err(DomainError::Rejected(Rejection::MediaTooLarge {
                        max_bytes: self.policy.media_max_bytes,
                    }));
                }
                let content_type = sniff(kind, &bytes).ok_or_else(|| {
                    DomainError::invalid(Field::Media, Flaw::MediaFormatUnsupported(kind))
                })?;
                let media = MediaRef {
                    kind,
                    key: MediaKey::generate(),
                    content_type: content_type.to_owned(),
                    size: bytes.len() as u64,
                };
                Ok(Prepared::Media { media, bytes })
            }
        }
    }
}

enum Prepared {
    Text(MessageText),
    Media { media: MediaRef, bytes: Vec<u8> },
}

/// Ends a leadership however `lead` ends, returning or dropped: the lead is handed over.
struct Leadership<'a>(&'a SendQueue);

impl Drop for Leadership<'_> {
    fn drop(&mut self) {
        self.0.hand_over();
    }
}

/// A send whose sender went away before its answer leaves the queue.
struct Withdrawn<'a> {
    queue: &'a SendQueue,
    send: &'a Arc<QueuedSend>,
    answered: bool,
}

impl Drop for Withdrawn<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.queue.withdraw(self.send);
        }
    }
}
