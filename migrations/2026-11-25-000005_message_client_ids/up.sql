-- The sender's own id for a message, so a retried send within a day is recognised.
ALTER TABLE messages ADD COLUMN client_id text CHECK (length(client_id) BETWEEN 1 AND 64);
CREATE INDEX messages_client_id_idx ON messages (room_id, sender_id, client_id, created DESC)
    WHERE client_id IS NOT NULL;
