//! Who is calling: the `AuthenticatedUser` extractor checks the access token on every
//! request (signature, expiry, and the server-side record) and the account's rate limit.
//! The token is the `Authorization: Bearer` header's or, for browsers, the one kept in the
//! session cookie; a cookie alone authorizes a change (POST, PATCH, DELETE) only from this
//! server's own pages (`Origin`), which stops cross-site request forgery.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use whisper_domain::{Accounts, DomainError, User};

use crate::errors::ApiError;
use crate::limits::RateLimits;
use crate::links::PublicUrl;
use crate::origin::{cross_origin, is_safe, same_origin};

/// The account behind a valid access token: a Bearer header, or the session cookie (then
/// a state-changing method needs a same-origin `Origin`).
pub struct AuthenticatedUser {
    /// The account.
    pub user: User,
    /// The access token it presented (logout revokes it).
    pub access_token: String,
}

/// The account behind a Bearer token or, for browsers, the access token kept in the
/// session cookie, whatever the `Origin`: only for reading (GET) endpoints and for callers
/// that check the origin themselves (the chat socket).
pub struct Viewer(pub AuthenticatedUser);

fn not_authenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
        "Authentication credentials were not provided (Authorization: Bearer <access>).",
    )
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

type Authenticating = Pin<Box<dyn Future<Output = Result<AuthenticatedUser, ApiError>>>>;

/// Checks `token` and counts the request against its account's rate limit.
fn authenticate(request: &HttpRequest, token: Option<String>) -> Authenticating {
    let accounts = request.app_data::<web::Data<Accounts>>().cloned();
    let limits = request.app_data::<web::Data<RateLimits>>().cloned();
    Box::pin(async move {
        let token = token.ok_or_else(not_authenticated)?;
        let accounts =
            accounts.ok_or_else(|| DomainError::internal("accounts service not configured"))?;
        let user = accounts.authenticate(&token).await?;
        if let Some(limits) = limits {
            limits.check_user(user.id.as_str()).await?;
        }
        Ok(AuthenticatedUser {
            user,
            access_token: token,
        })
    })
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Authenticating;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(token) = bearer_token(request) {
            return authenticate(request, Some(token));
        }
        let token = crate::flow::stored_access(&request.get_session());
        if token.is_some() && !is_safe(request.method()) {
            let public_url = request.app_data::<web::Data<PublicUrl>>();
            if !same_origin(request, public_url.map(|url| url.get_ref())) {
                return Box::pin(async { Err(cross_origin()) });
            }
        }
        authenticate(request, token)
    }
}

impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token =
            bearer_token(request).or_else(|| crate::flow::stored_access(&request.get_session()));
        let authenticating = authenticate(request, token);
        Box::pin(async move { authenticating.await.map(Viewer) })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::bearer_token;

    #[test]
    fn only_a_non_empty_bearer_token_counts() {
        let with = |value: &str| {
            bearer_token(
                &TestRequest::default()
                    .insert_header(("Authorization", value))
                    .to_http_request(),
            )
        };
        assert_eq!(with("Bearer abc.def"), Some("abc.def".to_owned()));
        assert_eq!(with("bearer  abc "), Some("abc".to_owned()));
        assert_eq!(with("Basic abc"), None);
        assert_eq!(with("Bearer "), None);
        assert_eq!(
            bearer_token(&TestRequest::default().to_http_request()),
            None
        );
    }
}
