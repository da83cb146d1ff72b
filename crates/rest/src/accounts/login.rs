//! Signing in and out: `login/`, `totp/verify/`, `refresh/`, `logout/`.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use whisper_domain::{Accounts, Credential, DomainError, Email, Username};
use whisper_http::ApiError;
use whisper_http::auth::AuthenticatedUser;
use whisper_http::flow::{
    flow_email, forget_email, remember_email, remember_tokens, stored_refresh,
};
use whisper_http::rate_limit::AnonymousCaller;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::accounts::{
    EmailRequest, NextStepBody, NoticeBody, OtpRequest, RefreshRequest, TokensBody,
};

use super::FlowStep;
use crate::openapi::{CommonErrors, JsonBodyErrors, TokenRejected};

/// The 303 to the TOTP step, with the email kept in the session (also used by social sign-in).
pub fn continue_with_totp(session: &Session, email: &Email) -> Result<HttpResponse, ApiError> {
    remember_email(session, email)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, routes::TOTP_VERIFY))
        .json(NextStepBody {
            message: "Enter the code from your authenticator app.".to_owned(),
            next: routes::TOTP_VERIFY.to_owned(),
        }))
}

/// POST `login/`: first step, by email.
#[utoipa::path(
    post,
    path = routes::LOGIN,
    operation_id = "user_login",
    tag = "users",
    summary = "Log in, first step",
    description = "Stores the email in the session cookie and sends the client to the TOTP \
        step. Keep the cookie for `totp/verify/`.",
    request_body = EmailRequest,
    responses(
        (status = 303, description = "See Other: POST the code to `totp/verify/`.",
            body = NextStepBody,
            headers(("Location" = String, description = "The second login step, `totp/verify/`."))),
        (status = 400, description = "`invalid_input` or `invalid_json`.", body = ErrorBody),
        (status = 403, description = "`email_not_verified` or `totp_setup_required`.",
            body = ErrorBody),
        (status = 404, description = "`not_found`: no account has this email.",
            body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn login(
    FlowStep { accounts, session }: FlowStep,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)?;
    let user = accounts.begin_login(&email).await?;
    continue_with_totp(&session, &user.email)
}

/// GET `totp/verify/`: says what to send.
#[utoipa::path(
    get,
    path = routes::TOTP_VERIFY,
    operation_id = "user_totp_instructions",
    tag = "users",
    summary = "What to send to log in",
    responses(
        (status = 200, description = "Says what to POST here.", body = NoticeBody),
        (status = 429, response = crate::openapi::TooManyRequests),
    ),
)]
pub async fn totp_instructions(_: AnonymousCaller) -> HttpResponse {
    HttpResponse::Ok().json(NoticeBody::new(
        "POST {\"otp_token\": \"<6-digit code from your authenticator>\"} here to sign in.",
    ))
}

/// POST `totp/verify/`: second step; opens a session.
#[utoipa::path(
    post,
    path = routes::TOTP_VERIFY,
    operation_id = "user_totp_verify",
    tag = "users",
    summary = "Log in, second step",
    description = "Checks the code for the session's email and opens a session: the refresh \
        (and, for browsers, access) token is stored in the session cookie too. `username` \
        renames a randomly named account. A code works once.",
    security(("session" = [])),
    request_body = OtpRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokensBody),
        (status = 400, description = "`invalid_otp` (also a code already used), \
            `invalid_input` (username) or `invalid_json`.", body = ErrorBody),
        (status = 401, description = "`session_required`: start with `login/`.",
            body = ErrorBody),
        (status = 403, description = "`email_not_verified` or `totp_setup_required`.",
            body = ErrorBody),
        (status = 409, description = "`username_taken`.", body = ErrorBody),
        JsonBodyErrors,
        (status = 429, description = "`rate_limited`: too many requests, or 5 failed codes \
            in 15 minutes; wait `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    ),
)]
pub async fn verify_totp(
    FlowStep { accounts, session }: FlowStep,
    body: web::Json<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let username = body.username.as_deref().map(Username::parse).transpose()?;
    let signed_in = accounts
        .complete_login(&email, &body.otp_token, username)
        .await?;
    remember_tokens(&session, &signed_in.access_token, &signed_in.refresh_token)?;
    // The login is done: a copy of this cookie must not be able to guess codes again.
    forget_email(&session);
    Ok(HttpResponse::Ok().json(TokensBody::new(&signed_in, true)))
}

fn invalid_refresh() -> ApiError {
    DomainError::Unauthenticated(Credential::InvalidRefreshToken).into()
}

/// POST `refresh/`: new tokens for the body's refresh token, else the session's.
#[utoipa::path(
    post,
    path = routes::REFRESH,
    operation_id = "user_refresh",
    tag = "users",
    summary = "Renew the tokens",
    description = "New tokens for the body's refresh token, else the session's. Rotation: the \
        old refresh token stops working; reusing a rotated one revokes the whole family.",
    security((), ("session" = [])),
    request_body(content = Option<RefreshRequest>, content_type = "application/json",
        description = "Optional: for clients without cookies."),
    responses(
        (status = 200, description = "New tokens (`username` absent).", body = TokensBody),
        (status = 400, description = "`invalid_json`.", body = ErrorBody),
        (status = 401, description = "`invalid_refresh`: unknown, expired, rotated or \
            revoked.", body = ErrorBody),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        CommonErrors,
    ),
)]
pub async fn refresh(
    FlowStep { accounts, session }: FlowStep,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let given = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        // `null` is what the document allows besides the object: no token given.
        let parsed: Option<RefreshRequest> = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The request body is not valid: {e}."),
            )
        })?;
        parsed.map(|request| request.refresh)
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
#[utoipa::path(
    post,
    path = routes::LOGOUT,
    operation_id = "user_logout",
    tag = "users",
    summary = "Log out",
    description = "Revokes the access token and its refresh family; clears the session cookie \
        when one is sent. No body.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out."),
        TokenRejected,
        CommonErrors,
    ),
)]
pub async fn logout(
    caller: AuthenticatedUser,
    accounts: web::Data<Accounts>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    accounts.logout(&caller.access_token).await?;
    session.purge();
    Ok(HttpResponse::NoContent().finish())
}
