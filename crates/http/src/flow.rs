//! What the session cookie carries between the calls of one flow: the email being
//! verified or signed in, and the tokens of the session that follows.

use actix_session::Session;
use actix_web::http::StatusCode;
use whisper_domain::{DomainError, Email};

use crate::errors::ApiError;

const EMAIL: &str = "email";
const REFRESH: &str = "refresh";
const ACCESS: &str = "access";

/// A session that cannot be read or written: nobody's input, so a 500.
pub fn session_failure(error: impl std::fmt::Display) -> ApiError {
    ApiError::from(DomainError::internal(format!("session: {error}")))
}

/// The email of the flow in progress; 401 `session_required` without one.
pub fn flow_email(session: &Session) -> Result<Email, ApiError> {
    let stored: Option<String> = session.get(EMAIL).map_err(session_failure)?;
    stored
        .and_then(|raw| Email::parse(&raw).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "session_required",
                "Start with login/ or the verification link first; keep the session cookie.",
            )
        })
}

/// Remembers the email of the flow in progress.
pub fn remember_email(session: &Session, email: &Email) -> Result<(), ApiError> {
    session
        .insert(EMAIL, email.as_str())
        .map_err(session_failure)
}

/// Ends the flow in progress: its email no longer opens a TOTP step.
pub fn forget_email(session: &Session) {
    session.remove(EMAIL);
}

/// The refresh token kept in the session, if any.
pub fn stored_refresh(session: &Session) -> Result<Option<String>, ApiError> {
    session.get(REFRESH).map_err(session_failure)
}

/// Keeps the session's tokens for browsers and cookie-keeping clients.
pub fn remember_tokens(session: &Session, access: &str, refresh: &str) -> Result<(), ApiError> {
    session.insert(ACCESS, access).map_err(session_failure)?;
    session.insert(REFRESH, refresh).map_err(session_failure)
}

/// The access token kept in the session (browsers), if any.
pub fn stored_access(session: &Session) -> Option<String> {
    session.get(ACCESS).ok().flatten()
}
