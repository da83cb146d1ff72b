//! `media/<message_id>/`: the bytes of a message's image, audio or video, streamed to
//! members with their content type and length.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use futures_util::stream;
use whisper_domain::{DomainError, MessageId, Missing, Rooms};
use whisper_http::ApiError;
use whisper_http::auth::Viewer;
use whisper_http::routes;
use whisper_wire::ErrorBody;

use crate::openapi::{CommonErrors, NotAuthenticated};

/// GET `media/<message_id>/`.
#[utoipa::path(
    get,
    path = routes::MEDIA,
    operation_id = "chat_media",
    tag = "chat",
    summary = "Download a message's media",
    description = "The stored bytes with their content type and length. Members of the \
        message's room only.",
    security(("bearer" = []), ("session" = [])),
    params(("message_id" = String, Path, description = "The message's id.")),
    responses(
        // Served with the type its bytes were recognised as (`whisper_domain::media_kinds::sniff`): every
        // type that can recognise is listed, so clients know what to expect.
        (status = 200, description = "The media bytes, with the content type their bytes \
            were recognised as when uploaded.", content(
            ("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"),
            ("audio/wav"), ("audio/mpeg"), ("audio/ogg"), ("audio/flac"), ("audio/webm"),
            ("audio/mp4"), ("video/webm"), ("video/quicktime"), ("video/mp4"),
        ), headers(("Content-Length" = u64, description = "The size in bytes."))),
        NotAuthenticated,
        (status = 403, description = "`not_a_member`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such message, or it has no media.",
            body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn download(
    viewer: Viewer,
    rooms: web::Data<Rooms>,
    message: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let message =
        MessageId::parse(&message).map_err(|_| DomainError::NotFound(Missing::Message))?;
    let (media, reader) = rooms.media(&viewer.0.user.id, &message).await?;
    let chunks = stream::unfold(reader, |mut reader| async move {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(web::Bytes::from(chunk)), reader)),
            Ok(None) => None,
            Err(error) => Some((Err(ApiError::from(error)), reader)),
        }
    });
    let content_type = HeaderValue::from_str(&media.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        // The type was checked against the bytes on upload; browsers must not guess.
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400"),
        ))
        .no_chunking(media.size)
        .streaming(chunks))
}
