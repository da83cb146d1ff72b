DROP TRIGGER users_id_fixed ON users;
DROP TRIGGER rooms_id_fixed ON rooms;
DROP FUNCTION refuse_id_change();
DROP TRIGGER users_deleted_senders ON users;
DROP FUNCTION users_keep_senders();
DROP TRIGGER rooms_deleted_messages ON rooms;
DROP FUNCTION rooms_delete_messages();
DROP TRIGGER messages_updated_references ON messages;
DROP TRIGGER messages_inserted_references ON messages;
DROP FUNCTION messages_check_references();
ALTER TABLE messages
    ALTER COLUMN room_id TYPE nanoid,
    ALTER COLUMN sender_id TYPE nanoid;
ALTER TABLE messages
    ADD CONSTRAINT messages_room_id_fkey FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    ADD CONSTRAINT messages_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE RESTRICT;
