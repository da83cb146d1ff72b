//! The accounts endpoints of the `user/` area of the route table: registration, email
//! verification, TOTP two-factor setup, login and token sessions, the caller's profile.

pub(crate) mod login;
pub(crate) mod profile;
pub(crate) mod registration;
pub mod social;
pub(crate) mod two_factor;

use actix_session::Session;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use whisper_domain::Accounts;
use whisper_http::fallback::resource;
use whisper_http::rate_limit::AnonymousCaller;
use whisper_http::routes;

pub use login::continue_with_totp;

/// What a step of a flow kept in the session cookie (verification, TOTP setup, login)
/// takes: an [`AnonymousCaller`] within the per-IP rate limit, then the accounts use case
/// and the cookie, extracted in that order.
pub struct FlowStep {
    /// The accounts use case.
    pub accounts: web::Data<Accounts>,
    /// The session cookie.
    pub session: Session,
}

impl FromRequest for FlowStep {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts =
            <(AnonymousCaller, web::Data<Accounts>, Session)>::from_request(request, payload);
        Box::pin(async move {
            let (_, accounts, session) = parts.await?;
            Ok(Self { accounts, session })
        })
    }
}

/// Mounts the accounts routes; needs `web::Data<Accounts>`, `web::Data<RateLimits>` and
/// the session middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        routes::REGISTER,
        [(Method::POST, web::to(registration::register))],
    ))
    .service(resource(
        routes::VERIFY_EMAIL_BEGIN,
        [(Method::POST, web::to(registration::begin_verification))],
    ))
    .service(resource(
        routes::VERIFY_EMAIL_COMPLETE,
        [
            (Method::GET, web::to(registration::verification_page)),
            (Method::POST, web::to(registration::complete_verification)),
        ],
    ))
    .service(resource(
        routes::TOTP_DEVICE_CREATE,
        [(Method::POST, web::to(two_factor::create_device))],
    ))
    .service(resource(
        routes::QR_CODE,
        [(Method::POST, web::to(two_factor::qr_code))],
    ))
    .service(resource(
        routes::TOTP_DEVICE_VERIFY,
        [(Method::POST, web::to(two_factor::confirm_device))],
    ))
    .service(resource(
        routes::LOGIN,
        [(Method::POST, web::to(login::login))],
    ))
    .service(resource(
        routes::TOTP_VERIFY,
        [
            (Method::GET, web::to(login::totp_instructions)),
            (Method::POST, web::to(login::verify_totp)),
        ],
    ))
    .service(resource(
        routes::REFRESH,
        [(Method::POST, web::to(login::refresh))],
    ))
    .service(resource(
        routes::LOGOUT,
        [(Method::POST, web::to(login::logout))],
    ))
    .service(resource(
        routes::ME,
        [
            (Method::GET, web::to(profile::me)),
            (Method::PATCH, web::to(profile::rename)),
        ],
    ))
    .service(resource(
        routes::SOCIAL_BEGIN,
        [(Method::GET, web::to(social::begin))],
    ))
    .service(resource(
        routes::SOCIAL_COMPLETE,
        [(Method::GET, web::to(social::complete))],
    ))
    .service(resource(
        routes::USER_LIST,
        [(Method::GET, web::to(profile::user_list))],
    ));
}
