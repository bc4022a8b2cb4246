-- Version 6: champion lists, so that a common term ranked over the whole KB
-- or a large subtree does not rank every entry that contains it.
--
-- For one term, FTS5's bm25 (weights 4 for the title, 1 for the body) is
-- idf(df) * f(w, n, avgdl): w the weighted term count in the entry, n the
-- entry's length in tokens. idf is the same for every entry of the term, so
-- the entries' order depends on w and n alone (and on avgdl, which moves
-- slowly). For every term with many entries ("tracked": df at least 16 and
-- 1/512 of the entries) kb_champ.c keeps the entries with the largest f
-- (32 + df/256 of them) with their w and n, the term's exact df, and a
-- floor: an upper bound of f, at avgdl floor_avgdl, for every entry of the
-- term that is not listed. f grows at most in proportion to avgdl, so the
-- floor at another avgdl A is floor * max(1, A / floor_avgdl).
-- A search takes its answer from the list only when `limit` listed entries
-- in the subtree score above the floor; otherwise it ranks the matches with
-- the exact df from here (no full-doclist count) or falls back to FTS5.
--
-- The lists are maintained from the tokens FTS5 itself produces when it
-- indexes or removes an entry (kb_champ.c wraps the 'porter' tokenizer on
-- trawl's own connection; the tokens are unchanged, so other SQLite tools
-- still read and write this file). entry_champion_stamp holds the FTS5 row
-- and token totals the lists belong to: a file changed by another tool no
-- longer matches them, and the lists are then ignored and rebuilt.
CREATE TABLE entry_champions (
    term        TEXT PRIMARY KEY,   -- the indexed token (after stemming)
    df          INTEGER NOT NULL,   -- entries containing it
    floor       REAL NOT NULL,      -- bound of f for the unlisted entries
    floor_avgdl REAL NOT NULL,      -- the avgdl that bound was computed at
    list        BLOB NOT NULL       -- entries: id int64, w uint32, n uint32, little-endian
);
CREATE TABLE entry_champion_stamp (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    nrow INTEGER NOT NULL,
    ntok INTEGER NOT NULL,
    gen  INTEGER NOT NULL DEFAULT 0   -- entry_index_gen.gen the lists belong to
);
-- Every update or delete of an entry counts here, whoever makes it: one that
-- re-indexes an entry to the same totals is still seen.
CREATE TABLE entry_index_gen (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
);
INSERT INTO entry_index_gen(id, gen) VALUES (1, 0);
CREATE TRIGGER knowledge_entries_gen_ad AFTER DELETE ON knowledge_entries BEGIN
    UPDATE entry_index_gen SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER knowledge_entries_gen_au AFTER UPDATE OF title, text_id ON knowledge_entries BEGIN
    UPDATE entry_index_gen SET gen = gen + 1 WHERE id = 1;
END;
-- An empty index has nothing to list; a database with entries gets its
-- lists from the first trawl that writes to it.
INSERT INTO entry_champion_stamp(id, nrow, ntok)
    SELECT 1, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM knowledge_entries);
