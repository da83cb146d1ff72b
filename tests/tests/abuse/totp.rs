//! TOTP guessing spread over many login sessions and two instances on one database: the
//! lockout (5 failures in 15 minutes, then 429 with Retry-After) counts them all, holds on
//! both instances, refuses even the right code, and lets no concurrent burst slip past it.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;
use whisper_e2e::TestApp;
use whisper_e2e::accounts::fresh_client;
use whisper_postgres::testing::{TestDatabase, row_count};
use whisper_smtp::testing::SmtpSink;

/// Two instances on one database, one secret key and one mail sink; request rate limits
/// off so that only the lockout refuses guesses.
async fn two_instances(database_url: &str) -> (TestApp, TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let spawn = || {
        let smtp = sink.url();
        TestApp::spawn_with(database_url, move |env| {
            env.insert("WHISPER_MAIL".into(), smtp);
            env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
        })
    };
    let first = spawn().await;
    let second = spawn().await;
    (first, second, sink)
}

/// A new login session for `email` on `app`: a client of its own that passed the email step.
async fn login_session(app: &TestApp, email: &str) -> reqwest::Client {
    let client = fresh_client();
    let login = client
        .post(format!("{}/api/v1/user/login/", app.address))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    client
}

async fn guess(app: &TestApp, session: &reqwest::Client, code: &str) -> reqwest::Response {
    session
        .post(format!("{}/api/v1/user/totp/verify/", app.address))
        .json(&json!({"otp_token": code}))
        .send()
        .await
        .unwrap()
}

/// Asserts `response` is the lockout: 429 `rate_limited` with a Retry-After of at most
/// 15 minutes.
async fn assert_locked(case: &str, response: reqwest::Response) {
    let retry_after: u64 = response
        .headers()
        .get(RETRY_AFTER)
        .unwrap_or_else(|| panic!("{case}: no Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after > 0 && retry_after <= 15 * 60,
        "{case}: {retry_after}"
    );
    let body = crate::expect_refusal(case, response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["code"], "rate_limited", "{case}");
}

/// A wrong code for a user whose right one is `right`.
fn wrong_code(right: &str, n: u32) -> String {
    let code = format!("{:06}", (n * 7919) % 1_000_000);
    if code == right {
        format!("{:06}", (n * 7919 + 1) % 1_000_000)
    } else {
        code
    }
}

#[tokio::test]
async fn guesses_spread_over_sessions_and_instances_lock_the_account_on_both() {
    let db = TestDatabase::create().await;
    let (first, second, sink) = two_instances(&db.url).await;
    let ada = first.signed_in(&sink, "ada@example.org").await;
    let right = ada.authenticator.code_at(ada.last_step + 1);
    // Five failures: 2 in a session on the first instance, 2 in one on the second, 1 in a
    // third session on the first.
    let mut n = 0;
    for (app, guesses) in [(&first, 2), (&second, 2), (&first, 1)] {
        let session = login_session(app, &ada.email).await;
        for _ in 0..guesses {
            n += 1;
            let wrong = guess(app, &session, &wrong_code(&right, n)).await;
            let body = crate::expect_refusal("a wrong code", wrong, StatusCode::BAD_REQUEST).await;
            assert_eq!(body["code"], "invalid_otp");
        }
    }
    // Locked on both instances, in new sessions, even for the right code.
    for (case, app) in [("first instance", &first), ("second instance", &second)] {
        let session = login_session(app, &ada.email).await;
        assert_locked(case, guess(app, &session, &right).await).await;
        assert_locked(case, guess(app, &session, &wrong_code(&right, 99)).await).await;
    }
    // Refused guesses are not stored as sessions or tokens.
    assert_eq!(row_count(&db.url, "access_tokens").await, 1);
}

#[tokio::test]
async fn a_concurrent_burst_of_guesses_gets_no_more_than_five_judged() {
    let db = TestDatabase::create().await;
    let (first, second, sink) = two_instances(&db.url).await;
    let ada = first.signed_in(&sink, "ada@example.org").await;
    let right = ada.authenticator.code_at(ada.last_step + 1);
    let mut sessions = Vec::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &first } else { &second };
        sessions.push((app, login_session(app, &ada.email).await));
    }
    let mut guesses = Vec::new();
    for (i, (app, session)) in sessions.iter().enumerate() {
        for j in 0..4 {
            let code = wrong_code(&right, u32::try_from(i * 4 + j + 1).unwrap());
            guesses.push(async move { guess(app, session, &code).await });
        }
    }
    let answers = futures_util::future::join_all(guesses).await;
    let mut judged = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::BAD_REQUEST => judged += 1,
            StatusCode::TOO_MANY_REQUESTS => assert_locked("a guess of the burst", answer).await,
            other => panic!("a guess of the burst: {other}: {:?}", answer.text().await),
        }
    }
    assert!(judged <= 5, "{judged} of 32 concurrent guesses were judged");
    // However the burst went, no more than five guesses are judged before the lock.
    let session = login_session(&second, &ada.email).await;
    let mut n = 100;
    while judged < 5 {
        n += 1;
        let wrong = guess(&second, &session, &wrong_code(&right, n)).await;
        assert_eq!(
            wrong.status(),
            StatusCode::BAD_REQUEST,
            "guess {} after the burst",
            judged + 1
        );
        judged += 1;
    }
    assert_locked("after the burst", guess(&second, &session, &right).await).await;
    assert_locked(
        "after the burst, elsewhere",
        guess(&first, &login_session(&first, &ada.email).await, &right).await,
    )
    .await;
}
