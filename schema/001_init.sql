-- trawl knowledge base, version 1.
--
-- Entry ids are not arbitrary: they encode the entry's place in the tree
-- (client 14 bits | domain 9 | skill 10 | entry_group 14 | sequence 16), so
-- every subtree owns one contiguous id range [node.base, node.base + span).
-- The FTS5 index is keyed by the same id, which turns "search under PATH"
-- into an FTS5 match restricted to a rowid range: FTS5 seeks straight to it
-- instead of ranking every match in the KB and filtering afterwards.

PRAGMA application_id = 1953658732; -- 'trwl'

CREATE TABLE clients (
    id          INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 16383),
    name        TEXT NOT NULL UNIQUE,
    next_slot   INTEGER NOT NULL DEFAULT 1,    -- next domain slot
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES clients(id),
    kind        TEXT NOT NULL,                 -- onboard, import, ...
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN
                    ('running', 'ok', 'failed', 'interrupted')),
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at TEXT,
    stats       TEXT                           -- JSON, see README "runs --json"
);
CREATE INDEX runs_client ON runs(client_id, id);

CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    client_id     INTEGER NOT NULL REFERENCES clients(id),
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    config        TEXT,                        -- JSON, credential references only
    checkpoint    TEXT,                        -- JSON, written after the data it covers
    checkpoint_at TEXT,
    UNIQUE (client_id, name)
);

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    external_id  TEXT NOT NULL,
    content_hash TEXT NOT NULL,                -- XXH3-128 of text and metadata, hex
    mime         TEXT,
    title        TEXT,
    author       TEXT,
    created_at   TEXT,
    modified_at  TEXT,
    text         TEXT,
    metadata     TEXT,                         -- JSON
    deleted      INTEGER NOT NULL DEFAULT 0,
    run_id       INTEGER REFERENCES runs(id),
    UNIQUE (source_id, external_id)
);

CREATE TABLE knowledge_tree (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES clients(id),
    parent_id  INTEGER REFERENCES knowledge_tree(id),
    level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3), -- domain, skill, entry_group
    slug       TEXT NOT NULL,
    title      TEXT NOT NULL,
    path       TEXT NOT NULL,                  -- slugs joined by '/'
    summary    TEXT,
    base       INTEGER NOT NULL,               -- first entry id of this subtree
    span       INTEGER NOT NULL,               -- number of entry ids the subtree owns
    next_slot  INTEGER NOT NULL DEFAULT 1,     -- next child slot (0 = entries on the node)
    next_seq   INTEGER NOT NULL DEFAULT 1,     -- next entry sequence on the node itself
    UNIQUE (client_id, path)
);
CREATE INDEX knowledge_tree_parent ON knowledge_tree(client_id, parent_id, slug);

CREATE TABLE knowledge_entries (
    id           INTEGER PRIMARY KEY,          -- tree-encoded, see above
    client_id    INTEGER NOT NULL REFERENCES clients(id),
    tree_node_id INTEGER NOT NULL REFERENCES knowledge_tree(id),
    key          TEXT NOT NULL,                -- stable identity for idempotent upserts
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    summary      TEXT,
    metadata     TEXT,                         -- JSON
    UNIQUE (client_id, key)
);
CREATE INDEX knowledge_entries_node ON knowledge_entries(client_id, tree_node_id);

CREATE TABLE entry_documents (
    entry_id    INTEGER NOT NULL REFERENCES knowledge_entries(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    PRIMARY KEY (entry_id, document_id)
) WITHOUT ROWID;
CREATE INDEX entry_documents_doc ON entry_documents(document_id);

CREATE VIRTUAL TABLE entries_fts USING fts5(
    title, body,
    content = 'knowledge_entries', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO entries_fts(entries_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)');

CREATE TRIGGER knowledge_entries_ai AFTER INSERT ON knowledge_entries BEGIN
    INSERT INTO entries_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER knowledge_entries_ad AFTER DELETE ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER knowledge_entries_au AFTER UPDATE OF title, body ON knowledge_entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO entries_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TABLE forum_entries (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER REFERENCES clients(id), -- NULL: a global pattern
    run_id      INTEGER REFERENCES runs(id),
    agent       TEXT NOT NULL,
    source_type TEXT NOT NULL,
    phase       TEXT NOT NULL CHECK (phase IN ('explore', 'structure')),
    file_type   TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- The metadata filters are indexed as tokens in a hidden column, so a filtered
-- search intersects posting lists inside FTS5 instead of filtering its output.
-- Tag tokens are a letter and the value in hex: c=client ("cg" for global),
-- s=source type, p=phase, f=file type.
CREATE VIEW forum_fts_content AS
    SELECT id, title, body,
           'c' || CASE WHEN client_id IS NULL THEN 'g' ELSE hex(client_id) END ||
           ' s' || hex(source_type) ||
           ' p' || hex(phase) || ' f' || hex(file_type) AS tags
      FROM forum_entries;
CREATE VIRTUAL TABLE forum_fts USING fts5(
    title, body, tags,
    content = 'forum_fts_content', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER forum_entries_ai AFTER INSERT ON forum_entries BEGIN
    INSERT INTO forum_fts(rowid, title, body, tags)
        SELECT id, title, body, tags FROM forum_fts_content WHERE id = new.id;
END;
CREATE TRIGGER forum_entries_ad AFTER DELETE ON forum_entries BEGIN
    INSERT INTO forum_fts(forum_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body,
                'c' || CASE WHEN old.client_id IS NULL THEN 'g' ELSE hex(old.client_id) END ||
                ' s' || hex(old.source_type) ||
                ' p' || hex(old.phase) || ' f' || hex(old.file_type));
END;
