//! Who opens a page: signed in (a valid access token in the cookie), signed in with only a
//! refresh token left (the access token expired: the page renews it and reloads), or
//! signed out (sent to the login page, which sends them back after).

use actix_session::SessionExt;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use whisper_domain::{Accounts, User};
use whisper_http::auth::Viewer;
use whisper_http::flow::stored_refresh;
use whisper_http::{ApiError, routes};

/// Who is looking at a page.
pub enum Visitor {
    /// A valid session.
    SignedIn(User),
    /// An expired access token but a refresh token: renewable without a new login.
    Renewable,
    /// No session.
    SignedOut,
}

/// The visitor of `request`; only a backing-service failure is an error.
pub async fn visitor(request: &HttpRequest) -> Result<Visitor, ApiError> {
    match Viewer::extract(request).await {
        Ok(viewer) => Ok(Visitor::SignedIn(viewer.0.user)),
        Err(error) if error.status_code() == StatusCode::UNAUTHORIZED => {
            let refresh = stored_refresh(&request.get_session()).ok().flatten();
            let Some(refresh) = refresh else {
                return Ok(Visitor::SignedOut);
            };
            // A cookie replayed after logout still carries its (revoked) refresh token:
            // only one that could be exchanged makes the session renewable.
            let accounts = request.app_data::<web::Data<Accounts>>();
            let usable = match accounts {
                Some(accounts) => accounts.refresh_usable(&refresh).await?,
                None => false,
            };
            Ok(if usable {
                Visitor::Renewable
            } else {
                Visitor::SignedOut
            })
        }
        Err(error) => Err(error),
    }
}

/// `next` if it is a path on this server (`/rooms/abc/?x=1`): never another site
/// (`https://evil`, `//evil`, `/\evil`) nor anything a browser could read as one.
pub fn local_next(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && next
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '\\' && c != '"' && c != '<' && c != '>');
    local.then_some(next)
}

/// 303 to the login page, which comes back to `path` (a local path) after signing in.
pub fn login_redirect(path: &str) -> HttpResponse {
    let mut encoded = String::with_capacity(path.len() + 8);
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{}?next={encoded}", routes::PAGE_LOGIN),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_next(Some("/rooms/a1/")), Some("/rooms/a1/"));
        assert_eq!(local_next(Some("/rooms/?x=1")), Some("/rooms/?x=1"));
        for foreign in [
            "https://evil",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/ok\"onload",
            "",
            "/a b",
        ] {
            assert_eq!(local_next(Some(foreign)), None, "{foreign}");
        }
        assert_eq!(local_next(None), None);
    }

    #[test]
    fn the_login_redirect_keeps_the_path_encoded() {
        let response = login_redirect("/rooms/a1/?x=1&y=2");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers().get("location").unwrap(),
            "/login/?next=/rooms/a1/%3Fx%3D1%26y%3D2"
        );
    }
}
