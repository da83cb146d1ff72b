//! One log line per request, and a span around its handling. Requests are named by their
//! route pattern, never their path: paths can carry one-time tokens
//! (`verify-email/complete/<token>/`), and logs must not.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(log_request))`.
pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_owned());
    let span = tracing::info_span!("request", %method, %route);
    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed_ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0);
    let _entered = span.enter();
    // Probes arrive every few seconds; they would drown everything else.
    if route.starts_with("/health/") {
        tracing::debug!(status = status.as_u16(), %elapsed_ms, "request");
    } else if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), %elapsed_ms, "request");
    } else {
        tracing::info!(status = status.as_u16(), %elapsed_ms, "request");
    }
    outcome
}
