//! Request rate limits: 50/min per IP for anonymous calls, 100/min per user otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::Value;
use whisper_e2e::TestApp;
use whisper_e2e::accounts::app_with_sink;
use whisper_e2e::clock::AdjustableClock;
use whisper_postgres::testing::TestDatabase;

const ANONYMOUS: &str = "/api/v1/user/totp/verify/";

async fn statuses(
    app: &TestApp,
    path: &str,
    access: Option<&str>,
    count: usize,
) -> Vec<StatusCode> {
    let mut seen = Vec::with_capacity(count);
    for _ in 0..count {
        let mut request = app.client.get(format!("{}{path}", app.address));
        if let Some(access) = access {
            request = request.bearer_auth(access);
        }
        seen.push(request.send().await.unwrap().status());
    }
    seen
}

/// How many requests succeed before the first 429 (the bucket refills as time passes, so
/// a slow machine may squeeze in a few more than the burst), giving up after `most`.
async fn accepted_before_limit(
    app: &TestApp,
    path: &str,
    access: Option<&str>,
    most: usize,
) -> usize {
    let seen = statuses(app, path, access, most).await;
    let accepted = seen.iter().take_while(|s| **s == StatusCode::OK).count();
    assert!(accepted < most, "never limited: {seen:?}");
    assert_eq!(seen[accepted], StatusCode::TOO_MANY_REQUESTS, "{seen:?}");
    accepted
}

#[tokio::test]
async fn anonymous_calls_are_limited_per_ip_with_retry_after() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url).await;
    let accepted = accepted_before_limit(&app, ANONYMOUS, None, 100).await;
    assert!(accepted >= 50, "the burst of 50 was cut to {accepted}");
    let limited = app.get(ANONYMOUS).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
}

#[tokio::test]
async fn authenticated_calls_are_limited_per_user() {
    let db = TestDatabase::create().await;
    let (app, sink) = app_with_sink(&db.url).await;
    let ada = app.signed_in(&sink, "ada@example.org").await;
    let accepted = accepted_before_limit(&app, "/api/v1/user/me/", Some(&ada.access), 200).await;
    assert!(accepted >= 100, "the burst of 100 was cut to {accepted}");
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
    })
    .await;
    let seen = statuses(&app, ANONYMOUS, None, 80).await;
    assert!(seen.iter().all(|s| *s == StatusCode::OK), "{seen:?}");
}

#[tokio::test]
async fn a_limited_caller_is_served_again_once_the_clock_says_the_wait_is_over() {
    let db = TestDatabase::create().await;
    let clock = Arc::new(AdjustableClock::default());
    let app = TestApp::spawn_with_clock(&db.url, clock.clone(), |_| {}).await;
    accepted_before_limit(&app, ANONYMOUS, None, 100).await;
    // The limits read the app's clock: a minute later the whole burst is back.
    clock.advance(chrono::Duration::seconds(60));
    let seen = statuses(&app, ANONYMOUS, None, 50).await;
    assert!(seen.iter().all(|s| *s == StatusCode::OK), "{seen:?}");
}
