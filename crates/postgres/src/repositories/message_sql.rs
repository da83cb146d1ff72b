//! The statements of message history, each one constant (so each connection prepares it
//! once), composed by `concat!`.

/// A message as members read it (its sender's name, what it replies to) from the rows
/// `$from` calls `m`, selected by `$select` (`SELECT` and any columns before the message's).
macro_rules! select_message {
    () => {
        select_message!("SELECT", "messages m")
    };
    ($select:literal, $from:literal) => {
        concat!(
            $select,
            " m.id, m.room_id, m.sender_id, u.username AS sender_username, m.message_format, \
             m.text_content, m.media_key, m.media_content_type, m.media_size, m.is_reply, \
             m.created, m.seq, p.id AS previous_id, p.message_format AS previous_format, \
             p.text_content AS previous_text, p.sender_id AS previous_sender \
             FROM ",
            $from,
            " JOIN users u ON u.id = m.sender_id \
             LEFT JOIN messages p ON p.id = m.previous_message_id"
        )
    };
}

/// One message by id.
pub(super) const FIND: &str = concat!(select_message!(), " WHERE m.id = $1");

/// The newest page of a room; the next ones walk messages_room_seq_key backwards.
pub(super) const NEWEST_PAGE: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 ORDER BY m.seq DESC LIMIT $2"
);

/// A page of a room before a position.
pub(super) const PAGE_BEFORE: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
);

/// Messages of a room after a position: the same index, walked forwards.
pub(super) const AFTER: &str = concat!(
    select_message!(),
    " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
);

/// The last seq of each room asked for.
pub(super) const POSITIONS: &str = "SELECT id, last_seq FROM rooms WHERE id = ANY($1)";

/// The first statement of a batch: the batch's rooms, locked in id order so that writers
/// taking several rooms never wait for each other in a circle. Until commit, nobody else
/// numbers messages of these rooms or stores a `client_id` in them.
pub(super) const LOCK_ROOMS: &str =
    "SELECT id, last_seq FROM rooms WHERE id = ANY($1) ORDER BY id FOR UPDATE";

/// The newest message per (room, sender, client_id) asked for, stored since a time.
pub(super) const EARLIER_SENDS: &str = concat!(
    select_message!(
        "SELECT DISTINCT ON (m.room_id, m.sender_id, m.client_id) m.client_id,",
        "messages m"
    ),
    " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(room_id, sender_id, client_id) \
         ON m.room_id = k.room_id AND m.sender_id = k.sender_id AND m.client_id = k.client_id \
     WHERE m.created >= $4 \
     ORDER BY m.room_id, m.sender_id, m.client_id, m.created DESC, m.seq DESC"
);

/// The rooms of the messages replied to.
pub(super) const REPLIED_TO: &str = "SELECT id, room_id FROM messages WHERE id = ANY($1)";

/// The batch's messages, one row per index of the 12 bound arrays ($1 to $12), as `input`;
/// `$last` names the twelfth column: the seq it is stored under, or its place in the batch.
macro_rules! batch_input {
    ($last:literal) => {
        concat!(
            "input AS ( \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::text[], $8::int8[], $9::text[], \
                     $10::timestamptz[], $11::text[], $12::int8[]) \
                 AS i(id, room_id, sender_id, message_format, text_content, media_key, \
                     media_content_type, media_size, previous_message_id, created, client_id, ",
            $last,
            ")) "
        )
    };
}

/// The columns a batch inserts into `messages`.
macro_rules! insert_messages {
    () => {
        "INSERT INTO messages (id, room_id, sender_id, message_format, text_content, \
             media_key, media_content_type, media_size, previous_message_id, is_reply, \
             created, client_id, seq) "
    };
}

/// The numbered messages of a batch and the rooms' new last seqs, in one statement, and
/// the stored rows as members read them (sender's name, replied-to preview).
pub(super) const INSERT_NUMBERED: &str = concat!(
    "WITH ",
    batch_input!("seq"),
    ", counters AS ( \
         UPDATE rooms r SET last_seq = c.last_seq \
         FROM unnest($13::text[], $14::int8[]) AS c(id, last_seq) WHERE r.id = c.id), \
     m AS ( ",
    insert_messages!(),
    "SELECT id, room_id, sender_id, message_format, text_content, media_key, \
             media_content_type, media_size, previous_message_id, \
             previous_message_id IS NOT NULL, created, client_id, seq \
         FROM input \
         RETURNING *) ",
    select_message!("SELECT", "m")
);

/// A batch for one room with no `client_id` and no reply, in one statement (one round
/// trip, its own commit): the room's counter advanced by the batch's size under the row
/// lock the update takes, and the messages numbered after its old value. `$12` holds each
/// message's place in the batch (1, 2, …), `$13` the batch's size, `$14` the room, `$15`
/// the batch's senders. It reads back only the old counter and the senders' names: the
/// rest of each stored row is what was sent, so returning and decoding every row again
/// would only cost both sides time. No row back: the room is gone, nothing was stored.
pub(super) const INSERT_ONE_ROOM: &str = concat!(
    "WITH counter AS ( \
         UPDATE rooms SET last_seq = last_seq + $13 WHERE id = $14 \
         RETURNING last_seq - $13 AS base), ",
    batch_input!("place"),
    ", stored AS ( ",
    insert_messages!(),
    "SELECT i.id, i.room_id, i.sender_id, i.message_format, i.text_content, i.media_key, \
             i.media_content_type, i.media_size, NULL, false, i.created, NULL, \
             counter.base + i.place \
         FROM input i CROSS JOIN counter) \
     SELECT counter.base, u.id AS sender_id, u.username AS sender_username \
     FROM counter CROSS JOIN users u WHERE u.id = ANY($15::text[])"
);
