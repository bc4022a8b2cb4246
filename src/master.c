/*
 * The onboarding master. One poll() loop over the explorers' sockets and a
 * signalfd; requests are dispatched through a table of methods allowed per
 * state (OpenSSH's mon_dispatch); tools run in the master through a table of
 * drivers; documents are committed in batches together with the checkpoint
 * that covers them, so a checkpoint never runs ahead of its data.
 */
#include "master.h"

#include "extract.h"
#include "master_writer.h"
#include "structurer.h"

#include "buf.h"
#include "driver.h"
#include "explorer.h"
#include "jsonschema.h"
#include "netloop.h"
#include "proto.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MASTER_COMMIT_DOCS 500
#define MASTER_QUEUE_DOCS 512                 /* documents queued for the writer at most */
#define MASTER_QUEUE_BYTES ((size_t)64 << 20) /* and their text */
#define MASTER_COMMIT_MS 1000
#define MASTER_CKPT_COMMITS 4 /* the write-ahead log holds about this many copies' worth */
/* The log is copied after a commit once this much was stored since the last
 * copy: commits of a few small documents each (a checkpoint per listed page
 * of tiny API records) would each pay a copy and its fsync. */
#define MASTER_CKPT_BYTES ((size_t)4 << 20)
#define MASTER_TICK_MS 100 /* how often the writer looks at the open transaction */
#define MASTER_MAX_REFUSED 16
#define MASTER_MAX_FILE ((int64_t)256 << 20)
#define MASTER_RECENT 64
#define MASTER_ENTRY_BODY ((size_t)64 << 10)

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_SKIPPED };

/* How a child ended, for the run record: a violation is not a crash. */
enum job_end { END_NONE, END_EXIT, END_CRASH, END_DEADLINE, END_VIOLATION, END_INTERRUPTED };

struct job {
    const struct source_def *def;
    int64_t source_id;
    enum job_state state;
    int attempts;
    struct worker w;
    struct proto_conn conn;
    int ready, done;
    enum job_end end;
    char ws[512];
    const struct driver_ops *drv;
    struct driver_source ds; /* ds.payload_dirfd is ws/in */
    int drv_open;
    json_t *checkpoint; /* {"after": ..., "complete": bool} */
    char *fault;        /* test-only fault kind for this source */
    int fault_once;
    /* the file being fetched when a child died is skipped on the retry */
    char *inflight;
    json_t *poison; /* array of paths */
    /* parts (ids with '#') and their containers emitted this run: a container
     * extracted again keeps only the parts it still holds */
    json_t *parts;
    /* The per-file watchdog: a file the explorer still extracts after twice
     * its time budget (extract.max_seconds) and 5 s is stuck where the
     * extractors' own checks cannot see (inside a library): the explorer is
     * stopped, the file recorded with the reason, and the source resumed. */
    double file_t0, file_budget, file_size;
    int budget_killed, budget_kills;
    struct {
        char *path, *version;
    } recent[MASTER_RECENT];
    int recent_next;
    /* path -> version of the items the last two listings carried (the explorer
     * asks for a page before it sends the documents of the one before) */
    json_t *inline_versions, *inline_prev;
    struct timespec started, deadline;
    double elapsed_s;
    struct master *m;
    unsigned gen;              /* bumped per child: late answers for a dead child are dropped */
    json_t *cur_id;            /* id of the request being dispatched (borrowed) */
    struct driver_call *calls; /* tools/call answers a driver still owes */
    /* statistics */
    long items, bytes, docs_new, docs_updated, docs_unchanged, docs_deleted;
    long tool_calls, refused, errors, retries, violations;
    long store_errors; /* the writer's: documents it could not store */
    double *lat;
    size_t nlat, alat;
    char error[400];
    char last_tool_error[300]; /* the latest failed tool call, for a child that gives up */
};

/* A tools/call a driver answers later (DRIVER_PENDING). */
struct driver_call {
    struct job *j;
    unsigned gen;
    json_t *id;
    double t0;
    char *target; /* the item being fetched, for poisoning */
    struct driver_call *next;
};

/* A handler's *code when the reply comes later, from driver_complete(). */
#define MASTER_DEFERRED 1

/* Most sockets libcurl may ask the loop to watch at once. */
#define MASTER_NET_FDS 256

struct master {
    struct kb *kb;
    struct netloop *net;
    const struct registry *reg;
    const struct sources *src;
    const struct master_opts *o;
    int64_t client_id, run_id;
    struct job *jobs;
    size_t njobs;
    int jobs_max, running;
    int sigfd;
    int interrupted;
    int sandbox_noted; /* missing layers were logged */
    int in_tx;
    long tx_docs;
    struct timespec tx_started, last_draw;
    int drawn_lines;
    char root[512];
    FILE *log;
    struct sphase phase; /* documents for the structure phase */
    /* Storage runs on the writer thread while this loop answers the
     * explorers; the KB and the fields the writer uses (in_tx, tx_docs,
     * phase, the jobs' document counts) are the loop's only while it holds
     * them (hold/release). */
    struct mwriter *w;
    int held;
    /* A read-only handle on the same file for the drivers' "is this version
     * known?" lookups: a listing never waits for the writer (a commit with
     * its FTS flush takes a while). It sees what is committed; the
     * documents still queued are of items listed before, not of this page. */
    struct kb *reader;
    /* Its own handle copies the write-ahead log into the database after
     * the writer's commits (a third of the writer's non-FTS time when the
     * writer did it itself), so that work uses the other core. */
    struct kb *ckpt_kb;
    struct mhelper *ckpt;
    int ckpt_commits;  /* copies asked for since the log last started over */
    size_t ckpt_bytes; /* stored since the last copy was asked for (about) */
};

/* ---- small helpers -------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double ts_s(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void logf_(struct master *m, struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* the loop and the writer thread both log */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void logf_(struct master *m, struct job *j, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&log_mu);
    if (m->o->live && m->drawn_lines) {
        fprintf(m->log, "\033[%dA\033[J", m->drawn_lines); /* erase the live block first */
        m->drawn_lines = 0;
    }
    fprintf(m->log, "trawl: %s%s%s", j ? "[" : "", j ? j->def->name : "", j ? "] " : "");
    va_start(ap, fmt);
    vfprintf(m->log, fmt, ap);
    va_end(ap);
    fputc('\n', m->log);
    fflush(m->log);
    pthread_mutex_unlock(&log_mu);
}

static void slug_into(struct buf *b, const char *s, size_t n)
{
    size_t start = b->len;
    int dash = 0;

    for (size_t i = 0; i < n && b->len - start < 60; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && b->len > start)
                buf_addch(b, '-');
            buf_addch(b, c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    if (b->len == start)
        buf_addch(b, 'x');
}

static void job_lat(struct job *j, double ms)
{
    if (j->nlat == j->alat) {
        size_t na = j->alat ? j->alat * 2 : 256;
        double *nl = realloc(j->lat, na * sizeof *nl);
        if (!nl)
            return;
        j->lat = nl;
        j->alat = na;
    }
    j->lat[j->nlat++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return v[i ? i - 1 : 0];
}

/* ---- transactions ---------------------------------------------------------------- */

static int tx_ensure(struct master *m)
{
    if (m->in_tx)
        return 0;
    /* The log starts over only under a transaction that began once all of
     * it was copied: now and then, wait for the copy (of the last commit,
     * the rest is done) so that it stays a few commits long. */
    if (m->ckpt && m->ckpt_commits >= MASTER_CKPT_COMMITS) {
        mhelper_wait(m->ckpt);
        m->ckpt_commits = 0;
    }
    if (kb_begin(m->kb) < 0)
        return -1;
    m->in_tx = 1;
    m->tx_docs = 0;
    clock_gettime(CLOCK_MONOTONIC, &m->tx_started);
    return 0;
}

static int tx_commit(struct master *m)
{
    if (!m->in_tx)
        return 0;
    m->in_tx = 0;
    if (kb_commit(m->kb) < 0) {
        logf_(m, NULL, "commit failed: %s", kb_errmsg(m->kb));
        kb_rollback(m->kb);
        return -1;
    }
    if (m->ckpt && m->ckpt_bytes >= MASTER_CKPT_BYTES) {
        mhelper_poke(m->ckpt);
        m->ckpt_bytes = 0;
        m->ckpt_commits++;
    }
    return 0;
}

static void checkpoint_wal(void *arg)
{
    struct master *m = arg;

    kb_wal_checkpoint(m->ckpt_kb); /* one that cannot finish now is finished later */
}

/* Stops the checkpoint thread; the writer's handle checkpoints again. */
static void ckpt_stop(struct master *m)
{
    if (!m->ckpt_kb)
        return;
    mhelper_free(m->ckpt);
    m->ckpt = NULL;
    kb_close(m->ckpt_kb);
    m->ckpt_kb = NULL;
    kb_wal_autocheckpoint(m->kb, 1);
}

/* The writer's clock (or the loop's, without a writer): what is stored is
 * committed within about MASTER_COMMIT_MS. */
static void writer_tick(void *arg)
{
    struct master *m = arg;

    if (m->in_tx && (now_s() - ts_s(&m->tx_started)) * 1000 >= MASTER_COMMIT_MS)
        tx_commit(m);
}

/* The loop takes the KB from the writer: with drain, once everything queued
 * is stored (a checkpoint, the end of a source), else as it stands (a read
 * that queued documents cannot change). Nests; a drain never nests in a
 * plain hold. */
static void hold(struct master *m, int drain)
{
    if (m->held++ == 0)
        drain ? mwriter_sync(m->w) : mwriter_lock(m->w);
}

static void release(struct master *m)
{
    if (--m->held == 0)
        mwriter_unlock(m->w);
}

/* ---- what drivers ask the master ------------------------------------------------------ */

static int is_poisoned(struct job *j, const char *path)
{
    size_t i;
    json_t *p;

    json_array_foreach(j->poison, i, p) if (strcmp(json_string_value(p), path) == 0) return 1;
    return 0;
}

/* Does the KB hold this version already? A file that killed an explorer
 * counts as known too: it is not tried again in this run. */
static int job_known(void *arg, const char *external_id, const char *version)
{
    struct job *j = arg;
    char *have = NULL;
    int deleted = 0, known;

    if (j->m->reader) {
        known =
            kb_document_version(j->m->reader, j->source_id, external_id, &have, &deleted) == 0 &&
            have && !deleted && strcmp(have, version) == 0;
        free(have);
        return known || is_poisoned(j, external_id);
    }
    /* inside the open transaction (the documents that follow join it): a listing's
     * hundred lookups share one read snapshot instead of locking the WAL each */
    hold(j->m, 0);
    tx_ensure(j->m);
    known = kb_document_version(j->m->kb, j->source_id, external_id, &have, &deleted) == 0 &&
            have && !deleted && strcmp(have, version) == 0;
    release(j->m);
    free(have);
    return known || is_poisoned(j, external_id);
}

static void remember_version(struct job *j, const char *external_id, const char *version)
{
    int k = j->recent_next++ % MASTER_RECENT;

    free(j->recent[k].path);
    free(j->recent[k].version);
    j->recent[k].path = strdup(external_id);
    j->recent[k].version = strdup(version);
}

/* ---- method handlers ---------------------------------------------------------------- */

/* Each returns a result (consumed by the caller) or NULL with *code/err set. */
typedef json_t *(*method_fn)(struct master *m, struct job *j, json_t *params, int *code, char *err,
                             size_t errlen);

static int fault_code(const char *f)
{
    static const char *const names[] = {"",          "crash",   "hang", "oversize",
                                        "forbidden", "garbage", "stall"};
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (f && strcmp(f, names[i]) == 0)
            return i;
    return 0;
}

static json_t *m_hello(struct master *m, struct job *j, json_t *params, int *code, char *err,
                       size_t errlen)
{
    json_t *v = json_object_get(params, "version"), *res, *task;
    const char *role = json_string_value(json_object_get(params, "role"));

    if (!role || strcmp(role, "explorer") != 0 || !json_is_integer(v) ||
        json_integer_value(v) != PROTO_VERSION) {
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "hello needs role \"explorer\" and version %d", PROTO_VERSION);
        return NULL;
    }
    j->ready = 1;
    task = json_object();
    json_object_set_new(task, "client", json_string(m->o->client));
    json_object_set_new(task, "source", json_string(j->def->name));
    json_object_set_new(task, "source_type", json_string(j->def->type));
    json_object_set_new(task, "toolkit", json_string(j->def->toolkit->name));
    json_object_set(task, "explore", json_object_get(j->def->toolkit->json, "explore"));
    json_object_set(task, "checkpoint", j->checkpoint ? j->checkpoint : json_null());
    if (json_is_object(json_object_get(j->def->json, "budget")))
        json_object_set(task, "budget", json_object_get(j->def->json, "budget"));
    { /* extraction limits: the toolkit's defaults, then the source's own */
        json_t *x = json_object(), *tx = json_object_get(j->def->toolkit->json, "extract"),
               *sx = json_object_get(j->def->json, "extract");
        if (json_is_object(tx))
            json_object_update(x, tx);
        if (json_is_object(sx))
            json_object_update(x, sx);
        if (json_object_size(x))
            json_object_set(task, "extract", x);
        j->file_budget = json_number_value(json_object_get(x, "max_seconds"));
        if (j->file_budget <= 0)
            j->file_budget = 10;
        json_decref(x);
    }
    if (j->fault && (!j->fault_once || j->attempts == 1))
        json_object_set_new(task, "fault", json_integer(fault_code(j->fault)));
    if (getenv("TRAWL_BENCH_CALLS")) /* bench/pipeline: extra small tool calls */
        json_object_set_new(task, "bench_calls", json_integer(atol(getenv("TRAWL_BENCH_CALLS"))));
    res = json_object();
    json_object_set_new(res, "task", task);
    json_object_set_new(res, "tools", toolkit_tools_list(j->def->toolkit));
    return res;
}

static json_t *m_tools_list(struct master *m, struct job *j, json_t *params, int *code, char *err,
                            size_t errlen)
{
    json_t *res = json_object();
    (void)m, (void)params, (void)code, (void)err, (void)errlen;
    json_object_set_new(res, "tools", toolkit_tools_list(j->def->toolkit));
    return res;
}

static json_t *tool_result(json_t *structured, const char *text, int is_error)
{
    json_t *res = json_object(), *content = json_array(), *t = json_object();

    json_object_set_new(t, "type", json_string("text"));
    json_object_set_new(t, "text", json_string(text));
    json_array_append_new(content, t);
    json_object_set_new(res, "content", content);
    if (structured)
        json_object_set_new(res, "structuredContent", structured);
    json_object_set_new(res, "isError", json_boolean(is_error));
    return res;
}

/* A listing whose items carry their content: the explorer extracts them without
 * a fetch, so their versions are booked here for the documents it sends. */
static void job_inline_versions(struct job *j, const json_t *files)
{
    const json_t *f;
    size_t i;

    if (!json_is_array(files))
        return; /* not a listing */
    json_decref(j->inline_prev);
    j->inline_prev = j->inline_versions;
    j->inline_versions = NULL;
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        const json_t *c = json_object_get(f, "content"), *v = json_object_get(f, "version");
        if (!path || !json_is_string(c))
            continue;
        if (!j->inline_versions)
            j->inline_versions = json_object();
        if (json_is_string(v))
            json_object_set(j->inline_versions, path, (json_t *)v);
        j->bytes += (long)json_string_length(c);
    }
}

/* Books a finished tool call and makes its result (out consumed, NULL on error). */
static json_t *tool_finish(struct job *j, double t0, json_t *out, const char *terr)
{
    job_lat(j, (now_s() - t0) * 1000.0);
    if (!out) {
        free(j->inflight);
        j->inflight = NULL;
        j->errors++;
        snprintf(j->last_tool_error, sizeof j->last_tool_error, "%s",
                 terr && *terr ? terr : "the tool failed");
        return tool_result(NULL, terr && *terr ? terr : "the tool failed", 1);
    }
    if (j->inflight && json_is_string(json_object_get(out, "file"))) {
        const char *v = json_string_value(json_object_get(out, "version"));
        j->file_t0 = now_s(); /* the explorer extracts it from now on */
        j->file_size = (double)json_integer_value(json_object_get(out, "size"));
        j->bytes += (long)json_integer_value(json_object_get(out, "size"));
        if (v)
            remember_version(j, j->inflight, v);
    } else {
        free(j->inflight);
        j->inflight = NULL;
        j->items += (long)json_array_size(json_object_get(out, "files"));
        job_inline_versions(j, json_object_get(out, "files"));
    }
    return tool_result(out, "ok", 0);
}

static json_t *m_tools_call(struct master *m, struct job *j, json_t *params, int *code, char *err,
                            size_t errlen)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    json_t *args = json_object_get(params, "arguments"), *tool, *out = NULL;
    const struct driver_ops *d;
    const char *op;
    double t0 = now_s();
    char terr[400] = "";

    j->tool_calls++;
    if (!name) {
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "tools/call needs a tool name");
        return NULL;
    }
    tool = toolkit_tool(j->def->toolkit, name);
    if (!tool) { /* scoping is the master's job, not the child's */
        j->refused++;
        *code = PROTO_EREFUSED;
        snprintf(err, errlen, "tool '%.64s' is not in the '%s' toolkit", name,
                 j->def->toolkit->name);
        logf_(m, j, "refused a call to tool '%.64s' (not in toolkit '%s')", name,
              j->def->toolkit->name);
        return NULL;
    }
    if (!args)
        args = json_object();
    else
        json_incref(args);
    if (jsonschema_check(json_object_get(tool, "parameters"), args, terr, sizeof terr) < 0) {
        json_decref(args);
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "tool '%s' arguments %s", name, terr);
        return NULL;
    }
    op = json_string_value(json_object_get(tool, "operation"));
    d = j->drv;
    if (!d || !op) {
        json_decref(args);
        *code = PROTO_EINTERNAL;
        snprintf(err, errlen, "no driver '%s' for tool '%s'", j->def->toolkit->driver, name);
        return NULL;
    }
    /* The item being fetched when a child dies is skipped on the retry. */
    const char *target = json_string_value(json_object_get(args, "path"));
    j->file_t0 = 0;
    free(j->inflight);
    j->inflight = target ? strdup(target) : NULL;
    struct driver_call *call = calloc(1, sizeof *call);
    if (!call) {
        json_decref(args);
        *code = PROTO_EINTERNAL;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    call->j = j;
    call->gen = j->gen;
    call->id = j->cur_id ? json_incref(j->cur_id) : NULL;
    call->t0 = t0;
    int rc = d->call(&j->ds, call, op, args, &out, terr, sizeof terr);
    json_decref(args);
    if (rc == DRIVER_PENDING) {
        call->next = j->calls;
        j->calls = call;
        *code = MASTER_DEFERRED;
        return NULL;
    }
    json_decref(call->id);
    free(call);
    return tool_finish(j, t0, rc < 0 ? NULL : out, terr);
}

/* The version of what the explorer fetched; sub-documents ("file#part")
 * carry the version of their container. */
static const char *recent_version(struct job *j, const char *external_id)
{
    const char *hash = strchr(external_id, '#');
    size_t n = hash ? (size_t)(hash - external_id) : strlen(external_id);
    /* sent with the last listing: newer than any fetch of an earlier attempt */
    const json_t *v =
        j->inline_versions ? json_object_getn(j->inline_versions, external_id, n) : NULL;

    if (v)
        return json_string_value(v);
    for (int i = 0; i < MASTER_RECENT; i++)
        if (j->recent[i].path && strncmp(j->recent[i].path, external_id, n) == 0 &&
            j->recent[i].path[n] == '\0')
            return j->recent[i].version;
    return j->inline_prev ? json_string_value(json_object_getn(j->inline_prev, external_id, n))
                          : NULL;
}

/* An entry for a document in a tree that follows its source and folders:
 * source / top folder / next folder. The only place of a document with
 * --structurers 0, and the fallback for documents the structure phase did
 * not get to. */
static int folder_entry(struct kb *kb, int64_t client_id, const char *source,
                        const char *source_type, const char *ext, const char *title,
                        const char *text, const char *file_type)
{
    struct buf path = BUF_INIT, key = BUF_INIT, summary = BUF_INIT, meta = BUF_INIT;
    const char *s1 = strchr(ext, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    struct kb_doc_ref ref = {source, ext};
    struct kb_entry e = {0};
    int rc;

    slug_into(&path, source, strlen(source));
    buf_addch(&path, '/');
    if (s1)
        slug_into(&path, ext, (size_t)(s1 - ext));
    else
        buf_adds(&path, "files");
    buf_addch(&path, '/');
    if (s2)
        slug_into(&path, s1 + 1, (size_t)(s2 - s1 - 1));
    else
        buf_adds(&path, "top");
    buf_addf(&key, "doc:%s:%s", source, ext);
    for (const char *p = text; *p && summary.len < 280; p++)
        buf_addch(&summary, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    while (summary.len && ((unsigned char)summary.data[summary.len - 1] & 0xc0) == 0x80)
        summary.len--; /* never cut a character in half */
    if (summary.len && (unsigned char)summary.data[summary.len - 1] >= 0xc0)
        summary.len--;
    summary.data ? (void)(summary.data[summary.len] = '\0') : (void)0;
    {
        json_t *mj = json_object();
        char *s;
        json_object_set_new(mj, "source", json_string(source));
        json_object_set_new(mj, "source_type", json_string(source_type));
        json_object_set_new(mj, "file_type", json_string(file_type ? file_type : ""));
        s = json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS);
        buf_adds(&meta, s);
        free(s);
        json_decref(mj);
    }
    /* An entry is a unit to read and rank, not an archive: its body is the
     * start of the text (cut at a character boundary); the document keeps all. */
    size_t blen = strlen(text);
    char *body = NULL;
    if (blen > MASTER_ENTRY_BODY) {
        blen = MASTER_ENTRY_BODY;
        while (blen > 0 && ((unsigned char)text[blen] & 0xc0) == 0x80)
            blen--;
        body = strndup(text, blen);
    }
    e.key = buf_str(&key);
    e.path = buf_str(&path);
    e.title = title;
    e.body = body ? body : text;
    e.summary = summary.len ? buf_str(&summary) : NULL;
    e.metadata_json = buf_str(&meta);
    e.docs = &ref;
    e.ndocs = 1;
    rc = kb_entry_upsert(kb, client_id, &e, NULL, NULL);
    free(body);
    buf_release(&path);
    buf_release(&key);
    buf_release(&summary);
    buf_release(&meta);
    return rc;
}

/* With structurers, a document waits for the structure phase: an entry
 * written now would be rewritten there (moving an entry is a delete and an
 * insert), which cost more than the rest of the phase. Documents the phase
 * does not get to are placed by folder_entry (place_unplaced, or the next
 * run's phase). Without structurers the folder place is the place. */
static int place_document(struct master *m, struct job *j, const char *ext, const char *title,
                          const char *text, const char *file_type, int64_t doc_id, json_t *doc_meta)
{
    (void)doc_id;
    if (m->o->structurers > 0)
        return sphase_add(&m->phase, j->def->name, ext, title, text, doc_meta) < 0 ? -1 : 0;
    return folder_entry(m->kb, m->client_id, j->def->name, j->def->type, ext, title, text,
                        file_type);
}

struct unplaced {
    struct master *m;
    long placed, failed;
};

static int unplaced_doc(const struct kb_stored_doc *d, void *arg)
{
    struct unplaced *u = arg;
    json_t *meta = d->metadata_json ? json_loads(d->metadata_json, 0, NULL) : NULL;

    if (folder_entry(u->m->kb, u->m->client_id, d->source, d->source_type, d->external_id,
                     d->title ? d->title : d->external_id, d->text,
                     json_string_value(json_object_get(meta, "file_type"))) < 0)
        u->failed++;
    else
        u->placed++;
    json_decref(meta);
    return 0;
}

/* Folder places for the client's stored documents without an entry, in one
 * transaction: the structure phase failed or did not run (interrupted). */
static void place_unplaced(struct master *m)
{
    struct unplaced u = {m, 0, 0};

    if (kb_begin(m->kb) < 0 ||
        kb_documents_unplaced_each(m->kb, m->client_id, unplaced_doc, &u) < 0 ||
        kb_commit(m->kb) < 0) {
        logf_(m, NULL, "placing documents in their folders failed: %s", kb_errmsg(m->kb));
        kb_rollback(m->kb);
        return;
    }
    if (u.placed || u.failed)
        logf_(m, NULL,
              "%ld documents placed by their folders until a structure phase places them%s",
              u.placed, u.failed ? " (some failed: see above)" : "");
}

static const char *opt_str(json_t *o, const char *k, int *bad)
{
    json_t *v = json_object_get(o, k);
    if (v && !json_is_string(v) && !json_is_null(v))
        *bad = 1;
    return json_string_value(v);
}

/* The fields of a docs/emit; -1 when they are not what the protocol says. */
static int doc_parse(json_t *params, struct kb_document *d, json_t **meta)
{
    int bad = 0;

    memset(d, 0, sizeof *d);
    *meta = json_object_get(params, "metadata");
    d->external_id = opt_str(params, "external_id", &bad);
    d->title = opt_str(params, "title", &bad);
    d->mime = opt_str(params, "mime", &bad);
    d->author = opt_str(params, "author", &bad);
    d->created_at = opt_str(params, "created", &bad);
    d->modified_at = opt_str(params, "modified", &bad);
    d->text = opt_str(params, "text", &bad);
    return bad || !d->external_id || !*d->external_id || (*meta && !json_is_object(*meta)) ? -1 : 0;
}

/* The loop's part of a document, as it arrives: the container parts it
 * settles and the suspect it clears. */
static void doc_note(struct job *j, const char *ext, json_t *meta)
{
    if (strchr(ext, '#')) {
        const char *hash = strchr(ext, '#');
        if (!j->parts)
            j->parts = json_object();
        json_object_set_new(j->parts, ext, json_true());
        json_object_setn_new(j->parts, ext, (size_t)(hash - ext), json_true());
    } else if (j->parts && json_is_true(json_object_get(meta, "incomplete")) &&
               json_object_get(j->parts, ext)) {
        /* extraction stopped early (a limit, the time budget): the parts it
         * did not reach are not known to be gone */
        json_object_set_new(j->parts, ext, json_false());
    }
    /* its content arrived: no longer a suspect. A container's parts do not
     * clear it: a member that crashes the explorer must not take the whole
     * archive down three times; the container's own document (sent last)
     * or the next fetch does. */
    if (j->inflight && strcmp(j->inflight, ext) == 0) {
        free(j->inflight);
        j->inflight = NULL;
    }
}

/* The storage part (the writer's, or the loop's while it holds the KB):
 * the document, its entry, its count. */
static int doc_store(struct master *m, struct job *j, json_t *params, const char *version,
                     char *err, size_t errlen)
{
    struct kb_document d;
    json_t *meta;
    char *meta_s = NULL;
    int res;
    int64_t id;

    if (doc_parse(params, &d, &meta) < 0)
        return -1;
    if (meta)
        meta_s = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    d.metadata_json = meta_s;
    d.version = version;
    if (tx_ensure(m) < 0 || kb_document_upsert(m->kb, j->source_id, m->run_id, &d, &id, &res) < 0 ||
        (res != KB_UNCHANGED &&
         place_document(m, j, d.external_id, d.title ? d.title : d.external_id,
                        d.text ? d.text : "", json_string_value(json_object_get(meta, "file_type")),
                        id, meta) < 0)) {
        free(meta_s);
        snprintf(err, errlen, "storing the document failed: %s", kb_errmsg(m->kb));
        logf_(m, j, "%s", err);
        j->store_errors++;
        return -1;
    }
    free(meta_s);
    if (res == KB_INSERTED)
        j->docs_new++;
    else if (res == KB_UPDATED)
        j->docs_updated++;
    else
        j->docs_unchanged++;
    m->tx_docs++;
    m->ckpt_bytes += (d.text ? strlen(d.text) : 0) + 1024; /* the row, its entry, the index */
    if (m->tx_docs >= MASTER_COMMIT_DOCS)
        tx_commit(m);
    return 0;
}

/* docs/emit answered at once (a call, or the master's own record): the
 * caller holds the KB, drained. */
static json_t *m_docs_emit(struct master *m, struct job *j, json_t *params, int *code, char *err,
                           size_t errlen)
{
    struct kb_document d;
    json_t *meta;

    if (doc_parse(params, &d, &meta) < 0) {
        *code = PROTO_EPARAMS;
        snprintf(err, errlen,
                 "docs/emit needs an external_id; text fields must be strings, metadata an "
                 "object");
        return NULL;
    }
    doc_note(j, d.external_id, meta);
    hold(m, 1);
    int rc = doc_store(m, j, params, recent_version(j, d.external_id), err, errlen);
    release(m);
    if (rc < 0) {
        *code = PROTO_EINTERNAL;
        return NULL;
    }
    return json_object();
}

/* A docs/emit notification: noted now, stored by the writer in arrival
 * order, while the loop answers the explorer's next fetch. */
struct doc_task {
    struct master *m;
    struct job *j;
    json_t *params;
    char *version;
};

static void doc_task_run(void *arg)
{
    struct doc_task *t = arg;
    char err[512];

    doc_store(t->m, t->j, t->params, t->version, err, sizeof err);
    json_decref(t->params);
    free(t->version);
    free(t);
}

static void doc_queue(struct master *m, struct job *j, json_t *params)
{
    struct kb_document d;
    json_t *meta;
    struct doc_task *t;

    if (doc_parse(params, &d, &meta) < 0) { /* a notification gets no error back */
        json_decref(params);
        return;
    }
    doc_note(j, d.external_id, meta);
    const char *v = recent_version(j, d.external_id);
    if (!(t = calloc(1, sizeof *t)) || (v && !(t->version = strdup(v)))) {
        free(t);
        logf_(m, j, "out of memory for document '%.200s'", d.external_id);
        j->errors++;
        json_decref(params);
        return;
    }
    t->m = m;
    t->j = j;
    t->params = params; /* the writer's from now on */
    mwriter_push(m->w, doc_task_run, t, json_string_length(json_object_get(params, "text")) + 1024);
}

static int checkpoint_write(struct master *m, struct job *j, const char *s)
{
    /* Same transaction as the documents it covers: both land or neither. */
    if (tx_ensure(m) < 0 || kb_source_checkpoint_set(m->kb, j->source_id, s) < 0)
        return -1;
    return tx_commit(m);
}

/* Stores j->checkpoint now: the caller holds the KB, drained. */
static int store_checkpoint(struct master *m, struct job *j)
{
    char *s = json_dumps(j->checkpoint, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = s ? checkpoint_write(m, j, s) : -1;

    free(s);
    return rc;
}

/* An explorer's checkpoint, queued behind the documents it covers: the
 * writer stores them in order, and the explorer goes on at once. */
struct checkpoint_task {
    struct master *m;
    struct job *j;
    char *state;
};

static void checkpoint_task_run(void *arg)
{
    struct checkpoint_task *t = arg;

    if (checkpoint_write(t->m, t->j, t->state) < 0) {
        logf_(t->m, t->j, "storing the checkpoint failed: %s", kb_errmsg(t->m->kb));
        t->j->store_errors++;
    }
    free(t->state);
    free(t);
}

static json_t *m_checkpoint(struct master *m, struct job *j, json_t *params, int *code, char *err,
                            size_t errlen)
{
    json_t *state = json_object_get(params, "state");

    if (!json_is_object(state)) {
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "checkpoint needs a \"state\" object");
        return NULL;
    }
    json_t *cur = json_incref(json_object_get(j->checkpoint, "cursor"));
    json_decref(j->checkpoint);
    j->checkpoint = json_deep_copy(state);
    json_object_del(j->checkpoint, "complete"); /* only the master declares a source complete */
    json_object_del(j->checkpoint, "cursor");   /* the driver's, kept until the run completes */
    if (cur)
        json_object_set_new(j->checkpoint, "cursor", cur);
    struct checkpoint_task *t = calloc(1, sizeof *t);
    if (!t || !(t->state = json_dumps(j->checkpoint, JSON_COMPACT | JSON_SORT_KEYS))) {
        free(t);
        *code = PROTO_EINTERNAL;
        snprintf(err, errlen, "out of memory for the checkpoint");
        return NULL;
    }
    t->m = m;
    t->j = j;
    mwriter_push(m->w, checkpoint_task_run, t, strlen(t->state));
    return json_object();
}

struct sweep_ctx {
    struct job *j;
    json_t *gone;
};

static int poisoned(const struct job *j, const char *path, size_t n)
{
    size_t i;
    json_t *p;

    json_array_foreach(j->poison, i, p)
    {
        if (json_string_length(p) == n && memcmp(json_string_value(p), path, n) == 0)
            return 1;
    }
    return 0;
}

static int sweep_keep(const char *ext, void *arg)
{
    struct sweep_ctx *c = arg;
    const char *hash = strchr(ext, '#');
    int present;

    /* a part of a container extracted in this run: gone unless emitted again
     * (a container skipped after a crash was not extracted to its end) */
    if (hash && c->j->parts && !poisoned(c->j, ext, (size_t)(hash - ext)) &&
        json_is_true(json_object_getn(c->j->parts, ext, (size_t)(hash - ext))) &&
        !json_object_get(c->j->parts, ext)) {
        json_array_append_new(c->gone, json_string(ext));
        return 0;
    }
    present = c->j->drv->present(&c->j->ds, ext);

    if (present != 0)
        return 1; /* present, or the driver cannot tell: keep */
    json_array_append_new(c->gone, json_string(ext));
    return 0;
}

/* The explorer is finished: documents no longer in the source are deleted. */
static int finish_source(struct master *m, struct job *j)
{
    struct sweep_ctx c = {j, json_array()};
    long n = 0;
    size_t i;
    json_t *g;

    if (tx_ensure(m) < 0)
        return -1;
    if (j->drv && j->drv->present && j->drv_open &&
        kb_documents_sweep(m->kb, j->source_id, sweep_keep, &c, &n) < 0) {
        json_decref(c.gone);
        return -1;
    }
    json_array_foreach(c.gone, i, g)
    {
        struct buf key = BUF_INIT;
        buf_addf(&key, "doc:%s:%s", j->def->name, json_string_value(g));
        kb_entry_delete(m->kb, m->client_id, buf_str(&key));
        buf_release(&key);
    }
    json_decref(c.gone);
    j->docs_deleted += n;
    if (!j->checkpoint)
        j->checkpoint = json_object();
    json_object_set_new(j->checkpoint, "complete", json_true());
    if (j->ds.cursor_next) { /* where the next run's incremental listing starts */
        json_object_set(j->checkpoint, "cursor", j->ds.cursor_next);
        j->ds.cursor = json_object_get(j->checkpoint, "cursor");
    }
    return store_checkpoint(m, j);
}

static json_t *m_progress(struct master *m, struct job *j, json_t *params, int *code, char *err,
                          size_t errlen)
{
    if (json_is_true(json_object_get(params, "done"))) {
        if (finish_source(m, j) < 0) {
            *code = PROTO_EINTERNAL;
            snprintf(err, errlen, "finishing the source failed: %s", kb_errmsg(m->kb));
            return NULL;
        }
        j->done = 1;
    }
    return json_object();
}

static json_t *m_log(struct master *m, struct job *j, json_t *params, int *code, char *err,
                     size_t errlen)
{
    const char *level = json_string_value(json_object_get(params, "level"));
    const char *msg = json_string_value(json_object_get(params, "message"));
    (void)code, (void)err, (void)errlen;

    if (msg) {
        struct buf clean = BUF_INIT;
        /* a child's words reach a terminal: no control characters */
        for (const char *p = msg; *p && clean.len < 300; p++)
            buf_addch(&clean, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
        logf_(m, j, "%s: %s", level ? level : "info", buf_str(&clean));
        buf_release(&clean);
        if (level && strcmp(level, "error") == 0)
            j->errors++;
    }
    return json_object();
}

static json_t *m_forum_search(struct master *m, struct job *j, json_t *params, int *code, char *err,
                              size_t errlen);
static json_t *m_forum_post(struct master *m, struct job *j, json_t *params, int *code, char *err,
                            size_t errlen);

enum { ST_NEW = 1, ST_READY = 2 };

/* The methods an explorer may call, and in which state (OpenSSH's mon_dispatch). */
static const struct method {
    const char *name;
    unsigned states;
    method_fn fn;
} explorer_methods[] = {
    {"hello", ST_NEW, m_hello},
    {"tools/list", ST_READY, m_tools_list},
    {"tools/call", ST_READY, m_tools_call},
    {"forum/search", ST_READY, m_forum_search},
    {"forum/post", ST_READY, m_forum_post},
    {"docs/emit", ST_READY, m_docs_emit},
    {"checkpoint", ST_READY, m_checkpoint},
    {"progress", ST_READY, m_progress},
    {"log", ST_READY, m_log},
};

struct forum_collect {
    json_t *arr;
};

static int forum_hit(const struct kb_forum_entry *f, void *arg)
{
    struct forum_collect *c = arg;
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(f->id));
    json_object_set_new(o, "scope", json_string(f->client_id ? "client" : "global"));
    json_object_set_new(o, "agent", json_string(f->agent));
    json_object_set_new(o, "phase", json_string(f->phase));
    json_object_set_new(o, "file_type", json_string(f->file_type));
    json_object_set_new(o, "title", json_string(f->title));
    json_object_set_new(o, "body", json_string(f->body));
    json_array_append_new(c->arr, o);
    return 0;
}

static json_t *m_forum_search(struct master *m, struct job *j, json_t *params, int *code, char *err,
                              size_t errlen)
{
    struct kb_forum_filter flt = {0};
    struct forum_collect c = {json_array()};
    const char *q = json_string_value(json_object_get(params, "query"));
    int bad = 0;
    json_t *res;

    /* Forced: this source type, this client or global. Never another client's. */
    flt.client_id = m->client_id;
    flt.source_type = j->def->type;
    flt.phase = opt_str(params, "phase", &bad);
    flt.file_type = opt_str(params, "file_type", &bad);
    flt.limit = (int)json_integer_value(json_object_get(params, "limit"));
    if (flt.limit <= 0 || flt.limit > 50)
        flt.limit = 10;
    if (!q || bad) {
        json_decref(c.arr);
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "forum/search needs a \"query\" string");
        return NULL;
    }
    if (kb_forum_search(m->kb, q, &flt, forum_hit, &c) < 0) {
        /* a query with no words is the child's problem, not a crash */
        json_decref(c.arr);
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "%s", kb_errmsg(m->kb));
        return NULL;
    }
    res = json_object();
    json_object_set_new(res, "findings", c.arr);
    return res;
}

static json_t *m_forum_post(struct master *m, struct job *j, json_t *params, int *code, char *err,
                            size_t errlen)
{
    struct kb_forum_entry f = {0};
    struct buf agent = BUF_INIT;
    int bad = 0;
    int64_t id;
    json_t *res;

    buf_addf(&agent, "explorer:%s", j->def->name);
    f.client_id = m->client_id; /* explorers post for their client only */
    f.run_id = m->run_id;
    f.agent = buf_str(&agent);
    f.source_type = j->def->type;
    f.phase = "explore";
    f.title = opt_str(params, "title", &bad);
    f.body = opt_str(params, "body", &bad);
    f.file_type = opt_str(params, "file_type", &bad);
    if (bad || !f.title || !f.body || strlen(f.title) > 500 || strlen(f.body) > 65536) {
        buf_release(&agent);
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "forum/post needs a title (at most 500 bytes) and a body (64 KiB)");
        return NULL;
    }
    if (tx_ensure(m) < 0 || kb_forum_post(m->kb, &f, &id) < 0) {
        buf_release(&agent);
        *code = PROTO_EPARAMS;
        snprintf(err, errlen, "%s", kb_errmsg(m->kb));
        return NULL;
    }
    buf_release(&agent);
    res = json_object();
    json_object_set_new(res, "id", json_integer(id));
    /* A pattern is shared with every client, rebuilt here from what can be
     * checked to hold no client data: file type names. */
    json_t *skip = json_object_get(json_object_get(params, "pattern"), "skip_types"), *t;
    struct buf body = BUF_INIT;
    size_t i;
    int nok = 0;
    buf_adds(&body, "skip-types:");
    json_array_foreach(skip, i, t)
    {
        const char *e = json_string_value(t);
        size_t n = e ? strlen(e) : 0, k = 0;
        while (k < n && ((e[k] >= 'a' && e[k] <= 'z') || (e[k] >= '0' && e[k] <= '9')))
            k++;
        if (n == 0 || n > 15 || k != n || i >= 32)
            continue;
        buf_addf(&body, " %s", e);
        nok++;
    }
    if (nok) {
        int64_t gid;
        buf_addf(&body, "\nFiles of these types gave no text in a %s source.", j->def->type);
        f.client_id = 0;
        f.agent = "explorer";
        f.title = "file types without text";
        f.body = buf_str(&body);
        f.file_type = NULL;
        if (kb_forum_post(m->kb, &f, &gid) == 0)
            json_object_set_new(res, "global_id", json_integer(gid));
    }
    buf_release(&body);
    return res;
}

/* ---- children ------------------------------------------------------------------------ */

static void job_violation(struct master *m, struct job *j, const char *why)
{
    if (j->end == END_NONE) {
        j->end = END_VIOLATION;
        j->violations++;
        snprintf(j->error, sizeof j->error, "protocol violation: %s", why);
        logf_(m, j, "killed: protocol violation: %s", why);
    }
    worker_kill(&j->w);
}

/* A tools/call that copies an item into the workspace: it needs nothing the
 * queued documents would change, so it is answered while they are stored. */
static int is_fetch_call(struct job *j, json_t *params)
{
    const json_t *tool =
        toolkit_tool(j->def->toolkit, json_string_value(json_object_get(params, "name")));
    const char *op = json_string_value(json_object_get(tool, "operation"));
    return op && strcmp(op, "fetch") == 0;
}

/* What a method needs of the KB while the writer stores: nothing; the KB as
 * it stands (a listing's "known" lookups: the documents still queued are of
 * items listed before, never of this page); or everything queued stored
 * first (the end of a source, the forum, a document answered at once). */
enum { NEED_NONE, NEED_KB, NEED_DRAIN };

static int method_need(struct master *m, method_fn fn, struct job *j, json_t *params)
{
    if (fn == m_hello || fn == m_tools_list || fn == m_log || fn == m_checkpoint)
        return NEED_NONE;   /* a checkpoint is queued behind its documents */
    if (fn == m_tools_call) /* drivers reach the KB only through job_known */
        return m->reader || is_fetch_call(j, params) ? NEED_NONE : NEED_KB;
    if (fn == m_progress && !json_is_true(json_object_get(params, "done")))
        return NEED_NONE;
    return NEED_DRAIN;
}

static int job_dispatch(struct master *m, struct job *j, json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params"), *res, *reply;
    unsigned state = j->ready ? ST_READY : ST_NEW;
    char err[512] = "";
    int code = 0;

    if (!method) {
        job_violation(m, j, "the master sends no requests, so a child sends no responses");
        return -1;
    }
    for (size_t i = 0; i < sizeof explorer_methods / sizeof explorer_methods[0]; i++) {
        const struct method *me = &explorer_methods[i];
        if (strcmp(me->name, method) != 0)
            continue;
        if (!(me->states & state)) {
            snprintf(err, sizeof err, "method '%.64s' is not allowed %s", method,
                     j->ready ? "after hello" : "before hello");
            job_violation(m, j, err);
            return -1;
        }
        if (params && !json_is_object(params)) {
            job_violation(m, j, "params must be an object");
            return -1;
        }
        json_t *p = params ? json_incref(params) : json_object();
        /* Documents go to the writer thread: the explorer extracts the next
         * file while the master stores this one. */
        if (me->fn == m_docs_emit && !id) {
            doc_queue(m, j, p);
            return 0;
        }
        int need = method_need(m, me->fn, j, p);
        if (need != NEED_NONE)
            hold(m, need == NEED_DRAIN);
        j->cur_id = id;
        res = me->fn(m, j, p, &code, err, sizeof err);
        j->cur_id = NULL;
        if (need != NEED_NONE)
            release(m);
        json_decref(p);
        if (!res && code == MASTER_DEFERRED)
            return 0; /* answered later by driver_complete() */
        if (code == PROTO_EREFUSED && j->refused > MASTER_MAX_REFUSED) {
            json_decref(res);
            job_violation(m, j, "too many refused tool calls");
            return -1;
        }
        if (!id) { /* notification: no reply */
            json_decref(res);
            return 0;
        }
        reply = res ? proto_result(id, res) : proto_error(id, code, err);
        if (proto_conn_queue(&j->conn, reply) < 0) {
            json_decref(reply);
            job_violation(m, j, j->conn.err);
            return -1;
        }
        json_decref(reply);
        return 0;
    }
    snprintf(err, sizeof err, "unknown method '%.64s'", method);
    job_violation(m, j, err);
    return -1;
}

static void call_unlink(struct job *j, struct driver_call *call)
{
    for (struct driver_call **pp = &j->calls; *pp; pp = &(*pp)->next) {
        if (*pp == call) {
            *pp = call->next;
            break;
        }
    }
    json_decref(call->id);
    free(call->target);
    free(call);
}

/* A driver's late answer to a tools/call: replied to the child that asked,
 * or dropped when that child has died since (a new one asks again). */
static void driver_complete(struct driver_call *call, json_t *out, const char *err)
{
    struct job *j = call->j;

    if (call->gen != j->gen || j->state != JOB_RUNNING || j->w.fd < 0) {
        json_decref(out);
        call_unlink(j, call);
        return;
    }
    json_t *res = tool_finish(j, call->t0, err ? (json_decref(out), NULL) : out, err);
    if (call->id) {
        json_t *reply = proto_result(call->id, res);
        if (proto_conn_queue(&j->conn, reply) < 0)
            job_violation(j->m, j, j->conn.err);
        json_decref(reply);
    } else {
        json_decref(res);
    }
    call_unlink(j, call);
}

/* The credential a source's settings reference as FIELD_env or FIELD_file. */
static char *job_secret(void *arg, const char *field, char *err, size_t errlen)
{
    struct job *j = arg;
    char key[128];
    const char *v;

    snprintf(key, sizeof key, "%s_env", field);
    if ((v = json_string_value(json_object_get(j->def->json, key)))) {
        const char *e = getenv(v);
        if (!e || !*e) {
            snprintf(err, errlen, "source '%s': environment variable '%s' (%s) is not set",
                     j->def->name, v, key);
            return NULL;
        }
        return strdup(e);
    }
    snprintf(key, sizeof key, "%s_file", field);
    if ((v = json_string_value(json_object_get(j->def->json, key)))) {
        char *buf = NULL;
        FILE *f = fopen(v, "re");
        size_t n;
        if (!f) {
            snprintf(err, errlen, "source '%s': cannot read %s '%s': %s", j->def->name, key, v,
                     strerror(errno));
            return NULL;
        }
        buf = calloc(1, 65537);
        n = buf ? fread(buf, 1, 65536, f) : 0;
        fclose(f);
        if (!buf)
            return NULL;
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (!n) {
            free(buf);
            snprintf(err, errlen, "source '%s': %s '%s' is empty", j->def->name, key, v);
            return NULL;
        }
        return buf;
    }
    snprintf(err, errlen, "source '%s' needs '%s_env' or '%s_file'", j->def->name, field, field);
    return NULL;
}

static int job_start(struct master *m, struct job *j)
{
    struct worker_opts wo = {0};
    char err[400], inpath[600];

    j->attempts++;
    j->gen++;
    j->end = END_NONE;
    j->ready = j->done = 0;
    j->last_tool_error[0] = '\0';
    snprintf(j->ws, sizeof j->ws, "%.400s/%.64s", m->root, j->def->name);
    snprintf(inpath, sizeof inpath, "%s/in", j->ws);
    if ((mkdir(j->ws, 0700) < 0 && errno != EEXIST) ||
        (mkdir(inpath, 0755) < 0 && errno != EEXIST)) {
        snprintf(j->error, sizeof j->error, "cannot make workspace '%.300s': %s", j->ws,
                 strerror(errno));
        return -1;
    }
    if (j->ds.payload_dirfd < 0)
        j->ds.payload_dirfd = open(inpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    j->drv = driver_find(j->def->toolkit->driver);
    if (!j->drv) {
        snprintf(j->error, sizeof j->error,
                 "toolkit '%s' needs driver '%s', which this build lacks", j->def->toolkit->name,
                 j->def->toolkit->driver);
        return -1;
    }
    if (!j->drv_open) {
        j->ds.name = j->def->name;
        j->ds.settings = j->def->json;
        j->ds.payload_dir = "in";
        j->ds.known = job_known;
        j->ds.known_arg = j;
        j->ds.net = m->net;
        j->ds.complete = driver_complete;
        j->ds.secret = job_secret;
        j->ds.secret_arg = j;
        j->ds.toolkit = j->def->toolkit->json;
        j->ds.cursor = json_object_get(j->checkpoint, "cursor");
        if (j->drv->open(&j->ds, err, sizeof err) < 0) {
            snprintf(j->error, sizeof j->error, "%.390s", err);
            return -1;
        }
        j->drv_open = 1;
    }
    wo.workspace = j->ws;
    wo.strict = m->o->strict;
    if (worker_spawn(&wo, explorer_main, NULL, &j->w, err, sizeof err) < 0) {
        snprintf(j->error, sizeof j->error, "cannot start the explorer: %.300s", err);
        return -1;
    }
    if (j->w.missing[0] && !m->sandbox_noted) {
        logf_(m, NULL, "sandbox (best effort): active %s; not active: %s", j->w.layers,
              j->w.missing);
        m->sandbox_noted = 1;
    }
    proto_conn_release(&j->conn);
    proto_conn_init(&j->conn, j->w.fd, PROTO_MAX_FRAME);
    clock_gettime(CLOCK_MONOTONIC, &j->started);
    j->deadline = j->started;
    j->deadline.tv_sec += m->o->deadline_s;
    j->state = JOB_RUNNING;
    m->running++;
    if (j->attempts > 1)
        logf_(m, j, "restarted from its checkpoint (attempt %d)", j->attempts);
    else if (!m->o->live)
        logf_(m, j, "exploring (%s, toolkit %s)", j->def->type, j->def->toolkit->name);
    return 0;
}

static void job_close_driver(struct job *j)
{
    if (j->drv && j->drv_open)
        j->drv->close(&j->ds);
    j->drv_open = 0;
    json_decref(j->ds.cursor_next);
    j->ds.cursor_next = NULL;
    while (j->calls) /* cancelled by close() */
        call_unlink(j, j->calls);
}

/* When the per-file watchdog stops the explorer: twice the file's time
 * budget (as the extractors reckon it) and 5 s. */
static double job_file_hard_limit(const struct job *j)
{
    return (j->file_budget + j->file_size * EXTRACT_SECONDS_PER_BYTE) * 2 + 5;
}

static void job_ended_held(struct master *m, struct job *j, int status);

static void job_ended(struct master *m, struct job *j, int status)
{
    hold(m, 1); /* what it said before dying is stored first: it counts */
    job_ended_held(m, j, status);
    release(m);
}

static void job_ended_held(struct master *m, struct job *j, int status)
{
    close(j->w.fd);
    j->w.fd = -1;
    j->w.pid = 0;
    worker_release(&j->w);
    m->running--;
    j->elapsed_s += now_s() - ts_s(&j->started);
    tx_commit(m);
    if (j->done && WIFEXITED(status) && WEXITSTATUS(status) == 0 && j->end == END_NONE &&
        j->ds.failure[0]) { /* complete, but something it names is missing */
        snprintf(j->error, sizeof j->error, "%.390s", j->ds.failure);
        logf_(m, j, "failed: %s", j->error);
        j->state = JOB_FAILED;
        job_close_driver(j);
        return;
    }
    if (j->done && WIFEXITED(status) && WEXITSTATUS(status) == 0 && j->end == END_NONE) {
        j->state = JOB_OK;
        job_close_driver(j);
        if (!m->o->live)
            logf_(m, j, "done: %ld items, %ld new, %ld updated, %ld unchanged, %ld deleted",
                  j->items, j->docs_new, j->docs_updated, j->docs_unchanged, j->docs_deleted);
        return;
    }
    if (j->end == END_NONE) {
        if (WIFSIGNALED(status)) {
            j->end = END_CRASH;
            snprintf(j->error, sizeof j->error, "explorer crashed (signal %d%s)", WTERMSIG(status),
                     WTERMSIG(status) == SIGSYS ? ": sandbox violation" : "");
        } else {
            j->end = END_EXIT;
            snprintf(j->error, sizeof j->error, "explorer exited with status %d%s%s%.300s",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                     j->done ? "" : " before finishing",
                     !j->done && j->last_tool_error[0] ? " after a failed call: " : "",
                     j->done ? "" : j->last_tool_error);
        }
    }
    char *stuck = j->budget_killed && j->inflight ? strdup(j->inflight) : NULL;
    if (j->inflight) { /* don't feed the same file to the next attempt */
        json_array_append_new(j->poison, json_string(j->inflight));
        logf_(m, j, "'%s' was being fetched when the explorer died: skipped on retry", j->inflight);
        free(j->inflight);
        j->inflight = NULL;
    }
    if (stuck) { /* recorded by its metadata, with the version it has */
        json_t *d = json_object(), *meta = json_object(), *r;
        char reason[200];
        const char *base = strrchr(stuck, '/') ? strrchr(stuck, '/') + 1 : stuck;
        int code = 0;
        snprintf(reason, sizeof reason,
                 "time budget exceeded: still extracting after %.3g s (twice the file's time "
                 "budget, and 5 s); the explorer was stopped",
                 job_file_hard_limit(j));
        json_object_set_new(meta, "extract_error", json_string(reason));
        json_object_set_new(d, "external_id", json_string(stuck));
        json_object_set_new(d, "title", json_string(base));
        json_object_set_new(d, "mime", json_string("application/octet-stream"));
        json_object_set_new(d, "text", json_string(""));
        json_object_set_new(d, "metadata", meta);
        r = m_docs_emit(m, j, d, &code, reason, sizeof reason);
        json_decref(r);
        json_decref(d);
        free(stuck);
        j->budget_kills++; /* not held against the source's attempts */
    }
    j->budget_killed = 0;
    j->file_t0 = 0;
    logf_(m, j, "failed: %s", j->error);
    /* Crashes and deadlines are retried; a child that broke the protocol is not
     * trusted with the source again. */
    if (!m->interrupted && j->end != END_INTERRUPTED && j->end != END_VIOLATION &&
        !j->ds.permanent &&
        j->attempts - j->budget_kills < (m->o->max_attempts ? m->o->max_attempts : 3)) {
        j->retries++;
        j->state = JOB_QUEUED;
        return;
    }
    j->state = JOB_FAILED;
    job_close_driver(j);
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < m->njobs; i++) {
            struct job *j = &m->jobs[i];
            if (j->state == JOB_RUNNING && j->w.pid == pid) {
                /* drain what it said before dying: its documents count */
                json_t *msg;
                while (proto_conn_read(&j->conn) > 0 && proto_conn_next(&j->conn, &msg) == 1) {
                    job_dispatch(m, j, msg);
                    json_decref(msg);
                }
                job_ended(m, j, status);
            }
        }
    }
}

static void job_io(struct master *m, struct job *j, short revents)
{
    json_t *msg;
    int rc;

    if (revents & POLLOUT && proto_conn_flush(&j->conn) < 0) {
        worker_kill(&j->w);
        return;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    rc = proto_conn_read(&j->conn);
    if (rc < 0) {
        job_violation(m, j, j->conn.err);
        return;
    }
    while ((rc = proto_conn_next(&j->conn, &msg)) == 1) {
        int r = job_dispatch(m, j, msg);
        json_decref(msg);
        if (r < 0)
            return;
        /* an answer goes out before the documents queued behind its call are stored */
        if (j->conn.out.len > j->conn.out_off && proto_conn_flush(&j->conn) < 0) {
            worker_kill(&j->w);
            return;
        }
    }
    if (rc < 0) {
        job_violation(m, j, j->conn.err);
        return;
    }
    if (proto_conn_flush(&j->conn) < 0)
        worker_kill(&j->w);
    if (revents & (POLLHUP | POLLERR) && !(revents & POLLIN)) {
        /* the child closed its end: it is exiting; SIGCHLD will follow */
    }
}

/* ---- display and records -------------------------------------------------------------- */

static void draw(struct master *m)
{
    long done = 0, total = (long)m->njobs;
    int lines = 0;
    double t = now_s();

    if (m->drawn_lines)
        fprintf(m->log, "\033[%dA\033[J", m->drawn_lines);
    for (size_t i = 0; i < m->njobs; i++) {
        struct job *j = &m->jobs[i];
        if (j->state == JOB_OK || j->state == JOB_FAILED || j->state == JOB_SKIPPED)
            done++;
        if (j->state != JOB_RUNNING || lines >= 20)
            continue;
        double el = t - ts_s(&j->started);
        fprintf(m->log, "  %-20.20s %-10.10s %8ld items %10ld bytes %8.1f items/s\n", j->def->name,
                j->ready ? "exploring" : "starting", j->items, j->bytes,
                el > 0 ? (double)j->items / el : 0.0);
        lines++;
    }
    int width = 30, filled = total ? (int)(done * width / total) : width;
    fprintf(m->log, "  [%.*s%*s] %ld/%ld sources\n", filled, "##############################",
            width - filled, "", done, total);
    m->drawn_lines = lines + 1;
    fflush(m->log);
}

static json_t *job_stats(struct job *j)
{
    json_t *o = json_object();
    static const char *const states[] = {"queued", "running", "ok", "failed", "skipped"};

    if (j->nlat)
        qsort(j->lat, j->nlat, sizeof *j->lat, cmp_double);
    json_object_set_new(o, "type", json_string(j->def->type));
    json_object_set_new(o, "status", json_string(states[j->state]));
    json_object_set_new(o, "attempts", json_integer(j->attempts));
    json_object_set_new(o, "items", json_integer(j->items));
    json_object_set_new(o, "bytes", json_integer(j->bytes));
    json_object_set_new(o, "documents_new", json_integer(j->docs_new));
    json_object_set_new(o, "documents_updated", json_integer(j->docs_updated));
    json_object_set_new(o, "documents_unchanged", json_integer(j->docs_unchanged));
    json_object_set_new(o, "documents_deleted", json_integer(j->docs_deleted));
    json_object_set_new(o, "tool_calls", json_integer(j->tool_calls));
    json_object_set_new(o, "refused_calls", json_integer(j->refused));
    json_object_set_new(o, "errors", json_integer(j->errors + j->store_errors));
    json_object_set_new(o, "retries", json_integer(j->retries));
    json_object_set_new(o, "violations", json_integer(j->violations));
    json_object_set_new(o, "duration_s", json_real(round(j->elapsed_s * 1000) / 1000));
    json_object_set_new(o, "tool_latency_ms_p50", json_real(pct(j->lat, j->nlat, 50)));
    json_object_set_new(o, "tool_latency_ms_p95", json_real(pct(j->lat, j->nlat, 95)));
    json_object_set_new(o, "tool_latency_ms_p99", json_real(pct(j->lat, j->nlat, 99)));
    if (j->error[0] && j->state != JOB_OK)
        json_object_set_new(o, "error", json_string(j->error));
    if (j->last_tool_error[0])
        json_object_set_new(o, "last_tool_error", json_string(j->last_tool_error));
    if (json_array_size(j->poison))
        json_object_set(o, "skipped_items", j->poison);
    return o;
}

static void write_metrics(struct master *m, json_t *stats)
{
    static const char *const keys[] = {"items",
                                       "bytes",
                                       "documents_new",
                                       "documents_updated",
                                       "documents_unchanged",
                                       "documents_deleted",
                                       "tool_calls",
                                       "refused_calls",
                                       "errors",
                                       "retries",
                                       "duration_s",
                                       "tool_latency_ms_p50",
                                       "tool_latency_ms_p95",
                                       "tool_latency_ms_p99"};
    FILE *f = fopen(m->o->metrics_path, "w");
    json_t *srcs = json_object_get(stats, "sources"), *s;
    const char *name;

    if (!f) {
        logf_(m, NULL, "cannot write metrics to '%s': %s", m->o->metrics_path, strerror(errno));
        return;
    }
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        fprintf(f, "# TYPE trawl_source_%s gauge\n", keys[k]);
        json_object_foreach(srcs, name, s)
        {
            fprintf(f, "trawl_source_%s{client=\"%s\",run=\"%lld\",source=\"%s\"} %g\n", keys[k],
                    m->o->client, (long long)m->run_id, name,
                    json_number_value(json_object_get(s, keys[k])));
        }
    }
    fprintf(f,
            "# TYPE trawl_run_sources_failed gauge\ntrawl_run_sources_failed{client=\"%s\","
            "run=\"%lld\"} %lld\n",
            m->o->client, (long long)m->run_id,
            (long long)json_integer_value(json_object_get(stats, "sources_failed")));
    fclose(f);
}

static int rm_tree(const char *path)
{
    char cmd[1200];
    /* workspaces are ours and under the run's root: a plain recursive removal */
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", path);
    return system(cmd);
}

/* ---- the run -------------------------------------------------------------------------- */

int master_run(struct kb *kb, const struct registry *reg, const struct sources *src,
               const struct master_opts *o, struct master_result *res, char *err, size_t errlen)
{
    struct master m = {0};
    sigset_t mask, oldmask;
    const char *fault = getenv("TRAWL_FAULT");
    const char *tmp = getenv("TMPDIR");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = -1;

    memset(res, 0, sizeof *res);
    m.kb = kb;
    m.reg = reg;
    m.src = src;
    m.o = o;
    m.log = o->log ? o->log : stderr;
    m.sigfd = -1;
    m.net = netloop_new();
    if (!m.net) {
        snprintf(err, errlen, "cannot start libcurl");
        return -1;
    }
    m.jobs_max = o->jobs > 0 ? o->jobs : (int)(ncpu > 0 ? ncpu * 4 : 8);
    if (m.jobs_max > (int)src->n)
        m.jobs_max = (int)src->n;

    if (kb_begin(kb) < 0 || kb_client_id(kb, o->client, 1, &m.client_id) < 0 ||
        kb_runs_abandoned(kb, m.client_id, "onboard") < 0 ||
        kb_run_start(kb, m.client_id, "onboard", &m.run_id) < 0) {
        snprintf(err, errlen, "%s", kb_errmsg(kb));
        kb_rollback(kb);
        netloop_free(m.net);
        return -1;
    }
    m.jobs = calloc(src->n, sizeof *m.jobs);
    m.njobs = src->n;
    for (size_t i = 0; i < src->n; i++) {
        struct job *j = &m.jobs[i];
        char *cfg = json_dumps(src->v[i].json, JSON_COMPACT | JSON_SORT_KEYS), *cp = NULL;
        j->def = &src->v[i];
        j->m = &m;
        j->ds.payload_dirfd = -1;
        j->w.fd = -1;
        j->w.pidfd = -1;
        j->poison = json_array();
        if (kb_source_upsert(kb, m.client_id, j->def->name, j->def->type, cfg, &j->source_id) < 0 ||
            kb_source_checkpoint_get(kb, j->source_id, &cp) < 0) {
            free(cfg);
            snprintf(err, errlen, "%s", kb_errmsg(kb));
            kb_rollback(kb);
            goto out;
        }
        free(cfg);
        if (cp && o->resume) {
            j->checkpoint = json_loads(cp, 0, NULL);
            if (json_is_true(json_object_get(j->checkpoint, "complete")))
                j->state = JOB_SKIPPED; /* finished in an earlier run */
        } else if (cp) {                /* a new run keeps only the driver's incremental cursor */
            json_t *old = json_loads(cp, 0, NULL), *cur = json_object_get(old, "cursor");
            if (cur && json_is_true(json_object_get(old, "complete")))
                j->checkpoint = json_pack("{s:O}", "cursor", cur);
            json_decref(old);
        }
        free(cp);
        if (fault) { /* TRAWL_FAULT=source:kind[:once] (tests only) */
            size_t nl = strlen(j->def->name);
            if (strncmp(fault, j->def->name, nl) == 0 && fault[nl] == ':') {
                j->fault = strdup(fault + nl + 1);
                char *c = strchr(j->fault, ':');
                if (c) {
                    j->fault_once = strcmp(c + 1, "once") == 0;
                    *c = '\0';
                }
            }
        }
    }
    if (kb_commit(kb) < 0) {
        snprintf(err, errlen, "%s", kb_errmsg(kb));
        goto out;
    }
    res->run_id = m.run_id;
    snprintf(m.root, sizeof m.root, "%s/trawl-%lld-XXXXXX", tmp && *tmp ? tmp : "/tmp",
             (long long)m.run_id);
    if (!mkdtemp(m.root)) {
        snprintf(err, errlen, "cannot make a workspace under '%s': %s", tmp ? tmp : "/tmp",
                 strerror(errno));
        goto out;
    }
    chmod(m.root, 0755); /* children running as other users must reach their own dirs */

    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    m.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    /* started with the signals blocked: they stay the signalfd's. Without
     * the thread, storage runs in the loop (mwriter_push stores at once). */
    m.w = mwriter_start(MASTER_QUEUE_DOCS, MASTER_QUEUE_BYTES, MASTER_TICK_MS, writer_tick, &m);
    if (!m.w)
        logf_(&m, NULL, "no writer thread: storing documents in the event loop");
    else if (kb_open(kb_path(kb), KB_OPEN_READONLY, &m.reader) < 0) {
        kb_close(m.reader); /* lookups go through the writer's handle */
        m.reader = NULL;
    }
    if (m.w && kb_open(kb_path(kb), KB_OPEN_NOCREATE, &m.ckpt_kb) == 0 &&
        (m.ckpt = mhelper_start(checkpoint_wal, &m))) {
        kb_wal_autocheckpoint(kb, 0);
    } else {
        kb_close(m.ckpt_kb); /* the writer's commits checkpoint as before */
        m.ckpt_kb = NULL;
    }

    for (;;) {
        struct pollfd *pfd;
        struct job **who;
        size_t np = 0;
        int pending = 0, timeout = MASTER_COMMIT_MS;
        double t;

        for (size_t i = 0; i < m.njobs && !m.interrupted; i++) {
            struct job *j = &m.jobs[i];
            if (j->state == JOB_QUEUED && m.running < m.jobs_max) {
                /* the writer idle: a sandbox that clones the master itself
                 * (no zygote) copies no lock the writer holds */
                hold(&m, 1);
                int started = job_start(&m, j);
                release(&m);
                if (started < 0) {
                    j->state = JOB_FAILED;
                    logf_(&m, j, "failed: %s", j->error);
                }
            }
        }
        for (size_t i = 0; i < m.njobs; i++)
            pending += m.jobs[i].state == JOB_QUEUED || m.jobs[i].state == JOB_RUNNING;
        if (!pending || (m.interrupted && m.running == 0))
            break;
        pfd = calloc(m.njobs + 1 + MASTER_NET_FDS, sizeof *pfd);
        who = calloc(m.njobs + 1 + MASTER_NET_FDS, sizeof *who);
        pfd[np++] = (struct pollfd){m.sigfd, POLLIN, 0};
        t = now_s();
        for (size_t i = 0; i < m.njobs; i++) {
            struct job *j = &m.jobs[i];
            if (j->state != JOB_RUNNING || j->w.fd < 0)
                continue;
            if (o->deadline_s > 0) {
                double left = ts_s(&j->deadline) - t;
                if (left <= 0 && j->end == END_NONE) {
                    j->end = END_DEADLINE;
                    snprintf(j->error, sizeof j->error, "explorer passed its %d s deadline",
                             o->deadline_s);
                    worker_kill(&j->w);
                } else if (left > 0 && left * 1000 < timeout) {
                    timeout = (int)(left * 1000) + 1;
                }
            }
            if (j->inflight && j->file_t0 > 0 && j->end == END_NONE) {
                double hard = job_file_hard_limit(j), left = j->file_t0 + hard - t;
                if (left <= 0) {
                    j->end = END_CRASH;
                    j->budget_killed = 1;
                    snprintf(j->error, sizeof j->error,
                             "'%.200s' was still being extracted after %.3g s: explorer stopped",
                             j->inflight, hard);
                    worker_kill(&j->w);
                } else if (left * 1000 < timeout) {
                    timeout = (int)(left * 1000) + 1;
                }
            }
            who[np] = j;
            pfd[np++] =
                (struct pollfd){j->w.fd, (short)(POLLIN | (j->conn.out.len ? POLLOUT : 0)), 0};
        }
        size_t net0 = np;
        int nnet = netloop_fds(m.net, pfd + np, MASTER_NET_FDS), nt = netloop_timeout_ms(m.net);
        np += (size_t)nnet;
        if (nt >= 0 && nt < timeout)
            timeout = nt;
        if (o->live)
            timeout = timeout > 250 ? 250 : timeout;
        if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            free(pfd);
            free(who);
            goto out;
        }
        for (size_t i = 1; i < net0; i++)
            if (pfd[i].revents)
                job_io(&m, who[i], pfd[i].revents);
        netloop_process(m.net, pfd + net0, nnet);
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(m.sigfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
                    if (!m.interrupted)
                        logf_(&m, NULL,
                              "interrupted: stopping the explorers, keeping what is "
                              "stored; 'trawl onboard --resume' continues");
                    m.interrupted = 1;
                    for (size_t k = 0; k < m.njobs; k++) {
                        if (m.jobs[k].state == JOB_RUNNING) {
                            m.jobs[k].end = END_INTERRUPTED;
                            snprintf(m.jobs[k].error, sizeof m.jobs[k].error, "interrupted");
                            worker_kill(&m.jobs[k].w);
                        }
                    }
                }
            }
            reap(&m);
        }
        free(pfd);
        free(who);
        if (!m.w)
            writer_tick(&m);
        if (o->live && (now_s() - ts_s(&m.last_draw)) >= 0.25) {
            draw(&m);
            clock_gettime(CLOCK_MONOTONIC, &m.last_draw);
        }
    }
    mwriter_free(m.w); /* stores what is queued */
    m.w = NULL;
    tx_commit(&m);
    ckpt_stop(&m);
    if (o->structurers > 0 && m.interrupted) {
        place_unplaced(&m);
    } else if (o->structurers > 0) {
        /* sphase_run adds documents earlier runs left unplaced, and returns
         * at once when there is nothing to structure */
        char serr[300];
        m.phase.taxonomy = src->taxonomy;
        m.phase.client = o->client;
        m.phase.run_id = m.run_id;
        if (m.phase.n || o->rebuild)
            logf_(&m, NULL, "structuring %zu documents with %d structurers", m.phase.n,
                  o->structurers);
        double st0 = now_s();
        if (sphase_run(&m.phase, kb, m.client_id, o->structurers, m.root, o->strict, o->rebuild,
                       m.log, serr, sizeof serr) < 0) {
            logf_(&m, NULL, "structure phase failed, documents go to their folder places: %s",
                  serr);
            place_unplaced(&m);
        } else if (m.phase.n) {
            logf_(&m, NULL, "structured %zu documents in %.3f s", m.phase.n, now_s() - st0);
        }
    }
    if (o->live && m.drawn_lines) {
        draw(&m);
        m.drawn_lines = 0;
    }

    /* The run record. */
    {
        json_t *stats = json_object(), *srcs = json_object(), *tot = json_object();
        long ok = 0, failed = 0, docs = 0, items = 0, bytes = 0, calls = 0, refused = 0;
        for (size_t i = 0; i < m.njobs; i++) {
            struct job *j = &m.jobs[i];
            json_object_set_new(srcs, j->def->name, job_stats(j));
            ok += j->state == JOB_OK || j->state == JOB_SKIPPED;
            failed += j->state == JOB_FAILED || j->state == JOB_QUEUED || j->state == JOB_RUNNING;
            docs += j->docs_new + j->docs_updated;
            items += j->items;
            bytes += j->bytes;
            calls += j->tool_calls;
            refused += j->refused;
        }
        json_object_set_new(tot, "items", json_integer(items));
        json_object_set_new(tot, "bytes", json_integer(bytes));
        json_object_set_new(tot, "documents_written", json_integer(docs));
        json_object_set_new(tot, "tool_calls", json_integer(calls));
        json_object_set_new(tot, "refused_calls", json_integer(refused));
        res->status = m.interrupted ? "interrupted" : failed ? "failed" : "ok";
        res->sources_ok = ok;
        res->sources_failed = failed;
        json_object_set_new(stats, "run", json_integer(m.run_id));
        json_object_set_new(stats, "client", json_string(o->client));
        json_object_set_new(stats, "status", json_string(res->status));
        json_object_set_new(stats, "sources_ok", json_integer(ok));
        json_object_set_new(stats, "sources_failed", json_integer(failed));
        json_object_set_new(stats, "sandbox", json_string(m.njobs ? m.jobs[0].w.layers : ""));
        json_object_set_new(stats, "totals", tot);
        json_object_set_new(stats, "sources", srcs);
        res->stats_json = json_dumps(stats, JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (o->metrics_path)
            write_metrics(&m, stats);
        json_decref(stats);
        if (kb_run_finish(kb, m.run_id, res->status, res->stats_json) < 0)
            logf_(&m, NULL, "cannot record the run: %s", kb_errmsg(kb));
    }
    if (!o->keep_workspaces && !m.interrupted && res->sources_failed == 0)
        rm_tree(m.root);
    else
        logf_(&m, NULL, "workspaces kept in %s", m.root);
    rc = 0;
out:
    mwriter_free(m.w);
    m.w = NULL;
    ckpt_stop(&m);
    kb_close(m.reader);
    for (size_t i = 0; i < m.njobs; i++) {
        struct job *j = &m.jobs[i];
        if (j->state == JOB_RUNNING)
            worker_kill(&j->w);
        job_close_driver(j);
        if (j->ds.payload_dirfd >= 0)
            close(j->ds.payload_dirfd);
        if (j->w.fd >= 0)
            close(j->w.fd);
        worker_release(&j->w);
        proto_conn_release(&j->conn);
        json_decref(j->checkpoint);
        json_decref(j->poison);
        json_decref(j->parts);
        json_decref(j->inline_versions);
        json_decref(j->inline_prev);
        free(j->fault);
        free(j->inflight);
        free(j->lat);
        for (int k = 0; k < MASTER_RECENT; k++) {
            free(j->recent[k].path);
            free(j->recent[k].version);
        }
    }
    free(m.jobs);
    sphase_free(&m.phase);
    netloop_free(m.net);
    if (m.sigfd >= 0) {
        close(m.sigfd);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
    }
    return rc;
}
