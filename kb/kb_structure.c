/* What the structure phase needs from the store beyond entries and nodes:
 * every stored document of a client, and pruning the nodes a restructuring
 * left empty. See kb.h. */
#include "kb_internal.h"

#include <stdlib.h>
#include <string.h>

static int documents_each(struct kb *kb, int64_t client_id, int unplaced, kb_stored_doc_fn fn,
                          void *arg)
{
    sqlite3_stmt *st =
        unplaced ? kb_prepare(kb, "SELECT s.name, s.type, d.external_id, d.title, d.text, "
                                  "d.metadata FROM documents d JOIN sources s ON "
                                  "s.id = d.source_id WHERE s.client_id = ? AND d.deleted = 0 "
                                  "AND NOT EXISTS (SELECT 1 FROM entry_documents ed WHERE "
                                  "ed.document_id = d.id) ORDER BY s.name, d.external_id")
                 : kb_prepare(kb, "SELECT s.name, s.type, d.external_id, d.title, d.text, "
                                  "d.metadata FROM documents d JOIN sources s ON "
                                  "s.id = d.source_id WHERE s.client_id = ? AND d.deleted = 0 "
                                  "ORDER BY s.name, d.external_id");
    int rc = 0, r;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_stored_doc d = {kb_col(st, 0),      kb_col(st, 1), kb_col(st, 2),
                                  kb_col_null(st, 3), kb_col(st, 4), kb_col_null(st, 5)};
        if ((rc = fn(&d, arg)) != 0)
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = kb_sqlfail(kb, "reading the client's documents");
    sqlite3_reset(st);
    return rc;
}

int kb_documents_each(struct kb *kb, int64_t client_id, kb_stored_doc_fn fn, void *arg)
{
    return documents_each(kb, client_id, 0, fn, arg);
}

int kb_documents_unplaced_each(struct kb *kb, int64_t client_id, kb_stored_doc_fn fn, void *arg)
{
    return documents_each(kb, client_id, 1, fn, arg);
}

int kb_tree_prune(struct kb *kb, int64_t client_id, int64_t *removed)
{
    int64_t total = 0;

    /* Leaves first: a skill whose groups all went away is a leaf next round. */
    for (int level = 3; level >= 1; level--) {
        sqlite3_stmt *st = kb_prepare(
            kb, "DELETE FROM knowledge_tree WHERE client_id = ?1 AND level = ?2 "
                "AND NOT EXISTS (SELECT 1 FROM knowledge_entries e WHERE e.id BETWEEN "
                "knowledge_tree.base + 1 AND knowledge_tree.base + 65535) "
                "AND NOT EXISTS (SELECT 1 FROM knowledge_tree c WHERE c.client_id = ?1 AND "
                "c.parent_id = "
                "knowledge_tree.id)");
        if (!st)
            return KB_ERROR;
        sqlite3_bind_int64(st, 1, client_id);
        sqlite3_bind_int(st, 2, level);
        if (sqlite3_step(st) != SQLITE_DONE) {
            int rc = kb_sqlfail(kb, "pruning empty tree nodes");
            sqlite3_reset(st);
            return rc;
        }
        total += sqlite3_changes(kb->db);
        sqlite3_reset(st);
    }
    /* kb_node_ensure may remember a node that is gone. */
    kb_node_memo_clear(kb);
    if (removed)
        *removed = total;
    return 0;
}

int kb_entries_under(struct kb *kb, int64_t client_id, const char *path,
                     int (*fn)(const struct kb_entry_view *e, void *arg), void *arg)
{
    sqlite3_stmt *st;
    int rc = 0, r;

    if ((rc = kb_path_check(kb, path)) < 0)
        return rc;
    rc = 0;
    /* The (client, path) index: the node itself, then the range below it. */
    st = kb_prepare(kb, "SELECT e.id, e.key, t.path, x.title, x.body, e.summary, e.metadata "
                        "FROM knowledge_tree t JOIN knowledge_entries e ON e.id BETWEEN t.base + 1 "
                        "AND t.base + 65535 LEFT JOIN entry_text x ON x.id = e.text_id "
                        "WHERE t.client_id = ?1 AND (t.path = ?2 OR (t.path >= ?2 || '/' AND "
                        "t.path < ?2 || '0')) ORDER BY t.path, e.id");
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, path);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_entry_view e = {sqlite3_column_int64(st, 0),
                                  kb_col(st, 1),
                                  kb_col(st, 2),
                                  kb_col(st, 3),
                                  kb_col(st, 4),
                                  kb_col_null(st, 5),
                                  kb_col_null(st, 6)};
        if ((rc = fn(&e, arg)) != 0)
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = kb_sqlfail(kb, "reading the entries under a path");
    sqlite3_reset(st);
    return rc;
}
