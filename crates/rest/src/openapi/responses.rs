//! The error responses many operations share: the reusable components (referenced as
//! `(status = 429, response = TooManyRequests)`) and the sets an operation lists by type
//! name in `responses(...)`, so each shared answer is described once.

use std::collections::BTreeMap;

use utoipa::openapi::content::Content;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoResponses, ToResponse};

fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ErrorBody")))
}

fn error_response_doc(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", error_content())
}

/// 429 `rate_limited`, with `Retry-After`: `(status = 429, response = TooManyRequests)`.
pub struct TooManyRequests;

impl<'r> ToResponse<'r> for TooManyRequests {
    fn response() -> (&'r str, RefOr<Response>) {
        let retry_after = HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::Integer)))
            .description(Some("Seconds to wait before trying again."))
            .build();
        (
            "TooManyRequests",
            error_response_doc("`rate_limited`: too many requests; wait `Retry-After` seconds.")
                .header("Retry-After", retry_after)
                .build()
                .into(),
        )
    }
}

/// 503 `service_unavailable`: `(status = 503, response = ServiceUnavailable)`.
pub struct ServiceUnavailable;

impl<'r> ToResponse<'r> for ServiceUnavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "ServiceUnavailable",
            error_response_doc("`service_unavailable`: a backing service (database) is down.")
                .build()
                .into(),
        )
    }
}

/// 413 `payload_too_large`: `(status = 413, response = PayloadTooLarge)`.
pub struct PayloadTooLarge;

impl<'r> ToResponse<'r> for PayloadTooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "PayloadTooLarge",
            error_response_doc("`payload_too_large`: the request body is too large.")
                .build()
                .into(),
        )
    }
}

/// 415 `unsupported_media_type`: `(status = 415, response = UnsupportedMediaType)`.
pub struct UnsupportedMediaType;

impl<'r> ToResponse<'r> for UnsupportedMediaType {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "UnsupportedMediaType",
            error_response_doc(
                "`unsupported_media_type`: the body must be JSON (`Content-Type: application/json`).",
            )
            .build()
            .into(),
        )
    }
}

/// An inline `ErrorBody` response, as `(status = …, description = …, body = ErrorBody)`.
fn inline_error(description: &str) -> RefOr<Response> {
    error_response_doc(description).build().into()
}

/// A reference to the reusable response `R`, as `(status = …, response = R)`.
fn reference<'r, R: ToResponse<'r>>() -> RefOr<Response> {
    Ref::from_response_name(R::response().0).into()
}

/// Declares each named set of responses: a unit struct whose [`IntoResponses`] lists them
/// by status.
macro_rules! response_sets {
    ($($(#[$doc:meta])* $name:ident { $($status:literal => $response:expr),+ $(,)? })+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_owned(), $response)),+])
            }
        }
    )+};
}

response_sets! {
    /// 429 and 503: any operation may be rate limited or find the database down.
    CommonErrors {
        "429" => reference::<TooManyRequests>(),
        "503" => reference::<ServiceUnavailable>(),
    }
    /// 413 and 415: operations that take a JSON body.
    JsonBodyErrors {
        "413" => reference::<PayloadTooLarge>(),
        "415" => reference::<UnsupportedMediaType>(),
    }
    /// 401 of the `user/` operations that need the Bearer access token.
    TokenRejected {
        "401" => inline_error("`not_authenticated` or an invalid or revoked token."),
    }
    /// 401 of the `chat/` operations (Bearer access token or session cookie).
    NotAuthenticated {
        "401" => inline_error("`not_authenticated`."),
    }
    /// 401 of the TOTP setup steps, which read the email from the session cookie.
    SessionRequired {
        "401" => inline_error("`session_required`: no email in the session."),
    }
}
