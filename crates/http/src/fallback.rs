//! Answers for requests no handler takes: unknown paths (404), wrong methods (405), and a
//! safety net turning any plain-text framework error into the error shape.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, Resource, Route, web};

use whisper_wire::ErrorBody;

use crate::errors::error_response;

/// The default service of the whole application: an unknown path is a JSON 404.
pub async fn not_found() -> HttpResponse {
    error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is nothing at this address.",
    )
}

/// The default service of a resource answering only `allowed`: any other method is a
/// JSON 405 with an `Allow` header. Use it on every resource ([`resource`] does):
///
/// ```ignore
/// web::resource("/health/live")
///     .route(web::get().to(live))
///     .default_service(method_not_allowed(&[Method::GET]))
/// ```
pub fn method_not_allowed(allowed: &[Method]) -> Route {
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    web::route().to(move || {
        let allow = allow.clone();
        async move {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here.",
            );
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    })
}

/// The resource at `path` answering each method of `routes` with its route; any other
/// method is a JSON 405 whose `Allow` header lists them, in order.
///
/// ```ignore
/// resource("/health/live", [(Method::GET, web::to(live)), (Method::HEAD, web::to(live))])
/// ```
pub fn resource<const N: usize>(path: &str, routes: [(Method, Route); N]) -> Resource {
    let allowed: Vec<Method> = routes.iter().map(|(method, _)| method.clone()).collect();
    routes
        .into_iter()
        .fold(web::resource(path), |resource, (method, route)| {
            resource.route(route.method(method))
        })
        .default_service(method_not_allowed(&allowed))
}

/// Middleware rewriting any error response that is not JSON (actix's own plain-text or
/// empty errors) into the error shape, keeping its status and headers. Responses that
/// are already JSON, and deliberate HTML pages, pass untouched.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(rewrite_plain_error)
}

fn rewrite_plain_error<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let (request, original) = response.into_parts();
    let mut replacement = HttpResponse::build(status).json(shape_for(status));
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    let replacement: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(request, replacement).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(replacement))
}

fn shape_for(status: StatusCode) -> ErrorBody {
    let (code, detail) = match status {
        StatusCode::BAD_REQUEST => ("invalid_input", "The request is not valid."),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "Authentication is required."),
        StatusCode::FORBIDDEN => ("forbidden", "This is not allowed."),
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "This method is not allowed here.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "The request body has the wrong content type.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "service_unavailable",
            "A backing service is unavailable right now; try again later.",
        ),
        status if status.is_server_error() => (
            "internal_error",
            "Something went wrong on our side; please try again later.",
        ),
        _ => ("bad_request", "The request cannot be served."),
    };
    ErrorBody::new(code, detail)
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};
    use serde_json::Value;

    use super::*;

    async fn ok() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    async fn plain_bad_request() -> HttpResponse {
        HttpResponse::BadRequest()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .insert_header(("x-kept", "yes"))
            .body("framework says no")
    }

    async fn html_forbidden() -> HttpResponse {
        HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .body("<p>no</p>")
    }

    /// What an app behind `json_errors` answers `request` with: status, headers and body.
    async fn answer(request: test::TestRequest) -> (StatusCode, header::HeaderMap, web::Bytes) {
        let app = test::init_service(
            App::new()
                .wrap(json_errors())
                .service(
                    web::resource("/thing/")
                        .route(web::get().to(ok))
                        .route(web::post().to(ok))
                        .default_service(method_not_allowed(&[Method::GET, Method::POST])),
                )
                // A resource someone forgot to give a default service.
                .service(web::resource("/bare/").route(web::get().to(ok)))
                .route("/plain/", web::get().to(plain_bad_request))
                .route("/page/", web::get().to(html_forbidden))
                .default_service(web::to(not_found)),
        )
        .await;
        let response = test::call_service(&app, request.to_request()).await;
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, test::read_body(response).await)
    }

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[actix_web::test]
    async fn an_unknown_path_is_a_json_404() {
        let (status, _, body) = answer(test::TestRequest::get().uri("/api/v1/nothing/")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(json(&body)["code"], "not_found");
    }

    #[actix_web::test]
    async fn a_known_path_serves_its_methods() {
        for request in [test::TestRequest::get(), test::TestRequest::post()] {
            let (status, _, _) = answer(request.uri("/thing/")).await;
            assert_eq!(status, StatusCode::OK);
        }
    }

    #[actix_web::test]
    async fn a_wrong_method_is_a_json_405_listing_the_allowed_ones() {
        let (status, headers, body) = answer(test::TestRequest::delete().uri("/thing/")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers.get(header::ALLOW).unwrap(), "GET, POST");
        assert_eq!(json(&body)["code"], "method_not_allowed");
    }

    #[actix_web::test]
    async fn a_forgotten_default_service_still_answers_json() {
        let (status, headers, body) = answer(test::TestRequest::put().uri("/bare/")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(json(&body)["code"], "method_not_allowed");
    }

    #[actix_web::test]
    async fn plain_text_errors_are_rewritten_keeping_headers() {
        let (status, headers, body) = answer(test::TestRequest::get().uri("/plain/")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(headers.get("x-kept").unwrap(), "yes");
        let body = json(&body);
        assert_eq!(body["code"], "invalid_input");
        assert!(!body.to_string().contains("framework"));
    }

    #[actix_web::test]
    async fn html_error_pages_pass_untouched() {
        let (status, _, body) = answer(test::TestRequest::get().uri("/page/")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body, "<p>no</p>");
    }
}
