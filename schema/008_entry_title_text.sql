-- Version 8: an entry's title lives beside its body in entry_text.
-- Entry ids are tree positions, so a commit of many new entries touches
-- leaf pages all over knowledge_entries, and each of them is written again
-- (bench/kb/run.sh: at 1,000,000 entries a commit of 10,000 rewrote about
-- 8,000 of its pages). The title was two thirds of that row; in entry_text
-- it is appended with the body. A search hit's title and body are now one
-- row. A new title, like a new body, is a new entry_text row.
ALTER TABLE entry_text ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE entry_text SET title = (SELECT e.title FROM knowledge_entries e WHERE e.text_id = entry_text.id)
 WHERE EXISTS (SELECT 1 FROM knowledge_entries e WHERE e.text_id = entry_text.id);

DROP VIEW entries_content;
DROP TRIGGER knowledge_entries_ad;
DROP TRIGGER knowledge_entries_au;
DROP TRIGGER knowledge_entries_gen_au;
ALTER TABLE knowledge_entries DROP COLUMN title;

CREATE VIEW entries_content AS
    SELECT e.id, t.title, t.body FROM knowledge_entries e JOIN entry_text t ON t.id = e.text_id;

-- A deleted entry leaves the index and takes its text with it (kb/ indexes
-- a queued entry before it deletes or changes it).
CREATE TRIGGER knowledge_entries_ad AFTER DELETE ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        SELECT 'delete', old.id, t.title, t.body FROM entry_text t WHERE t.id = old.text_id;
    DELETE FROM entry_text WHERE id = old.text_id;
END;
-- New text: the index forgets the old title and body, learns the new ones,
-- and the old text goes.
CREATE TRIGGER knowledge_entries_au AFTER UPDATE OF text_id ON knowledge_entries
WHEN old.text_id IS NOT new.text_id BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        SELECT 'delete', old.id, t.title, t.body FROM entry_text t WHERE t.id = old.text_id;
    INSERT INTO entries_fts(rowid, title, body)
        SELECT new.id, t.title, t.body FROM entry_text t WHERE t.id = new.text_id;
    DELETE FROM entry_text WHERE id = old.text_id;
END;
-- (every update counts, as before: kb_champ_apply counts them the same way)
CREATE TRIGGER knowledge_entries_gen_au AFTER UPDATE OF text_id ON knowledge_entries BEGIN
    UPDATE entry_index_gen SET gen = gen + 1 WHERE id = 1;
END;
-- entries_fts_pending has been unused since kb/ keeps the queue in memory.
DROP TABLE entries_fts_pending;
