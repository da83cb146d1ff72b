//! The chat endpoints of the `chat/` area of the route table: rooms and members, history,
//! media.

pub mod history;
pub mod media;
pub mod rooms;

use actix_web::http::Method;
use actix_web::web;
use whisper_http::fallback::resource;
use whisper_http::routes;

/// Mounts the chat routes; needs `web::Data<Rooms>`, `web::Data<history::Cursors>` and
/// `web::Data<PublicUrl>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        routes::ROOM_LIST,
        [
            (Method::GET, web::to(rooms::list)),
            (Method::POST, web::to(rooms::create)),
        ],
    ))
    .service(resource(
        routes::ROOM_MEMBERS,
        [(Method::POST, web::to(rooms::add_members))],
    ))
    .service(resource(
        routes::ROOM_MEMBER,
        [(Method::DELETE, web::to(rooms::remove_member))],
    ))
    .service(resource(
        routes::ROOM_HOME,
        [(Method::GET, web::to(history::home))],
    ))
    .service(resource(
        routes::MEDIA,
        [(Method::GET, web::to(media::download))],
    ));
}
