//! Liveness and readiness: `/health/live` while the process runs, `/health/ready` while
//! every backing service answers.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpResponse, ResponseError, web};
use async_trait::async_trait;
use whisper_domain::DomainError;
use whisper_http::ApiError;
use whisper_http::fallback::resource;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::health::HealthStatus;

/// A backing service the server needs to do its work (PostgreSQL, Redis).
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// The service's name as shown to clients, e.g. `database`.
    fn name(&self) -> &'static str;
    /// Whether the service answers right now.
    async fn check(&self) -> Result<(), DomainError>;
}

/// Every backing service the server needs; shared by all workers.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<Arc<dyn ReadinessProbe>>,
}

impl Readiness {
    /// Readiness depending on `probes`; with none, the server is always ready.
    pub fn new(probes: Vec<Arc<dyn ReadinessProbe>>) -> Self {
        Self { probes }
    }

    /// The name of the first service that does not answer.
    pub async fn check(&self) -> Result<(), &'static str> {
        for probe in &self.probes {
            if let Err(error) = probe.check().await {
                tracing::warn!(service = probe.name(), %error, "not ready");
                return Err(probe.name());
            }
        }
        Ok(())
    }
}

/// The process is running. HEAD answers the same, without a body.
#[utoipa::path(
    get,
    path = routes::HEALTH_LIVE,
    operation_id = "health_live",
    tag = "health",
    summary = "Liveness",
    description = "200 while the process runs. HEAD answers the same, without a body.",
    responses(
        (status = 200, description = "The process runs.", body = HealthStatus,
            example = json!({"status": "ok"})),
    ),
)]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus::new("ok"))
}

/// Every backing service (PostgreSQL, and Redis when configured) answers. HEAD answers the
/// same, without a body.
// Not being ready is an answer, not a failure of this request: it is returned as a
// response so request logging does not report an error on every probe.
#[utoipa::path(
    get,
    path = routes::HEALTH_READY,
    operation_id = "health_ready",
    tag = "health",
    summary = "Readiness",
    description = "200 when PostgreSQL (and Redis, when configured) answer, else 503. HEAD \
        answers the same, without a body.",
    responses(
        (status = 200, description = "Every backing service answers.", body = HealthStatus,
            example = json!({"status": "ready"})),
        (status = 503, description = "`service_unavailable`: the detail names the service \
            that does not answer.", body = ErrorBody),
    ),
)]
async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    match readiness.check().await {
        Ok(()) => HttpResponse::Ok().json(HealthStatus::new("ready")),
        Err(service) => ApiError::unavailable(service).error_response(),
    }
}

/// Mounts `/health/live` and `/health/ready`; needs `web::Data<Readiness>` in app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        routes::HEALTH_LIVE,
        [(Method::GET, web::to(live)), (Method::HEAD, web::to(live))],
    ))
    .service(resource(
        routes::HEALTH_READY,
        [
            (Method::GET, web::to(ready)),
            (Method::HEAD, web::to(ready)),
        ],
    ));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use actix_web::http::StatusCode;
    use actix_web::{App, test};
    use serde_json::{Value, json};

    use super::*;

    struct Switch {
        name: &'static str,
        up: AtomicBool,
    }

    #[async_trait]
    impl ReadinessProbe for Switch {
        fn name(&self) -> &'static str {
            self.name
        }
        async fn check(&self) -> Result<(), DomainError> {
            if self.up.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(DomainError::internal("connection refused"))
            }
        }
    }

    fn switch(name: &'static str, up: bool) -> Arc<Switch> {
        Arc::new(Switch {
            name,
            up: AtomicBool::new(up),
        })
    }

    /// A GET of `path`.
    fn get(path: &str) -> test::TestRequest {
        test::TestRequest::get().uri(path)
    }

    macro_rules! app {
        ($($probe:expr),*) => {
            test::init_service(
                App::new()
                    .app_data(web::Data::new(Readiness::new(vec![$($probe.clone() as Arc<dyn ReadinessProbe>),*])))
                    .configure(configure),
            )
            .await
        };
    }

    #[actix_web::test]
    async fn live_is_ok_even_when_nothing_answers() {
        let database = switch("database", false);
        let app = app!(database);
        let response = test::call_service(&app, get("/health/live").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body, json!({"status": "ok"}));
    }

    #[actix_web::test]
    async fn ready_when_every_probe_answers() {
        let database = switch("database", true);
        let redis = switch("redis", true);
        let app = app!(database, redis);
        let response = test::call_service(&app, get("/health/ready").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body, json!({"status": "ready"}));
    }

    #[actix_web::test]
    async fn not_ready_names_the_missing_service_without_its_reason() {
        let database = switch("database", true);
        let redis = switch("redis", false);
        let app = app!(database, redis);
        let response = test::call_service(&app, get("/health/ready").to_request()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "service_unavailable");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("redis"), "{detail}");
        assert!(!detail.contains("refused"), "{detail}");
    }

    #[actix_web::test]
    async fn readiness_follows_the_probe() {
        let database = switch("database", true);
        let app = app!(database);
        let ready = || get("/health/ready").to_request();
        assert_eq!(
            test::call_service(&app, ready()).await.status(),
            StatusCode::OK
        );
        database.up.store(false, Ordering::SeqCst);
        assert_eq!(
            test::call_service(&app, ready()).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        database.up.store(true, Ordering::SeqCst);
        assert_eq!(
            test::call_service(&app, ready()).await.status(),
            StatusCode::OK
        );
    }

    #[actix_web::test]
    async fn health_refuses_other_methods() {
        let app = app!();
        let request = test::TestRequest::post().uri("/health/live").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers().get("allow").unwrap(), "GET, HEAD");
    }
}
