//! The browser client: its pages (UI.md) and the embedded scripts and styles they load.
//! The pages only render a shell and the signed-in person's data; the scripts talk to the
//! public REST API and the chat socket with the session cookie.

mod assets;
mod guard;
mod pages;

use actix_web::http::Method;
use actix_web::web;
use whisper_http::fallback::resource;
use whisper_http::routes;

pub use guard::{local_next, login_redirect};

/// Mounts the pages and the assets; the room page needs what `home/<room_id>/` needs.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let page = |path: &str, handler: actix_web::Route| resource(path, [(Method::GET, handler)]);
    cfg.service(page(routes::PAGE_HOME, web::to(pages::home)))
        .service(page(routes::PAGE_SIGNUP, web::to(pages::signup)))
        .service(page(routes::PAGE_SETUP_2FA, web::to(pages::setup_2fa)))
        .service(page(routes::PAGE_LOGIN, web::to(pages::login)))
        .service(page(routes::PAGE_ROOMS, web::to(pages::rooms)))
        .service(page(routes::PAGE_ROOM, web::to(pages::room)))
        .service(page(routes::STATIC_ASSET, web::to(assets::asset)));
}
