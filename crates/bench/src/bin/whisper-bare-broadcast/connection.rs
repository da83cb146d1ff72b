//! One socket: this task reads frames and broadcasts chat messages; a writer task drains the
//! socket's queue, so a client that does not read never holds up the others.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use serde_json::{Value, json};

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
                    if let Some(frame) = chat_message(&text) {
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

/// `{"message_type":"message","message":T}` → `{"type":"chat.message","text_content":T}`,
/// serialized once for every recipient.
fn chat_message(text: &str) -> Option<ByteString> {
    let command: Value = serde_json::from_str(text).ok()?;
    if command["message_type"] != "message" {
        return None;
    }
    let text = command["message"].as_str()?;
    let frame = json!({"type": "chat.message", "text_content": text}).to_string();
    Some(ByteString::from(frame))
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
