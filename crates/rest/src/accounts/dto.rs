//! Request and response bodies of the accounts endpoints, as API.md names them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use whisper_domain::{DomainError, DomainResult, Session, User};

use crate::errors::ApiError;

/// RFC 3339 UTC with microseconds: `2023-10-18T12:00:00.123456Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Both values, or one 400 listing every invalid field of the two.
pub fn both<A, B>(a: DomainResult<A>, b: DomainResult<B>) -> Result<(A, B), ApiError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut problems = Vec::new();
            let mut other = None;
            for error in [a.err(), b.err()].into_iter().flatten() {
                match error {
                    DomainError::Invalid(found) => problems.extend(found),
                    error => other = Some(error),
                }
            }
            match other {
                Some(error) => Err(error.into()),
                None => Err(ApiError::invalid_input(
                    "Some fields are invalid.",
                    &problems,
                )),
            }
        }
    }
}

/// `{"email", "username"?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// The address the verification link goes to.
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
    /// A chosen username; a random one is generated when absent.
    #[serde(default)]
    #[schema(example = "ada")]
    pub username: Option<String>,
}

/// `{"email"}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailRequest {
    /// The account's email address.
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
}

/// `{"otp_token", "username"?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct OtpRequest {
    /// The 6-digit code the authenticator app shows now.
    #[schema(example = "123456")]
    pub otp_token: String,
    /// `totp/verify/` only: renames an account whose username was generated.
    #[serde(default)]
    #[schema(example = "ada")]
    pub username: Option<String>,
}

/// `{"refresh"}`, for clients without cookies.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token from `totp/verify/` or the previous `refresh/`.
    pub refresh: String,
}

/// `{"username"}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameRequest {
    /// The new username.
    #[schema(example = "ada")]
    pub username: String,
}

/// `?search=<prefix>`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Username prefix to match; empty or absent matches everyone (at most 50 results).
    #[serde(default)]
    #[param(required = false, example = "ad")]
    pub search: String,
}

/// `{message}`
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    /// What happened, or what to do next.
    pub message: &'static str,
}

/// An account in the registration and verification flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    /// The account's id (nanoid).
    #[schema(example = "V1StGXR8_Z5jdHi6B-myT")]
    pub id: String,
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
    #[schema(example = "ada")]
    pub username: String,
    pub is_email_verified: bool,
    /// True when the person chose the username, false when it was generated.
    pub is_username_set: bool,
    /// What to do next.
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
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceBody {
    /// The owner's user id.
    #[schema(example = "V1StGXR8_Z5jdHi6B-myT")]
    pub user: String,
    /// The device's name: the owner's email.
    #[schema(example = "ada@example.com")]
    pub name: String,
    pub confirmed: bool,
    /// Present once the device is confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// `{message, next}` of the 303 to the TOTP step.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextStepBody {
    pub message: &'static str,
    /// Where to POST the code: the same as the `Location` header.
    #[schema(example = "/api/v1/user/totp/verify/")]
    pub next: &'static str,
}

/// A signed-in session: `{id, email, username?, access, refresh}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensBody {
    #[schema(example = "V1StGXR8_Z5jdHi6B-myT")]
    pub id: String,
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
    /// Present in the answer of `totp/verify/`, absent in that of `refresh/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The access token (JWT, HS256) for `Authorization: Bearer`.
    pub access: String,
    /// The refresh token for `refresh/`; it works once (rotation).
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
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBody {
    #[schema(example = "V1StGXR8_Z5jdHi6B-myT")]
    pub id: String,
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
    #[schema(example = "ada")]
    pub username: String,
    pub is_email_verified: bool,
    pub is_online: bool,
    /// RFC 3339 UTC with microseconds.
    #[schema(format = DateTime, example = "2023-10-18T12:00:00.123456Z")]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    #[schema(example = "V1StGXR8_Z5jdHi6B-myT")]
    pub id: String,
    #[schema(example = "ada")]
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
