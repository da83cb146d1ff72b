//! Email verification codes, issued together with the email that carries them.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tokio::sync::Notify;
use whisper_domain::ports::VerificationCodes;
use whisper_domain::{
    DomainError, DomainResult, Missing, OutgoingEmail, SecretDigest, User, UserId, VerificationCode,
};

use super::outbox::NewOutboxRow;
use super::users::UserRow;
use super::{corrupt, find_one, run};
use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::{email_verification_codes as codes, mail_outbox, users};

/// Verification codes in `email_verification_codes`, one per user.
#[derive(Clone)]
pub struct PgVerificationCodes {
    database: Database,
    /// Notified once an issued code's email is committed to the outbox.
    mail_queued: Option<Arc<Notify>>,
}

impl PgVerificationCodes {
    /// Codes in `database`.
    pub fn new(database: Database) -> Self {
        Self {
            database,
            mail_queued: None,
        }
    }

    /// Codes in `database` that notify `mail_queued` after an issued code and its email
    /// are committed, so the mail deliverer sends it at once instead of at its next poll.
    pub fn notifying(database: Database, mail_queued: Arc<Notify>) -> Self {
        Self {
            database,
            mail_queued: Some(mail_queued),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = codes, check_for_backend(diesel::pg::Pg))]
struct CodeRow {
    user_id: String,
    digest: Vec<u8>,
    created: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl CodeRow {
    fn from_domain(code: &VerificationCode) -> Self {
        Self {
            user_id: code.user_id.to_string(),
            digest: code.digest.as_bytes().to_vec(),
            created: code.created,
            expires_at: code.expires_at,
        }
    }

    fn into_domain(self) -> DomainResult<VerificationCode> {
        let digest: [u8; 32] = self
            .digest
            .try_into()
            .map_err(|_| corrupt("verification digest", "not 32 bytes"))?;
        Ok(VerificationCode {
            user_id: UserId::parse(&self.user_id).map_err(|e| corrupt("user id", e))?,
            digest: SecretDigest::from_bytes(digest),
            created: self.created,
            expires_at: self.expires_at,
        })
    }
}

#[async_trait]
impl VerificationCodes for PgVerificationCodes {
    async fn issue(&self, code: &VerificationCode, email: &OutgoingEmail) -> DomainResult<()> {
        let row = CodeRow::from_domain(code);
        let mail = NewOutboxRow::from_domain(email);
        let mut conn = self.database.connection().await?;
        conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
            diesel::insert_into(codes::table)
                .values(&row)
                .on_conflict(codes::user_id)
                .do_update()
                .set((
                    codes::digest.eq(excluded(codes::digest)),
                    codes::created.eq(excluded(codes::created)),
                    codes::expires_at.eq(excluded(codes::expires_at)),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(mail_outbox::table)
                .values(&mail)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(unexpected)?;
        // Only now is the email visible to the deliverer.
        if let Some(mail_queued) = &self.mail_queued {
            mail_queued.notify_one();
        }
        Ok(())
    }

    async fn find_for_user(&self, user_id: &UserId) -> DomainResult<Option<VerificationCode>> {
        let query = codes::table
            .find(user_id.as_str())
            .select(CodeRow::as_select());
        find_one(&self.database, query, CodeRow::into_domain).await
    }

    async fn find_by_digest(
        &self,
        digest: &SecretDigest,
    ) -> DomainResult<Option<VerificationCode>> {
        let query = codes::table
            .filter(codes::digest.eq(digest.as_bytes().as_slice()))
            .select(CodeRow::as_select());
        find_one(&self.database, query, CodeRow::into_domain).await
    }

    async fn consume(&self, digest: &SecretDigest) -> DomainResult<User> {
        let digest = digest.as_bytes().to_vec();
        let mut conn = self.database.connection().await?;
        let verified = conn
            .transaction::<_, diesel::result::Error, _>(async move |conn| {
                // Deleting first makes a concurrent second use find nothing.
                let owner: Option<String> =
                    diesel::delete(codes::table.filter(codes::digest.eq(digest)))
                        .returning(codes::user_id)
                        .get_result(conn)
                        .await
                        .optional()?;
                let Some(owner) = owner else {
                    return Ok(None);
                };
                diesel::update(users::table.find(owner))
                    .set(users::is_email_verified.eq(true))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await
                    .map(Some)
            })
            .await
            .map_err(unexpected)?;
        verified
            .ok_or(DomainError::NotFound(Missing::UsedVerificationLink))?
            .into_domain()
    }

    async fn discard(&self, user_id: &UserId) -> DomainResult<()> {
        let statement = diesel::delete(codes::table.find(user_id.as_str()));
        run(&self.database, statement).await
    }
}
