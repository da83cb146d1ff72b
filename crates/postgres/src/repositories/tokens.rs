//! Recorded access tokens and refresh-token families.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use whisper_domain::ports::TokenStore;
use whisper_domain::{
    AccessTokenRecord, DomainResult, RefreshFamily, TokenFamilyId, TokenId, UserId,
};

use super::{corrupt, find_one, run};
use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::{access_tokens, refresh_token_families as families};

/// Tokens in `access_tokens` and `refresh_token_families`.
#[derive(Clone)]
pub struct PgTokens {
    database: Database,
}

impl PgTokens {
    /// Tokens in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens, check_for_backend(diesel::pg::Pg))]
struct AccessRow {
    jti: String,
    user_id: String,
    family_id: Option<String>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

impl AccessRow {
    fn into_domain(self) -> DomainResult<AccessTokenRecord> {
        Ok(AccessTokenRecord {
            jti: TokenId::parse(&self.jti).map_err(|e| corrupt("token id", e))?,
            user_id: UserId::parse(&self.user_id).map_err(|e| corrupt("user id", e))?,
            family_id: self
                .family_id
                .map(|id| TokenFamilyId::parse(&id).map_err(|e| corrupt("family id", e)))
                .transpose()?,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            revoked: self.revoked,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = families, check_for_backend(diesel::pg::Pg))]
struct FamilyRow {
    id: String,
    user_id: String,
    current_jti: String,
    created: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

impl FamilyRow {
    fn into_domain(self) -> DomainResult<RefreshFamily> {
        Ok(RefreshFamily {
            id: TokenFamilyId::parse(&self.id).map_err(|e| corrupt("family id", e))?,
            user_id: UserId::parse(&self.user_id).map_err(|e| corrupt("user id", e))?,
            current_jti: TokenId::parse(&self.current_jti).map_err(|e| corrupt("token id", e))?,
            created: self.created,
            expires_at: self.expires_at,
            revoked: self.revoked,
        })
    }
}

#[async_trait]
impl TokenStore for PgTokens {
    async fn record_access(&self, token: &AccessTokenRecord) -> DomainResult<()> {
        let row = AccessRow {
            jti: token.jti.to_string(),
            user_id: token.user_id.to_string(),
            family_id: token.family_id.as_ref().map(ToString::to_string),
            issued_at: token.issued_at,
            expires_at: token.expires_at,
            revoked: token.revoked,
        };
        let statement = diesel::insert_into(access_tokens::table).values(row);
        run(&self.database, statement).await
    }

    async fn find_access(&self, jti: &TokenId) -> DomainResult<Option<AccessTokenRecord>> {
        let query = access_tokens::table
            .find(jti.as_str())
            .select(AccessRow::as_select());
        find_one(&self.database, query, AccessRow::into_domain).await
    }

    async fn revoke_access(&self, jti: &TokenId) -> DomainResult<()> {
        let statement = diesel::update(access_tokens::table.find(jti.as_str()))
            .set(access_tokens::revoked.eq(true));
        run(&self.database, statement).await
    }

    async fn start_family(&self, family: &RefreshFamily) -> DomainResult<()> {
        let row = FamilyRow {
            id: family.id.to_string(),
            user_id: family.user_id.to_string(),
            current_jti: family.current_jti.to_string(),
            created: family.created,
            expires_at: family.expires_at,
            revoked: family.revoked,
        };
        let statement = diesel::insert_into(families::table).values(row);
        run(&self.database, statement).await
    }

    async fn find_family(&self, id: &TokenFamilyId) -> DomainResult<Option<RefreshFamily>> {
        let query = families::table
            .find(id.as_str())
            .select(FamilyRow::as_select());
        find_one(&self.database, query, FamilyRow::into_domain).await
    }

    async fn rotate(&self, id: &TokenFamilyId, from: &TokenId, to: &TokenId) -> DomainResult<bool> {
        let mut conn = self.database.connection().await?;
        // Compare-and-set: of two concurrent rotations of one token, one wins.
        let rotated = diesel::update(
            families::table
                .find(id.as_str())
                .filter(families::current_jti.eq(from.as_str()))
                .filter(families::revoked.eq(false)),
        )
        .set(families::current_jti.eq(to.as_str()))
        .execute(&mut conn)
        .await
        .map_err(unexpected)?;
        Ok(rotated > 0)
    }

    async fn revoke_family(&self, id: &TokenFamilyId) -> DomainResult<()> {
        let id = id.to_string();
        let mut conn = self.database.connection().await?;
        conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
            diesel::update(families::table.find(&id))
                .set(families::revoked.eq(true))
                .execute(conn)
                .await?;
            diesel::update(access_tokens::table.filter(access_tokens::family_id.eq(&id)))
                .set(access_tokens::revoked.eq(true))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(unexpected)
    }
}
