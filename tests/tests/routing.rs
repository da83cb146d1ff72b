//! Requests no handler takes still answer in the error shape.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use reqwest::StatusCode;
use reqwest::header::{ALLOW, CONTENT_TYPE};
use serde_json::Value;
use whisper_e2e::TestApp;
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn an_unknown_api_route_is_a_json_404() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;
    let response = app.get("/api/v1/no-such-thing/").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert!(body["detail"].is_string());
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;
    let response = app
        .client
        .delete(format!("{}/health/live", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "GET, HEAD");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
}

/// Every method and path of API.md (and the health, OpenAPI and socket paths), written out
/// here on purpose: the server's route table must serve exactly these.
const API_ROUTES: [(&str, &str); 30] = [
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/api/v1/user/register/"),
    ("POST", "/api/v1/user/verify-email/begin/"),
    ("POST", "/api/v1/user/verify-email/complete/t0ken/"),
    ("GET", "/api/v1/user/verify-email/complete/t0ken/"),
    ("POST", "/api/v1/user/totp-device/create/"),
    ("POST", "/api/v1/user/qr-code/"),
    ("POST", "/api/v1/user/totp-device/verify/"),
    ("POST", "/api/v1/user/login/"),
    ("GET", "/api/v1/user/totp/verify/"),
    ("POST", "/api/v1/user/totp/verify/"),
    ("POST", "/api/v1/user/refresh/"),
    ("POST", "/api/v1/user/logout/"),
    ("GET", "/api/v1/user/me/"),
    ("PATCH", "/api/v1/user/me/"),
    ("GET", "/api/v1/user/user-list/?search=a"),
    ("GET", "/api/v1/user/social/begin/google-oauth2/"),
    (
        "GET",
        "/api/v1/user/social/complete/google-oauth2/?code=c&state=s",
    ),
    ("GET", "/api/v1/chat/room-list/"),
    ("POST", "/api/v1/chat/room-list/"),
    ("POST", "/api/v1/chat/room/V1StGXR8_Z5jdHi6B-myT/users/"),
    (
        "DELETE",
        "/api/v1/chat/room/V1StGXR8_Z5jdHi6B-myT/users/EYoT9lPS1H0oP5_CjuDDk/",
    ),
    ("GET", "/api/v1/chat/home/V1StGXR8_Z5jdHi6B-myT/"),
    ("GET", "/api/v1/chat/media/EYoT9lPS1H0oP5_CjuDDk/"),
    ("GET", "/api/v1/schema/"),
    ("GET", "/api/v1/docs/"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/docs/swagger-initializer.js"),
    ("GET", "/ws/chat/V1StGXR8_Z5jdHi6B-myT/"),
];

#[tokio::test]
async fn every_path_of_the_api_is_routed() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;
    for (method, path) in API_ROUTES {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if status == StatusCode::NOT_FOUND {
            // A handler may say that what the path names does not exist; the router must not.
            let body: Value = response.json().await.unwrap();
            assert_ne!(body["code"], "not_found", "{method} {path} is not routed");
        }
    }
}
