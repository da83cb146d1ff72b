//! Property tests of the `whisper_session` cookie as strangers send it, through the real
//! session middleware and the readers of what it carries: the short, CI-sized runs of
//! `fuzz/fuzz_targets/session_cookie.rs` (`PROPTEST_CASES` sets how many; 256 by default).
//! A cookie the server did not seal, or a sealed one with any edit, carries nothing.

#![allow(clippy::unwrap_used)] // test helpers fail loudly

use actix_session::Session;
use actix_web::cookie::Cookie;
use actix_web::http::header::{COOKIE, HeaderValue, SET_COOKIE};
use actix_web::test as actix_test;
use actix_web::{App, HttpResponse, rt::System, web};
use proptest::prelude::*;
use whisper_domain::Email;
use whisper_http::flow::{
    flow_email, remember_email, remember_tokens, stored_access, stored_refresh,
};
use whisper_rest::session::{SESSION_COOKIE, session_middleware};

const KEY: [u8; 64] = [7; 64];

/// Whether the session carries anything the handlers read.
async fn read(session: Session) -> HttpResponse {
    let carried = flow_email(&session).is_ok()
        || stored_refresh(&session).ok().flatten().is_some()
        || stored_access(&session).is_some();
    HttpResponse::Ok().body(if carried { "something" } else { "nothing" })
}

/// A session as login leaves it.
async fn remember(session: Session) -> HttpResponse {
    let email = Email::parse("ada@example.org").unwrap();
    remember_email(&session, &email).unwrap();
    remember_tokens(&session, "access-token", "refresh-token").unwrap();
    HttpResponse::Ok().finish()
}

/// The status and body of the answer to a request with `cookie` as its `Cookie` header, or
/// (without one) the value of the session cookie a login sets.
fn answer(cookie: Option<HeaderValue>) -> (u16, String) {
    System::new().block_on(async {
        let app = actix_test::init_service(
            App::new()
                .wrap(session_middleware(&KEY, false, 14))
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
        let set = response.headers().get(SET_COOKIE).map(|value| {
            let cookie = Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
            cookie.value().to_owned()
        });
        let body = String::from_utf8_lossy(&actix_test::read_body(response).await).into_owned();
        (status, set.unwrap_or(body))
    })
}

fn genuine() -> String {
    let (status, value) = answer(None);
    assert_eq!(status, 200);
    value
}

fn read_with(value: &str) -> (u16, String) {
    answer(Some(
        HeaderValue::from_str(&format!("{SESSION_COOKIE}={value}")).unwrap(),
    ))
}

const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/// The bytes a cookie value stands for: its percent escapes decoded, so an edit that only
/// changes an escape's hex digit to the other case ("%2F" to "%2f") is no edit at all.
fn meaning(value: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(value).collect()
}

#[test]
fn a_genuine_session_cookie_carries_the_session() {
    assert_eq!(read_with(&genuine()), (200, "something".to_owned()));
}

proptest! {
    #[test]
    fn an_edited_session_cookie_carries_nothing(
        at in any::<usize>(),
        with in proptest::sample::select(BASE64.chars().collect::<Vec<_>>()),
        cut in proptest::option::of(any::<usize>()),
        extra in "[A-Za-z0-9+/=]{0,8}",
    ) {
        let original = genuine();
        let mut chars: Vec<char> = original.chars().collect();
        let at = at % chars.len();
        chars[at] = with;
        if let Some(cut) = cut {
            chars.truncate(cut % (chars.len() + 1));
        }
        let changed: String = chars.into_iter().chain(extra.chars()).collect();
        prop_assume!(meaning(&changed) != meaning(&original));
        prop_assert_eq!(read_with(&changed), (200, "nothing".to_owned()));
    }

    #[test]
    fn a_cookie_header_the_server_did_not_seal_carries_nothing(
        header in prop_oneof![
            "[ -~]{0,300}",
            "whisper_session=[A-Za-z0-9+/=]{0,400}",
            "whisper_session=\\PC{0,50}; other=1",
            Just(format!("{SESSION_COOKIE}={}", "A".repeat(4096))),
        ],
    ) {
        let Ok(value) = HeaderValue::from_str(&header) else {
            return Ok(());
        };
        prop_assert_eq!(answer(Some(value)), (200, "nothing".to_owned()));
    }
}
