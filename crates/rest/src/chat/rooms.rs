//! `room-list/`, `room/<id>/users/` and `room/<id>/users/<user_id>/`.

use actix_web::{HttpResponse, web};
use whisper_domain::{
    DomainError, DomainResult, Field, Flaw, Missing, Problem, RoomName, Rooms, UserId,
};
use whisper_http::auth::AuthenticatedUser;
use whisper_http::input::both;
use whisper_http::path_ids::room_id;
use whisper_http::{ApiError, routes};
use whisper_wire::{ErrorBody, MembersRequest, NewRoomRequest, RoomBody};

use crate::openapi::{CommonErrors, JsonBodyErrors, NotAuthenticated};

/// Every id of `raw`, or `Invalid` with one problem per malformed one.
pub fn parse_user_ids(raw: &[String]) -> DomainResult<Vec<UserId>> {
    let mut ids = Vec::with_capacity(raw.len());
    let mut malformed = Vec::new();
    for text in raw {
        match UserId::parse(text) {
            Ok(id) => ids.push(id),
            Err(_) => malformed.push(Problem {
                field: Field::Members,
                flaw: Flaw::NotAUserId(text.clone()),
            }),
        }
    }
    if malformed.is_empty() {
        Ok(ids)
    } else {
        Err(DomainError::Invalid(malformed))
    }
}

/// GET `room-list/`: the caller's rooms, newest first.
#[utoipa::path(
    get,
    path = routes::ROOM_LIST,
    operation_id = "chat_room_list",
    tag = "chat",
    summary = "The caller's rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rooms the caller belongs to, newest first.",
            body = Vec<RoomBody>),
        NotAuthenticated,
        CommonErrors,
    ),
)]
pub async fn list(
    caller: AuthenticatedUser,
    rooms: web::Data<Rooms>,
) -> Result<HttpResponse, ApiError> {
    let list = rooms.list(&caller.user.id).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(RoomBody::from).collect::<Vec<_>>()))
}

/// POST `room-list/`: a new room with the caller as creator and member.
#[utoipa::path(
    post,
    path = routes::ROOM_LIST,
    operation_id = "chat_room_create",
    tag = "chat",
    summary = "Open a room",
    security(("bearer" = [])),
    request_body = NewRoomRequest,
    responses(
        (status = 201, description = "The room; the creator is always a member.", body = RoomBody),
        (status = 400, description = "`invalid_input` (unknown or malformed ids listed in \
            `fields.user_ids`) or `invalid_json`.", body = ErrorBody),
        NotAuthenticated,
        (status = 409, description = "`room_name_taken` (names compare ignoring case).",
            body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn create(
    caller: AuthenticatedUser,
    rooms: web::Data<Rooms>,
    body: web::Json<NewRoomRequest>,
) -> Result<HttpResponse, ApiError> {
    let (name, invited) = both(
        RoomName::parse(&body.room_name),
        parse_user_ids(&body.user_ids),
    )?;
    let room = rooms.create(&caller.user.id, name, invited).await?;
    Ok(HttpResponse::Created().json(RoomBody::from(&room)))
}

/// POST `room/<id>/users/`: the creator adds members.
#[utoipa::path(
    post,
    path = routes::ROOM_MEMBERS,
    operation_id = "chat_room_add_members",
    tag = "chat",
    summary = "Add members",
    description = "Only the creator adds members; each newcomer is announced to the room \
        (`chat.notification`).",
    security(("bearer" = [])),
    params(("room_id" = String, Path, description = "The room's id.")),
    request_body = MembersRequest,
    responses(
        (status = 200, description = "The room with its members.", body = RoomBody,
            // The member just added is the request's first id; the response's `id` is the
            // room's (fuzzers inferring links otherwise take it for the user's).
            links(("RemoveAddedMember" = (
                operation_id = "chat_room_remove_member",
                parameters(
                    ("room_id" = "$request.path.room_id"),
                    ("user_id" = "$request.body#/user_ids/0"),
                ),
                description = "Removes the first member this request added.",
            )))),
        (status = 400, description = "`invalid_input` (ids listed) or `invalid_json`.",
            body = ErrorBody),
        NotAuthenticated,
        (status = 403, description = "`not_a_member` or `not_room_creator`.", body = ErrorBody),
        (status = 404, description = "`room_not_found`.", body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn add_members(
    caller: AuthenticatedUser,
    rooms: web::Data<Rooms>,
    room: web::Path<String>,
    body: web::Json<MembersRequest>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&room)?;
    let users = parse_user_ids(&body.user_ids)?;
    let updated = rooms.add_members(&caller.user.id, &room, users).await?;
    Ok(HttpResponse::Ok().json(RoomBody::from(&updated)))
}

/// DELETE `room/<id>/users/<user_id>/`: the creator removes anyone; a member leaves.
#[utoipa::path(
    delete,
    path = routes::ROOM_MEMBER,
    operation_id = "chat_room_remove_member",
    tag = "chat",
    summary = "Remove a member, or leave",
    description = "The creator removes anyone; a member removes themself. The room is told, \
        and the removed member's sockets to the room are closed with code 4001.",
    security(("bearer" = [])),
    params(
        ("room_id" = String, Path, description = "The room's id."),
        ("user_id" = String, Path, description = "The member to remove."),
    ),
    responses(
        (status = 204, description = "Removed."),
        NotAuthenticated,
        (status = 403, description = "`not_a_member` or `not_room_creator`.", body = ErrorBody),
        (status = 404, description = "`room_not_found`, or the user is not a member.",
            body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn remove_member(
    caller: AuthenticatedUser,
    rooms: web::Data<Rooms>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (room, user) = path.into_inner();
    let room = room_id(&room)?;
    let target = UserId::parse(&user).map_err(|_| DomainError::NotFound(Missing::UnnamedMember))?;
    rooms.remove_member(&caller.user.id, &room, &target).await?;
    Ok(HttpResponse::NoContent().finish())
}
