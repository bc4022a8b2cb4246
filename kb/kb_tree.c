/*
 * The knowledge tree and its entries. Node rows carry the id range their
 * subtree owns (base, span), handed out slot by slot from the parent, so an
 * entry's id says where it lives and a subtree is one range of ids.
 */
#include "kb_internal.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const int kb_level_shift[4] = {KB_CLIENT_SHIFT, KB_DOMAIN_SHIFT, KB_SKILL_SHIFT,
                                      KB_GROUP_SHIFT};

/* Slots a node of `level` (0 = the client) can give its children. */
static int64_t kb_child_slots(int level)
{
    return ((int64_t)1 << (kb_level_shift[level] - kb_level_shift[level + 1])) - 1;
}

static int kb_slug_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int kb_path_check(struct kb *kb, const char *path)
{
    const char *p = path, *slash;
    int level = 0;

    if (!path || !*path)
        return kb_fail(kb, KB_EINVAL, "empty tree path");
    for (;;) {
        slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (++level > 3)
            return kb_fail(kb, KB_EINVAL, "tree path '%s' is deeper than domain/skill/entry_group",
                           path);
        if (!kb_slug_ok(p, n))
            return kb_fail(kb, KB_EINVAL,
                           "tree path '%.100s': '%.*s' is not a slug (1 to 64 of a-z, 0-9, '-', "
                           "'_', not starting with '-')",
                           path, (int)(n > 80 ? 80 : n), p);
        if (!slash)
            return level;
        p = slash + 1;
    }
}

/* A readable title from a slug: "vendor-invoices" -> "Vendor invoices". */
static void kb_title_from_slug(struct buf *b, const char *slug, size_t n)
{
    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        char c = slug[i] == '-' || slug[i] == '_' ? ' ' : slug[i];
        if (i == 0 && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        buf_addch(b, c);
    }
}

struct kb_node_row {
    int64_t id, base;
    int level;
};

static int kb_node_lookup(struct kb *kb, int64_t client_id, const char *path, size_t n,
                          struct kb_node_row *row)
{
    sqlite3_stmt *st = kb_prepare(
        kb, "SELECT id, base, level FROM knowledge_tree WHERE client_id = ? AND path = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    sqlite3_bind_text(st, 2, path, (int)n, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row->id = sqlite3_column_int64(st, 0);
        row->base = sqlite3_column_int64(st, 1);
        row->level = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return KB_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "look up tree node");
    return 0;
}

/* Takes the next child slot of the parent node (parent_id 0 = the client). */
static int kb_take_slot(struct kb *kb, int64_t client_id, int64_t parent_id, int parent_level,
                        int64_t *slot)
{
    sqlite3_stmt *st;
    int rc;

    /* SELECT then UPDATE, not UPDATE ... RETURNING: RETURNING opens a
     * statement savepoint, and every savepoint makes FTS5 flush. */
    if (parent_id)
        st = kb_prepare(kb, "SELECT next_slot FROM knowledge_tree WHERE id = ?");
    else
        st = kb_prepare(kb, "SELECT next_slot FROM clients WHERE id = ?");
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, parent_id ? parent_id : client_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *slot = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "allocate tree slot");
    if (parent_id)
        st = kb_prepare(kb, "UPDATE knowledge_tree SET next_slot = next_slot + 1 WHERE id = ?");
    else
        st = kb_prepare(kb, "UPDATE clients SET next_slot = next_slot + 1 WHERE id = ?");
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, parent_id ? parent_id : client_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "allocate tree slot");
    if (*slot > kb_child_slots(parent_level))
        return kb_fail(kb, KB_EFULL, "a tree node of level %d holds at most %lld children",
                       parent_level, (long long)kb_child_slots(parent_level));
    return 0;
}

static int kb_node_update_text(struct kb *kb, int64_t id, const char *title, const char *summary)
{
    sqlite3_stmt *st = kb_prepare(kb, "UPDATE knowledge_tree SET title = coalesce(?, title), "
                                      "summary = coalesce(?, summary) WHERE id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, title);
    kb_bind_text(st, 2, summary);
    sqlite3_bind_int64(st, 3, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : kb_sqlfail(kb, "update tree node");
}

/* ---- remembered nodes ------------------------------------------------------------ */

/* Entries arrive in any tree order, so one remembered node rarely matched and
 * each entry paid for a lookup in the (client_id, path) index. The memo holds
 * every node resolved since the database last changed under this handle:
 * PRAGMA data_version moves when another connection commits, and this
 * handle's own removals (rollback, pruning) clear it. */
struct kb_node_memo {
    uint64_t h; /* 0 = free */
    int64_t client, node;
    char *path;
    int64_t base, next_seq; /* known once an entry was placed here (next_seq > 0) */
};

#define KB_NODE_MEMO_MAX 65536

static uint64_t kb_memo_hash(int64_t client, const char *path)
{
    return (XXH3_64bits(path, strlen(path)) ^ (uint64_t)client * 0x9e3779b97f4a7c15ULL) | 1;
}

void kb_node_memo_clear(struct kb *kb)
{
    for (size_t i = 0; kb->nmemo && i < kb->memocap; i++) {
        if (kb->memo[i].h) {
            free(kb->memo[i].path);
            kb->memo[i].h = 0;
        }
    }
    kb->nmemo = 0;
}

/* 1 with *node set when remembered, 0 when not, <0 on error. */
static int kb_node_memo_get(struct kb *kb, int64_t client, const char *path, int64_t *node)
{
    sqlite3_stmt *st;
    int64_t version;
    uint64_t h;

    if (!kb->nmemo)
        return 0;
    if (!(st = kb_prepare(kb, "PRAGMA data_version")))
        return KB_ERROR;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return kb_sqlfail(kb, "read the database version");
    }
    version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (version != kb->memo_version) {
        kb_node_memo_clear(kb);
        return 0;
    }
    h = kb_memo_hash(client, path);
    for (size_t i = h & (kb->memocap - 1); kb->memo[i].h; i = (i + 1) & (kb->memocap - 1)) {
        if (kb->memo[i].h == h && kb->memo[i].client == client &&
            strcmp(kb->memo[i].path, path) == 0) {
            *node = kb->memo[i].node;
            return 1;
        }
    }
    return 0;
}

/* The memo slot of a node kb_node_ensure has just resolved (and checked), or NULL. */
static struct kb_node_memo *kb_node_memo_slot(struct kb *kb, int64_t client, const char *path,
                                              int64_t node)
{
    uint64_t h;

    if (!kb->nmemo)
        return NULL;
    h = kb_memo_hash(client, path);
    for (size_t i = h & (kb->memocap - 1); kb->memo[i].h; i = (i + 1) & (kb->memocap - 1))
        if (kb->memo[i].h == h && kb->memo[i].client == client && kb->memo[i].node == node &&
            strcmp(kb->memo[i].path, path) == 0)
            return &kb->memo[i];
    return NULL;
}

/* Remembers a node; on failure (memory) it is simply not remembered. */
static void kb_node_memo_put(struct kb *kb, int64_t client, const char *path, int64_t node)
{
    sqlite3_stmt *st;
    uint64_t h = kb_memo_hash(client, path);
    size_t i;
    char *p;

    if (!kb->nmemo) { /* a new memo starts at the version it is read at */
        if (!(st = kb_prepare(kb, "PRAGMA data_version")))
            return;
        if (sqlite3_step(st) == SQLITE_ROW)
            kb->memo_version = sqlite3_column_int64(st, 0);
        else
            kb->memo_version = -1;
        sqlite3_reset(st);
    }
    if (kb->nmemo >= KB_NODE_MEMO_MAX)
        kb_node_memo_clear(kb);
    if (2 * (kb->nmemo + 1) > kb->memocap) {
        size_t ncap = kb->memocap ? 2 * kb->memocap : 256;
        struct kb_node_memo *nm = calloc(ncap, sizeof *nm);
        if (!nm)
            return;
        for (size_t j = 0; j < kb->memocap; j++) {
            if (!kb->memo[j].h)
                continue;
            for (i = kb->memo[j].h & (ncap - 1); nm[i].h; i = (i + 1) & (ncap - 1))
                ;
            nm[i] = kb->memo[j];
        }
        free(kb->memo);
        kb->memo = nm;
        kb->memocap = ncap;
    }
    for (i = h & (kb->memocap - 1); kb->memo[i].h; i = (i + 1) & (kb->memocap - 1))
        if (kb->memo[i].h == h && kb->memo[i].client == client &&
            strcmp(kb->memo[i].path, path) == 0) {
            if (kb->memo[i].node != node)
                kb->memo[i].next_seq = 0;
            kb->memo[i].node = node;
            return;
        }
    if (!(p = strdup(path)))
        return;
    kb->memo[i] = (struct kb_node_memo){h, client, node, p, 0, 0};
    kb->nmemo++;
}

int kb_node_ensure(struct kb *kb, int64_t client_id, const char *path, const char *title,
                   const char *summary, int64_t *node_id)
{
    struct kb_node_row row = {0, (int64_t)client_id << KB_CLIENT_SHIFT, 0}, parent;
    struct buf t = BUF_INIT;
    int rc, levels;
    const char *p;

    if (!title && !summary && (rc = kb_node_memo_get(kb, client_id, path, node_id)) != 0)
        return rc < 0 ? rc : 0;
    if ((levels = kb_path_check(kb, path)) < 0)
        return levels;
    /* Most calls name a node that exists: one lookup instead of one per level. */
    if (!title && !summary) {
        if ((rc = kb_node_lookup(kb, client_id, path, strlen(path), &row)) == 0)
            goto found;
        if (rc != KB_ENOTFOUND)
            return rc;
        row = (struct kb_node_row){0, (int64_t)client_id << KB_CLIENT_SHIFT, 0};
    }
    for (int level = 1; level <= levels; level++) {
        p = path;
        for (int k = 0; k < level; k++) {
            const char *s = strchr(p, '/');
            if (k + 1 < level)
                p = s + 1;
        }
        const char *slug = p, *end = strchr(p, '/');
        size_t slug_len = end ? (size_t)(end - p) : strlen(p);
        size_t prefix_len = (size_t)(slug - path) + slug_len;
        int last = level == levels;

        parent = row;
        rc = kb_node_lookup(kb, client_id, path, prefix_len, &row);
        if (rc == 0) {
            if (last && (title || summary) &&
                (rc = kb_node_update_text(kb, row.id, title, summary)))
                goto out;
            continue;
        }
        if (rc != KB_ENOTFOUND)
            goto out;
        int64_t slot = 0;
        if ((rc = kb_take_slot(kb, client_id, parent.id, parent.level, &slot)) < 0)
            goto out;
        kb_title_from_slug(&t, slug, slug_len);
        sqlite3_stmt *st = kb_prepare(
            kb, "INSERT INTO knowledge_tree(client_id, parent_id, level, slug, title, path, "
                "summary, base, span) VALUES (?,?,?,?,?,?,?,?,?)");
        if (!st) {
            rc = KB_ERROR;
            goto out;
        }
        row.level = level;
        row.base = parent.base | (slot << kb_level_shift[level]);
        sqlite3_bind_int64(st, 1, client_id);
        if (parent.id)
            sqlite3_bind_int64(st, 2, parent.id);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_int(st, 3, level);
        sqlite3_bind_text(st, 4, slug, (int)slug_len, SQLITE_STATIC);
        kb_bind_text(st, 5, last && title ? title : buf_str(&t));
        sqlite3_bind_text(st, 6, path, (int)prefix_len, SQLITE_STATIC);
        kb_bind_text(st, 7, last ? summary : NULL);
        sqlite3_bind_int64(st, 8, row.base);
        sqlite3_bind_int64(st, 9, (int64_t)1 << kb_level_shift[level]);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            rc = kb_sqlfail(kb, "create tree node");
            goto out;
        }
        row.id = sqlite3_last_insert_rowid(kb->db);
    }
found:
    *node_id = row.id;
    kb_node_memo_put(kb, client_id, path, row.id);
    rc = 0;
out:
    buf_release(&t);
    return rc;
}

/* ---- subtree ------------------------------------------------------------------ */

struct kb_tree_node {
    struct kb_node n;
    char *strs; /* slug, title, path, summary packed */
};

/* Depth-first order: '/' sorts before every other byte, so "a/x" comes right
 * after "a" and before "a-b". */
static int kb_path_cmp(const void *a, const void *b)
{
    const unsigned char *p = (const unsigned char *)((const struct kb_tree_node *)a)->n.path;
    const unsigned char *q = (const unsigned char *)((const struct kb_tree_node *)b)->n.path;

    while (*p && *p == *q)
        p++, q++;
    int x = *p == '/' ? 1 : *p ? *p + 1 : 0, y = *q == '/' ? 1 : *q ? *q + 1 : 0;
    return x - y;
}

static int kb_id_cmp(const void *a, const void *b)
{
    int64_t x = (*(struct kb_tree_node *const *)a)->n.id;
    int64_t y = (*(struct kb_tree_node *const *)b)->n.id;
    return x < y ? -1 : x > y;
}

static char *kb_pack(const char *a, const char *b, const char *c, const char *d, const char **pa,
                     const char **pb, const char **pc, const char **pd)
{
    size_t la = strlen(a) + 1, lb = strlen(b) + 1, lc = strlen(c) + 1, ld = d ? strlen(d) + 1 : 0;
    char *s = malloc(la + lb + lc + ld);

    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc);
    if (d)
        memcpy(s + la + lb + lc, d, ld);
    *pa = s, *pb = s + la, *pc = s + la + lb, *pd = d ? s + la + lb + lc : NULL;
    return s;
}

int kb_subtree(struct kb *kb, int64_t client_id, const char *path, int depth, kb_node_fn fn,
               void *arg)
{
    struct kb_tree_node *v = NULL, **byid = NULL;
    size_t n = 0, alloc = 0;
    struct kb_node_row top = {0, 0, 0};
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    sqlite3_stmt *st;
    int rc = 0, maxlevel;

    if (path && *path) {
        if ((rc = kb_path_check(kb, path)) < 0)
            return rc;
        rc = kb_node_lookup(kb, client_id, path, strlen(path), &top);
        if (rc == KB_ENOTFOUND)
            return kb_fail(kb, KB_ENOTFOUND,
                           "no tree node '%.100s'; 'trawl tree CLIENT' shows the paths that exist",
                           path);
        if (rc < 0)
            return rc;
        buf_adds(&lo, path);
        buf_adds(&hi, path);
        buf_addch(&lo, '/');
        buf_addch(&hi, '0'); /* '0' follows '/': [path/, path0) holds the descendants */
    }
    maxlevel = depth > 0 ? top.level + depth : 3;
    /* One range scan of the (client_id, path) unique index. Nodes below the
     * depth limit are read too: their entries count toward the totals. */
    st = kb_prepare(kb, "SELECT id, coalesce(parent_id, 0), level, slug, title, path, summary, "
                        "entries FROM knowledge_tree WHERE client_id = ?1 AND "
                        "(?3 IS NULL OR path = ?3 OR (path >= ?4 AND path < ?5))");
    if (!st) {
        rc = KB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 3, path && *path ? path : NULL);
    kb_bind_text(st, 4, buf_str(&lo));
    kb_bind_text(st, 5, buf_str(&hi));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            struct kb_tree_node *nv = realloc(v, alloc * sizeof *v);
            if (!nv) {
                sqlite3_reset(st);
                rc = kb_fail(kb, KB_ERROR, "out of memory");
                goto out;
            }
            v = nv;
        }
        struct kb_tree_node *t = &v[n];
        memset(t, 0, sizeof *t);
        t->n.id = sqlite3_column_int64(st, 0);
        t->n.parent_id = sqlite3_column_int64(st, 1);
        t->n.level = sqlite3_column_int(st, 2);
        t->n.entries = t->n.entries_total = sqlite3_column_int64(st, 7);
        t->strs = kb_pack(kb_col(st, 3), kb_col(st, 4), kb_col(st, 5), kb_col_null(st, 6),
                          &t->n.slug, &t->n.title, &t->n.path, &t->n.summary);
        if (!t->strs) {
            sqlite3_reset(st);
            rc = kb_fail(kb, KB_ERROR, "out of memory");
            goto out;
        }
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = kb_sqlfail(kb, "read tree");
        goto out;
    }
    rc = 0;
    if (n == 0)
        goto out;
    qsort(v, n, sizeof *v, kb_path_cmp);

    /* Each node's own count is on its row (schema/007_load_cost.sql); the
     * totals are rolled up children-first (reverse depth-first order). */
    byid = malloc(n * sizeof *byid);
    if (!byid) {
        rc = kb_fail(kb, KB_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        byid[i] = &v[i];
    qsort(byid, n, sizeof *byid, kb_id_cmp);
    for (size_t i = n; i-- > 0;) {
        struct kb_tree_node key, *kp = &key, **pp;
        if (!v[i].n.parent_id || v[i].n.id == top.id)
            continue;
        key.n.id = v[i].n.parent_id;
        pp = bsearch(&kp, byid, n, sizeof *byid, kb_id_cmp);
        if (pp)
            (*pp)->n.entries_total += v[i].n.entries_total;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].n.level <= maxlevel && fn(&v[i].n, arg))
            break;
out:
    for (size_t i = 0; i < n; i++)
        free(v[i].strs);
    free(v);
    free(byid);
    buf_release(&lo);
    buf_release(&hi);
    return rc;
}

/* ---- entries ------------------------------------------------------------------- */

static int kb_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static int kb_entry_link(struct kb *kb, int64_t client_id, int64_t entry_id,
                         const struct kb_doc_ref *ref)
{
    sqlite3_stmt *st;
    int64_t source_id = 0, doc_id;
    int rc;

    if (!ref->source || !ref->external_id)
        return kb_fail(kb, KB_EINVAL, "a document reference needs a source and an external id");
    if (!(st = kb_prepare(kb, "SELECT id FROM sources WHERE client_id = ? AND name = ?")))
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, ref->source);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        source_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return kb_fail(kb, KB_EINVAL, "document reference names unknown source '%s'", ref->source);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "look up source");
    if ((rc = kb_document_find(kb, source_id, ref->external_id, &doc_id)) < 0) {
        if (rc == KB_ENOTFOUND)
            return kb_fail(kb, KB_EINVAL, "document reference '%s' in source '%s' does not exist",
                           ref->external_id, ref->source);
        return rc;
    }
    if (!(st = kb_prepare(kb, "INSERT OR IGNORE INTO entry_documents(entry_id, document_id) "
                              "VALUES (?, ?)")))
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, entry_id);
    sqlite3_bind_int64(st, 2, doc_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : kb_sqlfail(kb, "link entry to document");
}

/* Appends a title and body to entry_text (stored in insertion order, apart
 * from the randomly placed entry rows: see schema/004_entry_text.sql and
 * 008_entry_title_text.sql). */
static int kb_text_add(struct kb *kb, const char *title, const char *body, int64_t *text_id)
{
    sqlite3_stmt *st = kb_prepare(kb, "INSERT INTO entry_text(title, body) VALUES (?, ?)");
    int rc;

    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, title);
    kb_bind_text(st, 2, body);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "store entry text");
    *text_id = sqlite3_last_insert_rowid(kb->db);
    return 0;
}

/* Deletes entry id; the trigger takes it out of the index, the champion
 * lists out of theirs. */
static int kb_entry_remove(struct kb *kb, int64_t id)
{
    sqlite3_stmt *st = kb_prepare(kb, "DELETE FROM knowledge_entries WHERE id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    /* the trigger takes an entry out of the index: one in the queue goes in first */
    if (kb_pending_has(kb, id) && (rc = kb_fts_flush(kb)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = kb_champ_write_begin(kb)) < 0) {
        sqlite3_reset(st);
        return rc;
    }
    kb_champ_capture(kb);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        kb_champ_reset(kb);
        return kb_sqlfail(kb, "delete entry");
    }
    if ((rc = kb_champ_apply(kb, id, KB_CHAMP_DELETE)) < 0)
        return rc;
    return kb->in_tx ? 0 : kb_champ_commit(kb);
}

static int kb_entry_insert(struct kb *kb, int64_t client_id, int64_t node_id, const char *key,
                           const struct kb_entry *e, int64_t *entry_id)
{
    /* The node's next sequence number: from the memo when an entry went there
     * since the database last changed under this handle (nothing else moves
     * it then), else from its row. */
    struct kb_node_memo *m = kb_node_memo_slot(kb, client_id, e->path, node_id);
    sqlite3_stmt *st;
    int64_t seq = 0, base = 0, text_id = 0;
    int rc;

    if (m && m->next_seq > 0) {
        seq = m->next_seq;
        base = m->base;
    } else {
        if (!(st = kb_prepare(kb, "SELECT next_seq, base FROM knowledge_tree WHERE id = ?")))
            return KB_ERROR;
        sqlite3_bind_int64(st, 1, node_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            seq = sqlite3_column_int64(st, 0);
            base = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return kb_sqlfail(kb, "allocate entry id");
    }
    if (seq > KB_SEQ_MAX)
        return kb_fail(kb, KB_EFULL,
                       "tree node '%s' holds the maximum of %d entries; place further entries in "
                       "a new entry group",
                       e->path, KB_SEQ_MAX);
    /* the node's entry count goes up here; the delete trigger takes it down */
    if (!(st = kb_prepare(kb, "UPDATE knowledge_tree SET next_seq = next_seq + 1, entries = "
                              "entries + 1 WHERE id = ?")))
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, node_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "allocate entry id");
    if (m) {
        m->base = base;
        m->next_seq = seq + 1;
    }
    if ((rc = kb_text_add(kb, e->title, e->body, &text_id)) < 0)
        return rc;
    if (!(st = kb_prepare(kb, "INSERT INTO knowledge_entries(id, client_id, tree_node_id, key, "
                              "text_id, summary, metadata) VALUES (?,?,?,?,?,?,?)")))
        return KB_ERROR;
    *entry_id = base + seq;
    sqlite3_bind_int64(st, 1, *entry_id);
    sqlite3_bind_int64(st, 2, client_id);
    sqlite3_bind_int64(st, 3, node_id);
    kb_bind_text(st, 4, key);
    sqlite3_bind_int64(st, 5, text_id);
    kb_bind_text(st, 6, e->summary);
    kb_bind_text(st, 7, e->metadata_json);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "store entry");
    /* indexed at commit, in id order: see kb_pending_add */
    if ((rc = kb_pending_add(kb, *entry_id, e->title, e->body)) < 0)
        return rc;
    return kb->in_tx && kb->pend_bytes < KB_PENDING_BYTES ? 0 : kb_fts_flush(kb);
}

int kb_entry_upsert(struct kb *kb, int64_t client_id, const struct kb_entry *e, int64_t *entry_id,
                    int *result)
{
    char derived[33];
    const char *key = e->key;
    int64_t node_id, id = 0, old_node = 0;
    sqlite3_stmt *st;
    int rc, res = KB_INSERTED, text_same = 0;

    if (!e->title || !e->body || !e->path)
        return kb_fail(kb, KB_EINVAL, "an entry needs a path, a title and a body");
    if (!key || !*key) {
        struct buf b = BUF_INIT;
        if (buf_adds(&b, e->path) < 0 || buf_addch(&b, 0) < 0 || buf_adds(&b, e->title) < 0 ||
            buf_addch(&b, 0) < 0 || buf_adds(&b, e->body) < 0) {
            buf_release(&b);
            return kb_fail(kb, KB_EINVAL, "entry too large");
        }
        kb_hash_hex(b.data, b.len, derived);
        buf_release(&b);
        key = derived;
    }
    if ((rc = kb_node_ensure(kb, client_id, e->path, NULL, NULL, &node_id)) < 0)
        return rc;
    if (!(st = kb_prepare(kb, "SELECT e.id, e.tree_node_id, t.title, t.body, e.summary, e.metadata "
                              "FROM knowledge_entries e JOIN entry_text t ON t.id = e.text_id "
                              "WHERE e.client_id = ? AND e.key = ?")))
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        old_node = sqlite3_column_int64(st, 1);
        text_same =
            kb_str_eq(kb_col_null(st, 2), e->title) && kb_str_eq(kb_col_null(st, 3), e->body);
        if (old_node == node_id && text_same && kb_str_eq(kb_col_null(st, 4), e->summary) &&
            kb_str_eq(kb_col_null(st, 5), e->metadata_json))
            res = KB_UNCHANGED;
        else
            res = KB_UPDATED;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kb_sqlfail(kb, "look up entry");

    if (res == KB_UPDATED && old_node == node_id) {
        int64_t text_id = 0;
        /* the trigger re-indexes the entry: one in the queue goes in first */
        if (kb_pending_has(kb, id) && (rc = kb_fts_flush(kb)) < 0)
            return rc;
        /* a changed title or body is a new entry_text row; the update trigger
         * re-indexes the entry and drops the old one */
        if (!text_same && (rc = kb_text_add(kb, e->title, e->body, &text_id)) < 0)
            return rc;
        if (!(st = kb_prepare(kb, "UPDATE knowledge_entries SET text_id = coalesce(?, text_id), "
                                  "summary = ?, metadata = ? WHERE id = ?")))
            return KB_ERROR;
        if (text_same)
            sqlite3_bind_null(st, 1);
        else
            sqlite3_bind_int64(st, 1, text_id);
        kb_bind_text(st, 2, e->summary);
        kb_bind_text(st, 3, e->metadata_json);
        sqlite3_bind_int64(st, 4, id);
        if ((rc = kb_champ_write_begin(kb)) < 0) {
            sqlite3_reset(st);
            return rc;
        }
        kb_champ_capture(kb); /* the trigger re-indexes the entry */
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            kb_champ_reset(kb);
            return kb_sqlfail(kb, "update entry");
        }
        if ((rc = kb_champ_apply(kb, id, KB_CHAMP_UPDATE)) < 0 ||
            (!kb->in_tx && (rc = kb_champ_commit(kb)) < 0))
            return rc;
    } else if (res != KB_UNCHANGED) {
        if (res == KB_UPDATED) { /* moved: its id must change with its place */
            if ((rc = kb_entry_remove(kb, id)) < 0)
                return rc;
        }
        if ((rc = kb_entry_insert(kb, client_id, node_id, key, e, &id)) < 0)
            return rc;
    }
    for (size_t i = 0; i < e->ndocs; i++)
        if ((rc = kb_entry_link(kb, client_id, id, &e->docs[i])) < 0)
            return rc;
    if (entry_id)
        *entry_id = id;
    if (result)
        *result = res;
    return 0;
}

int kb_entry_delete(struct kb *kb, int64_t client_id, const char *key)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "SELECT id FROM knowledge_entries WHERE client_id = ? AND key = ?");
    int64_t id = 0;
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "delete entry");
    return kb_entry_remove(kb, id);
}

int kb_entry_show(struct kb *kb, int64_t client_id, int64_t entry_id,
                  int (*entry_fn)(const struct kb_entry_view *e, void *arg), kb_doc_fn fn,
                  void *arg)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "SELECT e.id, e.key, n.path, t.title, t.body, e.summary, e.metadata FROM "
                       "knowledge_entries e JOIN knowledge_tree n ON n.id = e.tree_node_id JOIN "
                       "entry_text t ON t.id = e.text_id WHERE e.client_id = ? AND e.id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    sqlite3_bind_int64(st, 2, entry_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        struct kb_entry_view v = {sqlite3_column_int64(st, 0),
                                  kb_col(st, 1),
                                  kb_col(st, 2),
                                  kb_col(st, 3),
                                  kb_col(st, 4),
                                  kb_col_null(st, 5),
                                  kb_col_null(st, 6)};
        if (entry_fn)
            entry_fn(&v, arg);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return kb_fail(kb, KB_ENOTFOUND,
                       "no entry %lld for this client; 'trawl search' shows entry ids",
                       (long long)entry_id);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "read entry");
    if (!fn)
        return 0;
    st = kb_prepare(
        kb, "SELECT d.id, s.name, s.type, d.external_id, d.mime, d.title, d.author, "
            "d.created_at, d.modified_at, d.deleted, d.metadata FROM entry_documents ed JOIN "
            "documents d ON d.id = ed.document_id JOIN sources s ON s.id = "
            "d.source_id WHERE ed.entry_id = ? ORDER BY s.name, d.external_id");
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, entry_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_doc_view d = {sqlite3_column_int64(st, 0),
                                kb_col(st, 1),
                                kb_col(st, 2),
                                kb_col(st, 3),
                                kb_col_null(st, 4),
                                kb_col_null(st, 5),
                                kb_col_null(st, 6),
                                kb_col_null(st, 7),
                                kb_col_null(st, 8),
                                sqlite3_column_int(st, 9),
                                kb_col_null(st, 10)};
        if (fn(&d, arg))
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kb_sqlfail(kb, "read entry documents");
    return 0;
}
