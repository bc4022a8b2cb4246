/* Fuzz target: kb_search makes the snippets of ranked hits itself
 * (kb/kb_champ.c) and must give exactly what FTS5's snippet() gives for the
 * same row and query. Input: the query on the first line, the entry's body
 * after it. The entry is indexed, searched, compared and deleted again. */
#include "kb.h"
#include "buf.h"
#include "kb_internal.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/trawl-fuzz-snippet-XXXXXX";
static char path[128];
static struct kb *kb;
static int64_t cid;

static void cleanup(void)
{
    char f[160];

    kb_close(kb);
    kb = NULL;
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
        unlink(f);
    }
    rmdir(dir);
}

struct one {
    int64_t id;
    char *snip;
};

static int take(const struct kb_hit *h, void *arg)
{
    struct one *o = arg;

    if (!o->snip) {
        o->id = h->id;
        o->snip = strdup(h->snippet ? h->snippet : "");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kb_search_opts so = {NULL, 5, "[", "]"};
    struct kb_entry e = {0};
    struct buf q = BUF_INIT;
    struct one o = {0, NULL};
    char *text, *body, *nl;
    int64_t id;
    int res;

    if (!kb) {
        if (!mkdtemp(dir))
            abort();
        snprintf(path, sizeof path, "%s/snip.db", dir);
        if (kb_open(path, 0, &kb) < 0 || kb_client_id(kb, "fuzz", 1, &cid) < 0)
            abort();
        atexit(cleanup);
    }
    if (size > 65536)
        return 0;
    if (!(text = malloc(size + 1)))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nl = strchr(text, '\n');
    body = nl ? nl + 1 : text;
    if (nl)
        *nl = '\0';
    e.key = "k";
    e.path = "fuzz/snippets";
    e.title = "entry";
    e.body = body;
    if (kb_entry_upsert(kb, cid, &e, &id, &res) == 0 && kb_fts_query(text, &q) == 0 &&
        kb_search(kb, cid, text, &so, take, &o) == 0 && o.snip &&
        strcmp(kb_search_path(kb), "ranked") == 0) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(kb->db,
                               "SELECT snippet(entries_fts, 1, '[', ']', '…', 16) FROM "
                               "entries_fts WHERE entries_fts MATCH ? AND rowid = ?",
                               -1, &st, NULL) != SQLITE_OK)
            abort();
        sqlite3_bind_text(st, 1, buf_str(&q), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, o.id);
        if (sqlite3_step(st) != SQLITE_ROW) {
            fprintf(stderr, "fuzz_snippet: FTS5 does not match entry %lld\n", (long long)o.id);
            abort();
        }
        const char *ref = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(ref ? ref : "", o.snip) != 0) {
            fprintf(stderr, "fuzz_snippet: query '%s'\n  trawl '%s'\n  fts5  '%s'\n", text, o.snip,
                    ref ? ref : "");
            abort(); /* the snippet maker left FTS5's way */
        }
        sqlite3_finalize(st);
    }
    kb_entry_delete(kb, cid, "k");
    free(o.snip);
    buf_release(&q);
    free(text);
    return 0;
}
