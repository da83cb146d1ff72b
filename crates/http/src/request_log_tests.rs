use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, web};
use whisper_domain::{DomainError, Service};

use super::*;
use crate::errors::ApiError;

async fn failing() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Domain(DomainError::Unavailable(
        Service::Database,
    )))
}

async fn refusing() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_input",
        "No.",
    ))
}

async fn plain_failure() -> HttpResponse {
    HttpResponse::InternalServerError().body("not json")
}

async fn fine() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"ok": true}))
}

/// Answers `path` through the middleware: status, the `X-Request-Id` header, the body.
async fn answer(path: &str) -> (StatusCode, String, Vec<u8>) {
    let app = init_service(
        App::new()
            .wrap(from_fn(log_request))
            .route("/fail", web::get().to(failing))
            .route("/refuse", web::get().to(refusing))
            .route("/plain", web::get().to(plain_failure))
            .route("/fine", web::get().to(fine)),
    )
    .await;
    let response = call_service(&app, TestRequest::get().uri(path).to_request()).await;
    let status = response.status();
    let id = response
        .headers()
        .get(REQUEST_ID_HEADER)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, id, read_body(response).await.to_vec())
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

#[actix_web::test]
async fn every_response_names_its_request() {
    let (status, first, body) = answer("/fine").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.len(), 32, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert_eq!(
        json(&body),
        serde_json::json!({"ok": true}),
        "body untouched"
    );
    let (_, second, _) = answer("/fine").await;
    assert_ne!(first, second, "a fresh id per request");
}

#[actix_web::test]
async fn a_server_error_body_carries_the_id_of_its_header() {
    let (status, id, body) = answer("/fail").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body = json(&body);
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert_eq!(body["request_id"], id.as_str(), "{body}");
}

#[actix_web::test]
async fn client_errors_keep_their_body_as_it_was() {
    let (status, id, body) = answer("/refuse").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!id.is_empty());
    assert!(json(&body).get("request_id").is_none());
}

#[actix_web::test]
async fn a_server_error_that_is_not_json_is_passed_on() {
    let (status, id, body) = answer("/plain").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!id.is_empty());
    assert_eq!(body, b"not json");
}

#[actix_web::test]
async fn an_id_set_by_an_outer_middleware_is_kept() {
    let app = init_service(
        App::new()
            .wrap(from_fn(log_request))
            .wrap_fn(|request, service| {
                request
                    .extensions_mut()
                    .insert(RequestId::from_proxy("from-nginx-1").unwrap());
                actix_web::dev::Service::call(service, request)
            })
            .route("/fail", web::get().to(failing)),
    )
    .await;
    let response = call_service(&app, TestRequest::get().uri("/fail").to_request()).await;
    assert_eq!(
        response.headers().get(REQUEST_ID_HEADER).unwrap(),
        "from-nginx-1"
    );
    assert_eq!(
        json(&read_body(response).await)["request_id"],
        "from-nginx-1"
    );
}

#[test]
fn a_proxy_id_must_be_short_plain_text() {
    assert!(RequestId::from_proxy("4f0c9a1e2b7d4c3a8e6f5d1c2b3a4e5f").is_some());
    assert!(RequestId::from_proxy("a.b-c_d").is_some());
    for bad in [
        "",
        "has space",
        "new\nline",
        "quote\"",
        &"x".repeat(65),
        "ünï",
    ] {
        assert!(RequestId::from_proxy(bad).is_none(), "{bad:?}");
    }
}

/// Answers GET /fail from `peer` with `X-Request-Id: given`, trusting 127.0.0.1.
async fn id_answered(peer: &str, given: &str) -> String {
    let trusted = web::Data::new(TrustedProxies::parse("127.0.0.1").unwrap());
    let app = init_service(
        App::new()
            .app_data(trusted)
            .wrap(from_fn(log_request))
            .route("/fail", web::get().to(failing)),
    )
    .await;
    let request = TestRequest::get()
        .uri("/fail")
        .peer_addr(peer.parse().unwrap())
        .insert_header((REQUEST_ID_HEADER, given))
        .to_request();
    let response = call_service(&app, request).await;
    let header = response
        .headers()
        .get(REQUEST_ID_HEADER)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        json(&read_body(response).await)["request_id"],
        header.as_str()
    );
    header
}

#[actix_web::test]
async fn the_id_of_a_trusted_proxy_is_kept_and_anyone_elses_replaced() {
    assert_eq!(
        id_answered("127.0.0.1:4000", "nginx-id-7").await,
        "nginx-id-7"
    );
    assert_ne!(
        id_answered("127.0.0.9:4000", "forged-id").await,
        "forged-id"
    );
    let unfit = id_answered("127.0.0.1:4000", "two words").await;
    assert_eq!(unfit.len(), 32, "a fresh id instead of {unfit:?}");
}
