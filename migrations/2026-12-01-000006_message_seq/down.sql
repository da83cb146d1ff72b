CREATE INDEX messages_room_created_id_idx ON messages (room_id, created DESC, id DESC);
ALTER TABLE messages DROP CONSTRAINT messages_room_seq_key;
ALTER TABLE messages DROP CONSTRAINT messages_seq_positive;
ALTER TABLE messages DROP COLUMN seq;
ALTER TABLE rooms DROP COLUMN last_seq;
