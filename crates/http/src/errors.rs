//! The one place where failures become HTTP responses in API.md's error shape:
//! `{"code": "...", "detail": "...", "fields": {"field": ["..."]}}`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use whisper_domain::{DomainError, Problem};
use whisper_wire::ErrorBody;

use crate::codes::{
    clash_code, credential_code, denial_code, field_name, missing_code, rejection_code,
};

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

    /// A 503 `service_unavailable` naming the `service` that does not answer.
    pub fn unavailable(service: impl fmt::Display) -> Self {
        Self::Http {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: unavailable_body(service),
        }
    }

    /// A 400 `invalid_input` saying `detail` and listing every problem under its field.
    pub fn invalid_input(detail: impl Into<String>, problems: &[Problem]) -> Self {
        Self::Http {
            status: StatusCode::BAD_REQUEST,
            body: with_problems(ErrorBody::new(INVALID_INPUT, detail), problems),
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
        let status = self.status_code();
        let mut response = HttpResponseBuilder::new(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        match self {
            Self::Domain(DomainError::RateLimited { retry_after_secs }) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)));
            }
            Self::Domain(DomainError::Internal(reason)) => {
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

const INVALID_INPUT: &str = "invalid_input";

fn domain_status(error: &DomainError) -> StatusCode {
    match error {
        DomainError::Invalid(_) | DomainError::Rejected(_) => StatusCode::BAD_REQUEST,
        DomainError::NotFound(_) => StatusCode::NOT_FOUND,
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        DomainError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
        DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        DomainError::Upstream { .. } => StatusCode::BAD_GATEWAY,
        DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn domain_body(error: &DomainError) -> ErrorBody {
    match error {
        DomainError::Invalid(problems) => with_problems(
            ErrorBody::new(INVALID_INPUT, invalid_detail(problems)),
            problems,
        ),
        DomainError::Rejected(rejection) => {
            ErrorBody::new(rejection_code(rejection), rejection.to_string())
        }
        DomainError::NotFound(missing) => {
            ErrorBody::new(missing_code(*missing), missing.to_string())
        }
        DomainError::Conflict(clash) => ErrorBody::new(clash_code(*clash), clash.to_string()),
        DomainError::Unauthenticated(credential) => {
            ErrorBody::new(credential_code(*credential), credential.to_string())
        }
        DomainError::Forbidden(denial) => ErrorBody::new(denial_code(*denial), denial.to_string()),
        DomainError::RateLimited { retry_after_secs } => ErrorBody::new(
            "rate_limited",
            format!("Too many attempts; try again in {retry_after_secs} seconds."),
        ),
        DomainError::Unavailable(service) => unavailable_body(service),
        DomainError::Upstream { service, .. } => ErrorBody::new(
            "provider_error",
            format!("The {service} did not answer properly; try again later."),
        ),
        DomainError::Internal(_) => ErrorBody::new(
            "internal_error",
            "Something went wrong on our side; please try again later.",
        ),
    }
}

fn unavailable_body(service: impl fmt::Display) -> ErrorBody {
    ErrorBody::new(
        "service_unavailable",
        format!("The {service} is unavailable right now; try again later."),
    )
}

/// `Invalid <fields>: <problems>`, e.g. `Invalid user_ids: Unknown user: a; Unknown user: b`.
fn invalid_detail(problems: &[Problem]) -> String {
    let mut fields: Vec<&str> = Vec::new();
    for problem in problems {
        let name = field_name(problem.field);
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    let flaws: Vec<String> = problems.iter().map(|p| p.flaw.to_string()).collect();
    format!("Invalid {}: {}", fields.join(", "), flaws.join("; "))
}

/// `body` with each problem listed under its field's name.
fn with_problems(body: ErrorBody, problems: &[Problem]) -> ErrorBody {
    problems.iter().fold(body, |body, problem| {
        body.with_field(field_name(problem.field), problem.flaw.to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use actix_web::body::to_bytes;
    use serde_json::{Value, json};
    use whisper_domain::{
        Clash, Credential, Denial, Field, Flaw, Missing, Rejection, Service, UserId,
    };

    use super::*;

    /// The status, headers and JSON body `error` answers with.
    pub(crate) async fn answer(
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
            answer(DomainError::invalid(Field::Email, Flaw::EmailMalformed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(body["code"], "invalid_input");
        assert_eq!(
            body["fields"],
            json!({"email": ["Enter a valid email address."]})
        );
        assert!(body["detail"].as_str().unwrap().contains("email"));
        assert_eq!(
            body["detail"],
            "Invalid email: Enter a valid email address."
        );
    }

    #[actix_web::test]
    async fn several_problems_of_one_field_are_each_listed() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let unknown = |id: &UserId| Problem {
            field: Field::Members,
            flaw: Flaw::UnknownUserId(id.clone()),
        };
        let (status, _, body) =
            answer(DomainError::Invalid(vec![unknown(&ann), unknown(&bob)])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "code": "invalid_input",
                "detail": format!("Invalid user_ids: Unknown user: {ann}; Unknown user: {bob}"),
                "fields": {"user_ids": [format!("Unknown user: {ann}"), format!("Unknown user: {bob}")]},
            })
        );
    }

    #[actix_web::test]
    async fn rejected_is_a_bad_request_with_its_own_code() {
        let (status, _, body) = answer(DomainError::Rejected(Rejection::ExpiredLink)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"code": "expired_token", "detail": "This verification link has expired; request a new one."})
        );
    }

    #[actix_web::test]
    async fn not_found_conflict_and_forbidden_keep_their_codes() {
        let cases = [
            (
                DomainError::NotFound(Missing::TotpDevice),
                StatusCode::NOT_FOUND,
                "no_totp_device",
            ),
            (
                DomainError::Conflict(Clash::EmailTaken),
                StatusCode::CONFLICT,
                "email_taken",
            ),
            (
                DomainError::Forbidden(Denial::EmailNotVerified),
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
        let (status, headers, body) =
            answer(DomainError::Unauthenticated(Credential::SessionRequired)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        assert_eq!(body["code"], "session_required");
    }

    #[actix_web::test]
    async fn an_adapter_401_asks_for_a_bearer_token_too() {
        let error = ApiError::new(StatusCode::UNAUTHORIZED, "not_authenticated", "Log in.");
        let (status, headers, body) = answer(error).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        assert_eq!(
            body,
            json!({"code": "not_authenticated", "detail": "Log in."})
        );
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
        assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    }

    #[actix_web::test]
    async fn unavailable_names_the_service() {
        let (status, _, body) = answer(DomainError::Upstream {
            service: Service::IdentityProvider,
            reason: "token endpoint said 500 with secret details".into(),
        })
        .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["code"], "provider_error");
        assert!(!body.to_string().contains("secret details"), "{body}");

        let (status, _, body) = answer(DomainError::Unavailable(Service::Database)).await;
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
    async fn invalid_input_of_several_fields_lists_each_under_its_name() {
        let problems = [
            Problem {
                field: Field::Email,
                flaw: Flaw::EmailMissing,
            },
            Problem {
                field: Field::Username,
                flaw: Flaw::UsernameLength,
            },
        ];
        let (status, _, body) = answer(ApiError::invalid_input(
            "Some fields are invalid.",
            &problems,
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "code": "invalid_input",
                "detail": "Some fields are invalid.",
                "fields": {
                    "email": ["Enter an email address."],
                    "username": ["A username has 3 to 30 characters."],
                },
            })
        );
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
