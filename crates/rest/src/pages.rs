//! Server-rendered pages (tera, autoescaped), compiled into the binary from `templates/pages`.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use tera::{Context, Tera};
use whisper_domain::{DomainError, Message, Room, User};
use whisper_http::routes;
use whisper_wire::MessageBody;

const VERIFY_EMAIL: &str = "verify_email.html";
const ROOM: &str = "room.html";

/// Every page template, by name, compiled into the binary.
const TEMPLATES: [(&str, &str); 9] = [
    (
        "base.html",
        include_str!("../../../templates/pages/base.html.tera"),
    ),
    (
        VERIFY_EMAIL,
        include_str!("../../../templates/pages/verify_email.html.tera"),
    ),
    (
        ROOM,
        include_str!("../../../templates/pages/room.html.tera"),
    ),
    (
        "home.html",
        include_str!("../../../templates/pages/home.html.tera"),
    ),
    (
        "signup.html",
        include_str!("../../../templates/pages/signup.html.tera"),
    ),
    (
        "setup_2fa.html",
        include_str!("../../../templates/pages/setup_2fa.html.tera"),
    ),
    (
        "login.html",
        include_str!("../../../templates/pages/login.html.tera"),
    ),
    (
        "rooms.html",
        include_str!("../../../templates/pages/rooms.html.tera"),
    ),
    (
        "resume.html",
        include_str!("../../../templates/pages/resume.html.tera"),
    ),
];

/// Scripts and styles only from this server, user content never as markup, no framing:
/// the page scripts get their data from `data-` attributes, never inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static PAGES: LazyLock<Result<Tera, String>> = LazyLock::new(|| {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_templates(TEMPLATES)
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
            context.insert("script", "verify.js");
            context.insert("outcome", "confirm");
            context.insert("action", action);
        }
        VerifyPage::Verified => context.insert("outcome", "verified"),
        VerifyPage::Failed { detail } => {
            context.insert("outcome", "failed");
            context.insert("detail", detail);
        }
    }
    // The page carries a one-time token: `render` keeps it out of caches and frames.
    render(VERIFY_EMAIL, &context, status)
}

/// `template` rendered with `context`, with the headers every page carries.
pub(crate) fn render(
    template: &str,
    context: &Context,
    status: StatusCode,
) -> Result<HttpResponse, DomainError> {
    let pages = PAGES
        .as_ref()
        .map_err(|e| DomainError::internal(e.clone()))?;
    let html = pages
        .render(template, context)
        .map_err(|e| DomainError::internal(format!("rendering {template}: {e:?}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .body(html))
}

/// What the room page shows.
pub struct RoomPage<'a> {
    /// The room.
    pub room: &'a Room,
    /// Its members' accounts.
    pub members: &'a [User],
    /// Who is looking.
    pub viewer: &'a User,
    /// The page of history, newest first (shown oldest first).
    pub messages: &'a [Message],
    /// `?cursor=…` of the older page, if any.
    pub older_query: Option<&'a str>,
}

#[derive(Serialize)]
struct MemberView<'a> {
    id: &'a str,
    username: &'a str,
    is_online: bool,
}

#[derive(Serialize)]
struct MessageView {
    id: String,
    format: String,
    text: Option<String>,
    media_url: Option<String>,
    username: String,
    date: String,
    time: String,
    is_reply: bool,
    previous_content: Option<String>,
    mine: bool,
}

/// The room page: name, members, the latest messages oldest first, a link to older ones,
/// and the composer the browser client drives.
pub fn room_page(page: &RoomPage<'_>, status: StatusCode) -> Result<HttpResponse, DomainError> {
    let mut context = Context::new();
    context.insert("room_id", page.room.id.as_str());
    context.insert(
        "socket_path",
        &routes::path(routes::CHAT_SOCKET, &[page.room.id.as_str()]),
    );
    context.insert("room_name", page.room.name.as_str());
    context.insert("viewer", page.viewer.username.as_str());
    context.insert("viewer_id", page.viewer.id.as_str());
    context.insert("is_creator", &(page.room.creator == page.viewer.id));
    context.insert("signed_in", &true);
    context.insert("script", "room.js");
    context.insert(
        "history_path",
        &routes::path(routes::ROOM_HOME, &[page.room.id.as_str()]),
    );
    let members: Vec<MemberView<'_>> = page
        .members
        .iter()
        .map(|user| MemberView {
            id: user.id.as_str(),
            username: user.username.as_str(),
            is_online: user.is_online,
        })
        .collect();
    context.insert("members", &members);
    let messages: Vec<MessageView> = page
        .messages
        .iter()
        .rev()
        .map(|message| {
            // A path, not the public URL's absolute link: the page's CSP allows only its own
            // origin, and a browser may reach the server under another name.
            let body = MessageBody::new(message, |id| routes::path(routes::MEDIA, &[id.as_str()]));
            MessageView {
                mine: message.sender == page.viewer.id,
                id: body.id,
                format: body.message_format,
                text: body.text_content,
                media_url: body.media_url,
                username: body.username,
                date: body.date,
                time: body.time,
                is_reply: body.is_reply,
                previous_content: body.previous_message_content,
            }
        })
        .collect();
    context.insert("messages", &messages);
    context.insert("older_link", &page.older_query);
    render(ROOM, &context, status)
}

/// How much the `Accept` header wants `media`: its q-value (0 when not acceptable), then
/// how specifically it was named (exact 3, `type/*` 2, `*/*` 1), which breaks ties.
fn preference(accept: &str, media: &str) -> (f32, u8) {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f32)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let specificity = if range == media {
            3
        } else if range == format!("{kind}/*") {
            2
        } else if range == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, quality));
        }
    }
    best.map_or((0.0, 0), |(specificity, quality)| (quality, specificity))
}

fn accept_header(request: &actix_web::HttpRequest) -> &str {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// Whether the client prefers an HTML page to JSON (a browser following a link).
pub fn prefers_html(request: &actix_web::HttpRequest) -> bool {
    let accept = accept_header(request);
    preference(accept, "text/html") > preference(accept, "application/json")
}

/// Whether the client prefers JSON to an HTML page (an API client).
pub fn prefers_json(request: &actix_web::HttpRequest) -> bool {
    let accept = accept_header(request);
    preference(accept, "application/json") > preference(accept, "text/html")
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
        assert!(with("application/json;q=0.5, text/html"));
        assert!(!with("application/json, text/html;q=0.9"));
    }

    #[test]
    fn api_clients_get_json_only_when_they_prefer_it() {
        let with = |accept: &str| {
            prefers_json(
                &actix_web::test::TestRequest::default()
                    .insert_header(("Accept", accept))
                    .to_http_request(),
            )
        };
        assert!(with("application/json"));
        assert!(with("application/json, text/plain, */*"));
        assert!(!with(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!with("*/*"));
        assert!(!with(""));
    }
}
