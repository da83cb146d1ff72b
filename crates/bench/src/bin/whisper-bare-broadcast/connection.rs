//! One socket: this task reads frames and broadcasts chat messages; a writer task drains the
//! socket's queue, so a client that does not read never holds up the others.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use whisper_wire::{ClientCommand, MessageBody, MessageEvent, ServerEvent, TextMessage};

use crate::rooms::{Queue, Rooms};

/// How long a closing handshake may wait for a client that does not read.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves the socket until either side closes it.
pub async fn serve(
    rooms: Arc<Rooms>,
    room: String,
    mut session: Session,
    mut stream: AggregatedMessageStream,
) {
    let (membership, queue) = rooms.join(&room);
    let writer = actix_web::rt::spawn(write(session.clone(), queue));
    let mut writer = std::pin::pin!(writer);
    loop {
        tokio::select! {
            frame = stream.recv() => match frame {
                Some(Ok(AggregatedMessage::Text(text))) => {
                    if let Some(frame) = chat_message(&room, &text) {
                        rooms.broadcast(&room, &frame);
                    }
                }
                Some(Ok(AggregatedMessage::Ping(payload))) => {
                    if session.pong(&payload).await.is_err() {
                        break;
                    }
                }
                Some(Ok(AggregatedMessage::Binary(_) | AggregatedMessage::Pong(_))) => {}
                Some(Ok(AggregatedMessage::Close(_)) | Err(_)) | None => break,
            },
            // The writer gave up (closed socket or overflow): nothing left to serve.
            _ = &mut writer => return,
        }
    }
    // Leaving the room ends the queue; the writer sends what is left, then the close frame.
    drop(membership);
    let _ = writer.await;
}

/// A `message` command → a `chat.message` event of the real server's shape, with what this
/// server knows (no id, seq, sender or time: it stores nothing and asks nobody who they are),
/// serialized once for every recipient.
fn chat_message(room: &str, text: &str) -> Option<ByteString> {
    let ClientCommand::Message(TextMessage { message, .. }) = serde_json::from_str(text).ok()?
    else {
        return None;
    };
    let event = ServerEvent::Message(Box::new(MessageEvent {
        message: MessageBody {
            id: String::new(),
            seq: 0,
            message_format: "text".to_owned(),
            text_content: Some(message),
            media_url: None,
            media_content_type: None,
            media_size: None,
            is_reply: false,
            previous_message_id: None,
            previous_message_content: None,
            previous_sender: None,
            sender: String::new(),
            username: String::new(),
            room: room.to_owned(),
            created: String::new(),
            date: String::new(),
            time: String::new(),
        },
        client_id: None,
    }));
    serde_json::to_string(&event).ok().map(ByteString::from)
}

/// Drains the queue into the socket; closes it when the queue ends, or with 1013 when the
/// socket fell behind.
async fn write(mut session: Session, mut queue: Queue) {
    loop {
        let frame = tokio::select! {
            biased;
            () = queue.overflow.notified() => return give_up(session).await,
            frame = queue.frames.recv() => frame,
        };
        let Some(frame) = frame else {
            let _ = tokio::time::timeout(CLOSE_GRACE, session.close(None)).await;
            return;
        };
        // A client that stops reading blocks this send; an overflow must still end it.
        let sent = tokio::select! {
            biased;
            () = queue.overflow.notified() => return give_up(session).await,
            sent = session.text(frame) => sent,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Closes with 1013 (try again later), dropping whatever is still queued.
async fn give_up(session: Session) {
    let reason = CloseReason {
        code: CloseCode::Again,
        description: None,
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, session.close(Some(reason))).await;
}
