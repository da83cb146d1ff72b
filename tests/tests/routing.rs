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
