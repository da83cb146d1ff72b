//! Rate limits at the edge: per client IP for anonymous calls (the [`AnonymousCaller`]
//! extractor; the IP as [`crate::client_ip`] tells it), per account for authenticated ones (checked by the auth extractors). The
//! buckets themselves are in [`crate::limits`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::client_ip::client_ip;
use crate::errors::ApiError;
use crate::limits::RateLimits;

/// An anonymous caller within the per-IP rate limit. Taking it as a handler argument is
/// what subjects an endpoint to that limit.
pub struct AnonymousCaller;

impl FromRequest for AnonymousCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let limits = request.app_data::<web::Data<RateLimits>>().cloned();
        let ip = client_ip(request);
        Box::pin(async move {
            if let (Some(limits), Some(ip)) = (limits, ip) {
                limits.check_anonymous(ip).await?;
            }
            Ok(Self)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::http::StatusCode;
    use actix_web::test::TestRequest;
    use actix_web::{App, HttpResponse};
    use chrono::{TimeZone, Utc};
    use whisper_domain::ports::MockClock;

    use super::*;
    use crate::limits::RateLimitSettings;

    /// A clock that never moves: no bucket refills during the test.
    fn stopped_clock() -> MockClock {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap());
        clock
    }

    async fn anonymous(_: AnonymousCaller) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn an_anonymous_caller_over_the_limit_is_told_to_wait() {
        let limits = RateLimits::new(
            RateLimitSettings {
                enabled: true,
                anonymous_per_minute: 1,
                user_per_minute: 1,
            },
            Arc::new(stopped_clock()),
        );
        let app = actix_web::test::init_service(
            App::new()
                .app_data(web::Data::new(limits))
                .route("/", web::post().to(anonymous)),
        )
        .await;
        let call = || {
            TestRequest::post()
                .peer_addr("192.0.2.1:9".parse().unwrap())
                .to_request()
        };
        assert_eq!(
            actix_web::test::call_service(&app, call()).await.status(),
            StatusCode::OK
        );
        let refused = actix_web::test::call_service(&app, call()).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().contains_key("retry-after"));
    }

    #[actix_web::test]
    async fn clients_behind_a_trusted_proxy_are_counted_apart_and_forgers_as_themselves() {
        let limits = RateLimits::new(
            RateLimitSettings {
                enabled: true,
                anonymous_per_minute: 1,
                user_per_minute: 1,
            },
            Arc::new(stopped_clock()),
        );
        let trusted = crate::TrustedProxies::parse("127.0.0.1").unwrap();
        let app = actix_web::test::init_service(
            App::new()
                .app_data(web::Data::new(limits))
                .app_data(web::Data::new(trusted))
                .route("/", web::post().to(anonymous)),
        )
        .await;
        let status = async |peer: &str, forwarded: &str| {
            let request = TestRequest::post()
                .peer_addr(peer.parse().unwrap())
                .insert_header(("X-Forwarded-For", forwarded))
                .to_request();
            actix_web::test::call_service(&app, request).await.status()
        };
        assert_eq!(status("127.0.0.1:9", "192.0.2.2").await, StatusCode::OK);
        assert_eq!(status("127.0.0.1:9", "192.0.2.3").await, StatusCode::OK);
        assert_eq!(
            status("127.0.0.1:9", "192.0.2.2").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // An untrusted peer naming a fresh address is still itself: one call, then 429.
        assert_eq!(status("192.0.2.4:9", "192.0.2.5").await, StatusCode::OK);
        assert_eq!(
            status("192.0.2.4:9", "192.0.2.6").await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
