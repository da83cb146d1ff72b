//! The caller's own account and the directory of others: `me/`, `user-list/`.

use actix_web::{HttpResponse, web};
use whisper_domain::{Accounts, Username};

use super::dto::{ProfileBody, RenameRequest, SearchQuery, UserSummary};
use crate::auth::AuthenticatedUser;
use crate::errors::ApiError;

/// GET `me/`.
pub async fn me(caller: AuthenticatedUser) -> HttpResponse {
    HttpResponse::Ok().json(ProfileBody::from(&caller.user))
}

/// PATCH `me/`: a new username, chosen by the person.
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
pub async fn user_list(
    _: AuthenticatedUser,
    accounts: web::Data<Accounts>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let users = accounts.search_users(query.search.trim()).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(UserSummary::from).collect::<Vec<_>>()))
}
