//! Google sign-in against a fake provider on loopback that checks PKCE and the redirect URI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use whisper_e2e::accounts::Authenticator;
use whisper_e2e::fake_google::{FakeGoogle, TokenMode};
use whisper_e2e::{TempDir, TestApp};
use whisper_postgres::testing::TestDatabase;
use whisper_smtp::testing::SmtpSink;

const BEGIN: &str = "/api/v1/user/social/begin/google-oauth2/";

fn google_identity(email: &str, verified: bool, name: &str) -> Value {
    json!({"sub": format!("sub-{email}"), "email": email, "email_verified": verified, "name": name})
}

struct World {
    app: TestApp,
    google: FakeGoogle,
    sink: SmtpSink,
    _config: TempDir,
    _db: TestDatabase,
}

async fn world() -> World {
    let db = TestDatabase::create().await;
    let google = FakeGoogle::start(google_identity("ada@example.org", true, "Ada Lovelace")).await;
    let sink = SmtpSink::start().await.unwrap();
    let config = TempDir::new("config");
    std::fs::write(config.0.join("test.toml"), "[google]\ntimeout_secs = 1\n").unwrap();
    let (smtp, google_env, config_dir) = (sink.url(), google.env(), config.0.display().to_string());
    let app = TestApp::spawn_with(&db.url, move |env| {
        env.extend(google_env);
        env.insert("WHISPER_MAIL".into(), smtp);
        env.insert("WHISPER_CONFIG_DIR".into(), config_dir);
    })
    .await;
    World {
        app,
        google,
        sink,
        _config: config,
        _db: db,
    }
}

impl World {
    /// Starts a sign-in and lets the fake provider approve it: the callback URL on the app.
    async fn approved_callback(&self) -> String {
        let begin = self.app.get(BEGIN).await;
        assert_eq!(begin.status(), StatusCode::FOUND);
        let to_provider = begin.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(
            to_provider.starts_with(&self.google.address),
            "{to_provider}"
        );
        let back = self.app.client.get(&to_provider).send().await.unwrap();
        assert_eq!(back.status(), StatusCode::FOUND, "{:?}", back.text().await);
        let callback = back.headers()[LOCATION].to_str().unwrap();
        assert!(
            callback
                .starts_with("http://127.0.0.1:8000/api/v1/user/social/complete/google-oauth2/?"),
            "the redirect URI is <WHISPER_PUBLIC_URL>/api/v1/user/social/complete/google-oauth2/: {callback}"
        );
        let query = url::Url::parse(callback)
            .unwrap()
            .query()
            .unwrap()
            .to_owned();
        format!(
            "{}/api/v1/user/social/complete/google-oauth2/?{query}",
            self.app.address
        )
    }

    async fn sign_in(&self) -> reqwest::Response {
        let callback = self.approved_callback().await;
        self.app.client.get(callback).send().await.unwrap()
    }
}

/// Enrolls and confirms an authenticator for the email in the session.
async fn set_up_two_factor(w: &World) {
    let phone = w.app.enrolled().await;
    let confirm = w
        .app
        .post_json(
            "/api/v1/user/totp-device/verify/",
            &json!({"otp_token": phone.code_at(Authenticator::current_step())}),
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
}

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_new_person_gets_a_verified_account_and_goes_on_to_two_factor_setup() {
    let w = world().await;
    let response = w.sign_in().await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "ada@example.org");
    assert_eq!(body["username"], "Ada_Lovelace");
    assert_eq!(body["is_email_verified"], true);
    assert_eq!(body["is_username_set"], false);
    assert_eq!(body["is_new"], true);
    assert_eq!(body["message"], "Proceed to 2FA setup.");
    assert_eq!(
        w.google.exchanges(),
        [Ok(())],
        "PKCE and redirect URI were checked"
    );

    // The session carries the email: two-factor setup continues from here.
    set_up_two_factor(&w).await;
}

#[tokio::test]
async fn a_returning_person_with_two_factor_is_sent_to_the_code_step() {
    let w = world().await;
    let ada = w.app.signed_in(&w.sink, "ada@example.org").await;
    let response = w.sign_in().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/api/v1/user/totp/verify/");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["next"], "/api/v1/user/totp/verify/");
    let tokens = w
        .app
        .post_json(
            "/api/v1/user/totp/verify/",
            &json!({"otp_token": ada.authenticator.code_at(ada.last_step + 1)}),
        )
        .await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    assert_eq!(tokens["id"], ada.id.as_str());
}

#[tokio::test]
async fn a_returning_person_without_two_factor_must_set_it_up() {
    let mut w = world().await;
    w.app.verified(&w.sink, "ada@example.org").await;
    // Another browser: nothing in its session yet.
    w.app.forget_cookies();
    let (status, code) = code_of(w.sign_in().await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "totp_setup_required")
    );
    // The email is in the session anyway, so setup can start.
    let created = w.app.post_empty("/api/v1/user/totp-device/create/").await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_email_google_does_not_vouch_for_is_refused() {
    let w = world().await;
    w.google
        .set_identity(google_identity("eve@example.org", false, "Eve"));
    let (status, code) = code_of(w.sign_in().await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "email_not_verified")
    );
}

#[tokio::test]
async fn an_existing_account_that_never_verified_its_email_is_refused() {
    let w = world().await;
    w.app
        .register_and_read_link(&w.sink, "ada@example.org")
        .await;
    let (status, code) = code_of(w.sign_in().await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "email_not_verified")
    );
}

#[tokio::test]
async fn a_wrong_state_consumes_nothing_and_a_used_state_is_refused() {
    let w = world().await;
    let callback = w.approved_callback().await;
    let forged = callback.replace("state=", "state=forged");
    let (status, code) = code_of(w.app.client.get(&forged).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    let without = callback.split("&state=").next().unwrap().to_owned();
    let (status, code) = code_of(w.app.client.get(&without).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );

    // The genuine callback still works after the forgeries.
    let genuine = w.app.client.get(&callback).send().await.unwrap();
    assert_eq!(genuine.status(), StatusCode::CREATED);
    // Replaying it is refused before the provider is asked again.
    let (status, code) = code_of(w.app.client.get(&callback).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    assert_eq!(w.google.exchanges().len(), 1);
}

#[tokio::test]
async fn provider_failures_and_timeouts_are_bad_gateways() {
    let w = world().await;
    w.google.set_token_mode(TokenMode::Fail);
    let (status, code) = code_of(w.sign_in().await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "provider_error")
    );

    w.google
        .set_token_mode(TokenMode::Slow(Duration::from_secs(3)));
    let (status, code) = code_of(w.sign_in().await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "provider_error")
    );
}

#[tokio::test]
async fn a_declined_sign_in_and_an_unknown_backend_are_refused() {
    let w = world().await;
    let callback = w.approved_callback().await;
    let declined = callback.replace("code=", "error=access_denied&x=");
    let (status, code) = code_of(w.app.client.get(&declined).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "provider_denied")
    );

    let unknown = w.app.get("/api/v1/user/social/begin/myspace/").await;
    let (status, code) = code_of(unknown).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "unknown_backend")
    );
}

#[tokio::test]
async fn a_browser_coming_back_from_the_provider_is_sent_to_the_page_of_its_next_step() {
    let w = world().await;
    let browser_get = |url: String| {
        w.app
            .client
            .get(url)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
    };
    // A new person: two-factor setup, with the email in the session.
    let response = browser_get(w.approved_callback().await).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/setup-2fa/");
    set_up_two_factor(&w).await;
    // Back again with two-factor set up: the code step of the login page.
    let response = browser_get(w.approved_callback().await).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/login/?step=code");
    let page = w
        .app
        .client
        .get(format!("{}/login/?step=code", w.app.address))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("data-step=\"code\""), "{html}");
}
