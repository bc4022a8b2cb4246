/*
 * Ranked search of entries (scoped to a subtree by id range) and of the
 * forum (filters matched as tokens inside the FTS index).
 */
#include "kb_internal.h"

#include "buf.h"

#include <string.h>

#define KB_DEFAULT_LIMIT 20
#define KB_MAX_LIMIT 10000

static int kb_limit(int limit)
{
    if (limit <= 0)
        return KB_DEFAULT_LIMIT;
    return limit > KB_MAX_LIMIT ? KB_MAX_LIMIT : limit;
}

int kb_search(struct kb *kb, int64_t client_id, const char *query,
              const struct kb_search_opts *opts, kb_hit_fn fn, void *arg)
{
    struct buf q = BUF_INIT;
    int64_t lo = (int64_t)client_id << KB_CLIENT_SHIFT, hi;
    sqlite3_stmt *st;
    int rc;

    hi = lo + ((int64_t)1 << KB_CLIENT_SHIFT) - 1;
    if ((rc = kb_fts_flush(kb)) < 0) /* what this transaction wrote is found too */
        return rc;
    if (kb_fts_query(query, &q) < 0) {
        rc = kb_fail(kb, KB_EINVAL, "search '%.60s%s': %s", query, strlen(query) > 60 ? "…" : "",
                     buf_str(&q));
        goto out;
    }
    if (opts && opts->under && *opts->under) {
        if ((rc = kb_path_check(kb, opts->under)) < 0)
            goto out;
        if (!(st = kb_prepare(kb, "SELECT base, span FROM knowledge_tree WHERE client_id = ? "
                                  "AND path = ?"))) {
            rc = KB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, client_id);
        kb_bind_text(st, 2, opts->under);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            lo = sqlite3_column_int64(st, 0);
            hi = lo + sqlite3_column_int64(st, 1) - 1;
        }
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) {
            rc = kb_fail(kb, KB_ENOTFOUND,
                         "no tree node '%.100s'; 'trawl tree CLIENT' shows the paths that exist",
                         opts->under);
            goto out;
        }
        if (rc != SQLITE_ROW) {
            rc = kb_sqlfail(kb, "look up subtree");
            goto out;
        }
    }
    /* Common terms: champion lists, or ranking with the known idf. */
    if ((rc = kb_champ_search(kb, buf_str(&q), lo, hi, kb_limit(opts ? opts->limit : 0), opts, fn,
                              arg)) != 0) {
        if (rc > 0)
            rc = 0;
        goto out;
    }
    /* The rowid range is handed to FTS5, which seeks inside its posting
     * lists; ranking covers only the subtree's matches. */
    st = kb_prepare(kb, "SELECT f.id, n.path, x.title, f.snip, f.score FROM "
                        "(SELECT rowid AS id, snippet(entries_fts, 1, ?1, ?2, '…', 16) AS snip, "
                        "rank AS score FROM entries_fts WHERE entries_fts MATCH ?3 AND rowid "
                        "BETWEEN ?4 AND ?5 ORDER BY rank LIMIT ?6) f "
                        "JOIN knowledge_entries e ON e.id = f.id "
                        "JOIN entry_text x ON x.id = e.text_id "
                        "JOIN knowledge_tree n ON n.id = e.tree_node_id ORDER BY f.score, f.id");
    if (!st) {
        rc = KB_ERROR;
        goto out;
    }
    kb_bind_text(st, 1, opts && opts->mark_open ? opts->mark_open : "");
    kb_bind_text(st, 2, opts && opts->mark_close ? opts->mark_close : "");
    kb_bind_text(st, 3, buf_str(&q));
    sqlite3_bind_int64(st, 4, lo);
    sqlite3_bind_int64(st, 5, hi);
    sqlite3_bind_int(st, 6, kb_limit(opts ? opts->limit : 0));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_hit h = {sqlite3_column_int64(st, 0), kb_col(st, 1), kb_col(st, 2), kb_col(st, 3),
                           sqlite3_column_double(st, 4)};
        if (fn(&h, arg))
            break;
    }
    sqlite3_reset(st);
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : kb_sqlfail(kb, "search");
out:
    buf_release(&q);
    return rc;
}

/* ---- forum ---------------------------------------------------------------------- */

static int kb_forum_phase_ok(const char *phase)
{
    return phase && (strcmp(phase, "explore") == 0 || strcmp(phase, "structure") == 0);
}

const char *kb_search_path(const struct kb *kb)
{
    return kb->search_path ? kb->search_path : "none";
}

int kb_forum_post(struct kb *kb, const struct kb_forum_entry *f, int64_t *id)
{
    sqlite3_stmt *st;
    int rc;

    if (!kb_forum_phase_ok(f->phase))
        return kb_fail(kb, KB_EINVAL, "forum phase '%s' is unknown (known: explore, structure)",
                       f->phase ? f->phase : "");
    if (!f->agent || !*f->agent || !f->source_type || !*f->source_type || !f->title || !*f->title ||
        !f->body)
        return kb_fail(kb, KB_EINVAL,
                       "a forum post needs an agent, a source type, a title and a body");
    st = kb_prepare(kb, "INSERT INTO forum_entries(client_id, run_id, agent, source_type, phase, "
                        "file_type, title, body, created_at) VALUES (?,?,?,?,?,?,?,?, "
                        "coalesce(?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
    if (!st)
        return KB_ERROR;
    if (f->client_id)
        sqlite3_bind_int64(st, 1, f->client_id);
    if (f->run_id)
        sqlite3_bind_int64(st, 2, f->run_id);
    kb_bind_text(st, 3, f->agent);
    kb_bind_text(st, 4, f->source_type);
    kb_bind_text(st, 5, f->phase);
    kb_bind_text(st, 6, f->file_type ? f->file_type : "");
    kb_bind_text(st, 7, f->title);
    kb_bind_text(st, 8, f->body);
    kb_bind_text(st, 9, f->created_at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "post to forum");
    if (id)
        *id = sqlite3_last_insert_rowid(kb->db);
    return 0;
}

/* A filter token as the schema's forum_fts_content view writes it. */
static int kb_tag(struct buf *q, char kind, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";

    if (buf_addch(q, '"') < 0 || buf_addch(q, kind) < 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (buf_addch(q, hex[*p >> 4]) < 0 || buf_addch(q, hex[*p & 15]) < 0)
            return -1;
    return buf_addch(q, '"');
}

int kb_forum_search(struct kb *kb, const char *query, const struct kb_forum_filter *flt,
                    kb_forum_fn fn, void *arg)
{
    struct buf user = BUF_INIT, q = BUF_INIT;
    sqlite3_stmt *st;
    char idtxt[24];
    int rc;

    if (kb_fts_query(query, &user) < 0) {
        rc = kb_fail(kb, KB_EINVAL, "forum search '%.60s%s': %s", query,
                     strlen(query) > 60 ? "…" : "", buf_str(&user));
        goto out;
    }
    if (flt->phase && !kb_forum_phase_ok(flt->phase)) {
        rc = kb_fail(kb, KB_EINVAL, "forum phase '%.40s' is unknown (known: explore, structure)",
                     flt->phase);
        goto out;
    }
    buf_addf(&q, "{title body} : (%s)", buf_str(&user));
    if (flt->global_only) {
        buf_adds(&q, " AND tags : \"cg\"");
    } else if (flt->client_id) {
        snprintf(idtxt, sizeof idtxt, "%lld", (long long)flt->client_id);
        buf_adds(&q, " AND tags : (");
        kb_tag(&q, 'c', idtxt);
        buf_adds(&q, " OR \"cg\")");
    }
    if (flt->source_type) {
        buf_adds(&q, " AND tags : ");
        kb_tag(&q, 's', flt->source_type);
    }
    if (flt->phase) {
        buf_adds(&q, " AND tags : ");
        kb_tag(&q, 'p', flt->phase);
    }
    if (flt->file_type) {
        buf_adds(&q, " AND tags : ");
        kb_tag(&q, 'f', flt->file_type);
    }
    st = kb_prepare(kb, "SELECT f.id, coalesce(e.client_id, 0), coalesce(e.run_id, 0), "
                        "coalesce(c.name, ''), e.agent, e.source_type, e.phase, e.file_type, "
                        "e.title, e.body, e.created_at, f.snip, f.score FROM "
                        "(SELECT rowid AS id, snippet(forum_fts, 1, ?1, ?2, '…', 16) AS snip, "
                        "rank AS score FROM forum_fts WHERE forum_fts MATCH ?3 ORDER BY rank "
                        "LIMIT ?4) f JOIN forum_entries e ON e.id = f.id LEFT JOIN clients c ON "
                        "c.id = e.client_id ORDER BY f.score, f.id");
    if (!st) {
        rc = KB_ERROR;
        goto out;
    }
    kb_bind_text(st, 1, flt->mark_open ? flt->mark_open : "");
    kb_bind_text(st, 2, flt->mark_close ? flt->mark_close : "");
    kb_bind_text(st, 3, buf_str(&q));
    sqlite3_bind_int(st, 4, kb_limit(flt->limit));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_forum_entry f = {sqlite3_column_int64(st, 0),
                                   sqlite3_column_int64(st, 1),
                                   sqlite3_column_int64(st, 2),
                                   kb_col(st, 3),
                                   kb_col(st, 4),
                                   kb_col(st, 5),
                                   kb_col(st, 6),
                                   kb_col(st, 7),
                                   kb_col(st, 8),
                                   kb_col(st, 9),
                                   kb_col(st, 10),
                                   kb_col(st, 11),
                                   sqlite3_column_double(st, 12)};
        if (fn(&f, arg))
            break;
    }
    sqlite3_reset(st);
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : kb_sqlfail(kb, "forum search");
out:
    buf_release(&user);
    buf_release(&q);
    return rc;
}
