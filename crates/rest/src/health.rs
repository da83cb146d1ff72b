//! Liveness and readiness: `/health/live` while the process runs, `/health/ready` while
//! every essential backing service answers (degraded while an optional one does not).

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
    /// The service's name as shown to clients, e.g. `postgres`.
    fn name(&self) -> &'static str;
    /// Whether nothing can be served without it (PostgreSQL); without an optional one
    /// (Redis) the instance serves everything, degraded.
    fn essential(&self) -> bool {
        true
    }
    /// Whether the service answers right now.
    async fn check(&self) -> Result<(), DomainError>;
}

/// What the probes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serving: each service by name and whether it answers (some optional ones may not).
    Serving(Vec<(&'static str, bool)>),
    /// Not serving: the first essential service that does not answer.
    Down(&'static str),
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

    /// Asks every probe.
    pub async fn check(&self) -> Verdict {
        let mut services = Vec::with_capacity(self.probes.len());
        for probe in &self.probes {
            let up = match probe.check().await {
                Ok(()) => true,
                Err(error) if probe.essential() => {
                    tracing::warn!(service = probe.name(), %error, "not ready");
                    return Verdict::Down(probe.name());
                }
                Err(_) => false,
            };
            services.push((probe.name(), up));
        }
        Verdict::Serving(services)
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
    description = "200 when PostgreSQL answers, else 503: `ready` when Redis (if configured) \
        answers too, `degraded` while it does not (the instance still serves everything). \
        HEAD answers the same, without a body.",
    responses(
        (status = 200, description = "Serving; each backing service and its state.",
            body = HealthStatus,
            example = json!({"status": "ready", "services": {"postgres": "up", "redis": "up"}})),
        (status = 503, description = "`service_unavailable`: the detail names the service \
            that does not answer.", body = ErrorBody),
    ),
)]
async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    match readiness.check().await {
        Verdict::Serving(services) => {
            let all_up = services.iter().all(|(_, up)| *up);
            let status = HealthStatus::new(if all_up { "ready" } else { "degraded" });
            let body = services
                .into_iter()
                .fold(status, |body, (name, up)| body.with_service(name, up));
            HttpResponse::Ok().json(body)
        }
        Verdict::Down(service) => {
            ApiError::unavailable(format!("{service} service")).error_response()
        }
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
        essential: bool,
        up: AtomicBool,
    }

    #[async_trait]
    impl ReadinessProbe for Switch {
        fn name(&self) -> &'static str {
            self.name
        }
        fn essential(&self) -> bool {
            self.essential
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
            essential: name == "postgres",
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
        let database = switch("postgres", false);
        let app = app!(database);
        let response = test::call_service(&app, get("/health/live").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body, json!({"status": "ok"}));
    }

    #[actix_web::test]
    async fn ready_when_every_probe_answers() {
        let database = switch("postgres", true);
        let redis = switch("redis", true);
        let app = app!(database, redis);
        let response = test::call_service(&app, get("/health/ready").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(
            body,
            json!({"status": "ready", "services": {"postgres": "up", "redis": "up"}})
        );
    }

    #[actix_web::test]
    async fn an_optional_service_down_is_degraded_not_unready() {
        let database = switch("postgres", true);
        let redis = switch("redis", false);
        let app = app!(database, redis);
        let response = test::call_service(&app, get("/health/ready").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(
            body,
            json!({"status": "degraded", "services": {"postgres": "up", "redis": "down"}})
        );
    }

    #[actix_web::test]
    async fn not_ready_names_the_missing_service_without_its_reason() {
        let database = switch("postgres", false);
        let redis = switch("redis", true);
        let app = app!(database, redis);
        let response = test::call_service(&app, get("/health/ready").to_request()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "service_unavailable");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("postgres"), "{detail}");
        assert!(!detail.contains("refused"), "{detail}");
    }

    #[actix_web::test]
    async fn readiness_follows_the_probe() {
        let database = switch("postgres", true);
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
