//! Rooms and their members.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use whisper_domain::ports::RoomRepository;
use whisper_domain::{
    Clash, DomainError, DomainResult, Field, Flaw, Room, RoomId, RoomName, UserId,
};

use super::corrupt;
use crate::database::Database;
use crate::errors::{unexpected, violated_unique_constraint};
use crate::schema::{room_members, rooms};

/// Rooms in `rooms`, members in `room_members`.
#[derive(Clone)]
pub struct PgRooms {
    database: Database,
}

impl PgRooms {
    /// Rooms in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = rooms, check_for_backend(diesel::pg::Pg))]
struct RoomRow {
    id: String,
    room_name: String,
    creator: String,
    created: DateTime<Utc>,
}

impl RoomRow {
    fn into_domain(self, members: Vec<String>) -> DomainResult<Room> {
        Ok(Room {
            id: RoomId::parse(&self.id).map_err(|e| corrupt("room id", e))?,
            name: RoomName::parse(&self.room_name).map_err(|e| corrupt("room name", e))?,
            creator: UserId::parse(&self.creator).map_err(|e| corrupt("user id", e))?,
            members: members
                .iter()
                .map(|id| UserId::parse(id).map_err(|e| corrupt("user id", e)))
                .collect::<DomainResult<_>>()?,
            created: self.created,
        })
    }
}

/// The domain meaning of a failed membership write.
fn membership_error(error: DieselError) -> DomainError {
    match (&error, violated_unique_constraint(&error)) {
        (_, Some("rooms_room_name_lower_key")) => DomainError::Conflict(Clash::RoomNameTaken),
        (DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _), _) => {
            DomainError::invalid(Field::Members, Flaw::UnknownUser)
        }
        _ => unexpected(error),
    }
}

/// Members of each room in `ids`, in the order they joined.
async fn members_of(
    conn: &mut AsyncPgConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, DieselError> {
    let pairs: Vec<(String, String)> = room_members::table
        .filter(room_members::room_id.eq_any(ids))
        .order((room_members::joined, room_members::user_id))
        .select((room_members::room_id, room_members::user_id))
        .load(conn)
        .await?;
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for (room, user) in pairs {
        members.entry(room).or_default().push(user);
    }
    Ok(members)
}

#[async_trait]
impl RoomRepository for PgRooms {
    async fn create(&self, room: &Room) -> DomainResult<()> {
        let row = RoomRow {
            id: room.id.to_string(),
            room_name: room.name.as_str().to_owned(),
            creator: room.creator.to_string(),
            created: room.created,
        };
        // Members join in the order given, the creator first, a microsecond apart, so
        // listings keep that order.
        let members: Vec<_> = room
            .members
            .iter()
            .zip(0..)
            .map(|(user, order)| {
                (
                    room_members::room_id.eq(room.id.as_str()),
                    room_members::user_id.eq(user.as_str()),
                    room_members::joined.eq(room.created + chrono::Duration::microseconds(order)),
                )
            })
            .collect();
        let mut conn = self.database.connection().await?;
        conn.transaction::<_, DieselError, _>(async move |conn| {
            diesel::insert_into(rooms::table)
                .values(&row)
                .execute(conn)
                .await?;
            diesel::insert_into(room_members::table)
                .values(&members)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(membership_error)
    }

    async fn find(&self, id: &RoomId) -> DomainResult<Option<Room>> {
        let mut conn = self.database.connection().await?;
        let Some(row) = rooms::table
            .find(id.as_str())
            .select(RoomRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(unexpected)?
        else {
            return Ok(None);
        };
        let mut members = members_of(&mut conn, std::slice::from_ref(&row.id))
            .await
            .map_err(unexpected)?;
        let members = members.remove(&row.id).unwrap_or_default();
        row.into_domain(members).map(Some)
    }

    async fn list_for_member(&self, user: &UserId) -> DomainResult<Vec<Room>> {
        let mut conn = self.database.connection().await?;
        let mine = room_members::table
            .filter(room_members::user_id.eq(user.as_str()))
            .select(room_members::room_id);
        let rows: Vec<RoomRow> = rooms::table
            .filter(rooms::id.eq_any(mine))
            .order((rooms::created.desc(), rooms::id.desc()))
            .select(RoomRow::as_select())
            .load(&mut conn)
            .await
            .map_err(unexpected)?;
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        let mut members = members_of(&mut conn, &ids).await.map_err(unexpected)?;
        rows.into_iter()
            .map(|row| {
                let room_members = members.remove(&row.id).unwrap_or_default();
                row.into_domain(room_members)
            })
            .collect()
    }

    async fn add_members(&self, room: &RoomId, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        let mut distinct: Vec<&UserId> = Vec::with_capacity(users.len());
        for user in users {
            if !distinct.contains(&user) {
                distinct.push(user);
            }
        }
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        let now = chrono::Utc::now();
        let values: Vec<_> = distinct
            .iter()
            .zip(0..)
            .map(|(user, order)| {
                (
                    room_members::room_id.eq(room.as_str()),
                    room_members::user_id.eq(user.as_str()),
                    room_members::joined.eq(now + chrono::Duration::microseconds(order)),
                )
            })
            .collect();
        let mut conn = self.database.connection().await?;
        let added: Vec<String> = diesel::insert_into(room_members::table)
            .values(&values)
            .on_conflict_do_nothing()
            .returning(room_members::user_id)
            .get_results(&mut conn)
            .await
            .map_err(membership_error)?;
        // RETURNING follows no promised order; report in the caller's order.
        Ok(distinct
            .into_iter()
            .filter(|user| added.iter().any(|id| id == user.as_str()))
            .cloned()
            .collect())
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool> {
        let mut conn = self.database.connection().await?;
        let removed = diesel::delete(room_members::table.find((room.as_str(), user.as_str())))
            .execute(&mut conn)
            .await
            .map_err(unexpected)?;
        Ok(removed > 0)
    }

    async fn is_member(&self, room: &RoomId, user: &UserId) -> DomainResult<bool> {
        let mut conn = self.database.connection().await?;
        diesel::select(diesel::dsl::exists(
            room_members::table.find((room.as_str(), user.as_str())),
        ))
        .get_result(&mut conn)
        .await
        .map_err(unexpected)
    }
}
