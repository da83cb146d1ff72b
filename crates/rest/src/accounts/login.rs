//! Signing in and out: `login/`, `totp/verify/`, `refresh/`, `logout/`.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use whisper_domain::{Accounts, DomainError, Email, Username};

use super::dto::{EmailRequest, MessageBody, NextStepBody, OtpRequest, RefreshRequest, TokensBody};
use super::flow::{flow_email, remember_email, remember_tokens, stored_refresh};
use crate::auth::AuthenticatedUser;
use crate::errors::ApiError;
use crate::rate_limit::AnonymousCaller;

/// Where the second login step happens.
pub const TOTP_STEP: &str = "/api/v1/user/totp/verify/";

/// The 303 to the TOTP step, with the email kept in the session (also used by social sign-in).
pub fn continue_with_totp(session: &Session, email: &Email) -> Result<HttpResponse, ApiError> {
    remember_email(session, email)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, TOTP_STEP))
        .json(NextStepBody {
            message: "Enter the code from your authenticator app.",
            next: TOTP_STEP,
        }))
}

/// POST `login/`: first step, by email.
pub async fn login(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)?;
    let user = accounts.begin_login(&email).await?;
    continue_with_totp(&session, &user.email)
}

/// GET `totp/verify/`: says what to send.
pub async fn totp_instructions(_: AnonymousCaller) -> HttpResponse {
    HttpResponse::Ok().json(MessageBody {
        message: "POST {\"otp_token\": \"<6-digit code from your authenticator>\"} here to sign in.",
    })
}

/// POST `totp/verify/`: second step; opens a session.
pub async fn verify_totp(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
    body: web::Json<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let username = body.username.as_deref().map(Username::parse).transpose()?;
    let signed_in = accounts
        .complete_login(&email, &body.otp_token, username)
        .await?;
    remember_tokens(&session, &signed_in.access_token, &signed_in.refresh_token)?;
    Ok(HttpResponse::Ok().json(TokensBody::new(&signed_in, true)))
}

fn invalid_refresh() -> ApiError {
    DomainError::unauthenticated(
        "invalid_refresh",
        "The refresh token is invalid or was revoked.",
    )
    .into()
}

/// POST `refresh/`: new tokens for the body's refresh token, else the session's.
pub async fn refresh(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let given = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: RefreshRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The request body is not valid: {e}."),
            )
        })?;
        Some(parsed.refresh)
    };
    let token = match given {
        Some(token) => token,
        None => stored_refresh(&session)?.ok_or_else(invalid_refresh)?,
    };
    let renewed = accounts.refresh(&token).await?;
    if stored_refresh(&session)?.is_some() {
        remember_tokens(&session, &renewed.access_token, &renewed.refresh_token)?;
    }
    Ok(HttpResponse::Ok().json(TokensBody::new(&renewed, false)))
}

/// POST `logout/`: revokes the access token and its refresh family, clears the session.
pub async fn logout(
    caller: AuthenticatedUser,
    accounts: web::Data<Accounts>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    accounts.logout(&caller.access_token).await?;
    session.purge();
    Ok(HttpResponse::NoContent().finish())
}
