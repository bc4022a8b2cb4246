/*
 * JSONL import and export (format documented in README.md, "JSONL format").
 * One object per line, discriminated by "kind". An import is one transaction:
 * the first bad line rolls everything back and is named in the message.
 */
#include "kb_internal.h"

#include "buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define KB_JSONL_MAX_LINE ((size_t)256 << 20)
#define KB_JSONL_MAX_DOCS 4096

/* ---- reading -------------------------------------------------------------------- */

struct kb_reader {
    FILE *in;
    size_t pos, len;
    int eof;
    char blk[65536];
};

/* Reads one line (without its newline) into b, refusing lines over b's cap.
 * Returns 1 for a line, 0 at the end, -1 when the line is too long. */
static int kb_read_line(struct kb_reader *r, struct buf *b)
{
    int got = 0;

    buf_reset(b);
    for (;;) {
        if (r->pos == r->len) {
            if (!r->eof) {
                r->len = fread(r->blk, 1, sizeof r->blk, r->in);
                r->pos = 0;
                r->eof = r->len == 0;
            }
            if (r->eof)
                return got;
        }
        char *start = r->blk + r->pos, *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        if (buf_add(b, start, n) < 0)
            return -1;
        got = 1;
        r->pos += n;
        if (nl) {
            r->pos++;
            return 1;
        }
    }
}

struct kb_import {
    struct kb *kb;
    int64_t client_id;
    int64_t run_id;
    const char *fname;
    long line;
    struct kb_import_stats *stats;
};

/* Fails with "FILE:LINE: KIND: message". */
static int kb_line_fail(struct kb_import *im, const char *kind, const char *msg)
{
    char keep[sizeof im->kb->err];

    snprintf(keep, sizeof keep, "%s", msg);
    return kb_fail(im->kb, KB_EINVAL, "%s:%ld: %s%s%s", im->fname, im->line, kind ? kind : "",
                   kind ? ": " : "", keep);
}

/* Optional string field: 0 ok (*out NULL when absent or null), -1 wrong type. */
static int kb_get_str(struct kb_import *im, json_t *o, const char *kind, const char *field,
                      int required, const char **out)
{
    json_t *v = json_object_get(o, field);
    char msg[160];

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(msg, sizeof msg, "field '%s' is required", field);
        return kb_line_fail(im, kind, msg);
    }
    if (!json_is_string(v)) {
        snprintf(msg, sizeof msg, "field '%s' must be a string", field);
        return kb_line_fail(im, kind, msg);
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(msg, sizeof msg, "field '%s' contains a NUL character", field);
        return kb_line_fail(im, kind, msg);
    }
    *out = json_string_value(v);
    return 0;
}

/* Optional JSON object field serialised compactly; *out is malloc'd or NULL. */
static int kb_get_json(struct kb_import *im, json_t *o, const char *kind, const char *field,
                       char **out)
{
    json_t *v = json_object_get(o, field);
    char msg[160];

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        snprintf(msg, sizeof msg, "field '%s' must be an object", field);
        return kb_line_fail(im, kind, msg);
    }
    *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    return *out ? 0 : kb_fail(im->kb, KB_ERROR, "out of memory");
}

static int kb_check_fields(struct kb_import *im, json_t *o, const char *kind,
                           const char *const *known)
{
    const char *k;
    json_t *v;
    char msg[200];

    json_object_foreach(o, k, v)
    {
        int ok = strcmp(k, "kind") == 0;
        for (int i = 0; !ok && known[i]; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok) {
            snprintf(msg, sizeof msg, "unknown field '%.64s'", k);
            return kb_line_fail(im, kind, msg);
        }
    }
    return 0;
}

static int kb_source_id_by_name(struct kb_import *im, const char *name, int64_t *id)
{
    sqlite3_stmt *st =
        kb_prepare(im->kb, "SELECT id FROM sources WHERE client_id = ? AND name = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, im->client_id);
    kb_bind_text(st, 2, name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return KB_ENOTFOUND;
    return kb_sqlfail(im->kb, "look up source");
}

/* Runs a kb_* call and prefixes its message with the file and line. */
static int kb_wrap(struct kb_import *im, const char *kind, int rc)
{
    if (rc >= 0)
        return rc;
    return kb_line_fail(im, kind, im->kb->err);
}

static int kb_import_source(struct kb_import *im, json_t *o)
{
    static const char *const known[] = {"name", "type", "config", NULL};
    const char *name, *type;
    char *config = NULL;
    int64_t id;
    int rc;

    if ((rc = kb_check_fields(im, o, "source", known)) < 0 ||
        (rc = kb_get_str(im, o, "source", "name", 1, &name)) < 0 ||
        (rc = kb_get_str(im, o, "source", "type", 1, &type)) < 0 ||
        (rc = kb_get_json(im, o, "source", "config", &config)) < 0)
        return rc;
    rc = kb_wrap(im, "source", kb_source_upsert(im->kb, im->client_id, name, type, config, &id));
    free(config);
    if (rc == 0)
        im->stats->sources++;
    return rc;
}

static int kb_import_node(struct kb_import *im, json_t *o)
{
    static const char *const known[] = {"path", "title", "summary", NULL};
    const char *path, *title, *summary;
    int64_t id;
    int rc;

    if ((rc = kb_check_fields(im, o, "node", known)) < 0 ||
        (rc = kb_get_str(im, o, "node", "path", 1, &path)) < 0 ||
        (rc = kb_get_str(im, o, "node", "title", 0, &title)) < 0 ||
        (rc = kb_get_str(im, o, "node", "summary", 0, &summary)) < 0)
        return rc;
    rc = kb_wrap(im, "node", kb_node_ensure(im->kb, im->client_id, path, title, summary, &id));
    if (rc == 0)
        im->stats->nodes++;
    return rc;
}

static int kb_import_document(struct kb_import *im, json_t *o)
{
    static const char *const known[] = {"source",   "external_id", "mime",     "title",
                                        "author",   "created",     "modified", "text",
                                        "metadata", "deleted",     NULL};
    struct kb_document d = {0};
    const char *source;
    char *meta = NULL;
    json_t *del = json_object_get(o, "deleted");
    int64_t source_id = 0;
    int rc;

    if ((rc = kb_check_fields(im, o, "document", known)) < 0 ||
        (rc = kb_get_str(im, o, "document", "source", 1, &source)) < 0 ||
        (rc = kb_get_str(im, o, "document", "external_id", 1, &d.external_id)) < 0 ||
        (rc = kb_get_str(im, o, "document", "mime", 0, &d.mime)) < 0 ||
        (rc = kb_get_str(im, o, "document", "title", 0, &d.title)) < 0 ||
        (rc = kb_get_str(im, o, "document", "author", 0, &d.author)) < 0 ||
        (rc = kb_get_str(im, o, "document", "created", 0, &d.created_at)) < 0 ||
        (rc = kb_get_str(im, o, "document", "modified", 0, &d.modified_at)) < 0 ||
        (rc = kb_get_str(im, o, "document", "text", 0, &d.text)) < 0)
        return rc;
    if (del && !json_is_boolean(del))
        return kb_line_fail(im, "document", "field 'deleted' must be true or false");
    d.deleted = json_is_true(del);
    rc = kb_source_id_by_name(im, source, &source_id);
    if (rc == KB_ENOTFOUND) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown source '%.64s': a source line must come first", source);
        return kb_line_fail(im, "document", msg);
    }
    if (rc < 0 || (rc = kb_get_json(im, o, "document", "metadata", &meta)) < 0)
        return rc;
    d.metadata_json = meta;
    rc = kb_wrap(im, "document", kb_document_upsert(im->kb, source_id, im->run_id, &d, NULL, NULL));
    free(meta);
    if (rc == 0)
        im->stats->documents++;
    return rc;
}

static int kb_import_entry(struct kb_import *im, json_t *o)
{
    static const char *const known[] = {"key",     "path",     "title",     "body",
                                        "summary", "metadata", "documents", NULL};
    struct kb_entry e = {0};
    struct kb_doc_ref refs[64], *docs = refs;
    json_t *arr = json_object_get(o, "documents"), *d;
    char *meta = NULL;
    size_t i;
    int rc;

    if ((rc = kb_check_fields(im, o, "entry", known)) < 0 ||
        (rc = kb_get_str(im, o, "entry", "key", 0, &e.key)) < 0 ||
        (rc = kb_get_str(im, o, "entry", "path", 1, &e.path)) < 0 ||
        (rc = kb_get_str(im, o, "entry", "title", 1, &e.title)) < 0 ||
        (rc = kb_get_str(im, o, "entry", "body", 1, &e.body)) < 0 ||
        (rc = kb_get_str(im, o, "entry", "summary", 0, &e.summary)) < 0)
        return rc;
    if (arr && !json_is_null(arr)) {
        if (!json_is_array(arr))
            return kb_line_fail(im, "entry", "field 'documents' must be an array");
        if (json_array_size(arr) > KB_JSONL_MAX_DOCS)
            return kb_line_fail(im, "entry", "field 'documents' lists more than 4096 documents");
        if (json_array_size(arr) > sizeof refs / sizeof refs[0] &&
            !(docs = calloc(json_array_size(arr), sizeof *docs)))
            return kb_fail(im->kb, KB_ERROR, "out of memory");
        json_array_foreach(arr, i, d)
        {
            json_t *s = json_object_get(d, "source"), *x = json_object_get(d, "external_id");
            if (!json_is_object(d) || !json_is_string(s) || !json_is_string(x)) {
                rc = kb_line_fail(im, "entry",
                                  "each of 'documents' must be {\"source\": ..., "
                                  "\"external_id\": ...}");
                goto out;
            }
            docs[i].source = json_string_value(s);
            docs[i].external_id = json_string_value(x);
        }
        e.docs = docs;
        e.ndocs = json_array_size(arr);
    }
    if ((rc = kb_get_json(im, o, "entry", "metadata", &meta)) < 0)
        goto out;
    e.metadata_json = meta;
    rc = kb_wrap(im, "entry", kb_entry_upsert(im->kb, im->client_id, &e, NULL, NULL));
    if (rc == 0)
        im->stats->entries++;
out:
    free(meta);
    if (docs != refs)
        free(docs);
    return rc;
}

static int kb_import_forum(struct kb_import *im, json_t *o)
{
    static const char *const known[] = {"agent", "source_type", "phase",  "file_type", "title",
                                        "body",  "created",     "global", NULL};
    struct kb_forum_entry f = {0};
    json_t *g = json_object_get(o, "global");
    int rc;

    if ((rc = kb_check_fields(im, o, "forum", known)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "agent", 1, &f.agent)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "source_type", 1, &f.source_type)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "phase", 1, &f.phase)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "file_type", 0, &f.file_type)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "title", 1, &f.title)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "body", 1, &f.body)) < 0 ||
        (rc = kb_get_str(im, o, "forum", "created", 0, &f.created_at)) < 0)
        return rc;
    if (g && !json_is_boolean(g))
        return kb_line_fail(im, "forum", "field 'global' must be true or false");
    f.client_id = json_is_true(g) ? 0 : im->client_id;
    f.run_id = im->run_id;
    rc = kb_wrap(im, "forum", kb_forum_post(im->kb, &f, NULL));
    if (rc == 0)
        im->stats->forum++;
    return rc;
}

static int kb_import_line(struct kb_import *im, const char *line, size_t len)
{
    static const struct {
        const char *kind;
        int (*fn)(struct kb_import *, json_t *);
    } kinds[] = {{"source", kb_import_source},
                 {"node", kb_import_node},
                 {"document", kb_import_document},
                 {"entry", kb_import_entry},
                 {"forum", kb_import_forum}};
    json_error_t jerr;
    json_t *o;
    const char *kind;
    char msg[300];
    int rc = -1;

    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(msg, sizeof msg, "column %d: invalid JSON: %s", jerr.column, jerr.text);
        return kb_line_fail(im, NULL, msg);
    }
    if (!json_is_object(o)) {
        rc = kb_line_fail(im, NULL, "a line must hold a JSON object");
        goto out;
    }
    kind = json_string_value(json_object_get(o, "kind"));
    if (!kind) {
        rc = kb_line_fail(im, NULL, "field 'kind' is missing or not a string");
        goto out;
    }
    if (strcmp(kind, "trawl-export") == 0) {
        json_t *v = json_object_get(o, "version");
        if (!json_is_integer(v) || json_integer_value(v) != 1)
            rc = kb_line_fail(im, NULL, "unsupported trawl-export version (this trawl reads 1)");
        else
            rc = 0;
        goto out;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kind, kinds[i].kind) == 0) {
            rc = kinds[i].fn(im, o);
            goto out;
        }
    }
    snprintf(msg, sizeof msg,
             "unknown kind '%.64s' (known: source, node, document, entry, forum, trawl-export)",
             kind);
    rc = kb_line_fail(im, NULL, msg);
out:
    json_decref(o);
    return rc;
}

int kb_import_jsonl(struct kb *kb, const char *client, FILE *in, const char *fname,
                    struct kb_import_stats *stats)
{
    struct kb_import im = {kb, 0, 0, fname, 0, stats};
    struct kb_reader *rd = calloc(1, sizeof *rd);
    struct buf line;
    int rc, r;

    memset(stats, 0, sizeof *stats);
    buf_init(&line, KB_JSONL_MAX_LINE);
    if (!rd)
        return kb_fail(kb, KB_ERROR, "out of memory");
    rd->in = in;
    if ((rc = kb_begin(kb)) < 0) {
        free(rd);
        return rc;
    }
    if ((rc = kb_client_id(kb, client, 1, &im.client_id)) < 0 ||
        (rc = kb_run_start(kb, im.client_id, "import", &im.run_id)) < 0)
        goto fail;
    while ((r = kb_read_line(rd, &line)) != 0) {
        im.line++;
        if (r < 0) {
            rc = kb_line_fail(&im, NULL, "line longer than 256 MiB");
            goto fail;
        }
        const char *p = buf_str(&line);
        size_t n = line.len;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        size_t s = 0;
        while (s < n && (p[s] == ' ' || p[s] == '\t'))
            s++;
        if (s == n)
            continue; /* blank line */
        if ((rc = kb_import_line(&im, p + s, n - s)) < 0)
            goto fail;
    }
    if (ferror(in)) {
        rc = kb_fail(kb, KB_ERROR, "%s: read error after line %ld", fname, im.line);
        goto fail;
    }
    stats->lines = im.line;
    {
        char js[256];
        snprintf(js, sizeof js,
                 "{\"file\":\"import\",\"lines\":%ld,\"sources\":%ld,\"nodes\":%ld,"
                 "\"documents\":%ld,\"entries\":%ld,\"forum\":%ld}",
                 stats->lines, stats->sources, stats->nodes, stats->documents, stats->entries,
                 stats->forum);
        if ((rc = kb_run_finish(kb, im.run_id, "ok", js)) < 0)
            goto fail;
    }
    if ((rc = kb_commit(kb)) < 0)
        goto fail;
    buf_release(&line);
    free(rd);
    return 0;
fail : {
    char keep[sizeof kb->err];
    memcpy(keep, kb->err, sizeof keep);
    kb_rollback(kb);
    memcpy(kb->err, keep, sizeof keep);
}
    buf_release(&line);
    free(rd);
    return rc;
}

/* ---- writing -------------------------------------------------------------------- */

static void kb_put_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

static void kb_put_json(json_t *o, const char *k, const char *v)
{
    json_t *j;

    if (v && (j = json_loads(v, 0, NULL)))
        json_object_set_new(o, k, j);
}

static int kb_emit(FILE *out, json_t *o)
{
    int rc = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc < 0 || fputc('\n', out) == EOF)
        return -1;
    return 0;
}

int kb_export_jsonl(struct kb *kb, const char *client, FILE *out)
{
    int64_t cid;
    sqlite3_stmt *st;
    int rc;

    if ((rc = kb_client_id(kb, client, 0, &cid)) < 0)
        return rc;
    /* A read transaction gives one consistent snapshot of everything. */
    if (sqlite3_exec(kb->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return kb_sqlfail(kb, "begin export");
    json_t *h = json_object();
    json_object_set_new(h, "kind", json_string("trawl-export"));
    json_object_set_new(h, "version", json_integer(1));
    json_object_set_new(h, "client", json_string(client));
    if (kb_emit(out, h) < 0)
        goto write_fail;

    st = kb_prepare(kb, "SELECT name, type, config FROM sources WHERE client_id = ? ORDER BY name");
    if (!st)
        goto sql_fail;
    sqlite3_bind_int64(st, 1, cid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("source"));
        kb_put_str(o, "name", kb_col(st, 0));
        kb_put_str(o, "type", kb_col(st, 1));
        kb_put_json(o, "config", kb_col_null(st, 2));
        if (kb_emit(out, o) < 0) {
            sqlite3_reset(st);
            goto write_fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto sql_fail;

    st = kb_prepare(kb, "SELECT path, title, summary FROM knowledge_tree WHERE client_id = ? "
                        "ORDER BY level, path");
    if (!st)
        goto sql_fail;
    sqlite3_bind_int64(st, 1, cid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("node"));
        kb_put_str(o, "path", kb_col(st, 0));
        kb_put_str(o, "title", kb_col(st, 1));
        kb_put_str(o, "summary", kb_col_null(st, 2));
        if (kb_emit(out, o) < 0) {
            sqlite3_reset(st);
            goto write_fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto sql_fail;

    st = kb_prepare(kb, "SELECT s.name, d.external_id, d.mime, d.title, d.author, d.created_at, "
                        "d.modified_at, d.text, d.metadata, d.deleted FROM documents d JOIN "
                        "sources s ON s.id = d.source_id WHERE s.client_id = ? ORDER BY s.name, "
                        "d.external_id");
    if (!st)
        goto sql_fail;
    sqlite3_bind_int64(st, 1, cid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("document"));
        kb_put_str(o, "source", kb_col(st, 0));
        kb_put_str(o, "external_id", kb_col(st, 1));
        kb_put_str(o, "mime", kb_col_null(st, 2));
        kb_put_str(o, "title", kb_col_null(st, 3));
        kb_put_str(o, "author", kb_col_null(st, 4));
        kb_put_str(o, "created", kb_col_null(st, 5));
        kb_put_str(o, "modified", kb_col_null(st, 6));
        kb_put_str(o, "text", kb_col_null(st, 7));
        kb_put_json(o, "metadata", kb_col_null(st, 8));
        if (sqlite3_column_int(st, 9))
            json_object_set_new(o, "deleted", json_true());
        if (kb_emit(out, o) < 0) {
            sqlite3_reset(st);
            goto write_fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto sql_fail;

    st = kb_prepare(
        kb, "SELECT e.id, e.key, n.path, t.title, t.body, e.summary, e.metadata FROM "
            "knowledge_entries e JOIN knowledge_tree n ON n.id = e.tree_node_id "
            "JOIN entry_text t ON t.id = e.text_id WHERE e.client_id = ? ORDER BY n.path, e.key");
    sqlite3_stmt *ds = kb_prepare(kb, "SELECT s.name, d.external_id FROM entry_documents ed JOIN "
                                      "documents d ON d.id = ed.document_id JOIN sources s ON "
                                      "s.id = d.source_id WHERE ed.entry_id = ? ORDER BY s.name, "
                                      "d.external_id");
    if (!st || !ds)
        goto sql_fail;
    sqlite3_bind_int64(st, 1, cid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object(), *docs = json_array();
        json_object_set_new(o, "kind", json_string("entry"));
        kb_put_str(o, "key", kb_col(st, 1));
        kb_put_str(o, "path", kb_col(st, 2));
        kb_put_str(o, "title", kb_col(st, 3));
        kb_put_str(o, "body", kb_col(st, 4));
        kb_put_str(o, "summary", kb_col_null(st, 5));
        kb_put_json(o, "metadata", kb_col_null(st, 6));
        sqlite3_reset(ds);
        sqlite3_bind_int64(ds, 1, sqlite3_column_int64(st, 0));
        while (sqlite3_step(ds) == SQLITE_ROW) {
            json_t *d = json_object();
            kb_put_str(d, "source", kb_col(ds, 0));
            kb_put_str(d, "external_id", kb_col(ds, 1));
            json_array_append_new(docs, d);
        }
        sqlite3_reset(ds);
        if (json_array_size(docs))
            json_object_set_new(o, "documents", docs);
        else
            json_decref(docs);
        if (kb_emit(out, o) < 0) {
            sqlite3_reset(st);
            goto write_fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto sql_fail;

    st = kb_prepare(kb, "SELECT agent, source_type, phase, file_type, title, body, created_at "
                        "FROM forum_entries WHERE client_id = ? ORDER BY id");
    if (!st)
        goto sql_fail;
    sqlite3_bind_int64(st, 1, cid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("forum"));
        kb_put_str(o, "agent", kb_col(st, 0));
        kb_put_str(o, "source_type", kb_col(st, 1));
        kb_put_str(o, "phase", kb_col(st, 2));
        if (*kb_col(st, 3))
            kb_put_str(o, "file_type", kb_col(st, 3));
        kb_put_str(o, "title", kb_col(st, 4));
        kb_put_str(o, "body", kb_col(st, 5));
        kb_put_str(o, "created", kb_col(st, 6));
        if (kb_emit(out, o) < 0) {
            sqlite3_reset(st);
            goto write_fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto sql_fail;
    sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL);
    if (fflush(out) != 0)
        return kb_fail(kb, KB_ERROR, "cannot write the export: output error");
    return 0;

sql_fail:
    rc = kb_sqlfail(kb, "export");
    sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
write_fail:
    sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
    return kb_fail(kb, KB_ERROR, "cannot write the export: output error");
}

/* Up to max bytes of s on one line, cut at a character boundary. */
static void kb_put_excerpt(FILE *out, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], out);
    if (n < strlen(s))
        fputs("…", out);
}

int kb_export_markdown(struct kb *kb, const char *client, FILE *out)
{
    int64_t cid;
    sqlite3_stmt *st;
    int rc;

    if ((rc = kb_client_id(kb, client, 0, &cid)) < 0)
        return rc;
    fprintf(out, "# %s\n", client);
    /* Entry ids follow the tree, so ordering nodes and entries by id range
     * walks the tree depth first with each node's own entries first. */
    st = kb_prepare(kb, "SELECT n.level, n.title, n.path, n.summary, t.title, e.summary, t.body, "
                        "e.id FROM knowledge_tree n LEFT JOIN knowledge_entries e ON "
                        "e.id BETWEEN n.base + 1 AND n.base + 65535 LEFT JOIN entry_text t ON "
                        "t.id = e.text_id WHERE "
                        "n.client_id = ? ORDER BY n.base, e.id");
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, cid);
    const char *last_path = NULL;
    char *lp = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = kb_col(st, 2);
        if (!last_path || strcmp(last_path, path) != 0) {
            int level = sqlite3_column_int(st, 0);
            fprintf(out, "\n%.*s %s\n\n`%s`\n", level + 1, "####", kb_col(st, 1), path);
            if (kb_col_null(st, 3))
                fprintf(out, "\n%s\n", kb_col(st, 3));
            fputc('\n', out);
            free(lp);
            last_path = lp = strdup(path);
        }
        if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
            const char *sum = kb_col_null(st, 5) ? kb_col(st, 5) : kb_col(st, 6);
            fprintf(out, "- **%s** (#%lld): ", kb_col(st, 4),
                    (long long)sqlite3_column_int64(st, 7));
            kb_put_excerpt(out, sum, 240);
            fputc('\n', out);
        }
    }
    free(lp);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "export");
    if (fflush(out) != 0 || ferror(out))
        return kb_fail(kb, KB_ERROR, "cannot write the export: output error");
    return 0;
}
