-- Version 3: new entries are indexed in entries_fts at commit, in rowid
-- order, not one by one by an AFTER INSERT trigger. FTS5 flushes its
-- in-memory segment whenever a rowid is not larger than the last one, and
-- entry ids are tree positions, so entries arriving in any other order wrote
-- one tiny segment each and the load spent its time merging them.
-- kb_entry_insert queues the id in entries_fts_pending; kb_commit indexes
-- the queue sorted and empties it. Updates and deletes stay triggers and
-- know that a queued entry is not in the index yet.
DROP TRIGGER knowledge_entries_ai;
DROP TRIGGER knowledge_entries_ad;
DROP TRIGGER knowledge_entries_au;

CREATE TABLE entries_fts_pending (id INTEGER PRIMARY KEY);

CREATE TRIGGER knowledge_entries_ad AFTER DELETE ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        SELECT 'delete', old.id, old.title, old.body
        WHERE NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id);
    DELETE FROM entries_fts_pending WHERE id = old.id;
END;
CREATE TRIGGER knowledge_entries_au AFTER UPDATE OF title, body ON knowledge_entries
WHEN NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id) BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO entries_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
