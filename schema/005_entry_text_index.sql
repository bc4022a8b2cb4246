-- Version 5: an index on knowledge_entries(text_id). Deleting an entry
-- deletes its entry_text row, and with foreign keys on SQLite then looks
-- for entries still referring to that row: without an index that is a scan
-- of every entry, so moving N entries (a restructuring) cost N scans. On
-- 20,000 entries the structure phase spent 26 s of its 28 s there.
CREATE INDEX knowledge_entries_text ON knowledge_entries(text_id);
