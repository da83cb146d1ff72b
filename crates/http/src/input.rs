//! Extractor configuration so that malformed requests answer in the error shape, never
//! with a framework's plain-text error.

use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use whisper_domain::{DomainError, DomainResult};

use crate::body_deadline::is_body_timeout;
use crate::errors::{ApiError, error_response};

/// The largest JSON body accepted, in bytes; media travels over the WebSocket instead.
pub const JSON_LIMIT: usize = 64 * 1024;

/// JSON bodies: malformed JSON, missing fields and wrong types are 400 `invalid_json`,
/// a wrong content type 415 `unsupported_media_type`, too large a body 413 `payload_too_large`.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(json_error)
}

/// Path segments that do not parse are 400 `invalid_input`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| invalid_url_part("URL path", error))
}

/// Query strings that do not parse are 400 `invalid_input`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| invalid_url_part("query string", error))
}

/// Both values, or one 400 listing every invalid field of the two.
pub fn both<A, B>(a: DomainResult<A>, b: DomainResult<B>) -> Result<(A, B), ApiError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut problems = Vec::new();
            let mut other = None;
            for error in [a.err(), b.err()].into_iter().flatten() {
                match error {
                    DomainError::Invalid(found) => problems.extend(found),
                    error => other = Some(error),
                }
            }
            match other {
                Some(error) => Err(error.into()),
                None => Err(ApiError::invalid_input(
                    "Some fields are invalid.",
                    &problems,
                )),
            }
        }
    }
}

fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let response = match &error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {limit} bytes."),
        ),
        JsonPayloadError::ContentType => error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body must be JSON (Content-Type: application/json).",
        ),
        JsonPayloadError::Payload(cause) if is_body_timeout(cause) => error_response(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body did not arrive in time.",
        ),
        JsonPayloadError::Deserialize(cause) => error_response(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body is not valid: {cause}."),
        ),
        other => error_response(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body could not be read: {other}."),
        ),
    };
    InternalError::from_response(error, response).into()
}

/// 400 `invalid_input` naming the part of the URL (`part`) that does not parse.
fn invalid_url_part<E>(part: &str, error: E) -> actix_web::Error
where
    E: std::fmt::Debug + std::fmt::Display + 'static,
{
    let response = error_response(
        StatusCode::BAD_REQUEST,
        "invalid_input",
        format!("The {part} is not valid: {error}."),
    );
    InternalError::from_response(error, response).into()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;
    use actix_web::{App, HttpResponse, test};
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;

    #[derive(Deserialize)]
    struct Registration {
        email: String,
        #[allow(dead_code)]
        age: u32,
    }

    #[derive(Deserialize)]
    struct Paging {
        page_size: u8,
    }

    async fn register(body: web::Json<Registration>) -> HttpResponse {
        HttpResponse::Ok().body(body.into_inner().email)
    }

    async fn room(id: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(id.into_inner().to_string())
    }

    async fn page(query: web::Query<Paging>) -> HttpResponse {
        HttpResponse::Ok().body(query.page_size.to_string())
    }

    macro_rules! app {
        () => {
            test::init_service(
                App::new()
                    .app_data(json_config())
                    .app_data(path_config())
                    .app_data(query_config())
                    .route("/register", web::post().to(register))
                    .route("/room/{id}", web::get().to(room))
                    .route("/page", web::get().to(page)),
            )
            .await
        };
    }

    async fn error_of(response: actix_web::dev::ServiceResponse) -> (StatusCode, Value) {
        let status = response.status();
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        (status, test::read_body_json(response).await)
    }

    macro_rules! call {
        ($app:expr, $request:expr) => {
            error_of(test::call_service(&$app, $request.to_request()).await).await
        };
    }

    #[actix_web::test]
    async fn valid_json_reaches_the_handler() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/register")
            .set_json(serde_json::json!({"email": "a@b.c", "age": 3}))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[actix_web::test]
    async fn malformed_json_is_invalid_json() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/register")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{\"email\": ");
        let (status, body) = call!(app, request);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_json");
    }

    #[actix_web::test]
    async fn a_missing_field_is_named() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/register")
            .set_json(serde_json::json!({"age": 3}));
        let (status, body) = call!(app, request);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_json");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("missing field `email`")
        );
    }

    #[actix_web::test]
    async fn a_wrong_type_is_invalid_json() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/register")
            .set_json(serde_json::json!({"email": "a@b.c", "age": "three"}));
        let (status, body) = call!(app, request);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_json");
        assert!(body["detail"].as_str().unwrap().contains("invalid type"));
    }

    #[actix_web::test]
    async fn a_wrong_content_type_is_unsupported() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/register")
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload("{\"email\": \"a@b.c\", \"age\": 3}");
        let (status, body) = call!(app, request);
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["code"], "unsupported_media_type");
    }

    #[actix_web::test]
    async fn a_huge_body_is_too_large() {
        let app = app!();
        let padding = "x".repeat(JSON_LIMIT + 1);
        let request = test::TestRequest::post()
            .uri("/register")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(format!("{{\"email\": \"{padding}\", \"age\": 3}}"));
        let (status, body) = call!(app, request);
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "payload_too_large");
    }

    #[actix_web::test]
    async fn a_bad_path_segment_is_invalid_input() {
        let app = app!();
        let (status, body) = call!(app, test::TestRequest::get().uri("/room/abc"));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_input");
    }

    #[actix_web::test]
    async fn a_bad_query_is_invalid_input() {
        let app = app!();
        let (status, body) = call!(app, test::TestRequest::get().uri("/page?page_size=9999"));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_input");
    }
}
