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
use actix_web::{FromRequest, HttpRequest, Resource, Route, web};
use futures_util::future::LocalBoxFuture;
use whisper_domain::Accounts;
use whisper_http::fallback::method_not_allowed;
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

/// A resource answering only POST with `route`; other methods are a JSON 405.
fn post_only(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(method_not_allowed(&[Method::POST]))
}

/// Mounts the accounts routes; needs `web::Data<Accounts>`, `web::Data<RateLimits>` and
/// the session middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post_only(
        routes::REGISTER,
        web::post().to(registration::register),
    ))
    .service(post_only(
        routes::VERIFY_EMAIL_BEGIN,
        web::post().to(registration::begin_verification),
    ))
    .service(
        web::resource(routes::VERIFY_EMAIL_COMPLETE)
            .route(web::post().to(registration::complete_verification))
            .route(web::get().to(registration::verification_page))
            .default_service(method_not_allowed(&[Method::GET, Method::POST])),
    )
    .service(post_only(
        routes::TOTP_DEVICE_CREATE,
        web::post().to(two_factor::create_device),
    ))
    .service(post_only(
        routes::QR_CODE,
        web::post().to(two_factor::qr_code),
    ))
    .service(post_only(
        routes::TOTP_DEVICE_VERIFY,
        web::post().to(two_factor::confirm_device),
    ))
    .service(post_only(routes::LOGIN, web::post().to(login::login)))
    .service(
        web::resource(routes::TOTP_VERIFY)
            .route(web::get().to(login::totp_instructions))
            .route(web::post().to(login::verify_totp))
            .default_service(method_not_allowed(&[Method::GET, Method::POST])),
    )
    .service(post_only(routes::REFRESH, web::post().to(login::refresh)))
    .service(post_only(routes::LOGOUT, web::post().to(login::logout)))
    .service(
        web::resource(routes::ME)
            .route(web::get().to(profile::me))
            .route(web::patch().to(profile::rename))
            .default_service(method_not_allowed(&[Method::GET, Method::PATCH])),
    )
    .service(
        web::resource(routes::SOCIAL_BEGIN)
            .route(web::get().to(social::begin))
            .default_service(method_not_allowed(&[Method::GET])),
    )
    .service(
        web::resource(routes::SOCIAL_COMPLETE)
            .route(web::get().to(social::complete))
            .default_service(method_not_allowed(&[Method::GET])),
    )
    .service(
        web::resource(routes::USER_LIST)
            .route(web::get().to(profile::user_list))
            .default_service(method_not_allowed(&[Method::GET])),
    );
}
