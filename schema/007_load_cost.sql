-- Version 7: less work per loaded entry (bench/kb/run.sh, load against a
-- plain FTS5 table).
--
-- 1. A node's own entries are the id range base + 1 .. base + 65535 (see
--    001_init.sql), so the (client_id, tree_node_id) index only repeated
--    what the ids say, and every entry insert paid for one more randomly
--    placed index row. Queries for a node's entries are rowid ranges now;
--    the entry count a tree listing shows is kept on the node:
--    kb_entry_insert adds one with the node's next_seq, the trigger below
--    takes one away.
ALTER TABLE knowledge_tree ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;
UPDATE knowledge_tree SET entries = (SELECT count(*) FROM knowledge_entries e
                                      WHERE e.client_id = knowledge_tree.client_id
                                        AND e.tree_node_id = knowledge_tree.id);
DROP INDEX knowledge_entries_node;
CREATE TRIGGER knowledge_entries_count_ad AFTER DELETE ON knowledge_entries BEGIN
    UPDATE knowledge_tree SET entries = entries - 1 WHERE id = old.tree_node_id;
END;

-- 2. FTS5 keeps up to 64 MiB of new postings in memory (default 1 MiB), so a
--    commit of 10,000 entries writes one segment instead of a dozen small
--    ones that are merged again right away, and merges eight segments of a
--    level at a time (default four): each posting is rewritten fewer times.
--    Queries read at most a few more segments per term (bench/kb search
--    figures are the same).
INSERT INTO entries_fts(entries_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO entries_fts(entries_fts, rank) VALUES ('automerge', 8);
