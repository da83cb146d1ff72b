//! Request and response bodies of the accounts endpoints (users and authentication), as
//! API.md names them.

use serde::{Deserialize, Serialize};
use whisper_domain::{Session, User};

use crate::time::timestamp;

/// `{"email", "username"?}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// The address the verification link goes to.
    #[cfg_attr(feature = "openapi", schema(format = Email, example = "ada@example.com"))]
    pub email: String,
    /// A chosen username; a random one is generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ada", pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{2,29}\s*$")
    )]
    pub username: Option<String>,
}

/// `{"email"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailRequest {
    /// The account's email address.
    #[cfg_attr(feature = "openapi", schema(format = Email, example = "ada@example.com"))]
    pub email: String,
}

/// `{"otp_token", "username"?}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpRequest {
    /// The 6-digit code the authenticator app shows now.
    #[cfg_attr(feature = "openapi", schema(example = "123456"))]
    pub otp_token: String,
    /// `totp/verify/` only: renames an account whose username was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ada", pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{2,29}\s*$")
    )]
    pub username: Option<String>,
}

/// `{"refresh"}`, for clients without cookies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from `totp/verify/` or the previous `refresh/`.
    pub refresh: String,
}

/// `{"username"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameRequest {
    /// The new username.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ada", pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{2,29}\s*$")
    )]
    pub username: String,
}

/// `{message}`: what happened, or what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeBody {
    /// What happened, or what to do next.
    pub message: String,
}

impl NoticeBody {
    /// A body saying `message`.
    pub fn new(message: &str) -> Self {
        Self {
            message: message.to_owned(),
        }
    }
}

/// An account in the registration and verification flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountBody {
    /// The account's id (nanoid).
    #[cfg_attr(feature = "openapi", schema(example = "V1StGXR8_Z5jdHi6B-myT"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(format = Email, example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(example = "ada"))]
    pub username: String,
    pub is_email_verified: bool,
    /// True when the person chose the username, false when it was generated.
    pub is_username_set: bool,
    /// What to do next.
    pub message: String,
}

impl AccountBody {
    /// `user` in the flow, with what to do next.
    pub fn new(user: &User, message: &str) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            is_email_verified: user.is_email_verified,
            is_username_set: user.is_username_set,
            message: message.to_owned(),
        }
    }
}

/// The body of a 201 for an account created by social sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAccountBody {
    pub id: String,
    pub email: String,
    pub username: String,
    pub is_email_verified: bool,
    pub is_username_set: bool,
    pub is_new: bool,
    pub message: String,
}

impl From<&User> for NewAccountBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            is_email_verified: user.is_email_verified,
            is_username_set: user.is_username_set,
            is_new: true,
            message: "Proceed to 2FA setup.".to_owned(),
        }
    }
}

/// A TOTP device: `{user, name, confirmed, message?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceBody {
    /// The owner's user id.
    #[cfg_attr(feature = "openapi", schema(example = "V1StGXR8_Z5jdHi6B-myT"))]
    pub user: String,
    /// The device's name: the owner's email.
    #[cfg_attr(feature = "openapi", schema(example = "ada@example.com"))]
    pub name: String,
    pub confirmed: bool,
    /// Present once the device is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `{message, next}` of the 303 to the TOTP step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextStepBody {
    pub message: String,
    /// Where to POST the code: the same as the `Location` header.
    #[cfg_attr(feature = "openapi", schema(example = "/api/v1/user/totp/verify/"))]
    pub next: String,
}

/// A signed-in session: `{id, email, username?, access, refresh}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokensBody {
    #[cfg_attr(feature = "openapi", schema(example = "V1StGXR8_Z5jdHi6B-myT"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(format = Email, example = "ada@example.com"))]
    pub email: String,
    /// Present in the answer of `totp/verify/`, absent in that of `refresh/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The access token (JWT, HS256) for `Authorization: Bearer`.
    pub access: String,
    /// The refresh token for `refresh/`; it works once (rotation).
    pub refresh: String,
}

impl TokensBody {
    /// The tokens of `session`, with the username when `with_username`.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileBody {
    #[cfg_attr(feature = "openapi", schema(example = "V1StGXR8_Z5jdHi6B-myT"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(format = Email, example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(example = "ada"))]
    pub username: String,
    pub is_email_verified: bool,
    pub is_online: bool,
    /// RFC 3339 UTC with microseconds.
    #[cfg_attr(feature = "openapi", schema(format = DateTime, example = "2023-10-18T12:00:00.123456Z"))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    #[cfg_attr(feature = "openapi", schema(example = "V1StGXR8_Z5jdHi6B-myT"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "ada"))]
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use whisper_domain::{Email, UserId, Username};

    use super::*;

    fn ada() -> User {
        User {
            id: UserId::parse("V1StGXR8_Z5jdHi6B-myT").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            username: Username::parse("ada").unwrap(),
            is_username_set: true,
            is_email_verified: true,
            is_online: false,
            created: Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap(),
        }
    }

    #[test]
    fn account_bodies_serialize_in_the_api_order() {
        assert_eq!(
            serde_json::to_string(&AccountBody::new(&ada(), "Proceed to 2FA setup.")).unwrap(),
            r#"{"id":"V1StGXR8_Z5jdHi6B-myT","email":"ada@example.com","username":"ada","is_email_verified":true,"is_username_set":true,"message":"Proceed to 2FA setup."}"#
        );
        assert_eq!(
            serde_json::to_string(&ProfileBody::from(&ada())).unwrap(),
            r#"{"id":"V1StGXR8_Z5jdHi6B-myT","email":"ada@example.com","username":"ada","is_email_verified":true,"is_online":false,"created":"2023-10-18T12:00:00.000000Z"}"#
        );
        assert_eq!(
            serde_json::to_value(NewAccountBody::from(&ada())).unwrap(),
            json!({"id": "V1StGXR8_Z5jdHi6B-myT", "email": "ada@example.com", "username": "ada",
                "is_email_verified": true, "is_username_set": true, "is_new": true,
                "message": "Proceed to 2FA setup."})
        );
    }

    #[test]
    fn optional_fields_are_left_out_until_they_have_a_value() {
        let device = DeviceBody {
            user: "V1StGXR8_Z5jdHi6B-myT".into(),
            name: "ada@example.com".into(),
            confirmed: false,
            message: None,
        };
        assert_eq!(
            serde_json::to_string(&device).unwrap(),
            r#"{"user":"V1StGXR8_Z5jdHi6B-myT","name":"ada@example.com","confirmed":false}"#
        );
        let refreshed = TokensBody {
            id: "V1StGXR8_Z5jdHi6B-myT".into(),
            email: "ada@example.com".into(),
            username: None,
            access: "a".into(),
            refresh: "r".into(),
        };
        let text = r#"{"id":"V1StGXR8_Z5jdHi6B-myT","email":"ada@example.com","access":"a","refresh":"r"}"#;
        assert_eq!(serde_json::to_string(&refreshed).unwrap(), text);
        assert_eq!(serde_json::from_str::<TokensBody>(text).unwrap(), refreshed);
    }

    #[test]
    fn requests_read_what_clients_send() {
        let register: RegisterRequest =
            serde_json::from_value(json!({"email": "ada@example.com"})).unwrap();
        assert_eq!(register.username, None);
        let otp: OtpRequest =
            serde_json::from_value(json!({"otp_token": "123456", "username": "ada"})).unwrap();
        assert_eq!(otp.username.as_deref(), Some("ada"));
        assert_eq!(
            serde_json::to_string(&RegisterRequest {
                email: "ada@example.com".into(),
                username: None,
            })
            .unwrap(),
            r#"{"email":"ada@example.com"}"#
        );
    }
}
