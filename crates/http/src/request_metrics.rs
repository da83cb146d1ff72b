//! Request counts and latency for the metrics recorder, by method, route PATTERN and
//! status: never the path, which can carry one-time tokens and ids without bound.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

/// Requests answered, by `method`, `route` and `status` (counter).
pub const REQUESTS: &str = "whisper_http_requests_total";
/// How long answering took, by `method` and `route` (histogram).
pub const REQUEST_DURATION: &str = "whisper_http_request_duration_seconds";
/// The `route` of a request no route matched.
pub const NO_ROUTE: &str = "(no route)";

/// Registers the help text of these metrics with the installed recorder.
pub fn describe() {
    describe_counter!(REQUESTS, "HTTP requests answered, by route pattern");
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "time to answer an HTTP request, by route pattern"
    );
}

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(record_request))`.
pub async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(request.method().as_str());
    let route = request
        .match_pattern()
        .unwrap_or_else(|| NO_ROUTE.to_owned());
    let outcome = next.call(request).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed = started.elapsed().as_secs_f64();
    counter!(
        REQUESTS,
        "method" => method,
        "route" => route.clone(),
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    histogram!(REQUEST_DURATION, "method" => method, "route" => route).record(elapsed);
    outcome
}

/// The methods counted by name; any other (an extension method is any token a client
/// makes up) counts as `OTHER`, so clients cannot mint new series.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("OTHER")
}

#[cfg(test)]
#[path = "request_metrics_tests.rs"]
mod tests;
