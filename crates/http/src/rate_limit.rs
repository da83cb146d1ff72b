//! Rate limits at the edge: per client IP for anonymous calls (the [`AnonymousCaller`]
//! extractor), per account for authenticated ones (checked by the auth extractors). The
//! buckets themselves are in [`crate::limits`].

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::errors::ApiError;
use crate::limits::RateLimits;

/// The client's address: the peer, or behind a proxy on this machine the address that
/// proxy appended to `X-Forwarded-For` (a remote client cannot forge that one).
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    if peer.is_loopback()
        && let Some(forwarded) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok())
    {
        return Some(forwarded);
    }
    Some(peer)
}

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

    fn from(peer: &str, forwarded: Option<&str>) -> Option<IpAddr> {
        let mut request = TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(forwarded) = forwarded {
            request = request.insert_header(("X-Forwarded-For", forwarded));
        }
        client_ip(&request.to_http_request())
    }

    #[test]
    fn only_a_local_proxy_names_the_client() {
        let client: IpAddr = [203, 0, 113, 7].into();
        assert_eq!(
            from("127.0.0.1:9", Some("10.0.0.1, 203.0.113.7")),
            Some(client)
        );
        assert_eq!(
            from("198.51.100.2:9", Some("203.0.113.7")),
            Some([198, 51, 100, 2].into())
        );
        assert_eq!(
            from("127.0.0.1:9", Some("garbage")),
            Some([127, 0, 0, 1].into())
        );
        assert_eq!(client_ip(&TestRequest::default().to_http_request()), None);
    }

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
}
