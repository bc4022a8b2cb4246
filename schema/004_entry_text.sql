-- Version 4: entry bodies live in entry_text, in insertion order.
-- Entry ids are tree positions, so an onboarding inserts knowledge_entries
-- rows all over the table; with the body inside the row every insert
-- rewrote a page full of text, and a 1M-entry load spent about a fifth of
-- its time splitting and rewriting those pages (bench/kb/run.sh). Now the
-- randomly placed row is small and the text is appended. entries_fts reads
-- title and body through the entries_content view.
DROP TRIGGER knowledge_entries_ad;
DROP TRIGGER knowledge_entries_au;

CREATE TABLE entry_text (
    id   INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
ALTER TABLE knowledge_entries ADD COLUMN text_id INTEGER REFERENCES entry_text(id);
INSERT INTO entry_text(id, body) SELECT id, body FROM knowledge_entries ORDER BY id;
UPDATE knowledge_entries SET text_id = id;
-- The old index is dropped with its content table's column; rebuilt below.
DROP TABLE entries_fts;
ALTER TABLE knowledge_entries DROP COLUMN body;

CREATE VIEW entries_content AS
    SELECT e.id, e.title, t.body FROM knowledge_entries e JOIN entry_text t ON t.id = e.text_id;
CREATE VIRTUAL TABLE entries_fts USING fts5(
    title, body,
    content = 'entries_content', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO entries_fts(entries_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)');
INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');
DELETE FROM entries_fts_pending;

-- A deleted entry leaves the index (unless it is still queued) and takes
-- its text with it.
CREATE TRIGGER knowledge_entries_ad AFTER DELETE ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        SELECT 'delete', old.id, old.title, t.body FROM entry_text t
         WHERE t.id = old.text_id
           AND NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id);
    DELETE FROM entries_fts_pending WHERE id = old.id;
    DELETE FROM entry_text WHERE id = old.text_id;
END;
-- A new body is a new entry_text row: the index forgets the old title and
-- body, learns the new ones, and the old text goes.
CREATE TRIGGER knowledge_entries_au AFTER UPDATE OF title, text_id ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        SELECT 'delete', old.id, old.title, t.body FROM entry_text t
         WHERE t.id = old.text_id
           AND NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id);
    INSERT INTO entries_fts(rowid, title, body)
        SELECT new.id, new.title, t.body FROM entry_text t
         WHERE t.id = new.text_id
           AND NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id);
    DELETE FROM entry_text WHERE id = old.text_id AND old.text_id IS NOT new.text_id;
END;
