/*
 * A deterministic explorer: the toolkit's "explore" section names its list
 * and fetch tools, so the same loop serves every source type. An LLM planner
 * can replace this loop later; the protocol stays the same.
 */
#include "explorer.h"

#include "extract.h"
#include "proto.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPLORER_PAGE 200

struct explorer {
    struct proto_conn c;
    const char *list_tool, *fetch_tool;
    int fault;
    long docs, bytes, skipped, errors;
    /* file-type habits of this source, for the forum */
    struct {
        char ext[16];
        long n;
    } types[32];
    int ntypes;
};

static void ex_log(struct explorer *ex, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ex_log(struct explorer *ex, const char *level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *p = json_object();

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object_set_new(p, "level", json_string(level));
    json_object_set_new(p, "message", json_string(msg));
    proto_notify(&ex->c, "log", p);
}

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

    if (!dot || (slash && dot < slash) || dot == path || (slash && dot == slash + 1))
        return "";
    for (const char *p = dot + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return dot + 1;
    return ""; /* "GPL-3.0", "notes.1": a version, not a file type */
}

static void count_type(struct explorer *ex, const char *path)
{
    char ext[16];
    const char *e = ext_of(path);
    size_t n = strlen(e);
    int i;

    if (n >= sizeof ext)
        n = 0;
    for (size_t k = 0; k < n; k++)
        ext[k] = (char)(e[k] >= 'A' && e[k] <= 'Z' ? e[k] - 'A' + 'a' : e[k]);
    ext[n] = '\0';
    for (i = 0; i < ex->ntypes; i++)
        if (strcmp(ex->types[i].ext, ext) == 0)
            break;
    if (i == ex->ntypes) {
        if (ex->ntypes == 32)
            return;
        memcpy(ex->types[i].ext, ext, n + 1);
        ex->types[i].n = 0;
        ex->ntypes++;
    }
    ex->types[i].n++;
}

static json_t *call_tool(struct explorer *ex, const char *name, json_t *args)
{
    json_t *params = json_object(), *res = NULL;
    int code;

    json_object_set_new(params, "name", json_string(name));
    json_object_set_new(params, "arguments", args);
    if (proto_call(&ex->c, "tools/call", params, &res, &code) < 0)
        return NULL;
    if (json_is_true(json_object_get(res, "isError"))) {
        json_t *content = json_array_get(json_object_get(res, "content"), 0);
        snprintf(ex->c.err, sizeof ex->c.err, "%s: %s", name,
                 json_string_value(json_object_get(content, "text"))
                     ? json_string_value(json_object_get(content, "text"))
                     : "tool error");
        json_decref(res);
        return NULL;
    }
    return res;
}

static void inject_fault(struct explorer *ex)
{
    switch (ex->fault) {
    case FAULT_CRASH:
        abort();
    case FAULT_HANG:
        for (;;)
            pause();
    case FAULT_OVERSIZE: {
        unsigned char hdr[4] = {0x7f, 0xff, 0xff, 0xff};
        if (write(ex->c.fd, hdr, 4) != 4)
            _exit(3);
        pause();
        _exit(3);
    }
    case FAULT_GARBAGE:
        if (write(ex->c.fd, "\0\0\0\5hello", 9) != 9)
            _exit(3);
        pause();
        _exit(3);
    case FAULT_FORBIDDEN: {
        json_t *r = call_tool(ex, "delete_everything", json_object());
        json_decref(r);
        ex_log(ex, "warn", "forbidden tool call was refused: %s", ex->c.err);
        break;
    }
    }
    ex->fault = FAULT_NONE;
}

struct emit_ctx {
    struct explorer *ex;
    json_t *file; /* the listing's item */
    const char *path;
    int failed; /* the master is gone */
};

/* Sends one extracted document: the file itself or one of its parts. */
static int emit_doc(const struct extract_doc *d, void *arg)
{
    struct emit_ctx *c = arg;
    struct buf id = BUF_INIT;
    json_t *doc = json_object(), *meta = d->metadata ? json_deep_copy(d->metadata) : json_object();
    const char *base = strrchr(c->path, '/') ? strrchr(c->path, '/') + 1 : c->path;

    buf_adds(&id, c->path);
    if (d->part) {
        buf_addch(&id, '#');
        buf_adds(&id, d->part);
        json_object_set_new(meta, "part", json_string(d->part));
        if (d->parent_part)
            json_object_set_new(meta, "parent_part", json_string(d->parent_part));
        json_object_set_new(meta, "container", json_string(c->path));
    } else {
        json_object_set(meta, "size", json_object_get(c->file, "size"));
        json_object_set(meta, "mtime_ns", json_object_get(c->file, "mtime_ns"));
    }
    json_object_set_new(meta, "file_type", json_string(ext_of(d->part ? d->part : c->path)));
    json_object_set_new(doc, "external_id", json_string(buf_str(&id)));
    json_object_set_new(doc, "title", json_string(d->title ? d->title : base));
    json_object_set_new(doc, "mime", json_string(d->mime ? d->mime : "application/octet-stream"));
    if (d->author)
        json_object_set_new(doc, "author", json_string(d->author));
    if (d->created)
        json_object_set_new(doc, "created", json_string(d->created));
    if (d->modified)
        json_object_set_new(doc, "modified", json_string(d->modified));
    json_object_set_new(doc, "text", json_stringn(d->text ? d->text : "", d->text_len));
    json_object_set_new(doc, "metadata", meta);
    if (json_object_get(meta, "extract_error"))
        c->ex->errors++;
    buf_release(&id);
    if (proto_notify(&c->ex->c, "docs/emit", doc) < 0) {
        c->failed = 1;
        return 1;
    }
    c->ex->docs++;
    return 0;
}

/* Fetches, extracts and emits one file. Returns 0, or -1 when the master is gone. */
static int explore_file(struct explorer *ex, json_t *file)
{
    const char *path = json_string_value(json_object_get(file, "path"));
    json_t *args = json_object(), *res;
    struct emit_ctx c = {ex, file, path, 0};
    char err[256] = "";
    const char *local;

    json_object_set_new(args, "path", json_string(path));
    res = call_tool(ex, ex->fetch_tool, args);
    if (!res) {
        ex->errors++;
        ex_log(ex, "error", "fetch '%s': %s", path, ex->c.err);
        return strstr(ex->c.err, "connection") ? -1 : 0;
    }
    local = json_string_value(json_object_get(json_object_get(res, "structuredContent"), "file"));
    if (!local) {
        ex->errors++;
        ex_log(ex, "error", "fetch '%s': no file in the result", path);
    } else if (extract_file(local, path, NULL, emit_doc, &c, err, sizeof err) < 0) {
        ex_log(ex, "error", "extract '%s': %s", path, err);
    }
    if (local)
        unlink(local);
    ex->bytes += (long)json_integer_value(json_object_get(file, "size"));
    json_decref(res);
    if (c.failed)
        return -1;
    if (ex->fault)
        inject_fault(ex);
    return 0;
}

/* What this source taught us, for later onboardings of the same source type. */
static void post_findings(struct explorer *ex, const char *source_type, long total)
{
    char body[1024];
    size_t off = 0;
    int best = -1;
    json_t *p, *r = NULL;

    if (ex->ntypes == 0)
        return;
    for (int i = 0; i < ex->ntypes; i++)
        if (best < 0 || ex->types[i].n > ex->types[best].n)
            best = i;
    off += (size_t)snprintf(body + off, sizeof body - off, "%ld files. File types:", total);
    for (int i = 0; i < ex->ntypes && off < sizeof body - 40; i++)
        off += (size_t)snprintf(body + off, sizeof body - off, " %s %ld%s",
                                ex->types[i].ext[0] ? ex->types[i].ext : "(none)", ex->types[i].n,
                                i + 1 < ex->ntypes ? "," : ".");
    p = json_object();
    json_object_set_new(p, "title", json_string("file types of this source"));
    json_object_set_new(p, "body", json_string(body));
    json_object_set_new(p, "file_type", json_string(ex->types[best].ext));
    (void)source_type;
    if (proto_call(&ex->c, "forum/post", p, &r, NULL) < 0)
        ex_log(ex, "warn", "forum post refused: %s", ex->c.err);
    json_decref(r);
}

int explorer_main(int fd, void *arg)
{
    struct explorer ex;
    json_t *hello = json_object(), *welcome = NULL, *task, *after = NULL;
    const char *source_type;
    long listed = 0;
    int rc = 1;

    (void)arg;
    memset(&ex, 0, sizeof ex);
    proto_conn_init(&ex.c, fd, PROTO_MAX_FRAME);
    json_object_set_new(hello, "role", json_string("explorer"));
    json_object_set_new(hello, "version", json_integer(PROTO_VERSION));
    if (proto_call(&ex.c, "hello", hello, &welcome, NULL) < 0)
        goto out;
    task = json_object_get(welcome, "task");
    ex.list_tool = json_string_value(json_object_get(json_object_get(task, "explore"), "list"));
    ex.fetch_tool = json_string_value(json_object_get(json_object_get(task, "explore"), "fetch"));
    ex.fault = (int)json_integer_value(json_object_get(task, "fault"));
    source_type = json_string_value(json_object_get(task, "source_type"));
    if (!ex.list_tool || !ex.fetch_tool) {
        ex_log(&ex, "error", "the toolkit names no list and fetch tools to explore with");
        goto out;
    }
    /* Resume from the checkpoint: everything up to it is already stored. */
    json_t *cp0 = json_object_get(task, "checkpoint");
    after = json_incref(json_object_get(cp0, "after"));
    if (after) {
        const char *ext;
        json_t *n;
        listed = (long)json_integer_value(json_object_get(cp0, "listed"));
        json_object_foreach(json_object_get(cp0, "types"), ext, n)
        {
            if (ex.ntypes < 32 && strlen(ext) < sizeof ex.types[0].ext) {
                memcpy(ex.types[ex.ntypes].ext, ext, strlen(ext) + 1);
                ex.types[ex.ntypes++].n = (long)json_integer_value(n);
            }
        }
    }
    if (ex.fault == FAULT_OVERSIZE || ex.fault == FAULT_GARBAGE || ex.fault == FAULT_FORBIDDEN)
        inject_fault(&ex);
    /* bench/pipeline: many small brokered calls (a one-file page each) */
    for (long k = json_integer_value(json_object_get(task, "bench_calls")); k > 0; k--) {
        json_t *args = json_object(), *res;
        json_object_set_new(args, "limit", json_integer(1));
        res = call_tool(&ex, ex.list_tool, args);
        if (!res)
            goto out;
        json_decref(res);
    }
    for (;;) {
        json_t *args = json_object(), *res, *sc, *files, *f;
        size_t i;

        json_object_set_new(args, "limit", json_integer(EXPLORER_PAGE));
        if (after)
            json_object_set(args, "after", after);
        res = call_tool(&ex, ex.list_tool, args);
        if (!res) {
            ex_log(&ex, "error", "list: %s", ex.c.err);
            goto out;
        }
        sc = json_object_get(res, "structuredContent");
        files = json_object_get(sc, "files");
        json_array_foreach(files, i, f)
        {
            listed++;
            count_type(&ex, json_string_value(json_object_get(f, "path")));
            if (json_is_true(json_object_get(f, "known"))) {
                ex.skipped++;
                continue;
            }
            if (explore_file(&ex, f) < 0) {
                json_decref(res);
                goto out;
            }
        }
        json_t *next = json_object_get(sc, "next");
        if (json_array_size(files) > 0) {
            json_t *cp = json_object();
            json_decref(after);
            after = json_incref(
                json_object_get(json_array_get(files, json_array_size(files) - 1), "path"));
            json_object_set(cp, "after", after);
            /* what the finding at the end needs, so a resumed run posts the same */
            json_object_set_new(cp, "listed", json_integer(listed));
            json_t *types = json_object();
            for (int t = 0; t < ex.ntypes; t++)
                json_object_set_new(types, ex.types[t].ext, json_integer(ex.types[t].n));
            json_object_set_new(cp, "types", types);
            json_t *st = json_object();
            json_object_set_new(st, "state", cp);
            json_t *r = NULL;
            if (proto_call(&ex.c, "checkpoint", st, &r, NULL) < 0) {
                json_decref(res);
                goto out;
            }
            json_decref(r);
            json_t *pr = json_object();
            json_object_set_new(pr, "items", json_integer(listed));
            json_object_set_new(pr, "documents", json_integer(ex.docs));
            json_object_set_new(pr, "bytes", json_integer(ex.bytes));
            proto_notify(&ex.c, "progress", pr);
        }
        int last = !json_is_string(next);
        json_decref(res);
        if (last)
            break;
    }
    post_findings(&ex, source_type, listed);
    {
        json_t *pr = json_object(), *r = NULL;
        json_object_set_new(pr, "items", json_integer(listed));
        json_object_set_new(pr, "documents", json_integer(ex.docs));
        json_object_set_new(pr, "bytes", json_integer(ex.bytes));
        json_object_set_new(pr, "done", json_true());
        /* a call, not a notification: exit only once the master has everything */
        if (proto_call(&ex.c, "progress", pr, &r, NULL) == 0)
            rc = 0;
        json_decref(r);
    }
out:
    json_decref(after);
    json_decref(welcome);
    proto_conn_release(&ex.c);
    return rc;
}
