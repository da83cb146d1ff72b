//! Forged, stale and misused JWTs: 401 in the error shape on REST and on the WebSocket
//! upgrade, nothing created.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whisper_crypto::{JwtCodec, MasterKey};
use whisper_domain::ports::TokenCodec;
use whisper_domain::{TokenClaims, TokenId, TokenKind, UserId};
use whisper_e2e::TEST_SECRET_KEY;
use whisper_e2e::chat::{ada_in_general, chat_app, people};
use whisper_e2e::ws::{PROMPTLY, WsClient};
use whisper_postgres::testing::TestDatabase;

use crate::{Footprint, assert_error_shape, expect_refusal};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// The payload of a JWT, as JSON.
fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `token` with its header replaced by `header`, payload and signature kept.
fn with_header(token: &str, header: Value) -> String {
    let mut parts = token.splitn(3, '.');
    let (_, payload, signature) = (parts.next(), parts.next(), parts.next());
    format!(
        "{}.{}.{}",
        b64(&header),
        payload.unwrap(),
        signature.unwrap()
    )
}

/// Access claims for `subject` with a fresh `jti`, valid for 15 minutes from now.
fn claims_for(subject: &str) -> TokenClaims {
    let now = Utc::now();
    TokenClaims {
        subject: UserId::parse(subject).unwrap(),
        jti: TokenId::generate(),
        kind: TokenKind::Access,
        family: None,
        issued_at: now,
        expires_at: now + chrono::Duration::minutes(15),
    }
}

/// Asserts `token` is refused with 401 in the error shape by a REST call and by the upgrade.
async fn assert_refused(app: &whisper_e2e::TestApp, room: &str, case: &str, token: &str) {
    let me = app.get_as(token, "/api/v1/user/me/").await;
    expect_refusal(case, me, StatusCode::UNAUTHORIZED).await;
    let rooms = app
        .call_as(token, Method::GET, "/api/v1/chat/room-list/", None)
        .await;
    expect_refusal(case, rooms, StatusCode::UNAUTHORIZED).await;
    let headers = [("authorization", format!("Bearer {token}"))];
    let (status, body) = app.ws_refusal(&format!("/ws/chat/{room}/"), &headers).await;
    assert_error_shape(case, status, &body, StatusCode::UNAUTHORIZED);
    let refused = WsClient::connect(&app.ws_url(room, ""), &headers).await;
    assert_eq!(refused.err().map(|r| r.status), Some(401), "{case}");
}

#[tokio::test]
async fn forged_stale_and_misused_tokens_are_refused_on_rest_and_the_socket() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room) = ada_in_general(&mut app, &sink).await;
    let [bob] = <[_; 1]>::try_from(people(&mut app, &sink, &["bob"]).await)
        .ok()
        .unwrap();
    let logout = app
        .call_as(&bob.access, Method::POST, "/api/v1/user/logout/", None)
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let payload = payload_of(&ada.access);
    let signature = ada.access.rsplit('.').next().unwrap().to_owned();
    let other_server = JwtCodec::new(&MasterKey::new(format!("{TEST_SECRET_KEY}-other")).unwrap());
    let this_server = JwtCodec::new(&MasterKey::new(TEST_SECRET_KEY).unwrap());
    let mut expired_claims = claims_for(&ada.id);
    expired_claims.issued_at -= chrono::Duration::hours(2);
    expired_claims.expires_at = Utc::now() - chrono::Duration::hours(1);
    let mut tampered = payload.clone();
    tampered["sub"] = json!(bob.id);
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&payload)
            ),
        ),
        (
            "alg none, the real signature",
            with_header(&ada.access, json!({"alg": "none", "typ": "JWT"})),
        ),
        (
            "HS512 header, HS256 signature",
            with_header(&ada.access, json!({"alg": "HS512", "typ": "JWT"})),
        ),
        (
            "RS256 header, HS256 signature",
            with_header(&ada.access, json!({"alg": "RS256", "typ": "JWT"})),
        ),
        (
            "payload changed to another user",
            format!(
                "{}.{}.{signature}",
                ada.access.split('.').next().unwrap(),
                b64(&tampered)
            ),
        ),
        (
            "signed with another server's key",
            other_server.encode(&claims_for(&ada.id)).unwrap(),
        ),
        (
            "signed with our key, a jti never issued",
            this_server.encode(&claims_for(&ada.id)).unwrap(),
        ),
        (
            "expired, signed with our key",
            this_server.encode(&expired_claims).unwrap(),
        ),
        ("revoked by logout", bob.access.clone()),
        ("a refresh token used as access", ada.refresh.clone()),
        ("garbage", "not.a.token".to_owned()),
        ("three dots", "...".to_owned()),
        (
            "huge",
            format!(
                "{}.{}.{}",
                "A".repeat(2000),
                "B".repeat(4000),
                "C".repeat(1000)
            ),
        ),
    ];
    let before = Footprint::of(&db.url).await;
    for (case, token) in &cases {
        assert_refused(&app, &room, case, token).await;
    }
    assert_eq!(
        Footprint::of(&db.url).await,
        before,
        "a refused token left rows behind"
    );

    // ada's real token still works, over REST and the socket.
    assert_eq!(
        app.get_as(&ada.access, "/api/v1/user/me/").await.status(),
        StatusCode::OK
    );
    let mut ws = app.ws(&ada.access, &room).await;
    ws.send_message("still in").await;
    let event = ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still in");
}

#[tokio::test]
async fn an_access_token_is_refused_once_the_clock_passes_its_expiry() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room) = ada_in_general(&mut app, &sink).await;
    assert_eq!(
        app.get_as(&ada.access, "/api/v1/user/me/").await.status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::minutes(16));
    assert_refused(&app, &room, "expired by the clock", &ada.access).await;
}
