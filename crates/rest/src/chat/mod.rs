//! The chat endpoints of the `chat/` area of the route table: rooms and members, history,
//! media.

pub mod history;
pub mod media;
pub mod rooms;

use actix_web::http::Method;
use actix_web::web;
use whisper_http::fallback::method_not_allowed;
use whisper_http::routes;

/// Mounts the chat routes; needs `web::Data<Rooms>`, `web::Data<history::Cursors>` and
/// `web::Data<PublicUrl>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(routes::ROOM_LIST)
            .route(web::get().to(rooms::list))
            .route(web::post().to(rooms::create))
            .default_service(method_not_allowed(&[Method::GET, Method::POST])),
    )
    .service(
        web::resource(routes::ROOM_MEMBERS)
            .route(web::post().to(rooms::add_members))
            .default_service(method_not_allowed(&[Method::POST])),
    )
    .service(
        web::resource(routes::ROOM_MEMBER)
            .route(web::delete().to(rooms::remove_member))
            .default_service(method_not_allowed(&[Method::DELETE])),
    )
    .service(
        web::resource(routes::ROOM_HOME)
            .route(web::get().to(history::home))
            .default_service(method_not_allowed(&[Method::GET])),
    )
    .service(
        web::resource(routes::MEDIA)
            .route(web::get().to(media::download))
            .default_service(method_not_allowed(&[Method::GET])),
    );
}
