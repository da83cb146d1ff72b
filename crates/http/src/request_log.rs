//! One log line per request, and a span around its handling carrying the request's id.
//! The id is returned in the `X-Request-Id` header and, on server errors, in the error
//! body, so a user's report leads straight to the log line. Requests are named by their
//! route pattern, never their path: paths can carry one-time tokens
//! (`verify-email/complete/<token>/`), and logs must not.

use std::fmt;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use tracing::Instrument;

use crate::client_ip::TrustedProxies;

/// The response header (and the header a trusted proxy may send) naming the request.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The most of an error body read to add the request id; bigger ones are passed on as
/// they are (every error body here is far smaller).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A request's id: 32 hex digits, the form nginx's `$request_id` has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// An id given by a proxy, if it is one a log line and a header can carry as it is:
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    pub fn from_proxy(value: &str) -> Option<Self> {
        let acceptable = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
        acceptable.then(|| Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(log_request))`, outside
/// every middleware that shapes error bodies. The id is the `X-Request-Id` a trusted proxy
/// sent (`web::Data<TrustedProxies>`), so its log and ours name the request alike; else
/// one already in the request's extensions; else a fresh one.
pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_owned());
    let id = from_trusted_proxy(&request)
        .or_else(|| request.extensions().get::<RequestId>().cloned())
        .unwrap_or_else(RequestId::generate);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", %method, %route, request_id = %id);
    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed_ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0);
    {
        let _entered = span.enter();
        // Probes arrive every few seconds; they would drown everything else.
        if route.starts_with("/health/") {
            tracing::debug!(status = status.as_u16(), %elapsed_ms, "request");
        } else if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), %elapsed_ms, "request");
        } else {
            tracing::info!(status = status.as_u16(), %elapsed_ms, "request");
        }
    }
    // Handlers' errors arrive as responses; only a failing middleware gives an error,
    // which actix answers itself.
    let response = outcome?.map_into_boxed_body();
    let mut response = if status.is_server_error() {
        with_id_in_body(response, &id).await
    } else {
        response
    };
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// The id a trusted proxy gave the request, if it is one we can carry.
fn from_trusted_proxy(request: &ServiceRequest) -> Option<RequestId> {
    let peer = request.peer_addr()?.ip().to_canonical();
    let trusted = request.app_data::<web::Data<TrustedProxies>>()?;
    if !trusted.contains(peer) {
        return None;
    }
    let given = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    RequestId::from_proxy(given)
}

/// The response with `request_id` added to its JSON object body; any other body as it was.
async fn with_id_in_body(response: ServiceResponse, id: &RequestId) -> ServiceResponse {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match actix_web::body::to_bytes_limited(body, ERROR_BODY_LIMIT).await {
        Ok(Ok(bytes)) => bytes,
        // Too big or broken: an error body cannot be that; answer with the bare status.
        _ => return ServiceResponse::new(request, head.set_body(BoxBody::new(()))),
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.insert("request_id".to_owned(), id.as_str().into());
            serde_json::to_vec(&fields).map_or(bytes, Into::into)
        }
        _ => bytes,
    };
    let response: HttpResponse = head.set_body(BoxBody::new(body));
    ServiceResponse::new(request, response)
}

#[cfg(test)]
#[path = "request_log_tests.rs"]
mod tests;
