/*
 * Champion lists (kb/kb_champ.c): every ranked search must return what plain
 * FTS5 returns on the same file (same ids, same order, same bm25 scores) for
 * the top `limit`, before and after updates, deletes and moves, from the
 * writer's memory and from a fresh reader, after another tool changed the
 * index, and on a database migrated from schema 4. The text is real: windows
 * of the GPL and other licence texts on this machine.
 */
#include "kb.h"
#include "buf.h"
#include "kb_internal.h"
#include "schema.h"
#include "kb_test.h"
#include "tap.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/trawl-test-champ-XXXXXX";
static char **words;
static size_t nwords;

static uint64_t rnd_s = 42;
static uint64_t rnd(void)
{
    uint64_t x = (rnd_s += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void load_words(void)
{
    const char *files[] = {"/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/GPL-2",
                           "/usr/share/common-licenses/Apache-2.0",
                           "/usr/share/common-licenses/LGPL-2.1"};
    size_t cap = 0;
    char w[64];

    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp)
            continue;
        while (fscanf(fp, "%63s", w) == 1) {
            if (nwords == cap) {
                cap = cap ? 2 * cap : 4096;
                words = realloc(words, cap * sizeof *words);
            }
            words[nwords++] = strdup(w);
        }
        fclose(fp);
    }
}

/* A window of n words starting at a random place. */
static void text(char *out, size_t cap, int n)
{
    size_t k = 0, start = rnd() % (nwords - (size_t)n);

    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t l = strlen(words[start + (size_t)i]);
        if (k + l + 2 >= cap)
            break;
        if (k)
            out[k++] = ' ';
        memcpy(out + k, words[start + (size_t)i], l + 1);
        k += l;
    }
}

static const char *const paths[] = {
    "legal/licences/gpl",   "legal/licences/apache", "legal/licences/lgpl", "legal/patents/grants",
    "legal/patents/claims", "code/build/make",       "code/build/cmake",    "code/review/style",
    "code/review/tests",    "ops/deploy/staging",    "ops/deploy/prod",     "ops/oncall/pager"};
#define NPATHS (sizeof paths / sizeof paths[0])
static const char *const scopes[] = {"",
                                     "legal",
                                     "code",
                                     "ops",
                                     "legal/licences",
                                     "code/build",
                                     "legal/licences/gpl",
                                     "ops/deploy/prod"};
#define NSCOPES (sizeof scopes / sizeof scopes[0])
static const char *const queries[] = {
    "the", "of", "license", "software", "program", "work", "you", "copyright", "patent",
    "distribute", "modify", "warranty", "source code", "the license", "free software",
    "patent claims", "covered work", "library",
    /* AND queries with a common term: ranked from the doclists with bounds */
    "the program", "of the", "you the work", "license the of", "warranty of", "copyright the",
    /* single terms without a list: counted and ranked in one pass */
    "aggregation", "compelled", "circumvention", "allegation", "assumptions", "accompanies"};
#define NQUERIES (sizeof queries / sizeof queries[0])

static void put(struct kb *kb, int64_t cid, int k, int moved)
{
    char key[32], title[256], body[4096];
    struct kb_entry e = {0};
    int64_t id;
    int res;

    snprintf(key, sizeof key, "k%d", k);
    text(title, sizeof title, 1 + (int)(rnd() % 5));
    text(body, sizeof body, 5 + (int)(rnd() % 120));
    e.key = key;
    e.path = paths[((size_t)k + (size_t)moved) % NPATHS];
    e.title = title;
    e.body = body;
    kb_entry_upsert(kb, cid, &e, &id, &res);
}

struct got {
    int n;
    int64_t id[64];
    double score[64];
    char *snip[64];
};

static int collect(const struct kb_hit *h, void *arg)
{
    struct got *g = arg;
    if (g->n < 64) {
        g->id[g->n] = h->id;
        g->score[g->n] = h->score;
        g->snip[g->n] = strdup(h->snippet ? h->snippet : "");
        g->n++;
    }
    return 0;
}

static void got_release(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->snip[i]);
    g->n = 0;
}

/* FTS5's own snippet of one row, as plain FTS5 makes it. */
static char *ref_snippet(sqlite3 *db, const char *fts, int64_t id)
{
    sqlite3_stmt *st;
    char *r = NULL;

    if (sqlite3_prepare_v2(db,
                           "SELECT snippet(entries_fts, 1, '[', ']', '…', 16) FROM entries_fts "
                           "WHERE entries_fts MATCH ? AND rowid = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        r = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

/* Plain FTS5 on its own connection (no trawl tokenizer wrapper) as the reference. */
static int reference(sqlite3 *db, const char *fts, const char *scope, int limit, struct got *g)
{
    sqlite3_stmt *st;
    int64_t lo = (int64_t)1 << 49, hi = ((int64_t)2 << 49) - 1;

    g->n = 0;
    if (*scope) {
        sqlite3_prepare_v2(db, "SELECT base, span FROM knowledge_tree WHERE path = ?", -1, &st,
                           NULL);
        sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            return -1;
        }
        lo = sqlite3_column_int64(st, 0);
        hi = lo + sqlite3_column_int64(st, 1) - 1;
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, rank FROM entries_fts WHERE entries_fts MATCH ? AND "
                           "rowid BETWEEN ? AND ? ORDER BY rank, rowid LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    sqlite3_bind_int(st, 4, limit);
    while (sqlite3_step(st) == SQLITE_ROW && g->n < 64) {
        g->id[g->n] = sqlite3_column_int64(st, 0);
        g->score[g->n] = sqlite3_column_double(st, 1);
        g->n++;
    }
    sqlite3_finalize(st);
    return 0;
}

struct tally {
    int queries, mismatches, champions, ranked, ranked_and, one_pass, snippets, snippet_diffs;
};

/* Every query x scope x limit against the reference. */
static void compare_all(struct kb *kb, int64_t cid, const char *path, struct tally *t)
{
    static const int limits[] = {1, 3, 10, 25};
    sqlite3 *db;
    struct buf q = BUF_INIT;

    memset(t, 0, sizeof *t);
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    for (size_t qi = 0; qi < NQUERIES; qi++)
        for (size_t si = 0; si < NSCOPES; si++)
            for (size_t li = 0; li < sizeof limits / sizeof limits[0]; li++) {
                struct kb_search_opts o = {scopes[si], limits[li], "[", "]"};
                struct got a = {0}, b = {0};
                int same;
                kb_fts_query(queries[qi], &q);
                if (kb_search(kb, cid, queries[qi], &o, collect, &a) < 0 ||
                    reference(db, buf_str(&q), scopes[si], limits[li], &b) < 0) {
                    t->mismatches++;
                    printf("# error on '%s' under '%s': %s\n", queries[qi], scopes[si],
                           kb_errmsg(kb));
                    continue;
                }
                t->queries++;
                if (strcmp(kb_search_path(kb), "champions") == 0)
                    t->champions++;
                else if (strcmp(kb_search_path(kb), "ranked") == 0)
                    t->ranked++, t->ranked_and += strchr(queries[qi], ' ') != NULL;
                else if (strcmp(kb_search_path(kb), "one-pass") == 0)
                    t->ranked++, t->one_pass++;
                for (int i = 0; i < a.n; i++) {
                    char *r = ref_snippet(db, buf_str(&q), a.id[i]);
                    t->snippets++;
                    if (!r || strcmp(r, a.snip[i]) != 0) {
                        if (t->snippet_diffs++ < 3)
                            printf("# '%s' under '%s' (%s): entry %lld snippet '%s', FTS5 '%s'\n",
                                   queries[qi], scopes[si], kb_search_path(kb), (long long)a.id[i],
                                   a.snip[i], r ? r : "(none)");
                    }
                    free(r);
                }
                same = a.n == b.n;
                for (int i = 0; same && i < a.n; i++)
                    same = a.id[i] == b.id[i] && a.score[i] == b.score[i];
                if (!same) {
                    t->mismatches++;
                    if (t->mismatches <= 3) {
                        printf("# '%s' under '%s' limit %d (%s): %d vs %d hits\n", queries[qi],
                               scopes[si], limits[li], kb_search_path(kb), a.n, b.n);
                        for (int i = 0; i < a.n || i < b.n; i++)
                            printf("#   %lld %.17g | %lld %.17g\n",
                                   i < a.n ? (long long)a.id[i] : 0LL, i < a.n ? a.score[i] : 0,
                                   i < b.n ? (long long)b.id[i] : 0LL, i < b.n ? b.score[i] : 0);
                    }
                }
                got_release(&a);
                got_release(&b);
            }
    sqlite3_close(db);
    buf_release(&q);
}

static void check(struct kb *kb, int64_t cid, const char *path, const char *when, int want_lists)
{
    struct tally t;

    compare_all(kb, cid, path, &t);
    ok(t.mismatches == 0, "%s: %d queries, %d differ from plain FTS5 (%d from lists, %d ranked)",
       when, t.queries, t.mismatches, t.champions, t.ranked);
    ok(t.snippets > 0 && t.snippet_diffs == 0, "%s: %d snippets, %d differ from FTS5's snippet()",
       when, t.snippets, t.snippet_diffs);
    if (want_lists)
        ok(t.champions >= t.queries / 5 && t.ranked > 0 && t.ranked_and > 0 && t.one_pass > 0,
           "%s: the lists answer (%d of %d) and the known-idf ranking does (%d, %d of them AND "
           "queries, %d terms without a list in one pass)",
           when, t.champions, t.queries, t.ranked, t.ranked_and, t.one_pass);
    else
        ok(t.champions == 0 && t.ranked == 0, "%s: stale lists are not used (%d, %d)", when,
           t.champions, t.ranked);
}

static void tune(struct kb *kb)
{
    kb_champ_tune(kb, 6, 4, 16, 64);
}

int main(void)
{
    char path[300];
    struct kb *kb;
    int64_t cid;
    int n = 1200;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    load_words();
    if (nwords < 1000) {
        printf("1..0 # SKIP no licence texts in /usr/share/common-licenses\n");
        return 0;
    }
    snprintf(path, sizeof path, "%s/champ.db", dir);

    is_int(kb_open(path, 0, &kb), 0, "open");
    tune(kb);
    kb_client_id(kb, "acme", 1, &cid);
    /* batches in transactions, and some entries on their own */
    for (int b = 0; b < n; b += 200) {
        kb_begin(kb);
        for (int k = b; k < b + 200; k++)
            put(kb, cid, k, 0);
        is_int(kb_commit(kb), 0, "commit batch %d", b / 200);
    }
    for (int k = n; k < n + 20; k++)
        put(kb, cid, k, 0);
    ok(kb_test_count(path, "SELECT count(*) FROM entry_champions") > 20,
       "common terms are tracked");
    check(kb, cid, path, "after the load (writer)", 1);

    /* updates (new bodies), deletes, moves: in a transaction and outside one */
    kb_begin(kb);
    for (int k = 0; k < n; k += 7)
        put(kb, cid, k, 0); /* same key and place, new text */
    for (int k = 3; k < n; k += 11) {
        char key[32];
        snprintf(key, sizeof key, "k%d", k);
        kb_entry_delete(kb, cid, key);
    }
    for (int k = 5; k < n; k += 13)
        put(kb, cid, k, 1); /* another place: a new id */
    is_int(kb_commit(kb), 0, "commit the changes");
    for (int k = 1; k < 60; k += 9)
        put(kb, cid, k, 2);
    check(kb, cid, path, "after updates, deletes and moves", 1);

    kb_begin(kb);
    for (int k = 2; k < 400; k += 3)
        put(kb, cid, k, 3);
    kb_rollback(kb);
    check(kb, cid, path, "after a rollback", 1);
    /* a term without a list whose range holds more rows than one pass keeps:
     * its count from that pass, then the ranked scan of the range */
    kb_champ_scan_cap(kb, 2);
    {
        struct tally t;
        compare_all(kb, cid, path, &t);
        ok(t.mismatches == 0 && t.snippet_diffs == 0 && t.one_pass < t.queries / 10,
           "one pass keeping at most 2 rows: %d queries, %d differ, %d snippets differ, %d "
           "answered in one pass",
           t.queries, t.mismatches, t.snippet_diffs, t.one_pass);
    }
    kb_champ_scan_cap(kb, 4096);
    kb_close(kb);

    is_int(kb_open(path, KB_OPEN_READONLY, &kb), 0, "reopen read-only");
    check(kb, cid, path, "a reader with the stored lists", 1);
    kb_close(kb);

    /* another tool (the plain sqlite3 library, schema triggers) removes an entry */
    {
        sqlite3 *db;
        sqlite3_open(path, &db);
        is_int(
            sqlite3_exec(db, "DELETE FROM knowledge_entries WHERE key = 'k10'", NULL, NULL, NULL),
            SQLITE_OK, "the sqlite3 library deletes an entry without trawl");
        sqlite3_close(db);
    }
    is_int(kb_open(path, 0, &kb), 0, "reopen");
    tune(kb);
    check(kb, cid, path, "after another tool changed the index", 0);
    put(kb, cid, 99999, 0); /* a write rebuilds the lists from the index */
    check(kb, cid, path, "after the next write rebuilt the lists", 1);
    /* another tool re-indexes an entry to the same totals: still seen */
    {
        sqlite3 *db;
        sqlite3_open(path, &db);
        is_int(sqlite3_exec(db,
                            "CREATE TEMP TABLE pick AS SELECT e.id, e.text_id FROM "
                            "knowledge_entries e JOIN entry_text t ON t.id = e.text_id WHERE "
                            "t.title NOT LIKE '% %' AND t.title <> 'warranty' LIMIT 1;"
                            "INSERT INTO entry_text(title, body) SELECT 'warranty', t.body FROM "
                            "entry_text t JOIN pick p ON t.id = p.text_id;"
                            "UPDATE knowledge_entries SET text_id = last_insert_rowid() WHERE "
                            "id = (SELECT id FROM pick)",
                            NULL, NULL, NULL),
               SQLITE_OK, "the sqlite3 library changes a one-word title");
        sqlite3_close(db);
    }
    check(kb, cid, path, "after another tool's same-size change", 0);
    put(kb, cid, 99998, 0);
    check(kb, cid, path, "after the write that followed it", 1);
    kb_close(kb);
    ok(kb_test_fts_intact(path), "FTS5 integrity-check passes");

    /* a schema-4 database with entries is migrated; its lists come with the first write */
    {
        char old[300];
        sqlite3 *db;
        snprintf(old, sizeof old, "%s/v4.db", dir);
        sqlite3_open(old, &db);
        kb_test_schema_upto(db, 4);
        sqlite3_close(db);
        /* fill it through the schema-4 path: the plain sqlite3 library and FTS5 */
        sqlite3_open(old, &db);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "ATTACH ? AS src", -1, &st, NULL);
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
        is_int(
            sqlite3_exec(db,
                         "INSERT INTO clients SELECT * FROM src.clients;"
                         "INSERT INTO knowledge_tree SELECT id, client_id, parent_id, level, slug, "
                         "title, path, summary, base, span, next_slot, next_seq FROM "
                         "src.knowledge_tree;"
                         "INSERT INTO entry_text SELECT id, body FROM src.entry_text;"
                         "INSERT INTO knowledge_entries(id, client_id, tree_node_id, key, title, "
                         "summary, metadata, text_id) SELECT e.id, client_id, tree_node_id, key, "
                         "t.title, summary, metadata, text_id FROM src.knowledge_entries e JOIN "
                         "src.entry_text t ON t.id = e.text_id;"
                         "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');",
                         NULL, NULL, NULL),
            SQLITE_OK, "a schema-4 database with %lld entries",
            (long long)kb_test_count(path, "SELECT count(*) FROM knowledge_entries"));
        sqlite3_close(db);
        is_int(kb_open(old, 0, &kb), 0, "schema 4 migrates: %s", kb_errmsg(kb));
        is_int(kb_schema_version(kb), kb_schema_latest(), "at the latest version");
        tune(kb);
        check(kb, cid, old, "migrated, before any write", 0);
        put(kb, cid, 100000, 0);
        check(kb, cid, old, "migrated, after the first write", 1);
        kb_close(kb);
    }

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    for (size_t i = 0; i < nwords; i++)
        free(words[i]);
    free(words);
    return tap_done();
}
