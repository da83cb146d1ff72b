//! TOTP devices, with their secrets sealed at rest, and failed second-factor attempts.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use whisper_domain::ports::{SecretSealer, TotpAttempts, TotpDevices};
use whisper_domain::{Clash, DomainError, DomainResult, Missing, TotpDevice, TotpSecret, UserId};

use super::{corrupt, first_row, run, to_i64};
use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::{totp_devices, totp_failures};

/// Devices in `totp_devices`; secrets are sealed before they reach the table.
#[derive(Clone)]
pub struct PgTotpDevices {
    database: Database,
    sealer: Arc<dyn SecretSealer>,
}

impl PgTotpDevices {
    /// Devices in `database`, secrets sealed by `sealer`.
    pub fn new(database: Database, sealer: Arc<dyn SecretSealer>) -> Self {
        Self { database, sealer }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = totp_devices, check_for_backend(diesel::pg::Pg))]
struct DeviceRow {
    user_id: String,
    secret: Vec<u8>,
    confirmed: bool,
    last_accepted_step: Option<i64>,
    created: DateTime<Utc>,
}

fn no_device() -> DomainError {
    DomainError::NotFound(Missing::TotpDevice)
}

#[async_trait]
impl TotpDevices for PgTotpDevices {
    async fn enroll(&self, device: &TotpDevice) -> DomainResult<()> {
        let row = DeviceRow {
            user_id: device.user_id.to_string(),
            secret: self.sealer.seal(device.secret.as_bytes()),
            confirmed: device.confirmed,
            last_accepted_step: device
                .last_accepted_step
                .map(|step| to_i64(step, "time step"))
                .transpose()?,
            created: device.created,
        };
        let mut conn = self.database.connection().await?;
        // Replaces only an unconfirmed device: a confirmed one is never overwritten.
        let written = diesel::sql_query(
            "INSERT INTO totp_devices (user_id, secret, confirmed, last_accepted_step, created) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
                 confirmed = excluded.confirmed, \
                 last_accepted_step = excluded.last_accepted_step, created = excluded.created \
             WHERE NOT totp_devices.confirmed",
        )
        .bind::<Text, _>(&row.user_id)
        .bind::<Bytea, _>(&row.secret)
        .bind::<Bool, _>(row.confirmed)
        .bind::<Nullable<BigInt>, _>(row.last_accepted_step)
        .bind::<Timestamptz, _>(row.created)
        .execute(&mut conn)
        .await
        .map_err(unexpected)?;
        if written == 0 {
            return Err(DomainError::Conflict(Clash::TotpAlreadyConfirmed));
        }
        Ok(())
    }

    async fn find(&self, user_id: &UserId) -> DomainResult<Option<TotpDevice>> {
        let query = totp_devices::table
            .find(user_id.as_str())
            .select(DeviceRow::as_select());
        let Some(row) = first_row(&self.database, query).await? else {
            return Ok(None);
        };
        Ok(Some(TotpDevice {
            user_id: user_id.clone(),
            secret: TotpSecret::from_bytes(self.sealer.open(&row.secret)?),
            confirmed: row.confirmed,
            last_accepted_step: row
                .last_accepted_step
                .map(|step| u64::try_from(step).map_err(|e| corrupt("time step", e)))
                .transpose()?,
            created: row.created,
        }))
    }

    async fn accept_step(&self, user_id: &UserId, step: u64, confirm: bool) -> DomainResult<bool> {
        let step = to_i64(step, "time step")?;
        let mut conn = self.database.connection().await?;
        // One conditional UPDATE: of two concurrent uses of a code, exactly one wins.
        let accepted = diesel::update(
            totp_devices::table.find(user_id.as_str()).filter(
                totp_devices::last_accepted_step
                    .is_null()
                    .or(totp_devices::last_accepted_step.lt(step)),
            ),
        )
        .set((
            totp_devices::last_accepted_step.eq(step),
            totp_devices::confirmed.eq(totp_devices::confirmed.or(confirm.into_sql::<Bool>())),
        ))
        .execute(&mut conn)
        .await
        .map_err(unexpected)?;
        if accepted > 0 {
            return Ok(true);
        }
        let exists = diesel::select(diesel::dsl::exists(
            totp_devices::table.find(user_id.as_str()),
        ))
        .get_result::<bool>(&mut conn)
        .await
        .map_err(unexpected)?;
        if exists { Ok(false) } else { Err(no_device()) }
    }
}

/// Failed attempts in `totp_failures`.
#[derive(Clone)]
pub struct PgTotpAttempts {
    database: Database,
}

impl PgTotpAttempts {
    /// Attempts in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl TotpAttempts for PgTotpAttempts {
    async fn record_failure(&self, user_id: &UserId, at: DateTime<Utc>) -> DomainResult<()> {
        let statement = diesel::insert_into(totp_failures::table).values((
            totp_failures::user_id.eq(user_id.as_str()),
            totp_failures::failed_at.eq(at),
        ));
        run(&self.database, statement).await
    }

    async fn failures_since(
        &self,
        user_id: &UserId,
        since: DateTime<Utc>,
    ) -> DomainResult<Vec<DateTime<Utc>>> {
        let mut conn = self.database.connection().await?;
        totp_failures::table
            .filter(totp_failures::user_id.eq(user_id.as_str()))
            .filter(totp_failures::failed_at.ge(since))
            .order(totp_failures::failed_at)
            .select(totp_failures::failed_at)
            .load(&mut conn)
            .await
            .map_err(unexpected)
    }

    async fn clear(&self, user_id: &UserId) -> DomainResult<()> {
        let statement = diesel::delete(
            totp_failures::table.filter(totp_failures::user_id.eq(user_id.as_str())),
        );
        run(&self.database, statement).await
    }

    async fn withdraw_failure(&self, user_id: &UserId, at: DateTime<Utc>) -> DomainResult<()> {
        let statement = diesel::delete(
            totp_failures::table
                .filter(totp_failures::user_id.eq(user_id.as_str()))
                .filter(totp_failures::failed_at.eq(at)),
        );
        run(&self.database, statement).await
    }
}
