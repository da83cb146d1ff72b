//! The same-origin check for browsers authenticated by the session cookie: a browser sends
//! the cookie whichever site makes the request, so a request that changes state (or opens
//! a socket) with only the cookie must come from this server's own pages.

use actix_web::HttpRequest;
use actix_web::http::{Method, StatusCode, header};

use crate::errors::ApiError;
use crate::links::PublicUrl;

/// Whether the request's `Origin` is this server's own: the public URL, or the host the
/// request was addressed to. A missing `Origin` is not same-origin.
pub fn same_origin(request: &HttpRequest, public_url: Option<&PublicUrl>) -> bool {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    let host = request.connection_info().host().to_owned();
    public_url.is_some_and(|url| origin == url.as_str())
        || origin == format!("http://{host}")
        || origin == format!("https://{host}")
}

/// Whether `method` only reads (RFC 9110 safe methods), so a cross-site request with the
/// cookie cannot do harm: the browser keeps the answer from the other site.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The 403 for a cookie-authenticated request from another site.
pub fn cross_origin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        "A browser may only use its session from this server's own pages.",
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn only_our_own_origin_counts() {
        let with = |origin: Option<&str>| {
            let mut request = TestRequest::default().insert_header(("Host", "chat.local:8000"));
            if let Some(origin) = origin {
                request = request.insert_header(("Origin", origin));
            }
            same_origin(
                &request.to_http_request(),
                Some(&PublicUrl::new("https://chat.example.org")),
            )
        };
        assert!(with(Some("http://chat.local:8000")));
        assert!(with(Some("https://chat.example.org")));
        assert!(!with(Some("https://evil.example")));
        assert!(!with(Some("null")));
        assert!(!with(None));
    }
}
