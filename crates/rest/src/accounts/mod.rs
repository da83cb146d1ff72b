//! The accounts endpoints under `/api/v1/user/`: registration, email verification, TOTP
//! two-factor setup, login and token sessions, the caller's profile.

pub mod flow;
pub(crate) mod login;
pub(crate) mod profile;
pub(crate) mod registration;
pub mod social;
pub(crate) mod two_factor;

use actix_web::http::Method;
use actix_web::{Resource, Route, web};

pub use login::{TOTP_STEP, continue_with_totp};

use crate::fallback::method_not_allowed;

/// A resource answering only POST with `route`; other methods are a JSON 405.
fn post_only(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(method_not_allowed(&[Method::POST]))
}

/// Mounts the accounts routes; needs `web::Data<Accounts>`, `web::Data<RateLimits>` and
/// the session middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/user")
            .service(post_only(
                "/register/",
                web::post().to(registration::register),
            ))
            .service(post_only(
                "/verify-email/begin/",
                web::post().to(registration::begin_verification),
            ))
            .service(
                web::resource("/verify-email/complete/{token}/")
                    .route(web::post().to(registration::complete_verification))
                    .route(web::get().to(registration::verification_page))
                    .default_service(method_not_allowed(&[Method::GET, Method::POST])),
            )
            .service(post_only(
                "/totp-device/create/",
                web::post().to(two_factor::create_device),
            ))
            .service(post_only("/qr-code/", web::post().to(two_factor::qr_code)))
            .service(post_only(
                "/totp-device/verify/",
                web::post().to(two_factor::confirm_device),
            ))
            .service(post_only("/login/", web::post().to(login::login)))
            .service(
                web::resource("/totp/verify/")
                    .route(web::get().to(login::totp_instructions))
                    .route(web::post().to(login::verify_totp))
                    .default_service(method_not_allowed(&[Method::GET, Method::POST])),
            )
            .service(post_only("/refresh/", web::post().to(login::refresh)))
            .service(post_only("/logout/", web::post().to(login::logout)))
            .service(
                web::resource("/me/")
                    .route(web::get().to(profile::me))
                    .route(web::patch().to(profile::rename))
                    .default_service(method_not_allowed(&[Method::GET, Method::PATCH])),
            )
            .service(
                web::resource("/social/begin/{backend}/")
                    .route(web::get().to(social::begin))
                    .default_service(method_not_allowed(&[Method::GET])),
            )
            .service(
                web::resource("/social/complete/{backend}/")
                    .route(web::get().to(social::complete))
                    .default_service(method_not_allowed(&[Method::GET])),
            )
            .service(
                web::resource("/user-list/")
                    .route(web::get().to(profile::user_list))
                    .default_service(method_not_allowed(&[Method::GET])),
            ),
    );
}
