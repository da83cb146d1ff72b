-- Rooms, their members, and message history.

CREATE TABLE rooms (
    id        nanoid PRIMARY KEY,
    room_name text NOT NULL CHECK (length(room_name) BETWEEN 1 AND 64),
    -- A room outlives nobody silently: an account that created rooms cannot be deleted.
    creator   nanoid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    created   timestamptz NOT NULL DEFAULT now()
);
-- Room names are unique ignoring case.
CREATE UNIQUE INDEX rooms_room_name_lower_key ON rooms (lower(room_name));

CREATE TABLE room_members (
    room_id nanoid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id nanoid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);
-- Serves "rooms I belong to".
CREATE INDEX room_members_user_idx ON room_members (user_id, room_id);

CREATE TABLE messages (
    id                  nanoid PRIMARY KEY,
    room_id             nanoid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- History is never rewritten behind members' backs: senders cannot be deleted.
    sender_id           nanoid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    message_format      text NOT NULL CHECK (message_format IN ('text', 'image', 'audio', 'video')),
    text_content        text,
    media_key           text,
    media_content_type  text,
    media_size          bigint CHECK (media_size >= 0),
    -- A reply keeps its place if the original goes; is_reply remembers it was one.
    previous_message_id nanoid REFERENCES messages (id) ON DELETE SET NULL,
    is_reply            boolean NOT NULL DEFAULT false,
    created             timestamptz NOT NULL,
    CONSTRAINT messages_text_or_media CHECK (
        (message_format = 'text' AND text_content IS NOT NULL AND media_key IS NULL
            AND media_content_type IS NULL AND media_size IS NULL)
        OR (message_format <> 'text' AND text_content IS NULL AND media_key IS NOT NULL
            AND media_content_type IS NOT NULL AND media_size IS NOT NULL)
    ),
    CONSTRAINT messages_reply_flag CHECK (previous_message_id IS NULL OR is_reply)
);
-- Keyset pagination of a room's history: WHERE room_id = $1 AND (created, id) < ($2, $3)
-- ORDER BY created DESC, id DESC.
CREATE INDEX messages_room_created_id_idx ON messages (room_id, created DESC, id DESC);
CREATE UNIQUE INDEX messages_media_key_key ON messages (media_key) WHERE media_key IS NOT NULL;
CREATE INDEX messages_previous_message_idx ON messages (previous_message_id)
    WHERE previous_message_id IS NOT NULL;
