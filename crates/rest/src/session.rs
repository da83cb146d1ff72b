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
