//! The whole passwordless flow, end to end, as an API client with a cookie jar does it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use whisper_e2e::accounts::{Authenticator, app_with_sink, fresh_client};
use whisper_e2e::{TestApp, eventually};
use whisper_postgres::testing::{TestDatabase, queued_email_attempts};
use whisper_smtp::testing::SmtpSink;

#[tokio::test]
async fn register_verify_enroll_login_refresh_and_logout() {
    let db = TestDatabase::create().await;
    let (app, sink) = app_with_sink(&db.url).await;

    // Register: 201, unverified, and an email with a link on its way.
    let registered = app
        .post_json(
            "/api/v1/user/register/",
            &json!({"email": "Ada@Example.org", "username": "ada"}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: Value = registered.json().await.unwrap();
    assert_eq!(registered["email"], "ada@example.org");
    assert_eq!(registered["username"], "ada");
    assert_eq!(registered["is_email_verified"], false);
    assert_eq!(registered["is_username_set"], true);
    assert_eq!(registered["id"].as_str().unwrap().len(), 21);
    let link = app.verification_link(&sink, "ada@example.org").await;
    let mail = sink.messages().pop().unwrap();
    assert!(mail.html_part().unwrap().contains("verify-email/complete/"));

    // GET shows a page whose button POSTs the link; it consumes nothing.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("method=\"post\""));

    // POST verifies, and the session cookie now carries the email.
    let verified = app.client.post(&link).send().await.unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let cookie = verified.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("whisper_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP public URL: {cookie}"
    );
    assert!(
        !cookie.contains("ada%40example"),
        "the cookie is encrypted: {cookie}"
    );
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["is_email_verified"], true);
    assert_eq!(verified["message"], "Proceed to 2FA setup.");

    // Enroll: the device, then its QR code, read like a phone app does.
    let device = app.post_empty("/api/v1/user/totp-device/create/").await;
    assert_eq!(device.status(), StatusCode::CREATED);
    let device: Value = device.json().await.unwrap();
    assert_eq!(
        device,
        json!({"user": registered["id"], "name": "ada@example.org", "confirmed": false})
    );
    let qr = app.post_empty("/api/v1/user/qr-code/").await;
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()[CONTENT_TYPE], "image/png");
    let phone = Authenticator::scan(&qr.bytes().await.unwrap());
    assert!(
        phone
            .uri
            .starts_with("otpauth://totp/Whisper:ada%40example.org?secret="),
        "{}",
        phone.uri
    );
    assert!(phone.uri.ends_with("&issuer=Whisper"));

    let step = Authenticator::current_step();
    let confirmed = app
        .post_json(
            "/api/v1/user/totp-device/verify/",
            &json!({"otp_token": phone.code_at(step)}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["confirmed"], true);
    // Once confirmed, the secret is never shown again.
    let qr_again = app.post_empty("/api/v1/user/qr-code/").await;
    assert_eq!(qr_again.status(), StatusCode::CONFLICT);

    // Log in: 303 to the TOTP step.
    let login = app
        .post_json("/api/v1/user/login/", &json!({"email": "ada@example.org"}))
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()[LOCATION], "/api/v1/user/totp/verify/");
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["next"], "/api/v1/user/totp/verify/");
    let instructions = app.get("/api/v1/user/totp/verify/").await;
    assert_eq!(instructions.status(), StatusCode::OK);

    // The confirmation's code was spent: no replay.
    let replay = app
        .post_json(
            "/api/v1/user/totp/verify/",
            &json!({"otp_token": phone.code_at(step)}),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replay.json::<Value>().await.unwrap()["code"], "invalid_otp");

    let tokens = app
        .post_json(
            "/api/v1/user/totp/verify/",
            &json!({"otp_token": phone.code_at(step + 1)}),
        )
        .await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    assert_eq!(tokens["id"], registered["id"]);
    assert_eq!(tokens["username"], "ada");
    let access = tokens["access"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh"].as_str().unwrap().to_owned();

    // me/ with the access token.
    let me = app.get_as(&access, "/api/v1/user/me/").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["is_email_verified"], true);
    assert_eq!(me["is_online"], false);
    assert!(me["created"].as_str().unwrap().ends_with('Z'));

    // Refresh from the session cookie: new tokens, the old refresh token retired.
    let renewed = app.post_empty("/api/v1/user/refresh/").await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: Value = renewed.json().await.unwrap();
    let new_access = renewed["access"].as_str().unwrap().to_owned();
    let new_refresh = renewed["refresh"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, refresh);
    assert_eq!(
        app.get_as(&new_access, "/api/v1/user/me/").await.status(),
        StatusCode::OK
    );

    // Logout revokes the access token and the refresh family, and clears the cookie.
    let logout = app
        .client
        .post(format!("{}/api/v1/user/logout/", app.address))
        .bearer_auth(&new_access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as(&new_access, "/api/v1/user/me/").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let after = app
        .post_json("/api/v1/user/refresh/", &json!({"refresh": new_refresh}))
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        after.json::<Value>().await.unwrap()["code"],
        "invalid_refresh"
    );
    // The session cookie is gone too: nothing to refresh from.
    assert_eq!(
        app.post_empty("/api/v1/user/refresh/").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let db = TestDatabase::create().await;
    let (app, sink) = app_with_sink(&db.url).await;
    let ada = app.signed_in(&sink, "ada@example.org").await;

    let rotated = app
        .post_json("/api/v1/user/refresh/", &json!({"refresh": ada.refresh}))
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let (new_access, new_refresh) = (
        rotated["access"].as_str().unwrap(),
        rotated["refresh"].as_str().unwrap(),
    );

    // A thief replays the old token: refused, and everything issued since dies with it.
    let reuse = app
        .post_json("/api/v1/user/refresh/", &json!({"refresh": ada.refresh}))
        .await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let legit = app
        .post_json("/api/v1/user/refresh/", &json!({"refresh": new_refresh}))
        .await;
    assert_eq!(legit.status(), StatusCode::UNAUTHORIZED);
    for access in [ada.access.as_str(), new_access] {
        assert_eq!(
            app.get_as(access, "/api/v1/user/me/").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a_generated_username_is_replaced_at_login_and_can_be_changed_later() {
    let db = TestDatabase::create().await;
    let (app, sink) = app_with_sink(&db.url).await;
    let registered = app
        .post_json(
            "/api/v1/user/register/",
            &json!({"email": "bo@example.org"}),
        )
        .await;
    let registered: Value = registered.json().await.unwrap();
    assert_eq!(registered["is_username_set"], false);
    let link = app.verification_link(&sink, "bo@example.org").await;
    assert_eq!(
        app.client.post(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
    let phone = app.enrolled().await;
    let step = Authenticator::current_step();
    app.post_json(
        "/api/v1/user/totp-device/verify/",
        &json!({"otp_token": phone.code_at(step)}),
    )
    .await;
    app.post_json("/api/v1/user/login/", &json!({"email": "bo@example.org"}))
        .await;
    let tokens: Value = app
        .post_json(
            "/api/v1/user/totp/verify/",
            &json!({"otp_token": phone.code_at(step + 1), "username": "bo_diddley"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["username"], "bo_diddley");
    let access = tokens["access"].as_str().unwrap();

    let renamed = app
        .client
        .patch(format!("{}/api/v1/user/me/", app.address))
        .bearer_auth(access)
        .json(&json!({"username": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.json::<Value>().await.unwrap()["username"], "bob");

    let found: Value = app
        .get_as(access, "/api/v1/user/user-list/?search=B")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found,
        json!([{"id": tokens["id"], "username": "bob", "is_online": false}])
    );
}

#[tokio::test]
async fn registration_succeeds_while_smtp_is_down_and_the_mail_arrives_when_it_returns() {
    let db = TestDatabase::create().await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let app = TestApp::spawn_with(&db.url, |env| {
        env.insert("WHISPER_MAIL".into(), format!("smtp://127.0.0.1:{port}"));
    })
    .await;

    let registered = app
        .post_json(
            "/api/v1/user/register/",
            &json!({"email": "cy@example.org"}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    // The first delivery attempt fails against the closed port and is rescheduled.
    eventually(
        "a failed first delivery attempt",
        Duration::from_secs(60),
        || async {
            let attempts = queued_email_attempts(&db.url).await;
            (attempts.first() >= Some(&1)).then_some(())
        },
    )
    .await;

    let sink = SmtpSink::start_on(port).await.unwrap();
    let mail = sink
        .wait_for_message(|m| m.to == ["cy@example.org"], Duration::from_secs(60))
        .await
        .expect("the queued email was never delivered");
    let link = app.local_link(&mail.first_link().unwrap());
    let verified = fresh_client().post(link).send().await.unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    // Once the email has left the outbox nothing can send it again: exactly one arrived.
    eventually(
        "the delivered email left the outbox",
        Duration::from_secs(60),
        || async {
            queued_email_attempts(&db.url)
                .await
                .is_empty()
                .then_some(())
        },
    )
    .await;
    assert_eq!(sink.messages().len(), 1, "the retry sent the email twice");
}
