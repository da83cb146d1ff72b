-- A message's room and sender were checked by foreign keys: two lookups per row, each
-- through its own trigger call, which made up about 40 % of a 64-row group commit
-- (docs/BENCHMARKS.md, "Batched reference checks"). The same checks now run once per
-- statement over all the rows it wrote. They take the locks a foreign key takes (KEY
-- SHARE on each room and sender, so neither can be deleted while the insert commits),
-- raise the error a foreign key raises (23503), and the ON DELETE rules are kept by
-- triggers on the referenced tables.
ALTER TABLE messages
    DROP CONSTRAINT messages_room_id_fkey,
    DROP CONSTRAINT messages_sender_id_fkey;

-- A reference is as well-formed as what it refers to: rooms.id and users.id are
-- nanoids, and the check below finds every reference among them, so checking the
-- nanoid pattern again on each row checked nothing more. messages.id keeps it.
ALTER TABLE messages
    ALTER COLUMN room_id TYPE varchar(21) COLLATE "C",
    ALTER COLUMN sender_id TYPE varchar(21) COLLATE "C";

CREATE FUNCTION messages_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    PERFORM 1 FROM rooms WHERE id IN (SELECT room_id FROM written) FOR KEY SHARE;
    PERFORM 1 FROM users WHERE id IN (SELECT sender_id FROM written) FOR KEY SHARE;
    SELECT w.room_id INTO missing FROM written w
        WHERE NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = w.room_id) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('messages refer to room %s, which does not exist', missing),
            CONSTRAINT = 'messages_room_id_fkey';
    END IF;
    SELECT w.sender_id INTO missing FROM written w
        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = w.sender_id) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('messages refer to sender %s, who does not exist', missing),
            CONSTRAINT = 'messages_sender_id_fkey';
    END IF;
    RETURN NULL;
END $$;

-- Transition tables allow one event per trigger, hence two.
CREATE TRIGGER messages_inserted_references AFTER INSERT ON messages
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION messages_check_references();
CREATE TRIGGER messages_updated_references AFTER UPDATE ON messages
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION messages_check_references();

-- ON DELETE CASCADE: a room's messages go with it.
CREATE FUNCTION rooms_delete_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM messages WHERE room_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER rooms_deleted_messages AFTER DELETE ON rooms
    FOR EACH ROW EXECUTE FUNCTION rooms_delete_messages();

-- ON DELETE RESTRICT: history is never rewritten behind members' backs, so a sender
-- stays. The row lock the delete waits for first lets a concurrent insert finish.
CREATE FUNCTION users_keep_senders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM messages WHERE sender_id = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('user %s sent messages and cannot be deleted', OLD.id),
            CONSTRAINT = 'messages_sender_id_fkey';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER users_deleted_senders BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_senders();

-- A foreign key refuses changing a referenced key; ids never change, and now cannot.
CREATE FUNCTION refuse_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING
        MESSAGE = format('%s ids never change (%s)', TG_TABLE_NAME, OLD.id);
END $$;
CREATE TRIGGER rooms_id_fixed BEFORE UPDATE OF id ON rooms
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER users_id_fixed BEFORE UPDATE OF id ON users
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
