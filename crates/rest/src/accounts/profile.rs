//! The caller's own account and the directory of others: `me/`, `user-list/`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use whisper_domain::{Accounts, Username};
use whisper_http::ApiError;
use whisper_http::auth::AuthenticatedUser;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::accounts::{ProfileBody, RenameRequest, UserSummary};

use crate::openapi::{CommonErrors, JsonBodyErrors, TokenRejected};

/// `?search=<prefix>`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Username prefix to match; empty or absent matches everyone (at most 50 results).
    #[serde(default)]
    #[param(required = false, example = "ad")]
    pub search: String,
}

/// GET `me/`.
#[utoipa::path(
    get,
    path = routes::ME,
    operation_id = "user_me",
    tag = "users",
    summary = "The caller's account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account.", body = ProfileBody),
        TokenRejected,
        CommonErrors,
    ),
)]
pub async fn me(caller: AuthenticatedUser) -> HttpResponse {
    HttpResponse::Ok().json(ProfileBody::from(&caller.user))
}

/// PATCH `me/`: a new username, chosen by the person.
#[utoipa::path(
    patch,
    path = routes::ME,
    operation_id = "user_me_update",
    tag = "users",
    summary = "Change the username",
    security(("bearer" = [])),
    request_body = RenameRequest,
    responses(
        (status = 200, description = "The renamed account (`is_username_set` becomes true).",
            body = ProfileBody),
        (status = 400, description = "`invalid_input` or `invalid_json`.", body = ErrorBody),
        TokenRejected,
        (status = 409, description = "`username_taken`.", body = ErrorBody),
        JsonBodyErrors, CommonErrors,
    ),
)]
pub async fn rename(
    caller: AuthenticatedUser,
    accounts: web::Data<Accounts>,
    body: web::Json<RenameRequest>,
) -> Result<HttpResponse, ApiError> {
    let username = Username::parse(&body.username)?;
    let user = accounts.rename(&caller.user.id, &username).await?;
    Ok(HttpResponse::Ok().json(ProfileBody::from(&user)))
}

/// GET `user-list/?search=<prefix>`: accounts whose username starts with the prefix.
#[utoipa::path(
    get,
    path = routes::USER_LIST,
    operation_id = "user_list",
    tag = "users",
    summary = "Find users",
    description = "Every account whose username starts with `search`, the caller too, at most \
        50, ordered by username (for picking room members).",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "The matching users.", body = Vec<UserSummary>),
        (status = 400, description = "`invalid_input`: the query string does not parse.",
            body = ErrorBody),
        TokenRejected,
        CommonErrors,
    ),
)]
pub async fn user_list(
    _: AuthenticatedUser,
    accounts: web::Data<Accounts>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let users = accounts.search_users(query.search.trim()).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(UserSummary::from).collect::<Vec<_>>()))
}
