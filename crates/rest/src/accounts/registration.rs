//! `register/` and email verification.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use whisper_domain::{Accounts, DomainError, Email, Username};
use whisper_http::ApiError;
use whisper_http::flow::remember_email;
use whisper_http::input::both;
use whisper_http::rate_limit::AnonymousCaller;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::accounts::{AccountBody, EmailRequest, NoticeBody, RegisterRequest};

use super::FlowStep;
use crate::openapi::{CommonErrors, JsonBodyErrors};
use crate::pages::{VerifyPage, prefers_html, verify_email_page};

/// POST `register/`: a new unverified account, and a verification email on its way.
#[utoipa::path(
    post,
    path = routes::REGISTER,
    operation_id = "user_register",
    tag = "users",
    summary = "Create an account",
    description = "Creates an unverified account and sends a verification email. Without \
        `username`, a random one is generated (`is_username_set: false`).",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Created; a verification email is on its way.",
            body = AccountBody),
        (status = 400, description = "`invalid_input` (invalid email or username, listed in \
            `fields`) or `invalid_json`.", body = ErrorBody),
        (status = 409, description = "`email_taken` or `username_taken`.", body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn register(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let (email, username) = both(
        Email::parse(&body.email),
        body.username.as_deref().map(Username::parse).transpose(),
    )?;
    let user = accounts.register(email, username).await?;
    Ok(HttpResponse::Created().json(AccountBody::new(
        &user,
        "Registration successful. Check your email for the verification link.",
    )))
}

/// POST `verify-email/begin/`: a fresh verification link.
#[utoipa::path(
    post,
    path = routes::VERIFY_EMAIL_BEGIN,
    operation_id = "user_verify_email_begin",
    tag = "users",
    summary = "Send a new verification email",
    request_body = EmailRequest,
    responses(
        (status = 200, description = "A new verification email is on its way.",
            body = NoticeBody),
        (status = 400, description = "`already_verified`, `invalid_input` or `invalid_json`.",
            body = ErrorBody),
        (status = 404, description = "`not_found`: no account has this email.",
            body = ErrorBody),
        (status = 409, description = "`verification_pending`: an unexpired link exists.",
            body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn begin_verification(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)?;
    accounts.begin_verification(&email).await?;
    Ok(HttpResponse::Ok().json(NoticeBody::new("A new verification email is on its way.")))
}

/// POST `verify-email/complete/<token>/`: verifies the email and starts the 2FA flow.
/// A browser (preferring HTML) gets a page saying how it went instead of JSON.
#[utoipa::path(
    post,
    path = routes::VERIFY_EMAIL_COMPLETE,
    operation_id = "user_verify_email_complete",
    tag = "users",
    summary = "Verify the email",
    description = "Verifies the email of the link and stores it in the session cookie, for the \
        TOTP setup that follows. A client whose `Accept` prefers `text/html` gets an HTML page \
        saying how it went instead of JSON.",
    params(("token" = String, Path, description = "The token of the emailed link.")),
    responses(
        (status = 200, description = "Verified; proceed to 2FA setup (`totp-device/create/`).",
            content(
                (AccountBody = "application/json"),
                (String = "text/html"),
            )),
        (status = 400, description = "`invalid_token`, `expired_token` (the code is discarded \
            so a new one can be requested) or `already_verified`.",
            content(
                (ErrorBody = "application/json"),
                (String = "text/html"),
            )),
        CommonErrors,
    ),
)]
pub async fn complete_verification(
    FlowStep { accounts, session }: FlowStep,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = accounts.complete_verification(&token).await;
    if prefers_html(&request) {
        return Ok(match outcome {
            Ok(user) => {
                remember_email(&session, &user.email)?;
                verify_email_page(VerifyPage::Verified, StatusCode::OK)?
            }
            Err(error @ (DomainError::Rejected(_) | DomainError::NotFound(_))) => {
                let detail = ApiError::from(error).body().detail;
                verify_email_page(
                    VerifyPage::Failed { detail: &detail },
                    StatusCode::BAD_REQUEST,
                )?
            }
            Err(other) => return Err(other.into()),
        });
    }
    let user = outcome?;
    remember_email(&session, &user.email)?;
    Ok(HttpResponse::Ok().json(AccountBody::new(&user, "Proceed to 2FA setup.")))
}

/// GET `verify-email/complete/<token>/`: a page whose button POSTs the link, so that mail
/// scanners prefetching links consume nothing.
#[utoipa::path(
    get,
    path = routes::VERIFY_EMAIL_COMPLETE,
    operation_id = "user_verify_email_page",
    tag = "users",
    summary = "The page of the emailed link",
    description = "An HTML page with a button that POSTs the same URL: link scanners that \
        prefetch links consume no token.",
    params(("token" = String, Path, description = "The token of the emailed link.")),
    responses(
        (status = 200, description = "The confirmation page.", body = String,
            content_type = "text/html"),
        (status = 429, response = crate::openapi::TooManyRequests),
    ),
)]
pub async fn verification_page(
    _: AnonymousCaller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    Ok(verify_email_page(
        VerifyPage::Confirm {
            action: request.path(),
        },
        StatusCode::OK,
    )?)
}
