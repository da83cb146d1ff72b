//! The mail outbox: emails queued with the change that produced them, drained by deliverers
//! that lease rows with `FOR UPDATE SKIP LOCKED`, so several instances never send one twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use whisper_domain::ports::MailOutbox;
use whisper_domain::{DomainResult, Email, OutboxItem, OutgoingEmail, Username};

use super::{corrupt, run};
use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::mail_outbox;

/// The outbox in `mail_outbox`.
#[derive(Clone)]
pub struct PgMailOutbox {
    database: Database,
}

impl PgMailOutbox {
    /// The outbox in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// How many emails wait in the outbox and how many were abandoned, for the metrics.
    pub async fn counts(&self) -> DomainResult<OutboxCounts> {
        let mut conn = self.database.connection().await?;
        let row: CountsRow = diesel::sql_query(
            "SELECT count(*) FILTER (WHERE abandoned_at IS NULL) AS queued, \
                    count(*) FILTER (WHERE abandoned_at IS NOT NULL) AS abandoned \
             FROM mail_outbox",
        )
        .get_result(&mut conn)
        .await
        .map_err(unexpected)?;
        Ok(OutboxCounts {
            queued: u64::try_from(row.queued).unwrap_or(0),
            abandoned: u64::try_from(row.abandoned).unwrap_or(0),
        })
    }
}

/// The outbox's size: emails still to send, and emails given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Queued and not abandoned (due now, later, or being sent).
    pub queued: u64,
    /// Given up on after failed deliveries.
    pub abandoned: u64,
}

#[derive(QueryableByName)]
struct CountsRow {
    #[diesel(sql_type = BigInt)]
    queued: i64,
    #[diesel(sql_type = BigInt)]
    abandoned: i64,
}

/// A row to queue; the other columns take their defaults (due now, no attempts yet).
#[derive(Insertable)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewOutboxRow {
    kind: &'static str,
    recipient: String,
    payload: Value,
}

impl NewOutboxRow {
    pub(crate) fn from_domain(email: &OutgoingEmail) -> Self {
        let payload = match email {
            OutgoingEmail::VerifyEmail {
                to,
                username,
                link,
                expires_in_minutes,
            } => json!({
                "to": to.as_str(),
                "username": username.as_str(),
                "link": link,
                "expires_in_minutes": expires_in_minutes,
            }),
        };
        Self {
            kind: email.kind(),
            recipient: email.recipient().as_str().to_owned(),
            payload,
        }
    }
}

fn decode(kind: &str, payload: &Value) -> DomainResult<OutgoingEmail> {
    let text = |field: &str| {
        payload[field]
            .as_str()
            .ok_or_else(|| corrupt("outbox payload", format!("{kind} without {field}")))
    };
    match kind {
        "verify_email" => Ok(OutgoingEmail::VerifyEmail {
            to: Email::parse(text("to")?).map_err(|e| corrupt("outbox recipient", e))?,
            username: Username::parse(text("username")?)
                .map_err(|e| corrupt("outbox username", e))?,
            link: text("link")?.to_owned(),
            expires_in_minutes: payload["expires_in_minutes"]
                .as_u64()
                .and_then(|minutes| u32::try_from(minutes).ok())
                .ok_or_else(|| corrupt("outbox payload", "bad expires_in_minutes"))?,
        }),
        other => Err(corrupt("outbox kind", other)),
    }
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    payload: Value,
    #[diesel(sql_type = Integer)]
    failed_attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    queued_at: DateTime<Utc>,
}

#[async_trait]
impl MailOutbox for PgMailOutbox {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> DomainResult<Vec<OutboxItem>> {
        let mut conn = self.database.connection().await?;
        // SKIP LOCKED: concurrent deliverers each take different emails and never wait.
        let mut rows: Vec<ClaimedRow> = diesel::sql_query(
            "UPDATE mail_outbox SET leased_until = $2 WHERE id IN ( \
                 SELECT id FROM mail_outbox \
                 WHERE abandoned_at IS NULL AND due_at <= $1 \
                   AND (leased_until IS NULL OR leased_until <= $1) \
                 ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, payload, failed_attempts, queued_at",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(lease_until)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(unexpected)?;
        rows.sort_by_key(|row| (row.queued_at, row.id));
        rows.into_iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.id,
                    email: decode(&row.kind, &row.payload)?,
                    failed_attempts: u32::try_from(row.failed_attempts).unwrap_or(0),
                    queued_at: row.queued_at,
                })
            })
            .collect()
    }

    async fn mark_sent(&self, id: i64) -> DomainResult<()> {
        let statement = diesel::delete(mail_outbox::table.find(id));
        run(&self.database, statement).await
    }

    async fn reschedule(
        &self,
        id: i64,
        retry_at: DateTime<Utc>,
        failed_attempts: u32,
        reason: &str,
    ) -> DomainResult<()> {
        let statement = diesel::update(mail_outbox::table.find(id)).set((
            mail_outbox::due_at.eq(retry_at),
            mail_outbox::leased_until.eq(None::<DateTime<Utc>>),
            mail_outbox::failed_attempts.eq(i32::try_from(failed_attempts).unwrap_or(i32::MAX)),
            mail_outbox::last_error.eq(reason),
        ));
        run(&self.database, statement).await
    }

    async fn abandon(&self, id: i64, reason: &str) -> DomainResult<()> {
        let statement = diesel::update(mail_outbox::table.find(id)).set((
            mail_outbox::abandoned_at.eq(diesel::dsl::now),
            mail_outbox::leased_until.eq(None::<DateTime<Utc>>),
            mail_outbox::last_error.eq(reason),
        ));
        run(&self.database, statement).await
    }
}
