use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test, web};
use metrics_exporter_prometheus::PrometheusBuilder;

use super::*;
use crate::routes;

const ROOM: &str = "V1StGXR8_Z5jdHi6B-myT";

async fn answer() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Requests through the middleware, recorded by a recorder of this thread only; what it
/// renders.
async fn scrape_after(requests: &[(&str, String)]) -> String {
    let recorder = PrometheusBuilder::new()
        .set_buckets(&[0.001, 1.0])
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = test::init_service(
        App::new()
            .wrap(from_fn(record_request))
            .route(routes::ROOM_HOME, web::get().to(answer)),
    )
    .await;
    for (method, path) in requests {
        let request = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .to_request();
        test::call_service(&app, request).await;
    }
    handle.render()
}

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_never_by_path() {
    let room_path = routes::path(routes::ROOM_HOME, &[ROOM]);
    let rendered = scrape_after(&[
        ("GET", room_path.clone()),
        ("GET", room_path),
        ("GET", "/nowhere/secret-token/".to_owned()),
    ])
    .await;
    assert!(
        rendered.contains(
            r#"whisper_http_requests_total{method="GET",route="/api/v1/chat/home/{room_id}/",status="200"} 2"#
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            r#"whisper_http_requests_total{method="GET",route="(no route)",status="404"} 1"#
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            r#"whisper_http_request_duration_seconds_count{method="GET",route="/api/v1/chat/home/{room_id}/"} 2"#
        ),
        "{rendered}"
    );
    assert!(!rendered.contains(ROOM), "{rendered}");
    assert!(!rendered.contains("secret-token"), "{rendered}");
}

#[actix_web::test]
async fn made_up_methods_share_one_label() {
    let rendered = scrape_after(&[("BREW", "/coffee/".to_owned())]).await;
    assert!(rendered.contains(r#"method="OTHER""#), "{rendered}");
    assert!(!rendered.contains("BREW"), "{rendered}");
}
