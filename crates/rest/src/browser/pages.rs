//! GET handlers of the browser client's pages (UI.md). A page never changes state: forms
//! post through the page scripts to the REST API.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;
use whisper_domain::{Rooms, User};
use whisper_http::path_ids::room_id;
use whisper_http::{ApiError, routes};

use super::guard::{Visitor, local_next, login_redirect, visitor};
use crate::accounts::social::SocialProviders;
use crate::chat::history::{Cursors, DEFAULT_PAGE_SIZE, older_query, room_page_of};
use crate::pages::render;

const GOOGLE: &str = "google-oauth2";

/// `?next=<local path>`
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// `code`: the email is already in the session (a social sign-in); ask for the code.
    step: Option<String>,
}

/// A page of `template` running `script`, for a signed-out visitor.
fn public_page(
    template: &str,
    script: &str,
    context: &mut Context,
) -> Result<HttpResponse, ApiError> {
    context.insert("script", script);
    Ok(render(template, context, StatusCode::OK)?)
}

/// What a page that needs a session answers when there is none usable: the renewal page
/// (it refreshes the tokens and reloads), or the login page that comes back here.
fn not_signed_in(visitor: &Visitor, request: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let here = match request.uri().path_and_query() {
        Some(path) => path.as_str(),
        None => request.path(),
    };
    if matches!(visitor, Visitor::Renewable) {
        let mut context = Context::new();
        context.insert("next", local_next(Some(here)).unwrap_or(routes::PAGE_ROOMS));
        return public_page("resume.html", "session.js", &mut context);
    }
    Ok(login_redirect(here))
}

fn rooms_page(user: &User) -> Result<HttpResponse, ApiError> {
    let mut context = Context::new();
    context.insert("signed_in", &true);
    context.insert("viewer", user.username.as_str());
    context.insert("script", "rooms.js");
    Ok(render("rooms.html", &context, StatusCode::OK)?)
}

/// GET `/`: the choice to sign up or log in; signed in, the rooms.
pub async fn home(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    match visitor(&request).await? {
        Visitor::SignedIn(user) => rooms_page(&user),
        Visitor::Renewable => not_signed_in(&Visitor::Renewable, &request),
        Visitor::SignedOut => public_page("home.html", "session.js", &mut Context::new()),
    }
}

/// GET `/signup/`.
pub async fn signup() -> Result<HttpResponse, ApiError> {
    public_page("signup.html", "signup.js", &mut Context::new())
}

/// GET `/setup-2fa/`: its script creates the device (a POST) and shows its QR code.
pub async fn setup_2fa() -> Result<HttpResponse, ApiError> {
    public_page("setup_2fa.html", "setup-2fa.js", &mut Context::new())
}

/// GET `/login/?next=`: a `next` that is not a local path is ignored.
pub async fn login(
    query: web::Query<NextQuery>,
    social: Option<web::Data<SocialProviders>>,
) -> Result<HttpResponse, ApiError> {
    let mut context = Context::new();
    context.insert(
        "next",
        local_next(query.next.as_deref()).unwrap_or(routes::PAGE_ROOMS),
    );
    context.insert("code_step", &(query.step.as_deref() == Some("code")));
    if social.is_some_and(|providers| providers.offers(GOOGLE)) {
        context.insert("google", &routes::path(routes::SOCIAL_BEGIN, &[GOOGLE]));
    }
    public_page("login.html", "login.js", &mut context)
}

/// GET `/rooms/`.
pub async fn rooms(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    match visitor(&request).await? {
        Visitor::SignedIn(user) => rooms_page(&user),
        other => not_signed_in(&other, &request),
    }
}

/// GET `/rooms/<room_id>/`: the room page, opening with the latest messages.
pub async fn room(
    request: HttpRequest,
    room: web::Path<String>,
    rooms: web::Data<Rooms>,
    cursors: web::Data<Cursors>,
) -> Result<HttpResponse, ApiError> {
    let user = match visitor(&request).await? {
        Visitor::SignedIn(user) => user,
        other => return not_signed_in(&other, &request),
    };
    let room = room_id(&room)?;
    let page = rooms
        .history(&user.id, &room, None, DEFAULT_PAGE_SIZE)
        .await?;
    let older = older_query(&page, &cursors, DEFAULT_PAGE_SIZE);
    room_page_of(&user, &room, &page, older.as_deref(), &rooms).await
}
