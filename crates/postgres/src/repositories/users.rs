//! Accounts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::methods::LoadQuery;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use whisper_domain::ports::UserRepository;
use whisper_domain::{Clash, DomainError, DomainResult, Email, Missing, User, UserId, Username};

use super::{Query, corrupt, find_one, run};
use crate::database::Database;
use crate::errors::{unexpected, violated_unique_constraint};
use crate::schema::{social_identities, users};

/// Accounts stored in the `users` table.
#[derive(Clone)]
pub struct PgUsers {
    database: Database,
}

impl PgUsers {
    /// Accounts in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub username: String,
    pub is_username_set: bool,
    pub is_email_verified: bool,
    pub is_online: bool,
    pub created: DateTime<Utc>,
}

impl UserRow {
    fn from_domain(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            username: user.username.as_str().to_owned(),
            is_username_set: user.is_username_set,
            is_email_verified: user.is_email_verified,
            is_online: user.is_online,
            created: user.created,
        }
    }

    pub(crate) fn into_domain(self) -> DomainResult<User> {
        Ok(User {
            id: UserId::parse(&self.id).map_err(|e| corrupt("user id", e))?,
            email: Email::parse(&self.email).map_err(|e| corrupt("email", e))?,
            username: Username::parse(&self.username).map_err(|e| corrupt("username", e))?,
            is_username_set: self.is_username_set,
            is_email_verified: self.is_email_verified,
            is_online: self.is_online,
            created: self.created,
        })
    }
}

/// The conflict a unique violation on `users` stands for.
fn taken(error: diesel::result::Error) -> DomainError {
    match violated_unique_constraint(&error) {
        Some("users_email_key") => DomainError::Conflict(Clash::EmailTaken),
        Some("users_username_lower_key") => DomainError::Conflict(Clash::UsernameTaken),
        _ => unexpected(error),
    }
}

/// `%` and `_` are wildcards in LIKE; a prefix search must match them literally.
fn escape_like(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Every account `query` selects.
fn load_users<'a, Q>(database: &'a Database, query: Q) -> Query<'a, Vec<User>>
where
    Q: LoadQuery<'a, AsyncPgConnection, UserRow> + Send + 'a,
{
    Box::pin(async move {
        let mut conn = database.connection().await?;
        let rows = query.load(&mut conn).await.map_err(unexpected)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    })
}

#[async_trait]
impl UserRepository for PgUsers {
    async fn insert(&self, user: &User) -> DomainResult<()> {
        let mut conn = self.database.connection().await?;
        diesel::insert_into(users::table)
            .values(UserRow::from_domain(user))
            .execute(&mut conn)
            .await
            .map_err(taken)?;
        Ok(())
    }

    async fn find_by_id(&self, id: &UserId) -> DomainResult<Option<User>> {
        let query = users::table.find(id.as_str()).select(UserRow::as_select());
        find_one(&self.database, query, UserRow::into_domain).await
    }

    async fn find_by_email(&self, email: &Email) -> DomainResult<Option<User>> {
        let query = users::table
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select());
        find_one(&self.database, query, UserRow::into_domain).await
    }

    async fn find_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(UserId::as_str).collect();
        let query = users::table
            .filter(users::id.eq_any(ids))
            .select(UserRow::as_select());
        load_users(&self.database, query).await
    }

    async fn rename(&self, id: &UserId, username: &Username, chosen: bool) -> DomainResult<User> {
        let mut conn = self.database.connection().await?;
        diesel::update(users::table.find(id.as_str()))
            .set((
                users::username.eq(username.as_str()),
                users::is_username_set.eq(chosen),
            ))
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(taken)?
            .ok_or(DomainError::NotFound(Missing::User))?
            .into_domain()
    }

    async fn set_online(&self, id: &UserId, online: bool) -> DomainResult<bool> {
        let mut conn = self.database.connection().await?;
        // Only a real change writes, so presence churn costs no needless row versions.
        let changed = diesel::update(
            users::table
                .find(id.as_str())
                .filter(users::is_online.ne(online)),
        )
        .set(users::is_online.eq(online))
        .execute(&mut conn)
        .await
        .map_err(unexpected)?;
        Ok(changed > 0)
    }

    async fn search_by_username(&self, prefix: &str, limit: u32) -> DomainResult<Vec<User>> {
        let pattern = format!("{}%", escape_like(&prefix.to_lowercase()));
        let query = users::table
            .filter(lower(users::username).like(pattern))
            // Byte order, the same on every server whatever its locale.
            .order(diesel::dsl::sql::<diesel::sql_types::Text>(
                "lower(username) COLLATE \"C\"",
            ))
            .limit(i64::from(limit))
            .select(UserRow::as_select());
        load_users(&self.database, query).await
    }

    async fn link_identity(&self, user: &UserId, backend: &str, subject: &str) -> DomainResult<()> {
        // Accounts match by email: if the provider's person now has another account's
        // email, the link follows the email.
        let statement = diesel::insert_into(social_identities::table)
            .values((
                social_identities::backend.eq(backend),
                social_identities::subject.eq(subject),
                social_identities::user_id.eq(user.as_str()),
            ))
            .on_conflict((social_identities::backend, social_identities::subject))
            .do_update()
            .set(social_identities::user_id.eq(user.as_str()));
        run(&self.database, statement).await
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_matched_literally() {
        assert_eq!(escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
        assert_eq!(escape_like("plain"), "plain");
    }
}
