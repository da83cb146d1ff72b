//! What goes to connections: room events serialized once into frames shared by every
//! recipient, and the rules for queuing them (messages must not be lost, typing and
//! presence may be).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytestring::ByteString;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};
use whisper_domain::{Message, RoomEvent, UserId};
use whisper_http::PublicUrl;

use crate::frames::{message_body, message_frame, notification_frame, typing_frame};
use crate::hub::{CLOSE_REMOVED, Connection};
use crate::socket_metrics;

/// A frame on its way to one connection. Frames are serialized once and shared: cloning
/// one per recipient only counts a reference.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A `chat.message`.
    Message(Arc<MessageFrame>),
    /// Any other frame (behind a pointer: the queue's slots stay small, and each idle
    /// connection's queue allocates a block of them).
    Frame(Arc<ByteString>),
    /// Close the connection with this code.
    Close(u16),
}

impl Outgoing {
    /// A frame of `text`.
    pub fn frame(text: String) -> Self {
        Self::Frame(Arc::new(text.into()))
    }
}

/// A serialized `chat.message` with its place in the room's history (to skip replayed ones).
#[derive(Debug)]
pub struct MessageFrame {
    /// The frame as sent.
    pub frame: ByteString,
    /// The message's `seq` in its room.
    pub seq: u64,
    /// When the message was stored, for the delivery latency.
    pub created: DateTime<Utc>,
}

/// Tells a connection's writer it fell behind.
#[derive(Debug, Default)]
pub struct Overflow {
    overflowed: AtomicBool,
    /// Woken when `overflowed` is set.
    pub wake: Notify,
}

impl Overflow {
    /// Whether the connection could not take a message.
    pub fn happened(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    fn signal(&self) {
        self.overflowed.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// An event as frames, shared by every recipient.
#[derive(Debug)]
pub(crate) enum Frames {
    Message {
        everyone: Arc<MessageFrame>,
        sender_copy: Option<Arc<MessageFrame>>,
        sender: UserId,
    },
    Typing {
        frame: Arc<ByteString>,
        typist: UserId,
    },
    Membership {
        frame: Arc<ByteString>,
        removed: Option<UserId>,
    },
}

/// The frames of `event`; `None` for events no connection is shown.
pub(crate) fn frames_of(event: &RoomEvent, public_url: &PublicUrl) -> Option<Frames> {
    Some(match event {
        RoomEvent::MessageStored { message, client_id } => {
            message_frames(message, client_id.as_deref(), public_url)
        }
        RoomEvent::Typing {
            user,
            username,
            typing,
            ..
        } => Frames::Typing {
            frame: Arc::new(typing_frame(username.as_str(), *typing).into()),
            typist: user.clone(),
        },
        RoomEvent::MemberAdded { .. } | RoomEvent::MemberRemoved { .. } => Frames::Membership {
            frame: Arc::new(notification_frame(&event.notification()?).into()),
            removed: match event {
                RoomEvent::MemberRemoved { user, .. } => Some(user.clone()),
                _ => None,
            },
        },
        RoomEvent::PresenceChanged { .. } => return None,
    })
}

/// The frames of a stored message; its sender's copy carries `client_id`.
pub(crate) fn message_frames(
    message: &Message,
    client_id: Option<&str>,
    public_url: &PublicUrl,
) -> Frames {
    let body = message_body(message, public_url);
    let shared = |client_id| {
        Arc::new(MessageFrame {
            frame: message_frame(&body, client_id).into(),
            seq: message.seq,
            created: message.created,
        })
    };
    Frames::Message {
        everyone: shared(None),
        sender_copy: client_id.map(|id| shared(Some(id))),
        sender: message.sender.clone(),
    }
}

impl Frames {
    /// Queues the frames to each of `connections` whose queues hold `capacity` frames.
    pub(crate) fn offer(&self, connections: &[Connection], capacity: usize) {
        match self {
            Self::Message {
                everyone,
                sender_copy,
                sender,
            } => {
                for connection in connections {
                    let frame = match sender_copy {
                        Some(own) if &connection.user == sender => own,
                        _ => everyone,
                    };
                    offer(connection, Outgoing::Message(frame.clone()));
                }
            }
            Self::Typing { frame, typist } => {
                for connection in connections.iter().filter(|c| &c.user != typist) {
                    offer_droppable(connection, Outgoing::Frame(frame.clone()), capacity);
                }
            }
            Self::Membership { frame, removed } => {
                for connection in connections {
                    offer(connection, Outgoing::Frame(frame.clone()));
                }
                // After the notification, so the removed member reads it before the close.
                for connection in connections
                    .iter()
                    .filter(|c| Some(&c.user) == removed.as_ref())
                {
                    offer(connection, Outgoing::Close(CLOSE_REMOVED));
                }
            }
        }
    }
}

/// Queues a frame that must not be lost: a connection that cannot take it is closed.
pub(crate) fn offer(connection: &Connection, outgoing: Outgoing) {
    match connection.sender.try_send(outgoing) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        Err(mpsc::error::TrySendError::Full(_)) => connection.overflow.signal(),
    }
}

/// Typing and presence frames go only while the queue is at most half full, keeping
/// room for messages.
pub(crate) fn offer_droppable(connection: &Connection, outgoing: Outgoing, capacity: usize) {
    let queued = connection.sender.capacity() * 2 > capacity
        && !matches!(
            connection.sender.try_send(outgoing),
            Err(mpsc::error::TrySendError::Full(_))
        );
    if !queued {
        socket_metrics::frame_dropped();
    }
}
