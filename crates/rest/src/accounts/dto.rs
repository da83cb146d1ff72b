//! Request and response bodies of the accounts endpoints, as API.md names them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use whisper_domain::{DomainError, DomainResult, Session, User};

use crate::errors::{ApiError, ErrorBody};

/// RFC 3339 UTC with microseconds: `2023-10-18T12:00:00.123456Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Both values, or one 400 listing every invalid field of the two.
pub fn both<A, B>(a: DomainResult<A>, b: DomainResult<B>) -> Result<(A, B), ApiError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut body = ErrorBody::new("invalid_input", "Some fields are invalid.");
            let mut other = None;
            for error in [a.err(), b.err()].into_iter().flatten() {
                match error {
                    DomainError::Invalid { field, reason } => body = body.with_field(field, reason),
                    error => other = Some(error),
                }
            }
            match other {
                Some(error) => Err(error.into()),
                None => Err(ApiError::Http {
                    status: actix_web::http::StatusCode::BAD_REQUEST,
                    body,
                }),
            }
        }
    }
}

/// `{"email", "username"?}`
#[derive(Debug, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// `{"email"}`
#[derive(Debug, Deserialize)]
pub struct EmailRequest {
    pub email: String,
}

/// `{"otp_token", "username"?}`
#[derive(Debug, Deserialize)]
pub struct OtpRequest {
    pub otp_token: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// `{"refresh"}`, for clients without cookies.
#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    pub refresh: String,
}

/// `{"username"}`
#[derive(Debug, Deserialize)]
pub struct RenameRequest {
    pub username: String,
}

/// `?search=<prefix>`
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub search: String,
}

/// `{message}`
#[derive(Debug, Serialize)]
pub struct MessageBody {
    pub message: &'static str,
}

/// An account in the registration and verification flow.
#[derive(Debug, Serialize)]
pub struct AccountBody {
    pub id: String,
    pub email: String,
    pub username: String,
    pub is_email_verified: bool,
    pub is_username_set: bool,
    pub message: &'static str,
}

impl AccountBody {
    pub fn new(user: &User, message: &'static str) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            is_email_verified: user.is_email_verified,
            is_username_set: user.is_username_set,
            message,
        }
    }
}

/// A TOTP device: `{user, name, confirmed, message?}`.
#[derive(Debug, Serialize)]
pub struct DeviceBody {
    pub user: String,
    pub name: String,
    pub confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// `{message, next}` of the 303 to the TOTP step.
#[derive(Debug, Serialize)]
pub struct NextStepBody {
    pub message: &'static str,
    pub next: &'static str,
}

/// A signed-in session: `{id, email, username?, access, refresh}`.
#[derive(Debug, Serialize)]
pub struct TokensBody {
    pub id: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub access: String,
    pub refresh: String,
}

impl TokensBody {
    pub fn new(session: &Session, with_username: bool) -> Self {
        Self {
            id: session.user.id.to_string(),
            email: session.user.email.to_string(),
            username: with_username.then(|| session.user.username.to_string()),
            access: session.access_token.clone(),
            refresh: session.refresh_token.clone(),
        }
    }
}

/// The caller's own account: `me/`.
#[derive(Debug, Serialize)]
pub struct ProfileBody {
    pub id: String,
    pub email: String,
    pub username: String,
    pub is_email_verified: bool,
    pub is_online: bool,
    pub created: String,
}

impl From<&User> for ProfileBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            is_email_verified: user.is_email_verified,
            is_online: user.is_online,
            created: timestamp(user.created),
        }
    }
}

/// Another account, as shown when picking room members.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub is_online: bool,
}

impl From<&User> for UserSummary {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            is_online: user.is_online,
        }
    }
}
