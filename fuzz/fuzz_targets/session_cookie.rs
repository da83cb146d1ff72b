//! The `whisper_session` cookie from strangers, through the real session middleware and
//! the readers of what it carries (the flow's email, the refresh and access tokens): never
//! a panic; a cookie the server did not seal, or a sealed one with any edit, carries
//! nothing.
#![no_main]

use actix_session::Session;
use actix_web::cookie::{Cookie, CookieJar, Key};
use actix_web::http::header::{COOKIE, HeaderValue, SET_COOKIE};
use actix_web::test as actix_test;
use actix_web::{App, HttpResponse, rt::System, web};
use libfuzzer_sys::fuzz_target;
use whisper_fuzz::{Input, master_key, tampered};
use whisper_http::flow::{
    flow_email, remember_email, remember_tokens, stored_access, stored_refresh,
};
use whisper_rest::session::{SESSION_COOKIE, session_middleware};

const NOTHING: &str = "nothing";

/// Whatever the session carries, as the handlers read it.
async fn read(session: Session) -> HttpResponse {
    let email = flow_email(&session).ok();
    let refresh = stored_refresh(&session).ok().flatten();
    let access = stored_access(&session);
    if email.is_none() && refresh.is_none() && access.is_none() {
        HttpResponse::Ok().body(NOTHING)
    } else {
        HttpResponse::Ok().body("something")
    }
}

/// A session as login leaves it.
async fn remember(session: Session) -> HttpResponse {
    let email = whisper_domain::Email::parse("ada@example.org");
    let stored = email.map(|email| {
        remember_email(&session, &email).is_ok()
            && remember_tokens(&session, "access-token", "refresh-token").is_ok()
    });
    match stored {
        Ok(true) => HttpResponse::Ok().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// What the server answers to a request carrying `cookie` (a whole `Cookie` header).
async fn answer(key: &[u8; 64], cookie: Option<HeaderValue>) -> (u16, String, Option<String>) {
    let app = actix_test::init_service(
        App::new()
            .wrap(session_middleware(key, false, 14))
            .route("/read", web::get().to(read))
            .route("/remember", web::post().to(remember)),
    )
    .await;
    let request = match cookie {
        Some(cookie) => actix_test::TestRequest::get()
            .uri("/read")
            .insert_header((COOKIE, cookie)),
        None => actix_test::TestRequest::post().uri("/remember"),
    };
    let response = actix_test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Cookie::parse(value.to_owned()).ok())
        .map(|cookie| cookie.value().to_owned());
    let body = String::from_utf8_lossy(&actix_test::read_body(response).await).into_owned();
    (status, body, set_cookie)
}

fn header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

fuzz_target!(|data: &[u8]| {
    let key = master_key().session_cookie_key();
    let mut input = Input::new(data);
    let mode = input.byte() % 3;
    System::new().block_on(async {
        match mode {
            // Any Cookie header at all: nobody but the server can seal a session.
            0 => {
                let Ok(cookie) = HeaderValue::from_bytes(input.rest()) else {
                    return;
                };
                let (status, body, _) = answer(&key, Some(cookie)).await;
                assert_eq!((status, body.as_str()), (200, NOTHING));
            }
            // Any session state, sealed with the server's key: what the middleware and the
            // readers make of JSON they did not write must not panic.
            1 => {
                let state = String::from_utf8_lossy(input.rest()).into_owned();
                let mut jar = CookieJar::new();
                jar.private_mut(&Key::from(&key))
                    .add(Cookie::new(SESSION_COOKIE, state));
                let Some(sealed) = jar.get(SESSION_COOKIE) else {
                    return;
                };
                let cookie = format!("{SESSION_COOKIE}={}", sealed.value());
                let (status, _, _) = answer(&key, header(&cookie)).await;
                assert!(matches!(status, 200 | 500), "status {status}");
            }
            // A genuine session, then edited.
            _ => {
                let (status, _, Some(genuine)) = answer(&key, None).await else {
                    panic!("the session was not stored");
                };
                assert_eq!(status, 200);
                let edited = tampered(&genuine, input.rest());
                // Only the sealed value's own alphabet (base64): other characters end the
                // value or the cookie, which the raw-header mode covers.
                if !edited
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
                {
                    return;
                }
                let cookie = format!("{SESSION_COOKIE}={edited}");
                let (status, body, _) = answer(&key, header(&cookie)).await;
                assert_eq!(status, 200);
                if edited == genuine {
                    assert_eq!(body, "something");
                } else if body != NOTHING {
                    panic!("an edited session cookie was accepted: {edited:?}");
                }
            }
        }
    });
});
