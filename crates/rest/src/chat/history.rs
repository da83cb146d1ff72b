//! `home/<room_id>/`: a room's history, as cursor-paginated JSON for API clients or as the
//! room page for browsers.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use whisper_domain::ports::PageCursors;
use whisper_domain::{DomainError, Field, Flaw, HistoryPage, RoomId, Rooms, User};
use whisper_http::ApiError;
use whisper_http::PublicUrl;
use whisper_http::auth::Viewer;
use whisper_http::path_ids::room_id;
use whisper_http::routes;
use whisper_wire::{ErrorBody, HistoryBody, MessageBody};

use crate::pages::{RoomPage, prefers_json, room_page};

use crate::openapi::{CommonErrors, NotAuthenticated};

/// Messages per page unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// The cursor codec, shared by the workers.
#[derive(Clone)]
pub struct Cursors(pub Arc<dyn PageCursors>);

/// `?cursor=&page_size=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Where the previous page ended (from `previous_messages`); omit for the latest page.
    cursor: Option<String>,
    /// Messages per page: default 10; sizes above 100 count as 100.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4_294_967_295_f64)]
    page_size: Option<u32>,
}

/// GET `home/<room_id>/`.
#[utoipa::path(
    get,
    path = routes::ROOM_HOME,
    operation_id = "chat_home",
    tag = "chat",
    summary = "A room's history, or the room page",
    description = "With `Accept` preferring `application/json`: a page of messages, newest \
        first, and the absolute URL of the older page (keyset cursor over the room's seq; stable \
        while new messages arrive). Otherwise the HTML room page. Browsers may authenticate with \
        the session cookie. Members only.",
    security(("bearer" = []), ("session" = [])),
    params(("room_id" = String, Path, description = "The room's id."), PageQuery),
    responses(
        (status = 200, description = "The page of history.", content(
            (HistoryBody = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "`invalid_input`: a tampered cursor or a bad page size.",
            body = ErrorBody),
        NotAuthenticated,
        (status = 403, description = "`not_a_member`.", body = ErrorBody),
        (status = 404, description = "`room_not_found`.", body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn home(
    viewer: Viewer,
    request: HttpRequest,
    rooms: web::Data<Rooms>,
    cursors: web::Data<Cursors>,
    public_url: web::Data<PublicUrl>,
    room: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = &viewer.0.user;
    let room = room_id(&room)?;
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(
            cursors
                .0
                .decode(text)
                .ok_or_else(|| DomainError::invalid(Field::Cursor, Flaw::ForeignCursor))?,
        ),
        None => None,
    };
    let page_size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 {
        return Err(DomainError::invalid(Field::PageSize, Flaw::EmptyPage).into());
    }
    let page = rooms.history(&caller.id, &room, before, page_size).await?;
    let page_size = page_size.min(whisper_domain::MAX_PAGE_SIZE);
    let older = older_query(&page, &cursors, page_size);

    if prefers_json(&request) {
        return Ok(HttpResponse::Ok().json(HistoryBody {
            results: page
                .messages
                .iter()
                .map(|m| MessageBody::new(m, |id| public_url.media(id)))
                .collect(),
            previous_messages: older.map(|q| public_url.history_page(&room, &q)),
        }));
    }
    room_page_of(caller, &room, &page, older.as_deref(), &rooms).await
}

/// The room page for `caller` showing `page` of `room`'s history, `older` its
/// `?cursor=…` link.
pub(crate) async fn room_page_of(
    caller: &User,
    room: &RoomId,
    page: &HistoryPage,
    older: Option<&str>,
    rooms: &Rooms,
) -> Result<HttpResponse, ApiError> {
    let room = rooms.room_for_member(&caller.id, room).await?;
    let members = rooms.member_accounts(&room).await?;
    Ok(room_page(
        &RoomPage {
            room: &room,
            members: &members,
            viewer: caller,
            messages: &page.messages,
            older_query: older,
        },
        StatusCode::OK,
    )?)
}

/// `?cursor=…&page_size=…` of the page before this one, if there is one.
pub(crate) fn older_query(page: &HistoryPage, cursors: &Cursors, page_size: u32) -> Option<String> {
    let oldest = page.messages.last().filter(|_| page.has_older)?;
    Some(format!(
        "?cursor={}&page_size={page_size}",
        cursors.0.encode(&oldest.cursor())
    ))
}
