//! The chat endpoints under `/api/v1/chat/`: rooms and members, history, media.

pub mod history;
pub mod media;
pub mod rooms;

use actix_web::http::Method;
use actix_web::web;

use crate::fallback::method_not_allowed;

/// Mounts the chat routes; needs `web::Data<Rooms>`, `web::Data<history::Cursors>` and
/// `web::Data<PublicUrl>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/chat")
            .service(
                web::resource("/room-list/")
                    .route(web::get().to(rooms::list))
                    .route(web::post().to(rooms::create))
                    .default_service(method_not_allowed(&[Method::GET, Method::POST])),
            )
            .service(
                web::resource("/room/{room_id}/users/")
                    .route(web::post().to(rooms::add_members))
                    .default_service(method_not_allowed(&[Method::POST])),
            )
            .service(
                web::resource("/room/{room_id}/users/{user_id}/")
                    .route(web::delete().to(rooms::remove_member))
                    .default_service(method_not_allowed(&[Method::DELETE])),
            )
            .service(
                web::resource("/home/{room_id}/")
                    .route(web::get().to(history::home))
                    .default_service(method_not_allowed(&[Method::GET])),
            )
            .service(
                web::resource("/media/{message_id}/")
                    .route(web::get().to(media::download))
                    .default_service(method_not_allowed(&[Method::GET])),
            ),
    );
}
