//! Server-rendered pages (tera, autoescaped), compiled into the binary from `templates/pages`.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use tera::{Context, Tera};
use whisper_domain::DomainError;

const VERIFY_EMAIL: &str = "verify_email.html";

static PAGES: LazyLock<Result<Tera, String>> = LazyLock::new(|| {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_template(
        VERIFY_EMAIL,
        include_str!("../../../templates/pages/verify_email.html.tera"),
    )
    .map_err(|e| format!("{e:?}"))?;
    Ok(tera)
});

/// What the email verification page shows.
pub enum VerifyPage<'a> {
    /// A button that POSTs to `action`, so link scanners consume nothing.
    Confirm { action: &'a str },
    /// The email was verified.
    Verified,
    /// The link did not work, and why.
    Failed { detail: &'a str },
}

/// The email verification page, with `status`.
pub fn verify_email_page(
    page: VerifyPage<'_>,
    status: StatusCode,
) -> Result<HttpResponse, DomainError> {
    let mut context = Context::new();
    match page {
        VerifyPage::Confirm { action } => {
            context.insert("outcome", "confirm");
            context.insert("action", action);
        }
        VerifyPage::Verified => context.insert("outcome", "verified"),
        VerifyPage::Failed { detail } => {
            context.insert("outcome", "failed");
            context.insert("detail", detail);
        }
    }
    let pages = PAGES
        .as_ref()
        .map_err(|e| DomainError::internal(e.clone()))?;
    let html = pages
        .render(VERIFY_EMAIL, &context)
        .map_err(|e| DomainError::internal(format!("rendering {VERIFY_EMAIL}: {e:?}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // The page carries a one-time token: keep it out of caches and other sites' frames.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(html))
}

/// Whether the client prefers an HTML page to JSON (a browser following a link).
pub fn prefers_html(request: &actix_web::HttpRequest) -> bool {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let html = accept.find("text/html");
    let json = accept.find("application/json");
    match (html, json) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[actix_web::test]
    async fn the_confirm_page_posts_back_to_the_link_and_escapes_it() {
        let page = verify_email_page(
            VerifyPage::Confirm {
                action: "/api/v1/user/verify-email/complete/a\"b<c/",
            },
            StatusCode::OK,
        )
        .unwrap();
        let html = body_of(page).await;
        assert!(html.contains("<form method=\"post\" action=\"&#x2F;api&#x2F;v1&#x2F;user&#x2F;verify-email&#x2F;complete&#x2F;a&quot;b&lt;c&#x2F;\">"), "{html}");
        assert!(!html.contains("a\"b<c"));
    }

    #[actix_web::test]
    async fn failures_are_explained() {
        let page = verify_email_page(
            VerifyPage::Failed { detail: "Expired." },
            StatusCode::BAD_REQUEST,
        )
        .unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        assert!(body_of(page).await.contains("Expired."));
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let with = |accept: &str| {
            prefers_html(
                &actix_web::test::TestRequest::default()
                    .insert_header(("Accept", accept))
                    .to_http_request(),
            )
        };
        assert!(with("text/html,application/xhtml+xml,*/*;q=0.8"));
        assert!(!with("application/json"));
        assert!(!with("*/*"));
        assert!(!with("application/json, text/html"));
    }
}
