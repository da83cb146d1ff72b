//! What a connection does with each command it reads: the rate limit and the membership
//! check, then typing at once, or a send prepared (its media stored) and submitted for
//! commit without waiting for it (see [`InFlight`]).

use tokio::sync::oneshot;
use whisper_domain::{DomainError, DomainResult, Draft, DraftContent, Sent};
use whisper_http::PublicUrl;

use crate::connection::Connection;
use crate::frames::{Command, FrameError, error_frame, error_of, message_body, message_frame};
use crate::hub::CLOSE_REMOVED;
use crate::in_flight::InFlight;
use crate::outgoing::Outgoing;
use crate::send_limit::SendLimit;

impl Connection {
    /// Handles one command read from the socket, in the order read.
    pub(crate) async fn handle(
        &self,
        command: Result<Command, FrameError>,
        limiter: &mut SendLimit,
        in_flight: &mut InFlight,
    ) {
        let command = match command {
            Ok(command) => command,
            Err(error) => return in_flight.answer_after_earlier(refusal(&error)).await,
        };
        if !limiter.allow(&self.user.id, self.clock.now()).await {
            let error = FrameError {
                code: "rate_limited",
                content: "Too many messages; slow down.".into(),
            };
            return in_flight.answer_after_earlier(refusal(&error)).await;
        }
        // Membership is remembered for 2 s: a member removed through another instance
        // stops being able to send here within that.
        if !self.still_member().await {
            let removed = Outgoing::Close(CLOSE_REMOVED);
            return in_flight.answer_after_earlier(removed).await;
        }
        let draft = match command {
            Command::Typing(typing) => return self.chat.typing(&self.user, &self.room, typing),
            Command::Text {
                text,
                reply_to,
                client_id,
            } => Draft {
                content: DraftContent::Text(text),
                reply_to,
                client_id,
            },
            Command::Media {
                kind,
                bytes,
                reply_to,
                client_id,
            } => Draft {
                content: DraftContent::Media { kind, bytes },
                reply_to,
                client_id,
            },
        };
        let (answered, told) = oneshot::channel();
        let teller = teller(
            in_flight.own(),
            self.public_url.clone(),
            draft.client_id.clone(),
            answered,
        );
        let ready = match self.chat.prepare_send(&self.user, &self.room, draft).await {
            Ok(ready) => ready.tell(teller),
            Err(error) => {
                return in_flight
                    .answer_after_earlier(refusal(&error_of(&error)))
                    .await;
            }
        };
        // Queued for commit now, in the order read; a task of its own, so it can lead group
        // commits (for as long as sends keep coming) while this reader reads on. The
        // connection waits for the answer, not for the task.
        let committing = self.chat.submit(ready);
        actix_web::rt::spawn(async move {
            let _ = committing.await;
        });
        in_flight.push(told);
    }

    /// False only when the room says the user is no longer a member (not when it cannot
    /// be asked).
    pub(crate) async fn still_member(&self) -> bool {
        !matches!(
            self.rooms.check_member(&self.user.id, &self.room).await,
            Err(DomainError::Forbidden(_) | DomainError::NotFound(_))
        )
    }
}

fn refusal(error: &FrameError) -> Outgoing {
    Outgoing::frame(error_frame(error))
}

/// What the client hears of its send when the commit answers it, among the messages that
/// commit announces: a refusal, or the stored message again for a retried `client_id`
/// (only the sender hears of it, with the original id); a new message reaches it through
/// the room, like everyone. Then `answered` tells the connection, which may only now
/// answer a later command the reader refused.
fn teller(
    own: tokio::sync::mpsc::Sender<Outgoing>,
    public_url: PublicUrl,
    client_id: Option<String>,
    answered: oneshot::Sender<()>,
) -> impl FnOnce(&DomainResult<Sent>) + Send + 'static {
    move |answer| {
        let frame = match answer {
            Ok(Sent {
                message,
                duplicate: true,
            }) => Some(message_frame(
                &message_body(message, &public_url),
                client_id.as_deref(),
            )),
            Ok(_) => None,
            Err(error) => Some(error_frame(&error_of(error))),
        };
        if let Some(frame) = frame {
            let _ = own.try_send(Outgoing::frame(frame));
        }
        let _ = answered.send(());
    }
}
