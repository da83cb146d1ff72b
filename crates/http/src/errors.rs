//! The one place where failures become HTTP responses in API.md's error shape:
//! `{"code": "...", "detail": "...", "fields": {"field": ["..."]}}`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use whisper_domain::DomainError;
use whisper_wire::ErrorBody;

/// An error response with `status`, `code` and `detail`.
pub fn error_response(
    status: StatusCode,
    code: impl Into<String>,
    detail: impl Into<String>,
) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody::new(code, detail))
}

/// A failed request: a business error, or a response built by the adapter itself.
#[derive(Debug)]
pub enum ApiError {
    /// A business rule said no; mapped by [`ApiError::status_code`].
    Domain(DomainError),
    /// An adapter-level failure with its own status and body (e.g. several invalid fields).
    Http {
        /// The status to answer with.
        status: StatusCode,
        /// The body to answer with.
        body: ErrorBody,
    },
}

impl ApiError {
    /// An adapter-level error with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Http {
            status,
            body: ErrorBody::new(code, detail),
        }
    }

    /// The body this error answers with (logging internal reasons is left to the response).
    pub fn body(&self) -> ErrorBody {
        match self {
            Self::Http { body, .. } => body.clone(),
            Self::Domain(error) => domain_body(error),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self::Domain(error)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(error) => fmt::Display::fmt(error, f),
            Self::Http { status, body } => write!(f, "{status}: {}", body.detail),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Http { status, .. } => *status,
            Self::Domain(error) => domain_status(error),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponseBuilder::new(self.status_code());
        match self {
            Self::Domain(DomainError::Unauthenticated { .. }) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::Domain(DomainError::RateLimited { retry_after_secs }) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)));
            }
            Self::Domain(DomainError::Internal { reason }) => {
                tracing::error!(reason = %reason, "internal error");
            }
            Self::Domain(DomainError::Upstream { service, reason }) => {
                tracing::warn!(service = %service, reason = %reason, "upstream failure");
            }
            _ => {}
        }
        response.json(self.body())
    }
}

fn domain_status(error: &DomainError) -> StatusCode {
    match error {
        DomainError::Invalid { .. } | DomainError::Rejected { .. } => StatusCode::BAD_REQUEST,
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::Conflict { .. } => StatusCode::CONFLICT,
        DomainError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        DomainError::Forbidden { .. } => StatusCode::FORBIDDEN,
        DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DomainError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        DomainError::Upstream { .. } => StatusCode::BAD_GATEWAY,
        DomainError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn domain_body(error: &DomainError) -> ErrorBody {
    match error {
        // A reason of several lines lists several problems of the field (e.g. unknown ids).
        DomainError::Invalid { field, reason } => reason.lines().fold(
            ErrorBody::new(
                "invalid_input",
                format!("Invalid {field}: {}", reason.replace('\n', "; ")),
            ),
            |body, problem| body.with_field(*field, problem),
        ),
        DomainError::Rejected { code, reason }
        | DomainError::NotFound { code, reason }
        | DomainError::Conflict { code, reason }
        | DomainError::Unauthenticated { code, reason }
        | DomainError::Forbidden { code, reason } => ErrorBody::new(*code, reason.clone()),
        DomainError::RateLimited { retry_after_secs } => ErrorBody::new(
            "rate_limited",
            format!("Too many attempts; try again in {retry_after_secs} seconds."),
        ),
        DomainError::Unavailable { service } => ErrorBody::new(
            "service_unavailable",
            format!("The {service} is unavailable right now; try again later."),
        ),
        DomainError::Upstream { service, .. } => ErrorBody::new(
            "provider_error",
            format!("The {service} did not answer properly; try again later."),
        ),
        DomainError::Internal { .. } => ErrorBody::new(
            "internal_error",
            "Something went wrong on our side; please try again later.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use serde_json::{Value, json};

    use super::*;

    async fn answer(
        error: impl Into<ApiError>,
    ) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
        let response = error.into().error_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn invalid_input_lists_the_field_and_its_reason() {
        let (status, headers, body) =
            answer(DomainError::invalid("email", "not an email address")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(body["code"], "invalid_input");
        assert_eq!(body["fields"], json!({"email": ["not an email address"]}));
        assert!(body["detail"].as_str().unwrap().contains("email"));
    }

    #[actix_web::test]
    async fn rejected_is_a_bad_request_with_its_own_code() {
        let (status, _, body) =
            answer(DomainError::rejected("expired_token", "The link expired.")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"code": "expired_token", "detail": "The link expired."})
        );
    }

    #[actix_web::test]
    async fn not_found_conflict_and_forbidden_keep_their_codes() {
        let cases = [
            (
                DomainError::not_found("no_totp_device", "none"),
                StatusCode::NOT_FOUND,
                "no_totp_device",
            ),
            (
                DomainError::conflict("email_taken", "taken"),
                StatusCode::CONFLICT,
                "email_taken",
            ),
            (
                DomainError::forbidden("email_not_verified", "verify"),
                StatusCode::FORBIDDEN,
                "email_not_verified",
            ),
        ];
        for (error, expected_status, expected_code) in cases {
            let (status, _, body) = answer(error).await;
            assert_eq!(status, expected_status);
            assert_eq!(body["code"], expected_code);
            assert!(body.get("fields").is_none());
        }
    }

    #[actix_web::test]
    async fn unauthenticated_asks_for_a_bearer_token() {
        let (status, headers, body) = answer(DomainError::unauthenticated(
            "session_required",
            "Log in first.",
        ))
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        assert_eq!(body["code"], "session_required");
    }

    #[actix_web::test]
    async fn rate_limited_says_when_to_retry() {
        let (status, headers, body) = answer(DomainError::RateLimited {
            retry_after_secs: 42,
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "42");
        assert_eq!(body["code"], "rate_limited");
    }

    #[actix_web::test]
    async fn unavailable_names_the_service() {
        let (status, _, body) = answer(DomainError::Upstream {
            service: "identity provider",
            reason: "token endpoint said 500 with secret details".into(),
        })
        .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["code"], "provider_error");
        assert!(!body.to_string().contains("secret details"), "{body}");

        let (status, _, body) = answer(DomainError::Unavailable {
            service: "database",
        })
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "service_unavailable");
        assert!(body["detail"].as_str().unwrap().contains("database"));
    }

    #[actix_web::test]
    async fn internal_errors_never_leak_their_reason() {
        let (status, _, body) =
            answer(DomainError::internal("relation \"users\" does not exist")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("users"));
    }

    #[actix_web::test]
    async fn adapter_errors_keep_status_and_every_field() {
        let error = ApiError::Http {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody::new("invalid_input", "Unknown users.")
                .with_field("user_ids", "a")
                .with_field("user_ids", "b"),
        };
        let (status, _, body) = answer(error).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["fields"], json!({"user_ids": ["a", "b"]}));
    }

    #[actix_web::test]
    async fn error_response_helper_builds_the_shape() {
        let response = error_response(StatusCode::IM_A_TEAPOT, "teapot", "Short and stout.");
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        let bytes = to_bytes(response.into_body()).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body,
            json!({"code": "teapot", "detail": "Short and stout."})
        );
    }
}
