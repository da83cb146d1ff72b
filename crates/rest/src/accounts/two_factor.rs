//! Setting up the authenticator: `totp-device/create/`, `qr-code/`, `totp-device/verify/`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use whisper_http::ApiError;
use whisper_http::flow::flow_email;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::accounts::{DeviceBody, OtpRequest};

use crate::pages::prefers_json;
use crate::qr_code::qr_png;

use super::FlowStep;
use crate::openapi::{CommonErrors, JsonBodyErrors, SessionRequired};

/// POST `totp-device/create/`: a new unconfirmed authenticator for the session's email.
#[utoipa::path(
    post,
    path = routes::TOTP_DEVICE_CREATE,
    operation_id = "user_totp_device_create",
    tag = "users",
    summary = "Create the TOTP device",
    description = "Creates an unconfirmed authenticator for the email in the session (set by \
        the verification link or `login/`); replaces an unconfirmed one. No body.",
    security(("session" = [])),
    responses(
        (status = 201, description = "Created, unconfirmed.", body = DeviceBody,
            example = json!({"user": "V1StGXR8_Z5jdHi6B-myT", "name": "ada@example.com",
                "confirmed": false})),
        SessionRequired,
        (status = 403, description = "`email_not_verified`.", body = ErrorBody),
        (status = 404, description = "`not_found`: the session's account no longer exists.",
            body = ErrorBody),
        (status = 409, description = "`totp_already_confirmed`.", body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn create_device(
    FlowStep { accounts, session }: FlowStep,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let (user, _) = accounts.create_totp_device(&email).await?;
    Ok(HttpResponse::Created().json(DeviceBody {
        user: user.id.to_string(),
        name: user.email.to_string(),
        confirmed: false,
        message: None,
    }))
}

/// POST `qr-code/`: the unconfirmed authenticator's secret as a QR code for a phone app.
#[utoipa::path(
    post,
    path = routes::QR_CODE,
    operation_id = "user_qr_code",
    tag = "users",
    summary = "The TOTP secret as a QR code",
    description = "A PNG QR code of `otpauth://totp/Whisper:<email>?secret=…&issuer=Whisper`; \
        with `Accept: application/json`, `{secret, otpauth_url}` for manual entry instead. \
        (SHA1, 6 digits, 30 s) for the unconfirmed device of the session's email. Never \
        shown again once the device is confirmed. No body.",
    security(("session" = [])),
    responses(
        (status = 200, description = "The QR code (`Cache-Control: no-store`).",
            content(("image/png"))),
        SessionRequired,
        (status = 404, description = "`no_totp_device`: create one first.", body = ErrorBody),
        (status = 409, description = "`totp_already_confirmed`: the secret is never shown \
            again.", body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn qr_code(
    request: HttpRequest,
    FlowStep { accounts, session }: FlowStep,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let uri = accounts.totp_provisioning_uri(&email).await?;
    if prefers_json(&request) {
        // For manual entry (the setup page shows it as text): the same secret as the PNG.
        let secret = uri
            .split_once("secret=")
            .map(|(_, rest)| rest.split('&').next().unwrap_or(rest))
            .unwrap_or_default();
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .json(serde_json::json!({"secret": secret, "otpauth_url": uri})));
    }
    let png = qr_png(&uri)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        // A secret: never cache it anywhere.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(png))
}

/// POST `totp-device/verify/`: confirms the authenticator with a code it shows.
#[utoipa::path(
    post,
    path = routes::TOTP_DEVICE_VERIFY,
    operation_id = "user_totp_device_verify",
    tag = "users",
    summary = "Confirm the TOTP device",
    description = "Confirms the session's device with a code it shows (`username` is ignored \
        here). The code is consumed.",
    security(("session" = [])),
    request_body = OtpRequest,
    responses(
        (status = 200, description = "Confirmed; proceed to login.", body = DeviceBody,
            example = json!({"user": "V1StGXR8_Z5jdHi6B-myT", "name": "ada@example.com",
                "confirmed": true,
                "message": "TOTP Device verified successfully. Proceed to login."})),
        (status = 400, description = "`invalid_otp` (also a code already used) or \
            `invalid_json`.", body = ErrorBody),
        SessionRequired,
        (status = 404, description = "`no_totp_device`.", body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn confirm_device(
    FlowStep { accounts, session }: FlowStep,
    body: web::Json<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let (user, device) = accounts
        .confirm_totp_device(&email, &body.otp_token)
        .await?;
    Ok(HttpResponse::Ok().json(DeviceBody {
        user: user.id.to_string(),
        name: user.email.to_string(),
        confirmed: device.confirmed,
        message: Some("TOTP Device verified successfully. Proceed to login.".to_owned()),
    }))
}
