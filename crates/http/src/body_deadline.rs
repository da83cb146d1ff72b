//! A deadline for receiving a request's body. actix-web bounds the time to receive the
//! request head (`client_request_timeout`) but not the body: a client that declares a
//! Content-Length and then sends a byte now and then would hold its connection and a
//! handler forever. Past the deadline the body read fails; extractors answer 408 and the
//! connection is closed.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::{self, Bytes};
use futures_util::Stream;

/// How long a request's body may take to arrive, from the moment its head was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadline(pub Duration);

/// The error a body read returns once the deadline passed; see [`is_body_timeout`].
const TIMED_OUT: &str = "the request body did not arrive in time";

/// Whether `error` is the body deadline passing.
pub fn is_body_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}

/// Middleware: bounds the body of every request that has one by the app's
/// `web::Data<BodyDeadline>` (none: no bound). Upgrades (the WebSocket) have no body of
/// this kind and are left alone.
pub async fn bound_body(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let deadline = request.app_data::<web::Data<BodyDeadline>>().map(|d| d.0);
    let expired = Rc::new(Cell::new(false));
    let mut unread = None;
    let request = match deadline {
        Some(deadline) if has_body(&request) => {
            let (http, payload) = request.into_parts();
            let payload = Rc::new(RefCell::new(payload));
            unread = Some(payload.clone());
            let bounded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(Bounded {
                    inner: payload,
                    deadline: Box::pin(sleep_until(Instant::now() + deadline)),
                    expired: expired.clone(),
                });
            ServiceRequest::from_parts(http, Payload::from(bounded))
        }
        _ => request,
    };
    let response = next.call(request).await?.map_into_boxed_body();
    match unread {
        Some(held) if expired.get() => Ok(close_after(response, held)),
        _ => Ok(response),
    }
}

/// The rest of the body may never come. Left to itself actix-web would wait to drain a
/// chunked body whose reader is gone; while the body is still held when the answer has
/// been written, it closes the connection instead. The answer's body holds it until then.
fn close_after(
    mut response: ServiceResponse<BoxBody>,
    held: Rc<RefCell<Payload>>,
) -> ServiceResponse<BoxBody> {
    response
        .response_mut()
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response.map_body(|_, body| Holding { body, _held: held }.boxed())
}

/// A response body that keeps the request's unread body alive until it is written.
struct Holding {
    body: BoxBody,
    _held: Rc<RefCell<Payload>>,
}

impl MessageBody for Holding {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// A declared length above zero, or a chunked body.
fn has_body(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > 0);
    declared || headers.contains_key(header::TRANSFER_ENCODING)
}

struct Bounded {
    inner: Rc<RefCell<Payload>>,
    deadline: Pin<Box<Sleep>>,
    /// Set once the deadline passed; shared with the middleware.
    expired: Rc<Cell<bool>>,
}

impl Stream for Bounded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut *self.inner.borrow_mut()).poll_next(cx);
        if let Poll::Ready(item) = polled {
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.set(true);
            let error = io::Error::new(io::ErrorKind::TimedOut, TIMED_OUT);
            return Poll::Ready(Some(Err(PayloadError::Io(error))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    fn bounded(inner: impl Stream<Item = Result<Bytes, PayloadError>> + 'static) -> Bounded {
        let inner: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(inner);
        Bounded {
            inner: Rc::new(RefCell::new(Payload::from(inner))),
            deadline: Box::pin(sleep_until(Instant::now() + Duration::from_millis(20))),
            expired: Rc::default(),
        }
    }

    #[actix_web::test]
    async fn a_body_that_stalls_past_the_deadline_fails_then_ends() {
        let mut body = bounded(futures_util::stream::pending());
        let error = body.next().await.unwrap().unwrap_err();
        assert!(is_body_timeout(&error), "{error}");
        assert!(body.next().await.is_none());
    }

    #[actix_web::test]
    async fn a_body_that_arrives_in_time_is_passed_through() {
        let chunks = [
            Ok(Bytes::from_static(b"he")),
            Ok(Bytes::from_static(b"llo")),
        ];
        let body = bounded(futures_util::stream::iter(chunks));
        let read: Vec<Bytes> = body.map(Result::unwrap).collect().await;
        assert_eq!(read.concat(), b"hello");
    }
}
