/* kb: migrations, tree, entries, documents, search scoping, forum filters, import. */
#include "kb.h"
#include "schema.h"
#include "kb_test.h"
#include "tap.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/trawl-test-kb-XXXXXX";

static const char *db_path(const char *name)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
}

static void test_open(void)
{
    struct kb *kb;
    FILE *f;

    is_int(kb_open(db_path("fresh.db"), 0, &kb), 0, "fresh database opens");
    is_int(kb_schema_version(kb), kb_schema_latest(), "fresh database is at the latest schema");
    kb_close(kb);
    is_int(kb_open(db_path("fresh.db"), KB_OPEN_NOCREATE, &kb), 0, "reopen with NOCREATE");
    kb_close(kb);
    is_int(kb_open(db_path("missing.db"), KB_OPEN_NOCREATE, &kb), KB_ENOTFOUND,
           "missing database with NOCREATE");
    ok(strstr(kb_errmsg(kb), "does not exist") != NULL, "message says it does not exist: %s",
       kb_errmsg(kb));
    kb_close(kb);
    ok(access(db_path("missing.db"), F_OK) != 0, "NOCREATE did not create the file");

    raw_exec(db_path("fresh.db"), "PRAGMA user_version = 999");
    is_int(kb_open(db_path("fresh.db"), 0, &kb), KB_ENEWER, "newer schema refused");
    ok(strstr(kb_errmsg(kb), "upgrade trawl") != NULL, "message: %s", kb_errmsg(kb));
    kb_close(kb);

    raw_exec(db_path("other.db"), "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    is_int(kb_open(db_path("other.db"), 0, &kb), KB_ECORRUPT, "foreign SQLite file refused");
    ok(strstr(kb_errmsg(kb), "not a trawl knowledge base") != NULL, "message: %s", kb_errmsg(kb));
    kb_close(kb);

    f = fopen(db_path("garbage.db"), "w");
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    is_int(kb_open(db_path("garbage.db"), 0, &kb), KB_ECORRUPT, "garbage file refused");
    ok(strstr(kb_errmsg(kb), "garbage.db") != NULL, "message names the file: %s", kb_errmsg(kb));
    kb_close(kb);

    /* An empty file is what an interrupted first run leaves: it gets migrated. */
    f = fopen(db_path("empty.db"), "w");
    fclose(f);
    is_int(kb_open(db_path("empty.db"), 0, &kb), 0, "empty file is migrated");
    is_int(kb_schema_version(kb), kb_schema_latest(), "empty file reaches the latest schema");
    is_int(kb_begin(kb), 0, "begin");
    is_int(kb_begin(kb), KB_EINVAL, "nested begin refused");
    is_int(kb_rollback(kb), 0, "rollback");
    kb_close(kb);
}

struct collect {
    char paths[64][80];
    int64_t entries[64], totals[64];
    int n;
};

static int collect_node(const struct kb_node *n, void *arg)
{
    struct collect *c = arg;
    if (c->n < 64) {
        snprintf(c->paths[c->n], 80, "%s", n->path);
        c->entries[c->n] = n->entries;
        c->totals[c->n] = n->entries_total;
        c->n++;
    }
    return 0;
}

struct hits {
    int64_t ids[64];
    char paths[64][80];
    int n;
};

static int collect_hit(const struct kb_hit *h, void *arg)
{
    struct hits *c = arg;
    if (c->n < 64) {
        c->ids[c->n] = h->id;
        snprintf(c->paths[c->n], 80, "%s", h->path);
        c->n++;
    }
    return 0;
}

static int64_t add_entry(struct kb *kb, int64_t cid, const char *key, const char *path,
                         const char *title, const char *body, int *res)
{
    struct kb_entry e = {key, path, title, body, NULL, NULL, NULL, 0};
    int64_t id = -1;
    int r = kb_entry_upsert(kb, cid, &e, &id, res);
    if (r < 0)
        printf("# kb_entry_upsert: %s\n", kb_errmsg(kb));
    return id;
}

static void test_tree(void)
{
    struct kb *kb;
    int64_t acme, other, n1, n2, id, id2;
    struct collect c = {0};
    int res;

    kb_open(db_path("tree.db"), 0, &kb);
    is_int(kb_client_id(kb, "acme", 0, &acme), KB_ENOTFOUND, "unknown client");
    is_int(kb_client_id(kb, "acme", 1, &acme), 0, "client created");
    is_int(kb_client_id(kb, "other", 1, &other), 0, "second client created");
    ok(acme != other, "clients differ");
    is_int(kb_client_id(kb, "../etc", 1, &other), KB_EINVAL, "bad client name refused");
    kb_client_id(kb, "other", 0, &other);

    is_int(kb_node_ensure(kb, acme, "finance/payroll/2024", NULL, NULL, &n1), 0,
           "deep node with ancestors");
    is_int(kb_node_ensure(kb, acme, "finance/payroll/2024", NULL, NULL, &n2), 0, "again");
    is_int(n1, n2, "ensure is idempotent");
    is_int(kb_node_ensure(kb, acme, "Finance", NULL, NULL, &n2), KB_EINVAL, "uppercase slug");
    is_int(kb_node_ensure(kb, acme, "a/b/c/d", NULL, NULL, &n2), KB_EINVAL, "four levels");
    is_int(kb_node_ensure(kb, acme, "a//c", NULL, NULL, &n2), KB_EINVAL, "empty segment");
    is_int(kb_node_ensure(kb, acme, "../x", NULL, NULL, &n2), KB_EINVAL, "dot-dot segment");
    kb_node_ensure(kb, acme, "a", NULL, NULL, &n2);
    kb_node_ensure(kb, acme, "a-b", NULL, NULL, &n2);
    kb_node_ensure(kb, acme, "a/x", "Axe", "the x of a", &n2);

    kb_subtree(kb, acme, NULL, 0, collect_node, &c);
    is_int(c.n, 6, "whole tree has 6 nodes");
    is_str(c.paths[0], "a", "depth-first order 0");
    is_str(c.paths[1], "a/x", "depth-first order 1: child before sibling 'a-b'");
    is_str(c.paths[2], "a-b", "depth-first order 2");
    is_str(c.paths[3], "finance", "depth-first order 3");

    /* entries */
    id = add_entry(kb, acme, "k1", "finance/payroll/2024", "January run",
                   "alpha salaries paid on the 25th", &res);
    is_int(res, KB_INSERTED, "entry inserted");
    add_entry(kb, acme, "k1", "finance/payroll/2024", "January run",
              "alpha salaries paid on the 25th", &res);
    is_int(res, KB_UNCHANGED, "same entry again is unchanged");
    id2 = add_entry(kb, acme, "k1", "finance/payroll/2024", "January run",
                    "alpha salaries paid on the 26th", &res);
    is_int(res, KB_UPDATED, "changed body updates");
    is_int(id2, id, "update in place keeps the id");
    add_entry(kb, acme, "k2", "finance/payroll", "Process", "alpha process monthly", &res);
    add_entry(kb, acme, "k3", "finance", "Budget", "alpha budget for the year", &res);
    add_entry(kb, acme, "k4", "a/x", "Other", "alpha unrelated", &res);
    add_entry(kb, other, "k1", "finance/payroll/2024", "Other client", "alpha secret", &res);

    memset(&c, 0, sizeof c);
    kb_subtree(kb, acme, "finance", 0, collect_node, &c);
    is_int(c.n, 3, "finance subtree has 3 nodes");
    is_int(c.totals[0], 3, "finance total counts its subtree");
    is_int(c.entries[0], 1, "finance has one entry of its own");
    is_int(c.totals[1], 2, "payroll total");
    memset(&c, 0, sizeof c);
    kb_subtree(kb, acme, "finance", 1, collect_node, &c);
    is_int(c.n, 2, "depth 1 hides the entry groups");
    is_int(c.totals[1], 2, "hidden levels still count in totals");
    is_int(kb_subtree(kb, acme, "nope", 0, collect_node, &c), KB_ENOTFOUND, "missing path");

    /* search scoping */
    struct hits h = {0};
    struct kb_search_opts so = {"finance/payroll", 10, NULL, NULL};
    is_int(kb_search(kb, acme, "alpha", &so, collect_hit, &h), 0, "scoped search");
    is_int(h.n, 2, "two entries under finance/payroll");
    int inside = 1;
    for (int i = 0; i < h.n; i++)
        inside &= strncmp(h.paths[i], "finance/payroll", 15) == 0;
    ok(inside, "every hit lies in the subtree");
    memset(&h, 0, sizeof h);
    so.under = NULL;
    kb_search(kb, acme, "alpha", &so, collect_hit, &h);
    is_int(h.n, 4, "whole-client search finds 4, not the other client's");
    memset(&h, 0, sizeof h);
    kb_search(kb, acme, "secret", &so, collect_hit, &h);
    is_int(h.n, 0, "another client's entries are invisible");
    so.under = "zzz";
    is_int(kb_search(kb, acme, "alpha", &so, collect_hit, &h), KB_ENOTFOUND,
           "search under a missing path");
    so.under = NULL;
    is_int(kb_search(kb, acme, "()", &so, collect_hit, &h), KB_EINVAL, "no words: EINVAL");

    /* moving an entry changes its id, keeps its key */
    id2 = add_entry(kb, acme, "k1", "a/x", "January run", "alpha salaries paid on the 26th", &res);
    is_int(res, KB_UPDATED, "moved entry is updated");
    ok(id2 != id, "moved entry has a new id");
    is_int(kb_entry_show(kb, acme, id, NULL, NULL, NULL), KB_ENOTFOUND, "old id is gone");
    memset(&h, 0, sizeof h);
    so.under = "a";
    kb_search(kb, acme, "salaries", &so, collect_hit, &h);
    is_int(h.n, 1, "moved entry found under its new subtree");
    kb_close(kb);
}

static int count_docs(const struct kb_doc_view *d, void *arg)
{
    (void)d;
    (*(int *)arg)++;
    return 0;
}

static int keep_mail1(const char *ext, void *arg)
{
    (void)arg;
    return strcmp(ext, "mail/1") == 0;
}

static void test_documents(void)
{
    struct kb *kb;
    int64_t cid, sid, did, did2, eid;
    struct kb_document d = {"mail/1",    "message/rfc822",
                            "Hello",     "ann@example.com",
                            NULL,        NULL,
                            "body text", "{\"thread\":\"t1\"}",
                            "v1",        0};
    int res, n = 0;
    char *cp;

    kb_open(db_path("docs.db"), 0, &kb);
    kb_client_id(kb, "acme", 1, &cid);
    is_int(kb_source_upsert(kb, cid, "mail", "gmail", "{\"user\":\"ops\"}", &sid), 0, "source");
    is_int(kb_document_upsert(kb, sid, 0, &d, &did, &res), 0, "document stored");
    is_int(res, KB_INSERTED, "inserted");
    kb_document_upsert(kb, sid, 0, &d, &did2, &res);
    is_int(res, KB_UNCHANGED, "same content is not rewritten");
    is_int(did2, did, "same id");
    d.deleted = 1;
    kb_document_upsert(kb, sid, 0, &d, &did2, &res);
    is_int(res, KB_UPDATED, "marking deleted is a change");
    d.deleted = 0;
    d.text = NULL;
    d.title = "body text";
    kb_document_upsert(kb, sid, 0, &d, &did2, &res);
    is_int(res, KB_UPDATED, "moving bytes between fields is a change");

    struct kb_doc_ref ref = {"mail", "mail/1"}, bad = {"mail", "nope"};
    struct kb_entry e = {"e", "comms", "T", "B", NULL, NULL, &ref, 1};
    is_int(kb_entry_upsert(kb, cid, &e, &eid, &res), 0, "entry linked to a document");
    is_int(kb_entry_show(kb, cid, eid, NULL, count_docs, &n), 0, "show entry");
    is_int(n, 1, "entry lists its document");
    e.docs = &bad;
    is_int(kb_entry_upsert(kb, cid, &e, &eid, &res), KB_EINVAL, "missing document refused");

    {
        char *v = NULL;
        int del = -1;
        struct kb_document d2 = {"mail/2", NULL, "Two", NULL, NULL, NULL, "two", NULL, "v2", 0};
        kb_document_upsert(kb, sid, 0, &d2, NULL, &res);
        is_int(kb_document_version(kb, sid, "mail/2", &v, &del), 0, "version read back");
        is_str(v, "v2", "version string");
        free(v);
        is_int(kb_document_version(kb, sid, "nope", &v, &del), KB_ENOTFOUND, "no such document");
    }
    {
        long swept = -1;
        is_int(kb_documents_sweep(kb, sid, keep_mail1, NULL, &swept), 0, "sweep");
        is_int(swept, 1, "one document was not seen and is marked deleted");
        char *v = NULL;
        int del = 0;
        kb_document_version(kb, sid, "mail/2", &v, &del);
        is_int(del, 1, "swept document is deleted");
        free(v);
        kb_documents_sweep(kb, sid, keep_mail1, NULL, &swept);
        is_int(swept, 0, "a second sweep marks nothing");
    }
    is_int(kb_source_checkpoint_set(kb, sid, "{\"uid\":42}"), 0, "checkpoint stored");
    kb_source_checkpoint_get(kb, sid, &cp);
    is_str(cp, "{\"uid\":42}", "checkpoint read back");
    free(cp);
    kb_close(kb);
}

struct fhits {
    int n, other_client, global;
};

static int collect_forum(const struct kb_forum_entry *f, void *arg)
{
    struct fhits *h = arg;
    h->n++;
    h->global += f->client_id == 0;
    h->other_client += f->client_id != 0 && strcmp(f->client, "acme") != 0;
    return 0;
}

static void test_forum(void)
{
    struct kb *kb;
    int64_t acme, beta;
    struct fhits h;

    kb_open(db_path("forum.db"), 0, &kb);
    kb_client_id(kb, "acme", 1, &acme);
    kb_client_id(kb, "beta", 1, &beta);
    struct kb_forum_entry posts[] = {
        {0, acme, 0, NULL, "explorer", "gmail", "explore", "eml", "Invoices", "invoice mail", NULL,
         NULL, 0},
        {0, acme, 0, NULL, "structurer", "gmail", "structure", "", "Invoices", "invoice tree", NULL,
         NULL, 0},
        {0, beta, 0, NULL, "explorer", "gmail", "explore", "eml", "Invoices", "invoice beta", NULL,
         NULL, 0},
        {0, 0, 0, NULL, "structurer", "folder", "structure", "pdf", "Invoices", "invoice pdf", NULL,
         NULL, 0},
        {0, 0, 0, NULL, "structurer", "gmail", "explore", "eml", "Invoices", "invoice global", NULL,
         NULL, 0},
    };
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++)
        kb_forum_post(kb, &posts[i], NULL);
    struct kb_forum_entry bad = posts[0];
    bad.phase = "thinking";
    is_int(kb_forum_post(kb, &bad, NULL), KB_EINVAL, "unknown phase refused");

    struct kb_forum_filter f = {0};
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 5, "no filter: all five");
    f.client_id = acme;
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 4, "acme sees its own and the global ones");
    is_int(h.other_client, 0, "acme never sees beta's");
    is_int(h.global, 2, "both global patterns");
    f.source_type = "gmail";
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 3, "acme + gmail");
    f.phase = "explore";
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 2, "acme + gmail + explore");
    f.file_type = "eml";
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 2, "acme + gmail + explore + eml");
    f = (struct kb_forum_filter){0};
    f.global_only = 1;
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 2, "global only");
    is_int(h.global, 2, "global only returns global patterns");
    f = (struct kb_forum_filter){0};
    f.file_type = "pdf";
    memset(&h, 0, sizeof h);
    kb_forum_search(kb, "invoice", &f, collect_forum, &h);
    is_int(h.n, 1, "file type filter");
    f.phase = "bogus";
    is_int(kb_forum_search(kb, "invoice", &f, collect_forum, &h), KB_EINVAL, "bad phase filter");
    kb_close(kb);
}

static int import_text(struct kb *kb, const char *client, const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct kb_import_stats st;
    int rc = kb_import_jsonl(kb, client, f, "t.jsonl", &st);
    fclose(f);
    return rc;
}

static void test_import(void)
{
    struct kb *kb;
    int64_t cid;
    struct collect c = {0};

    kb_open(db_path("import.db"), 0, &kb);
    is_int(import_text(kb, "acme",
                       "{\"kind\":\"node\",\"path\":\"a\"}\n"
                       "\n"
                       "{\"kind\":\"entry\",\"path\":\"a/b\",\"title\":\"t\",\"body\":\"b\"}\n"
                       "{\"kind\":\"entry\",\"path\":\"a/b\",\"title\":3,\"body\":\"b\"}\n"),
           KB_EINVAL, "wrong field type refused");
    is_str(kb_errmsg(kb), "t.jsonl:4: entry: field 'title' must be a string",
           "message names file, line, kind and field");
    is_int(kb_client_id(kb, "acme", 0, &cid), KB_ENOTFOUND, "nothing was imported");
    is_int(import_text(kb, "acme", "{\"kind\":\"node\",\"path\":\"a\"\n"), KB_EINVAL,
           "invalid JSON refused");
    ok(strncmp(kb_errmsg(kb), "t.jsonl:1: column", 17) == 0, "message: %s", kb_errmsg(kb));
    is_int(import_text(kb, "acme", "{\"kind\":\"planet\"}\n"), KB_EINVAL, "unknown kind");
    ok(strstr(kb_errmsg(kb), "known: source") != NULL, "lists known kinds: %s", kb_errmsg(kb));
    is_int(import_text(kb, "acme", "{\"kind\":\"node\",\"path\":\"a\",\"colour\":1}\n"), KB_EINVAL,
           "unknown field refused");
    is_int(import_text(kb, "acme", "[1,2]\n"), KB_EINVAL, "non-object refused");
    is_int(import_text(kb, "acme", "{\"kind\":\"node\",\"path\":\"A/../b\"}\n"), KB_EINVAL,
           "bad path refused");
    is_int(import_text(kb, "acme",
                       "{\"kind\":\"node\",\"path\":\"a\",\"title\":\"A\",\"title\":\"B\"}\n"),
           KB_EINVAL, "duplicate keys refused");
    is_int(import_text(kb, "acme",
                       "{\"kind\":\"trawl-export\",\"version\":1}\r\n"
                       "{\"kind\":\"node\",\"path\":\"a/b/c\",\"title\":\"C\"}\r\n"),
           0, "CRLF lines and the header accepted");
    kb_client_id(kb, "acme", 0, &cid);
    kb_subtree(kb, cid, NULL, 0, collect_node, &c);
    is_int(c.n, 3, "import created the path's ancestors");
    kb_close(kb);
}

static void test_limits(void)
{
    struct kb *kb;
    int64_t cid, nid;
    char path[32];
    int rc = 0, i;

    kb_open(db_path("limits.db"), 0, &kb);
    kb_client_id(kb, "acme", 1, &cid);
    kb_begin(kb);
    for (i = 1; i <= 512 && rc == 0; i++) {
        snprintf(path, sizeof path, "d%d", i);
        rc = kb_node_ensure(kb, cid, path, NULL, NULL, &nid);
    }
    is_int(rc, KB_EFULL, "domain slots are bounded");
    is_int(i - 1, 512, "the 512th domain is the first refused");
    ok(strstr(kb_errmsg(kb), "at most 511") != NULL, "message: %s", kb_errmsg(kb));
    kb_rollback(kb);
    kb_close(kb);
}

static int count_hit(const struct kb_hit *h, void *arg)
{
    (void)h;
    (*(int *)arg)++;
    return 0;
}

static int hits(struct kb *kb, int64_t client, const char *q)
{
    int n = 0;
    if (kb_search(kb, client, q, NULL, count_hit, &n) < 0)
        return -1;
    return n;
}

/* New entries are indexed at commit in id order (migration 3): searches in
 * the same transaction, updates, deletes, moves and rollbacks of entries
 * still in the queue must all leave the index exact. */
static void test_deferred_index(void)
{
    struct kb *kb;
    int64_t c;
    int res;

    kb_open(db_path("defer.db"), 0, &kb);
    kb_client_id(kb, "acme", 1, &c);
    kb_begin(kb);
    /* ids arrive out of order: the later node gets an entry first */
    add_entry(kb, c, "z", "zeta/x", "Zeta", "zebra quokka", &res);
    add_entry(kb, c, "a", "alpha/x", "Alpha", "aardvark quokka", &res);
    add_entry(kb, c, "gone", "alpha/x", "Gone", "wombat", &res);
    add_entry(kb, c, "moved", "alpha/x", "Moved", "platypus", &res);
    is_int(hits(kb, c, "quokka"), 2, "search inside the transaction sees queued entries");
    add_entry(kb, c, "a", "alpha/x", "Alpha", "aardvark numbat", &res);
    is_int(res, KB_UPDATED, "queued entry updated");
    is_int(kb_entry_delete(kb, c, "gone"), 0, "entry deleted in the same transaction");
    add_entry(kb, c, "moved", "zeta/x", "Moved", "platypus", &res);
    add_entry(kb, c, "late", "alpha/x", "Late", "echidna", &res);
    is_int(kb_commit(kb), 0, "commit indexes the queue");
    is_int(hits(kb, c, "quokka"), 1, "the updated text replaced the old one");
    is_int(hits(kb, c, "numbat"), 1, "the new text is found");
    is_int(hits(kb, c, "wombat"), 0, "the deleted entry is gone");
    is_int(hits(kb, c, "platypus"), 1, "the moved entry is found once");
    is_int(hits(kb, c, "echidna"), 1, "an entry queued after a search is indexed");

    kb_begin(kb);
    add_entry(kb, c, "rolled", "alpha/x", "Rolled", "dingo", &res);
    kb_rollback(kb);
    is_int(hits(kb, c, "dingo"), 0, "a rolled-back entry is not indexed");
    add_entry(kb, c, "auto", "alpha/x", "Auto", "bilby", &res); /* no transaction */
    is_int(hits(kb, c, "bilby"), 1, "an entry written outside a transaction is indexed at once");
    kb_begin(kb);
    add_entry(kb, c, "z", "zeta/x", "Zeta", "zebra kiwi", &res);
    kb_entry_delete(kb, c, "auto");
    kb_commit(kb);
    is_int(hits(kb, c, "kiwi"), 1, "committed entry updated by trigger");
    is_int(hits(kb, c, "bilby"), 0, "committed entry deleted by trigger");
    /* queued entries changed before anything indexed them */
    kb_begin(kb);
    add_entry(kb, c, "q1", "alpha/x", "Queued", "galah", &res);
    add_entry(kb, c, "q2", "alpha/x", "Queued", "kookaburra", &res);
    add_entry(kb, c, "q3", "alpha/x", "Queued", "lorikeet", &res);
    add_entry(kb, c, "q4", "zeta/x", "Queued", "cassowary", &res);
    add_entry(kb, c, "q1", "alpha/x", "Queued", "currawong", &res);
    is_int(res, KB_UPDATED, "a queued entry's body changed");
    add_entry(kb, c, "q2", "alpha/x", "Renamed", "kookaburra", &res);
    is_int(res, KB_UPDATED, "a queued entry's title changed");
    is_int(kb_entry_delete(kb, c, "q3"), 0, "a queued entry deleted");
    add_entry(kb, c, "q4", "alpha/x", "Queued", "cassowary", &res);
    is_int(res, KB_UPDATED, "a queued entry moved");
    is_int(kb_commit(kb), 0, "commit");
    is_int(hits(kb, c, "galah"), 0, "the queued entry's old body is not indexed");
    is_int(hits(kb, c, "currawong"), 1, "its new body is");
    is_int(hits(kb, c, "renamed kookaburra"), 1, "the new title is indexed");
    is_int(hits(kb, c, "lorikeet"), 0, "the deleted queued entry is not indexed");
    is_int(hits(kb, c, "cassowary"), 1, "the moved queued entry is indexed once");
    kb_close(kb);
    ok(kb_test_fts_intact(db_path("defer.db")), "FTS5 integrity-check passes against the entries");
}

static int grab_body(const struct kb_entry_view *e, void *arg)
{
    snprintf(arg, 64, "%s", e->body);
    return 0;
}

/* Entry ids of client 1 start at 1 << 49 (kb_internal.h).
 * Migration 4 moves entry bodies into entry_text and rebuilds the index over
 * the entries_content view: a version-3 database with entries must come out
 * searchable, and updates and deletes afterwards must keep the index exact. */
static void test_migrate_entry_text(void)
{
    const char *path = db_path("v3.db");
    struct kb *kb;
    sqlite3 *db;
    char body[64] = "";
    int64_t c;
    int res;

    sqlite3_open(path, &db);
    kb_test_schema_upto(db, 3);
    is_int(sqlite3_exec(
               db,
               "INSERT INTO clients(id, name) VALUES (1, 'acme');"
               "INSERT INTO knowledge_tree(id, client_id, level, slug, title, path, base, "
               "span, next_slot, next_seq) VALUES (1, 1, 1, 'old', 'Old', 'old', "
               "562949953422312, 1000, 1, 3);"
               "INSERT INTO knowledge_entries(id, client_id, tree_node_id, key, title, "
               "body) VALUES (562949953422313, 1, 1, 'k1', 'Quarterly report', 'wombat figures'), "
               "(562949953422314, 1, 1, 'k2', 'Holiday rota', 'numbat schedule');"
               "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');",
               NULL, NULL, NULL),
           SQLITE_OK, "a version-3 database with two entries");
    sqlite3_close(db);

    is_int(kb_open(path, 0, &kb), 0, "version 3 is migrated: %s", kb_errmsg(kb));
    is_int(kb_schema_version(kb), kb_schema_latest(), "at the latest version");
    kb_client_id(kb, "acme", 0, &c);
    is_int(hits(kb, c, "wombat"), 1, "an old body is found after the migration");
    is_int(hits(kb, c, "rota"), 1, "an old title is found after the migration");
    kb_entry_show(kb, c, 562949953422314, grab_body, NULL, body);
    is_str(body, "numbat schedule", "show reads the moved body");
    add_entry(kb, c, "k1", "old", "Quarterly report", "echidna figures", &res);
    is_int(res, KB_UPDATED, "an old entry's body updated");
    is_int(hits(kb, c, "wombat"), 0, "the old body left the index");
    is_int(hits(kb, c, "echidna"), 1, "the new body is indexed");
    add_entry(kb, c, "k1", "old", "Annual report", "echidna figures", &res);
    is_int(hits(kb, c, "quarterly"), 0, "a changed title left the index");
    is_int(hits(kb, c, "annual echidna"), 1, "the new title with the kept body is indexed");
    is_int(kb_entry_delete(kb, c, "k2"), 0, "an old entry deleted");
    is_int(hits(kb, c, "numbat"), 0, "the deleted entry left the index");
    add_entry(kb, c, "k3", "old", "New", "bilby", &res);
    is_int(hits(kb, c, "bilby"), 1, "a new entry next to migrated ones is indexed");
    kb_close(kb);
    raw_exec(path, "CREATE TABLE IF NOT EXISTS t_count AS SELECT count(*) AS n FROM entry_text");
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT n FROM t_count", -1, &st, NULL);
    sqlite3_step(st);
    is_int(sqlite3_column_int(st, 0), 2,
           "replaced and deleted bodies were removed from entry_text");
    sqlite3_finalize(st);
    sqlite3_close(db);
    ok(kb_test_fts_intact(path), "FTS5 integrity-check passes after the migration and the changes");
}

/* Every node's kb_subtree count equals the entries that name it. */
static int counts_match(struct kb *kb, const char *path, int64_t cid)
{
    struct collect c = {0};
    sqlite3 *db;
    sqlite3_stmt *st;
    int good = 1;

    kb_subtree(kb, cid, NULL, 0, collect_node, &c);
    sqlite3_open(path, &db);
    sqlite3_prepare_v2(db,
                       "SELECT count(e.id) FROM knowledge_tree n LEFT JOIN knowledge_entries e "
                       "ON e.tree_node_id = n.id WHERE n.client_id = ? AND n.path = ?",
                       -1, &st, NULL);
    for (int i = 0; i < c.n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, c.paths[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != c.entries[i]) {
            printf("# %s: %lld counted, %lld stored\n", c.paths[i],
                   (long long)sqlite3_column_int64(st, 0), (long long)c.entries[i]);
            good = 0;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return good && c.n > 0;
}

static int count_under(const struct kb_entry_view *e, void *arg)
{
    (void)e;
    ++*(int *)arg;
    return 0;
}

/* Schema 7: node entry counts on the node row, a node's entries found by id range. */
static void test_node_counts(void)
{
    const char *path = db_path("counts.db");
    struct kb *kb;
    int64_t c, pruned = 0;
    int res, n = 0;
    char key[16];

    kb_open(path, 0, &kb);
    kb_client_id(kb, "acme", 1, &c);
    kb_begin(kb);
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%d", i);
        add_entry(kb, c, key,
                  i % 3 == 0   ? "ops"
                  : i % 3 == 1 ? "ops/deploy/prod"
                               : "legal/gpl",
                  "Title", "body text", &res);
    }
    kb_commit(kb);
    ok(counts_match(kb, path, c), "counts after inserts");
    kb_entry_delete(kb, c, "k0");
    kb_entry_delete(kb, c, "k3");
    add_entry(kb, c, "k1", "legal/gpl", "Title", "body text", &res); /* a move */
    is_int(res, KB_UPDATED, "an entry moved");
    ok(counts_match(kb, path, c), "counts after deletes and a move");
    kb_begin(kb);
    add_entry(kb, c, "new", "ops", "Title", "body text", &res);
    kb_entry_delete(kb, c, "k2");
    kb_rollback(kb);
    ok(counts_match(kb, path, c), "counts after a rolled back transaction");
    kb_entries_under(kb, c, "ops", count_under, &n);
    is_int(n, 8 + 9, "entries under 'ops' by id range: its own and its group's");
    add_entry(kb, c, "solo", "misc/one", "Title", "body text", &res);
    kb_entry_delete(kb, c, "solo");
    is_int(kb_tree_prune(kb, c, &pruned), 0, "prune");
    is_int(pruned, 2, "the emptied branch is pruned, the others kept");
    ok(counts_match(kb, path, c), "counts after pruning");
    kb_close(kb);
    is_int(kb_test_count(path, "SELECT count(*) FROM sqlite_schema WHERE name = "
                               "'knowledge_entries_node'"),
           0, "no (client_id, tree_node_id) index");
    is_int(kb_test_count(path, "SELECT v FROM entries_fts_config WHERE k = 'automerge'"), 8,
           "FTS5 automerge is 8");
    ok(kb_test_count(path, "SELECT v FROM entries_fts_config WHERE k = 'hashsize'") > 1 << 20,
       "FTS5 hash size above the default");
    ok(kb_test_fts_intact(path), "FTS5 integrity-check passes");

    /* a version-6 database gets its counts from the migration */
    const char *old = db_path("counts6.db");
    sqlite3 *db;
    sqlite3_open(old, &db);
    kb_test_schema_upto(db, 6);
    is_int(sqlite3_exec(db,
                        "INSERT INTO clients(id, name) VALUES (1, 'acme');"
                        "INSERT INTO knowledge_tree(id, client_id, level, slug, title, path, base, "
                        "span, next_slot, next_seq) VALUES (1, 1, 1, 'old', 'Old', 'old', "
                        "562949953421312, 1099511627776, 1, 3), (2, 1, 1, 'new', 'New', 'new', "
                        "563499709235200, 1099511627776, 1, 2);"
                        "INSERT INTO entry_text(id, body) VALUES (1, 'a'), (2, 'b'), (3, 'c');"
                        "INSERT INTO knowledge_entries(id, client_id, tree_node_id, key, title, "
                        "text_id) VALUES (562949953421313, 1, 1, 'k1', 'One', 1), "
                        "(562949953421314, 1, 1, 'k2', 'Two', 2), "
                        "(563499709235201, 1, 2, 'k3', 'Three', 3);"
                        "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');",
                        NULL, NULL, NULL),
           SQLITE_OK, "a version-6 database with three entries");
    sqlite3_close(db);
    is_int(kb_open(old, 0, &kb), 0, "version 6 is migrated: %s", kb_errmsg(kb));
    ok(counts_match(kb, old, 1), "migrated counts");
    is_int(kb_entry_delete(kb, 1, "k1"), 0, "a migrated entry deleted");
    ok(counts_match(kb, old, 1), "counts after deleting a migrated entry");
    n = 0;
    kb_entries_under(kb, 1, "old", count_under, &n);
    is_int(n, 1, "a migrated node's entries by id range");
    kb_close(kb);
    ok(kb_test_fts_intact(old), "FTS5 integrity-check passes after the migration");
}

static int grab_path(const struct kb_entry_view *e, void *arg)
{
    snprintf(arg, 80, "%s", e->path);
    return 0;
}

/* kb_node_ensure remembers nodes; another connection's changes retire them. */
static void test_node_memo(void)
{
    const char *path = db_path("memo.db");
    struct kb *a, *b;
    int64_t c, n1, n2, id;
    int64_t pruned;
    char where[80] = "";
    int res;

    kb_open(path, 0, &a);
    kb_open(path, 0, &b);
    kb_client_id(a, "acme", 1, &c);
    kb_node_ensure(a, c, "old/one", NULL, NULL, &n1);
    is_int(kb_node_ensure(a, c, "old/one", NULL, NULL, &n2), 0, "remembered node");
    is_int(n2, n1, "same id");
    /* another handle removes the branch and makes a new one, reusing the ids */
    kb_tree_prune(b, c, &pruned);
    is_int(pruned, 2, "the other handle pruned the empty branch");
    kb_node_ensure(b, c, "new/two", NULL, NULL, &n2);
    is_int(n2, n1, "the other handle reused the id");
    id = add_entry(a, c, "k", "old/one", "Title", "body", &res);
    is_int(res, KB_INSERTED, "entry stored through the first handle");
    kb_entry_show(a, c, id, grab_path, NULL, where);
    is_str(where, "old/one", "the entry lies on the recreated node, not the reused id");
    /* this handle's own pruning and rollbacks */
    kb_entry_delete(a, c, "k");
    kb_tree_prune(a, c, &pruned);
    id = add_entry(a, c, "k", "old/one", "Title", "body", &res);
    kb_entry_show(a, c, id, grab_path, NULL, where);
    is_str(where, "old/one", "after this handle's pruning");
    kb_begin(a);
    kb_node_ensure(a, c, "tx/node", NULL, NULL, &n1);
    kb_rollback(a);
    id = add_entry(a, c, "t", "tx/node", "Title", "body", &res);
    is_int(res, KB_INSERTED, "a node rolled back is created again");
    kb_entry_show(a, c, id, grab_path, NULL, where);
    is_str(where, "tx/node", "after a rollback");
    /* two handles placing entries on one node take turns: ids never clash */
    int placed = 0;
    for (int i = 0; i < 6; i++) {
        char key[16];
        struct kb *w = i % 3 == 2 ? b : a;
        snprintf(key, sizeof key, "turn%d", i);
        if (i == 4)
            kb_begin(w);
        id = add_entry(w, c, key, "shared/node", "Title", "body", &res);
        if (i == 4)
            kb_commit(w);
        placed += res == KB_INSERTED && id > 0;
    }
    is_int(placed, 6, "entries from two handles on one node all stored");
    int under = 0;
    kb_entries_under(a, c, "shared/node", count_under, &under);
    is_int(under, 6, "and all found there");
    ok(counts_match(a, path, c), "counts after two handles took turns");
    kb_close(a);
    kb_close(b);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_open();
    test_tree();
    test_documents();
    test_forum();
    test_import();
    test_limits();
    test_deferred_index();
    test_migrate_entry_text();
    test_node_counts();
    test_node_memo();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
