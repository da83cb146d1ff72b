//! Setting up the authenticator: `totp-device/create/`, `qr-code/`, `totp-device/verify/`.

use actix_session::Session;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use whisper_domain::Accounts;

use super::dto::{DeviceBody, OtpRequest};
use super::flow::flow_email;
use crate::errors::ApiError;
use crate::qr_code::qr_png;
use crate::rate_limit::AnonymousCaller;

/// POST `totp-device/create/`: a new unconfirmed authenticator for the session's email.
pub async fn create_device(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
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
pub async fn qr_code(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let email = flow_email(&session)?;
    let uri = accounts.totp_provisioning_uri(&email).await?;
    let png = qr_png(&uri)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        // A secret: never cache it anywhere.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(png))
}

/// POST `totp-device/verify/`: confirms the authenticator with a code it shows.
pub async fn confirm_device(
    _: AnonymousCaller,
    accounts: web::Data<Accounts>,
    session: Session,
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
        message: Some("TOTP Device verified successfully. Proceed to login."),
    }))
}
