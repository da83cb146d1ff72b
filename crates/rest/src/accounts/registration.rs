//! `register/` and email verification.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use whisper_domain::{Accounts, DomainError, Email, Username};

use super::dto::{AccountBody, EmailRequest, MessageBody, RegisterRequest, both};
use super::flow::remember_email;
use crate::errors::ApiError;
use crate::pages::{VerifyPage, prefers_html, verify_email_page};
use crate::rate_limit::AnonymousCaller;

/// POST `register/`: a new unverified account, and a verification email on its way.
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
pub async fn begin_verification(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)?;
    accounts.begin_verification(&email).await?;
    Ok(HttpResponse::Ok().json(MessageBody {
        message: "A new verification email is on its way.",
    }))
}

/// POST `verify-email/complete/<token>/`: verifies the email and starts the 2FA flow.
/// A browser (preferring HTML) gets a page saying how it went instead of JSON.
pub async fn complete_verification(
    _: AnonymousCaller,
    request: HttpRequest,
    accounts: web::Data<Accounts>,
    session: Session,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = accounts.complete_verification(&token).await;
    if prefers_html(&request) {
        return Ok(match outcome {
            Ok(user) => {
                remember_email(&session, &user.email)?;
                verify_email_page(VerifyPage::Verified, StatusCode::OK)?
            }
            Err(error @ (DomainError::Rejected { .. } | DomainError::NotFound { .. })) => {
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
