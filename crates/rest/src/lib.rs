//! Whisper's REST adapter: actix-web handlers, sessions, the OpenAPI document, pages and health.
//!
//! The app mounts everything with [`configure`] and wraps the app in
//! [`whisper_http::fallback::json_errors`]:
//!
//! ```ignore
//! App::new()
//!     .wrap(whisper_http::fallback::json_errors())
//!     .configure(|cfg| whisper_rest::configure(cfg, readiness.clone()))
//! ```

pub mod accounts;
pub mod browser;
pub mod chat;
pub mod health;
pub mod openapi;
pub mod pages;
pub mod qr_code;
pub mod session;

use actix_web::web;
use whisper_http::{fallback, input};

pub use health::{Readiness, ReadinessProbe, Verdict};

/// Mounts every route, the extractor configuration and the JSON 404 default service.
/// The accounts routes need `web::Data<whisper_domain::Accounts>` and
/// `web::Data<whisper_http::limits::RateLimits>` in the app, and
/// [`session::session_middleware`].
pub fn configure(cfg: &mut web::ServiceConfig, readiness: web::Data<Readiness>) {
    cfg.app_data(readiness)
        .app_data(input::json_config())
        .app_data(input::path_config())
        .app_data(input::query_config())
        .configure(health::configure)
        .configure(accounts::configure)
        .configure(chat::configure)
        .configure(openapi::configure)
        .configure(browser::configure)
        .default_service(web::to(fallback::not_found));
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::{App, test};
    use serde_json::Value;

    use super::*;

    #[actix_web::test]
    async fn the_mounted_app_answers_unknown_api_routes_with_json_404() {
        let readiness = web::Data::new(Readiness::default());
        let app = test::init_service(
            App::new()
                .wrap(fallback::json_errors())
                .configure(|cfg| configure(cfg, readiness.clone())),
        )
        .await;
        let request = test::TestRequest::get().uri("/api/v1/nope/").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "not_found");

        let request = test::TestRequest::get().uri("/health/ready").to_request();
        assert_eq!(
            test::call_service(&app, request).await.status(),
            StatusCode::OK
        );
    }
}
