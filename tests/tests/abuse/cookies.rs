//! Tampered, truncated, foreign and replayed session cookies: the visitor is signed out
//! (a redirect to the login page, 401 in the error shape from the API and the socket), and
//! nothing is created.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use whisper_e2e::TestApp;
use whisper_e2e::accounts::SignedIn;
use whisper_e2e::chat::room_id;
use whisper_postgres::testing::TestDatabase;
use whisper_smtp::testing::SmtpSink;

use crate::{Footprint, assert_error_shape, expect_refusal};

/// Signs `email` in on `app` through a cookie jar; returns the user and their `Cookie`
/// header (`whisper_session=…`).
async fn signed_in_with_cookie(
    app: &mut TestApp,
    sink: &SmtpSink,
    email: &str,
) -> (SignedIn, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    app.client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let user = app.signed_in(sink, email).await;
    let cookie = jar
        .cookies(&app.address.parse().unwrap())
        .expect("the sign-in left a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("whisper_session="), "{cookie}");
    (user, cookie)
}

/// `cookie` with the character at `index` of its value replaced by another of the alphabet.
fn flipped(cookie: &str, index: usize) -> String {
    let (name, value) = cookie.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    format!("{name}={}", String::from_utf8(bytes).unwrap())
}

/// Asserts a request carrying only `cookie` is signed out everywhere a cookie counts.
async fn assert_signed_out(app: &TestApp, room: &str, case: &str, cookie: &str) {
    let client = whisper_e2e::accounts::fresh_client();
    let page = client
        .get(format!("{}/rooms/", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "{case}: the rooms page"
    );
    let location = page.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login/"), "{case}: {location}");
    let room_page = client
        .get(format!("{}/rooms/{room}/", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        room_page.status(),
        StatusCode::SEE_OTHER,
        "{case}: the room page"
    );

    let refresh = client
        .post(format!("{}/api/v1/user/refresh/", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    expect_refusal(case, refresh, StatusCode::UNAUTHORIZED).await;
    let totp = client
        .post(format!("{}/api/v1/user/totp/verify/", app.address))
        .header("cookie", cookie)
        .json(&serde_json::json!({"otp_token": "123456"}))
        .send()
        .await
        .unwrap();
    expect_refusal(case, totp, StatusCode::UNAUTHORIZED).await;

    let headers = [
        ("cookie", cookie.to_owned()),
        ("origin", app.address.clone()),
    ];
    let (status, body) = app.ws_refusal(&format!("/ws/chat/{room}/"), &headers).await;
    assert_error_shape(case, status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tampered_foreign_and_replayed_cookies_are_signed_out_and_create_nothing() {
    let db = TestDatabase::create().await;
    let sink = SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let mut app = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_MAIL".into(), smtp.clone());
        env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
    })
    .await;
    // Another server with its own secret key, on the same database.
    let mut other = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_MAIL".into(), smtp.clone());
        env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
        env.insert(
            "WHISPER_SECRET_KEY".into(),
            format!("{}-another-server", whisper_e2e::TEST_SECRET_KEY),
        );
    })
    .await;
    let (ada, cookie) = signed_in_with_cookie(&mut app, &sink, "ada@example.org").await;
    let room = room_id(app.create_room(&ada, "General", &[]).await);
    let (_, foreign) = signed_in_with_cookie(&mut other, &sink, "dan@example.org").await;
    let (cy, replayed) = signed_in_with_cookie(&mut app, &sink, "cy@example.org").await;
    let logout = app
        .client
        .post(format!("{}/api/v1/user/logout/", app.address))
        .bearer_auth(&cy.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    // The genuine cookie works.
    let page = whisper_e2e::accounts::fresh_client()
        .get(format!("{}/rooms/", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    let value_len = cookie.len() - "whisper_session=".len();
    let (name, value) = cookie.split_once('=').unwrap();
    let cases = [
        ("a byte flipped at the start", flipped(&cookie, 0)),
        (
            "a byte flipped in the middle",
            flipped(&cookie, value_len / 2),
        ),
        ("a byte flipped at the end", flipped(&cookie, value_len - 1)),
        ("truncated", format!("{name}={}", &value[..value.len() - 8])),
        (
            "cut in half",
            format!("{name}={}", &value[..value.len() / 2]),
        ),
        ("empty", format!("{name}=")),
        ("not base64", format!("{name}=%00%ff<script>")),
        ("another server's key", foreign),
        ("replayed after logout", replayed),
    ];
    let before = Footprint::of(&db.url).await;
    for (case, cookie) in &cases {
        assert_signed_out(&app, &room, case, cookie).await;
    }
    assert_eq!(
        Footprint::of(&db.url).await,
        before,
        "a refused cookie left rows behind"
    );

    // Only a refresh token that could still be exchanged makes a page renew the session:
    // with ada's access token expired, her genuine cookie gets the page that renews it.
    app.clock.advance(chrono::Duration::minutes(16));
    let renewing = whisper_e2e::accounts::fresh_client()
        .get(format!("{}/rooms/", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(renewing.status(), StatusCode::OK);
    assert!(
        renewing
            .text()
            .await
            .unwrap()
            .contains("Signing you in again")
    );
}
