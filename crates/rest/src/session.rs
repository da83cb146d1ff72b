//! The `whisper_session` cookie: signed and encrypted with a key derived from the secret
//! key, HttpOnly, SameSite=Lax, Secure when the public URL is https.

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite, time::Duration};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "whisper_session";

/// The session middleware. `key` (64 bytes) must be the same on every worker and instance,
/// so it is derived from the secret key rather than generated.
pub fn session_middleware(
    key: &[u8; 64],
    secure: bool,
    lifetime_days: i64,
) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), Key::from(key))
        .cookie_name(SESSION_COOKIE.to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(secure)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        // It carries the refresh token, so it lasts as long as one.
        .session_lifecycle(PersistentSession::default().session_ttl(Duration::days(lifetime_days)))
        .build()
}

#[cfg(test)]
mod tests {
    use actix_session::Session;
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    async fn remember(session: Session) -> HttpResponse {
        session.insert("email", "ada@example.org").unwrap();
        HttpResponse::Ok().finish()
    }

    async fn set_cookie(secure: bool) -> String {
        let app = test::init_service(
            App::new()
                .wrap(session_middleware(&[7; 64], secure, 14))
                .route("/", web::post().to(remember)),
        )
        .await;
        let response = test::call_service(&app, test::TestRequest::post().to_request()).await;
        let cookie = response.headers().get("set-cookie").unwrap();
        cookie.to_str().unwrap().to_owned()
    }

    #[actix_web::test]
    async fn the_cookie_is_http_only_lax_encrypted_and_lasts_as_long_as_a_refresh_token() {
        let cookie = set_cookie(false).await;
        assert!(cookie.starts_with("whisper_session="), "{cookie}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
            assert!(cookie.contains(flag), "{flag} missing: {cookie}");
        }
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.contains("example.org"), "not encrypted: {cookie}");
    }

    #[actix_web::test]
    async fn the_cookie_is_secure_behind_https() {
        assert!(set_cookie(true).await.contains("Secure"));
    }
}
