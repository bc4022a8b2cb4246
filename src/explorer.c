/*
 * A deterministic explorer: the toolkit's "explore" section names its list
 * and fetch tools, so the same loop serves every source type. An LLM planner
 * can replace this loop later; the protocol stays the same.
 */
#include "explorer.h"

#include "extract.h"
#include "planner.h"
#include "proto.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct explorer {
    struct proto_conn c;
    int fault;
    long docs, bytes, errors;
    struct extract_limits lim; /* the source's "extract" settings; zeros: defaults */
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

/* Calls a tool (args consumed); NULL with the reason in ex->c.err. first: the
 * call overtakes the documents and checkpoint still batched (see PLAN_LIST). */
static json_t *call_tool_first(struct explorer *ex, const char *name, json_t *args, int first)
{
    json_t *params = json_object(), *res = NULL;
    int code;
    long id;

    json_object_set_new(params, "name", json_string(name));
    json_object_set_new(params, "arguments", args);
    id = proto_call_send(&ex->c, "tools/call", params, first);
    if (id < 0 || proto_call_wait(&ex->c, id, "tools/call", &res, &code) < 0)
        return NULL;
    if (ex->c.ahead_failed) { /* a checkpoint sent ahead was refused */
        snprintf(ex->c.err, sizeof ex->c.err, "checkpoint: %.140s", ex->c.ahead_err);
        json_decref(res);
        return NULL;
    }
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

static json_t *call_tool(struct explorer *ex, const char *name, json_t *args)
{
    return call_tool_first(ex, name, args, 0);
}

static void inject_fault(struct explorer *ex)
{
    proto_flush(&ex->c); /* what was emitted before the fault reaches the master */
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
    const json_t *file;    /* the listing's item */
    const json_t *fetched; /* the fetch tool's result (its "metadata": what the source says) */
    const char *path;
    int failed; /* the master is gone */
    struct plan_outcome out;
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
        /* the source's own metadata (e.g. Gmail labels); the file's text wins */
        if (json_is_object(json_object_get(c->fetched, "metadata")))
            json_object_update_missing(meta, json_object_get(c->fetched, "metadata"));
    }
    char ftype[16];
    extract_file_type(d->part ? d->part : c->path, ftype);
    json_object_set_new(meta, "file_type", json_string(ftype));
    json_object_set_new(doc, "external_id", json_string(buf_str(&id)));
    json_object_set_new(doc, "title", json_string(d->title ? d->title : base));
    json_object_set_new(doc, "mime", json_string(d->mime ? d->mime : "application/octet-stream"));
    if (d->author)
        json_object_set_new(doc, "author", json_string(d->author));
    if (d->created)
        json_object_set_new(doc, "created", json_string(d->created));
    if (d->modified)
        json_object_set_new(doc, "modified", json_string(d->modified));
    json_object_set_new(doc, "metadata", meta);
    /* The text travels raw beside the JSON (no escaping, no parsing); the
     * master refuses a frame whose text is not clean UTF-8, so make sure. */
    const char *text = d->text ? d->text : "";
    size_t tlen = d->text ? d->text_len : 0;
    struct buf clean = BUF_INIT;
    if (!extract_utf8_valid(text, tlen)) {
        buf_init(&clean, EXTRACT_MAX_TEXT);
        extract_utf8_clean(&clean, text, tlen);
        text = buf_str(&clean);
        tlen = clean.len;
    }
    if (json_object_get(meta, "extract_error")) {
        c->ex->errors++;
        c->out.errors++;
    }
    c->out.docs++;
    c->out.text_bytes += (long)d->text_len;
    buf_release(&id);
    /* batched: the next call (a fetch, the checkpoint) takes them along */
    int sent = proto_notify_text_batched(&c->ex->c, "docs/emit", doc, text, tlen);
    buf_release(&clean);
    if (sent < 0) {
        c->failed = 1;
        return 1;
    }
    c->ex->docs++;
    return 0;
}

/* Fetches, extracts and emits one file for the planner's step. Returns 0,
 * or -1 when the master is gone. */
static int explore_file(struct explorer *ex, const struct planner_ops *pl, void *ps,
                        struct plan_step *step)
{
    const char *path = json_string_value(json_object_get(step->item, "path"));
    json_t *res;
    struct emit_ctx c = {ex, step->item, NULL, path, 0, {0, 0, 0, NULL}};
    char err[256] = "";
    const char *local;
    json_t *sc;

    /* The listing carried the item's content: plain text becomes its document
     * here, without a fetch (a round trip and a file); anything else is
     * fetched and extracted as a file like any item. */
    const json_t *content = json_object_get(step->item, "content");
    if (json_is_string(content) && ex->fault != FAULT_STALL &&
        extract_text_as_is(path, json_string_value(content), json_string_length(content))) {
        struct extract_doc d = {0};
        json_t *meta = json_object();
        d.title = path;
        d.mime = "text/plain";
        d.text = json_string_value(content);
        d.text_len = json_string_length(content);
        d.metadata = meta;
        emit_doc(&d, &c);
        json_decref(meta);
        ex->bytes += (long)json_integer_value(json_object_get(step->item, "size"));
        pl->observe(ps, step, step->item, NULL, &c.out);
        if (c.failed)
            return -1;
        if (ex->fault)
            inject_fault(ex);
        return 0;
    }
    res = call_tool(ex, step->tool, json_incref(step->args));
    if (!res) {
        ex->errors++;
        ex_log(ex, "error", "fetch '%s': %s", path, ex->c.err);
        pl->observe(ps, step, NULL, ex->c.err, NULL);
        return strstr(ex->c.err, "connection") ? -1 : 0;
    }
    sc = json_object_get(res, "structuredContent");
    c.fetched = sc;
    local = json_string_value(json_object_get(sc, "file"));
    if (!local) {
        ex->errors++;
        c.out.error = "no file in the result";
        ex_log(ex, "error", "fetch '%s': no file in the result", path);
    } else if (ex->fault == FAULT_STALL) {
        for (;;) /* stuck in a parser: the master's per-file watchdog ends it */
            pause();
    } else if (extract_file(local, path, &ex->lim, emit_doc, &c, err, sizeof err) < 0) {
        c.out.error = err;
        ex_log(ex, "error", "extract '%s': %s", path, err);
    }
    /* a file the master rewrites for the next fetch ("reuse") stays: an
     * unlink and a create per item cost more than the copy (ext4) */
    if (local && !json_is_true(json_object_get(sc, "reuse")))
        unlink(local);
    ex->bytes += (long)json_integer_value(json_object_get(step->item, "size"));
    pl->observe(ps, step, sc, NULL, &c.out);
    json_decref(res);
    if (c.failed)
        return -1;
    if (ex->fault)
        inject_fault(ex);
    return 0;
}

/* Posts the planner's findings; a pattern free of client data may be shared
 * with every client by the master. */
static void post_findings(struct explorer *ex, json_t *findings)
{
    size_t i;
    json_t *f;

    json_array_foreach(findings, i, f)
    {
        json_t *r = NULL;
        if (proto_call(&ex->c, "forum/post", json_incref(f), &r, NULL) < 0)
            ex_log(ex, "warn", "forum post refused: %s", ex->c.err);
        json_decref(r);
    }
}

/* Forum patterns for this source type (the master scopes the search). */
static json_t *read_patterns(struct explorer *ex)
{
    json_t *q = json_object(), *r = NULL, *out;

    json_object_set_new(q, "query", json_string("skip types"));
    json_object_set_new(q, "phase", json_string("explore"));
    json_object_set_new(q, "limit", json_integer(20));
    if (proto_call(&ex->c, "forum/search", q, &r, NULL) < 0) {
        ex_log(ex, "warn", "forum search failed: %s", ex->c.err);
        return json_array();
    }
    out = json_incref(json_object_get(r, "findings"));
    json_decref(r);
    return out ? out : json_array();
}

static void send_progress(struct explorer *ex, long items)
{
    json_t *pr = json_object();
    json_object_set_new(pr, "items", json_integer(items));
    json_object_set_new(pr, "documents", json_integer(ex->docs));
    json_object_set_new(pr, "bytes", json_integer(ex->bytes));
    proto_notify_text_batched(&ex->c, "progress", pr, NULL, 0); /* with the next call */
}

int explorer_main(int fd, void *arg)
{
    const struct planner_ops *pl = &planner_heuristic;
    struct explorer ex;
    json_t *hello = json_object(), *welcome = NULL, *task, *patterns = NULL, *bj;
    struct plan_budget budget = {0};
    void *ps = NULL;
    long listed = 0;
    int rc = 1;

    (void)arg;
    /* Parsers free thousands of small nodes between large text buffers;
     * with fastbins, each large request first consolidates them all (a
     * fifth of the explorer's time on /usr/share/doc, bench/extract). */
    mallopt(M_MXFAST, 0);
    /* A file's bytes, its unpacked bytes and its text are large blocks
     * allocated and freed per file: kept in the heap (not mapped and
     * unmapped, the heap not trimmed and grown again) they cost no page
     * faults the next time (5% of the explorer on /usr/share/doc). */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    memset(&ex, 0, sizeof ex);
    proto_conn_init(&ex.c, fd, PROTO_MAX_FRAME);
    json_object_set_new(hello, "role", json_string("explorer"));
    json_object_set_new(hello, "version", json_integer(PROTO_VERSION));
    if (proto_call(&ex.c, "hello", hello, &welcome, NULL) < 0)
        goto out;
    task = json_object_get(welcome, "task");
    ex.fault = (int)json_integer_value(json_object_get(task, "fault"));
    {
        json_t *xl = json_object_get(task, "extract");
        ex.lim.max_depth = (int)json_integer_value(json_object_get(xl, "max_depth"));
        ex.lim.max_parts = (long)json_integer_value(json_object_get(xl, "max_parts"));
        ex.lim.max_expanded = (long long)json_integer_value(json_object_get(xl, "max_expanded"));
        ex.lim.max_ratio = json_number_value(json_object_get(xl, "max_ratio"));
        ex.lim.max_seconds = json_number_value(json_object_get(xl, "max_seconds"));
    }
    bj = json_object_get(task, "budget");
    budget.max_items = (long)json_integer_value(json_object_get(bj, "max_items"));
    budget.max_bytes = json_integer_value(json_object_get(bj, "max_bytes"));
    budget.max_depth = (int)json_integer_value(json_object_get(bj, "max_depth"));
    budget.max_seconds = json_number_value(json_object_get(bj, "max_seconds"));
    if (ex.fault == FAULT_OVERSIZE || ex.fault == FAULT_GARBAGE || ex.fault == FAULT_FORBIDDEN)
        inject_fault(&ex);
    patterns = read_patterns(&ex);
    ps = pl->start(task, json_object_get(welcome, "tools"), patterns, &budget);
    if (!ps) {
        ex_log(&ex, "error", "the toolkit names no list and fetch tools to explore with");
        goto out;
    }
    /* bench/pipeline: many small brokered calls (a one-file page each) */
    const char *list_tool =
        json_string_value(json_object_get(json_object_get(task, "explore"), "list"));
    for (long k = json_integer_value(json_object_get(task, "bench_calls")); k > 0; k--) {
        json_t *args = json_object(), *res;
        json_object_set_new(args, "limit", json_integer(1));
        res = call_tool(&ex, list_tool, args);
        if (!res)
            goto out;
        json_decref(res);
    }
    for (;;) {
        struct plan_step step;
        json_t *res;

        pl->next(ps, &step);
        if (step.kind == PLAN_DONE)
            break;
        switch (step.kind) {
        case PLAN_LIST:
            /* The next page is asked for ahead of the last page's documents
             * and checkpoint, still batched: the master answers it (from its
             * read-ahead) first and stores them while this page is worked on. */
            res = call_tool_first(&ex, step.tool, json_incref(step.args), 1);
            if (!res)
                ex_log(&ex, "error", "list: %s", ex.c.err);
            pl->observe(ps, &step, res ? json_object_get(res, "structuredContent") : NULL, ex.c.err,
                        NULL);
            json_decref(step.args);
            if (!res)
                goto out; /* the master retries the source from its checkpoint */
            json_decref(res);
            break;
        case PLAN_FETCH: {
            int e = explore_file(&ex, pl, ps, &step);
            json_decref(step.args);
            if (e < 0)
                goto out;
            break;
        }
        case PLAN_CHECKPOINT: {
            json_t *st = json_object();
            listed = (long)json_integer_value(json_object_get(step.args, "listed"));
            json_object_set_new(st, "state", step.args);
            /* not waited for: the next call's wait takes its answer (a refusal
             * stops the exploration there), so storage and extraction overlap */
            if (proto_call_send(&ex.c, "checkpoint", st, 0) < 0)
                goto out;
            send_progress(&ex, listed);
            break;
        }
        case PLAN_DONE:
            break;
        }
    }
    json_t *findings = pl->findings(ps);
    post_findings(&ex, findings);
    json_decref(findings);
    {
        json_t *pr = json_object(), *r = NULL;
        json_object_set_new(pr, "items", json_integer(listed));
        json_object_set_new(pr, "documents", json_integer(ex.docs));
        json_object_set_new(pr, "bytes", json_integer(ex.bytes));
        json_object_set_new(pr, "done", json_true());
        /* a call, not a notification: exit only once the master has everything */
        if (proto_call(&ex.c, "progress", pr, &r, NULL) == 0 && !ex.c.ahead_failed)
            rc = 0;
        json_decref(r);
    }
out:
    if (ps)
        pl->free(ps);
    json_decref(patterns);
    json_decref(welcome);
    proto_conn_release(&ex.c);
    return rc;
}
