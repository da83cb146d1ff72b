DROP INDEX messages_client_id_idx;
ALTER TABLE messages DROP COLUMN client_id;
