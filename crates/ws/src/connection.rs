//! One socket: a reader task turning frames into commands, and a writer task draining the
//! connection's queue, so sending never waits for a slow reader and vice versa.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use tokio::sync::{mpsc, watch};
use whisper_domain::ports::{Clock, Quotas};
use whisper_domain::{Accounts, Chat, DomainError, MessageId, Missing, RoomId, Rooms, User};
use whisper_http::PublicUrl;

use crate::frames::{error_frame, error_of, message_body, message_frame, parse_binary, parse_text};
use crate::hub::{CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_REMOVED, CLOSE_TRY_AGAIN_LATER, Hub};
use crate::in_flight::InFlight;
use crate::outgoing::{Outgoing, Overflow};
use crate::send_limit::SendLimit;
use crate::settings::WsSettings;

/// Everything a connection needs.
pub struct Connection {
    /// The hub it joins.
    pub hub: Arc<Hub>,
    /// Sending messages.
    pub chat: Arc<Chat>,
    /// Checking the session is still live.
    pub accounts: Arc<Accounts>,
    /// Checking the user is still a member.
    pub rooms: Arc<Rooms>,
    /// Who is connected.
    pub user: User,
    /// The access token it connected with.
    pub access_token: String,
    /// The room.
    pub room: RoomId,
    /// Resume after this message (`?since=`, as the client sent it).
    pub since: Option<String>,
    /// Tunables.
    pub settings: WsSettings,
    /// For media URLs in replayed messages.
    pub public_url: PublicUrl,
    /// The time, for the send rate.
    pub clock: Arc<dyn Clock>,
    /// Send budgets shared by every instance, when several run.
    pub quotas: Option<Arc<dyn Quotas>>,
}

impl Connection {
    /// Serves the socket until either side closes it.
    pub async fn run(self, mut session: Session, mut stream: AggregatedMessageStream) {
        let mut draining = self.hub.draining();
        if *draining.borrow() {
            let going_away = session.close(Some(close(CLOSE_GOING_AWAY)));
            let _ = tokio::time::timeout(CLOSE_GRACE, going_away).await;
            return;
        }
        let claims = self.accounts.access_claims(&self.access_token);
        let (mut registration, queue) = self.hub.join(&self.room, &self.user.id, claims);
        registration.started().await;
        // Boxed, like `handle` below: an idle connection's task keeps only the loop's state,
        // not the largest of the futures it may await.
        let seam = match Box::pin(self.replay(&mut session)).await {
            Ok(seam) => seam,
            Err(()) => return,
        };
        let (stop, stopped) = watch::channel(None);
        let writer = actix_web::rt::spawn(write(
            session.clone(),
            queue,
            registration.overflow.clone(),
            seam,
            stopped,
        ));
        let own = registration.sender.clone();
        let mut in_flight = InFlight::new(self.settings.max_in_flight, own.clone());
        let mut limiter = SendLimit::new(
            self.settings.send_rate,
            self.quotas.clone(),
            self.clock.now(),
        );
        let mut pings = tokio::time::interval(self.settings.ping_interval);
        pings.tick().await;
        let mut revocation = tokio::time::interval(self.settings.revocation_check);
        revocation.tick().await;
        let mut unanswered_pings = 0u8;
        let mut writer = std::pin::pin!(writer);
        // The writer's last frame once the reader stops: none, or a code.
        let mut close_with = None;
        loop {
            tokio::select! {
                // Reads on while earlier sends commit, up to `max_in_flight` of them.
                frame = stream.recv(), if in_flight.may_read() => match frame {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        let command = parse_text(&text);
                        Box::pin(self.handle(command, &mut limiter, &mut in_flight)).await;
                    }
                    Some(Ok(AggregatedMessage::Binary(bytes))) => {
                        let command = parse_binary(&bytes);
                        Box::pin(self.handle(command, &mut limiter, &mut in_flight)).await;
                    }
                    Some(Ok(AggregatedMessage::Ping(payload))) => {
                        if !matches!(tokio::time::timeout(CLOSE_GRACE, session.pong(&payload)).await, Ok(Ok(()))) {
                            break;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => unanswered_pings = 0,
                    Some(Ok(AggregatedMessage::Close(reason))) => {
                        // RFC 6455 §5.5.1: the reply carries the code received (none for none).
                        close_with = reason.map(|reason| close(reason.code.into()));
                        break;
                    }
                    None => break,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "websocket protocol error");
                        close_with = Some(close(CLOSE_TOO_BIG));
                        break;
                    }
                },
                _ = pings.tick() => {
                    if unanswered_pings >= 2 {
                        tracing::debug!("no pong twice; dropping the connection");
                        break;
                    }
                    unanswered_pings += 1;
                    // A socket that cannot even take a ping is as good as gone.
                    if !matches!(tokio::time::timeout(CLOSE_GRACE, session.ping(b"")).await, Ok(Ok(()))) {
                        break;
                    }
                }
                _ = revocation.tick() => {
                    // Both are normally announced at once; this catches an announcement
                    // lost between instances.
                    if matches!(self.accounts.access_revoked(&self.access_token).await, Ok(true)) {
                        let _ = own.try_send(Outgoing::Close(CLOSE_POLICY));
                    } else if !self.still_member().await {
                        let _ = own.try_send(Outgoing::Close(CLOSE_REMOVED));
                    }
                }
                Some(()) = in_flight.next_done(), if !in_flight.is_empty() => {}
                // Between commands: every one read is answered (a stored one announced)
                // before the close.
                Ok(_) = draining.wait_for(|draining| *draining) => {
                    let answered = async { while in_flight.next_done().await.is_some() {} };
                    let answered = tokio::time::timeout(DRAIN_FLUSH, answered).await.is_ok();
                    let queued = answered
                        && own.send_timeout(Outgoing::Close(CLOSE_GOING_AWAY), CLOSE_GRACE).await.is_ok();
                    if queued && tokio::time::timeout(DRAIN_FLUSH, &mut writer).await.is_ok() {
                        drop(registration);
                        return;
                    }
                    break;
                }
                _ = &mut writer => {
                    drop(registration);
                    return;
                }
            }
        }
        let _ = stop.send(close_with);
        let _ = writer.await;
        drop(registration);
    }

    /// Sends every message committed after `since` before anything live; returns where the
    /// replay ended so live copies of those messages are skipped.
    async fn replay(&self, session: &mut Session) -> Result<Option<u64>, ()> {
        let Some(since) = &self.since else {
            return Ok(None);
        };
        let resumed = match MessageId::parse(since) {
            Ok(since) => self.chat.resume_point(&self.room, &since).await,
            // Not even an id: no message of this room, like an unknown id.
            Err(_) => Err(DomainError::NotFound(Missing::MessageInRoom)),
        };
        let mut cursor = match resumed {
            Ok(cursor) => cursor,
            Err(error) => {
                let frame = error_frame(&error_of(&error));
                return session.text(frame).await.map(|()| None).map_err(|_| ());
            }
        };
        loop {
            let batch = match self.chat.replay(&self.room, &cursor).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(%error, "replay failed");
                    let _ = session
                        .clone()
                        .close(Some(close(CLOSE_TRY_AGAIN_LATER)))
                        .await;
                    return Err(());
                }
            };
            let Some(last) = batch.last() else {
                return Ok(Some(cursor.seq));
            };
            cursor = last.cursor();
            for message in &batch {
                let body = message_body(message, &self.public_url);
                session
                    .text(message_frame(&body, None))
                    .await
                    .map_err(|_| ())?;
            }
        }
    }
}

fn close(code: u16) -> CloseReason {
    CloseReason {
        code: CloseCode::from(code),
        description: None,
    }
}

/// Drains the queue into the socket; on overflow, drops what is queued and closes (1013).
async fn write(
    mut session: Session,
    mut queue: mpsc::Receiver<Outgoing>,
    overflow: Arc<Overflow>,
    seam: Option<u64>,
    mut stopped: watch::Receiver<Option<CloseReason>>,
) {
    // Live messages the replay already sent (seq at or below the seam) are dropped.
    let after_seam = |seq: u64| seam.is_none_or(|seam| seq > seam);
    loop {
        if overflow.happened() {
            return give_up(session).await;
        }
        let next = tokio::select! {
            biased;
            _ = overflow.wake.notified() => continue,
            _ = stopped.changed() => {
                let reason = stopped.borrow().clone();
                let _ = tokio::time::timeout(CLOSE_GRACE, session.close(reason)).await;
                return;
            }
            next = queue.recv() => next,
        };
        let delivered = match &next {
            Some(Outgoing::Message(message)) => Some(message.created),
            _ => None,
        };
        let frame = match next {
            None => {
                let _ = session.close(None).await;
                return;
            }
            Some(Outgoing::Message(message)) => {
                if !after_seam(message.seq) {
                    continue;
                }
                message.frame.clone()
            }
            Some(Outgoing::Frame(frame)) => ByteString::clone(&frame),
            Some(Outgoing::Close(code)) => {
                let _ = tokio::time::timeout(CLOSE_GRACE, session.close(Some(close(code)))).await;
                return;
            }
        };
        // A client that stops reading blocks this write; an overflow must still end it.
        let sent = tokio::select! {
            biased;
            _ = overflow.wake.notified() => return give_up(session).await,
            sent = session.text(frame) => sent,
        };
        if sent.is_err() {
            return;
        }
        if let Some(created) = delivered {
            crate::socket_metrics::message_delivered(created);
        }
    }
}

/// Close code: a frame over the size limit (RFC 6455 §7.4.1).
const CLOSE_TOO_BIG: u16 = 1009;

/// How long a closing handshake may wait for a client that does not read.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How long a draining connection may take to send what is queued before its 1001.
const DRAIN_FLUSH: Duration = Duration::from_secs(3);

/// How long a client that fell behind has to read up to its 1013 close frame.
const OVERFLOW_CLOSE_WAIT: Duration = Duration::from_secs(60);

/// Drops whatever is queued and closes with 1013. The connection has already left its
/// room; the close frame waits in the background for the stuck client to read, for a while.
async fn give_up(session: Session) {
    crate::socket_metrics::slow_consumer_closed();
    actix_web::rt::spawn(async move {
        let closing = session.close(Some(close(CLOSE_TRY_AGAIN_LATER)));
        let _ = tokio::time::timeout(OVERFLOW_CLOSE_WAIT, closing).await;
    });
}
