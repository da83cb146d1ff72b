-- Each room numbers its messages: seq 1 for the first, then one more per message committed,
-- with no holes. The room row holds the last number; a writer locks the row, numbers its
-- messages from last_seq + 1 and advances it in the same transaction, so commit order is
-- seq order whichever instance writes.
ALTER TABLE rooms ADD COLUMN last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0);

ALTER TABLE messages ADD COLUMN seq bigint;
-- Existing history keeps its order: (created, id) was the order before seq.
UPDATE messages m SET seq = numbered.seq
FROM (
    SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY created, id) AS seq
    FROM messages
) numbered
WHERE m.id = numbered.id;
ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_seq_positive CHECK (seq >= 1);
-- Serves pagination (seq < $2 ORDER BY seq DESC) and replay (seq > $2 ORDER BY seq).
ALTER TABLE messages ADD CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq);
DROP INDEX messages_room_created_id_idx;

UPDATE rooms r SET last_seq = numbered.last_seq
FROM (SELECT room_id, max(seq) AS last_seq FROM messages GROUP BY room_id) numbered
WHERE r.id = numbered.room_id;
