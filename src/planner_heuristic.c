/*
 * The heuristic planner: list a page, fetch what is new in it, checkpoint,
 * list the next page. What it knows beyond that:
 *   - forum patterns for its source type: file types other onboardings found
 *     to hold no text are listed and counted but not fetched;
 *   - budgets: items and bytes fetched, path depth, wall time;
 *   - an inventory of the source (kinds, file types, top-level structure,
 *     date range, errors) that it posts as findings at the end.
 */
#include "planner.h"

#include "extract.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PH_PAGE 200
#define PH_TYPES 48
#define PH_FOLDERS 24
#define PH_ERRORS 5
#define PH_SKIP 32
/* a file type is noise when this many files of it gave no text at all */
#define PH_NOISE_MIN 3

struct ph_type {
    char ext[16];
    long n, fetched, docs, text_bytes, errors;
};

struct ph {
    const char *list_tool, *fetch_tool, *source_type;
    struct plan_budget b;
    double t0;
    json_t *after; /* last path of the last finished page */
    json_t *page;  /* the current listing page (files), NULL before the first */
    size_t idx;
    int last_page, page_saved, stopped;
    char stop_reason[96];
    long listed, fetched, known, skipped_pattern, skipped_depth, failed;
    long long bytes;
    long docs, text_bytes, errors;
    int64_t mtime_min, mtime_max;
    struct ph_type types[PH_TYPES];
    int ntypes;
    struct {
        char name[64];
        long n;
    } folders[PH_FOLDERS];
    int nfolders;
    long folders_other;
    char errs[PH_ERRORS][160];
    int nerrs;
    char skip[PH_SKIP][16]; /* from forum patterns */
    int nskip;
    long skip_hits[PH_SKIP];
};

static double ph_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct ph_type *ph_type(struct ph *p, const char *ext)
{
    for (int i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].ext, ext) == 0)
            return &p->types[i];
    if (p->ntypes == PH_TYPES)
        return NULL;
    struct ph_type *t = &p->types[p->ntypes++];
    memset(t, 0, sizeof *t);
    snprintf(t->ext, sizeof t->ext, "%s", ext);
    return t;
}

static void ph_folder(struct ph *p, const char *path)
{
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;

    if (!slash) /* a file at the top */
        return;
    if (n >= sizeof p->folders[0].name)
        n = sizeof p->folders[0].name - 1;
    for (int i = 0; i < p->nfolders; i++) {
        if (strncmp(p->folders[i].name, path, n) == 0 && p->folders[i].name[n] == '\0') {
            p->folders[i].n++;
            return;
        }
    }
    if (p->nfolders == PH_FOLDERS) {
        p->folders_other++;
        return;
    }
    memcpy(p->folders[p->nfolders].name, path, n);
    p->folders[p->nfolders].name[n] = '\0';
    p->folders[p->nfolders++].n = 1;
}

static int ph_depth(const char *path)
{
    int d = 0;
    for (const char *s = path; *s; s++)
        d += *s == '/';
    return d;
}

static int ph_skipped_type(struct ph *p, const char *ext)
{
    for (int i = 0; i < p->nskip; i++) {
        if (strcmp(p->skip[i], ext) == 0) {
            p->skip_hits[i]++;
            return 1;
        }
    }
    return 0;
}

/* Patterns: findings that carry {"skip_types": [...]} in their body's
 * "pattern" line (see ph_findings), for this source type. */
static void ph_read_patterns(struct ph *p, const json_t *patterns)
{
    size_t i;
    json_t *f;

    json_array_foreach(patterns, i, f)
    {
        const char *body = json_string_value(json_object_get(f, "body"));
        const char *mark = body ? strstr(body, "skip-types:") : NULL;
        char word[16];
        size_t n = 0;

        if (!mark)
            continue;
        for (const char *s = mark + strlen("skip-types:");; s++) {
            if (isalnum((unsigned char)*s) && n + 1 < sizeof word) {
                word[n++] = (char)tolower((unsigned char)*s);
                continue;
            }
            if (n) {
                word[n] = '\0';
                int dup = 0;
                for (int k = 0; k < p->nskip; k++)
                    dup |= strcmp(p->skip[k], word) == 0;
                if (!dup && p->nskip < PH_SKIP)
                    memcpy(p->skip[p->nskip++], word, n + 1);
                n = 0;
            }
            if (*s != ' ' && *s != ',' && !isalnum((unsigned char)*s))
                break;
        }
    }
}

static void ph_restore(struct ph *p, const json_t *cp)
{
    const char *k;
    json_t *v, *inv = json_object_get(cp, "inventory");

    p->after = json_incref(json_object_get(cp, "after"));
    p->listed = (long)json_integer_value(json_object_get(cp, "listed"));
    json_object_foreach(json_object_get(cp, "types"), k, v)
    {
        struct ph_type *t = strlen(k) < 16 ? ph_type(p, k) : NULL;
        if (t)
            t->n = (long)json_integer_value(v);
    }
    if (!inv)
        return;
    p->fetched = (long)json_integer_value(json_object_get(inv, "fetched"));
    p->known = (long)json_integer_value(json_object_get(inv, "known"));
    p->skipped_pattern = (long)json_integer_value(json_object_get(inv, "skipped_pattern"));
    p->skipped_depth = (long)json_integer_value(json_object_get(inv, "skipped_depth"));
    p->failed = (long)json_integer_value(json_object_get(inv, "failed"));
    p->bytes = json_integer_value(json_object_get(inv, "bytes"));
    p->docs = (long)json_integer_value(json_object_get(inv, "docs"));
    p->text_bytes = (long)json_integer_value(json_object_get(inv, "text_bytes"));
    p->errors = (long)json_integer_value(json_object_get(inv, "errors"));
    p->mtime_min = json_integer_value(json_object_get(inv, "mtime_min"));
    p->mtime_max = json_integer_value(json_object_get(inv, "mtime_max"));
    json_object_foreach(json_object_get(inv, "folders"), k, v)
    {
        if (p->nfolders < PH_FOLDERS && strlen(k) < sizeof p->folders[0].name) {
            snprintf(p->folders[p->nfolders].name, sizeof p->folders[0].name, "%s", k);
            p->folders[p->nfolders++].n = (long)json_integer_value(v);
        }
    }
    json_object_foreach(json_object_get(inv, "type_stats"), k, v)
    {
        struct ph_type *t = strlen(k) < 16 ? ph_type(p, k) : NULL;
        if (t && json_array_size(v) == 4) {
            t->fetched = (long)json_integer_value(json_array_get(v, 0));
            t->docs = (long)json_integer_value(json_array_get(v, 1));
            t->text_bytes = (long)json_integer_value(json_array_get(v, 2));
            t->errors = (long)json_integer_value(json_array_get(v, 3));
        }
    }
}

static void *ph_start(const json_t *task, const json_t *tools, const json_t *patterns,
                      const struct plan_budget *budget)
{
    struct ph *p = calloc(1, sizeof *p);
    const json_t *ex = json_object_get(task, "explore");

    (void)tools;
    if (!p)
        return NULL;
    p->list_tool = json_string_value(json_object_get(ex, "list"));
    p->fetch_tool = json_string_value(json_object_get(ex, "fetch"));
    p->source_type = json_string_value(json_object_get(task, "source_type"));
    if (!p->list_tool || !p->fetch_tool) {
        free(p);
        return NULL;
    }
    if (budget)
        p->b = *budget;
    p->t0 = ph_now();
    p->mtime_min = INT64_MAX;
    p->mtime_max = INT64_MIN;
    ph_read_patterns(p, patterns);
    if (json_is_object(json_object_get(task, "checkpoint")))
        ph_restore(p, json_object_get(task, "checkpoint"));
    return p;
}

static json_t *ph_state(struct ph *p)
{
    json_t *cp = json_object(), *types = json_object(), *inv = json_object(),
           *folders = json_object(), *ts = json_object();

    json_object_set(cp, "after", p->after);
    json_object_set_new(cp, "listed", json_integer(p->listed));
    for (int i = 0; i < p->ntypes; i++) {
        struct ph_type *t = &p->types[i];
        json_object_set_new(types, t->ext, json_integer(t->n));
        json_object_set_new(ts, t->ext,
                            json_pack("[IIII]", (json_int_t)t->fetched, (json_int_t)t->docs,
                                      (json_int_t)t->text_bytes, (json_int_t)t->errors));
    }
    json_object_set_new(cp, "types", types);
    for (int i = 0; i < p->nfolders; i++)
        json_object_set_new(folders, p->folders[i].name, json_integer(p->folders[i].n));
    json_object_set_new(inv, "fetched", json_integer(p->fetched));
    json_object_set_new(inv, "known", json_integer(p->known));
    json_object_set_new(inv, "skipped_pattern", json_integer(p->skipped_pattern));
    json_object_set_new(inv, "skipped_depth", json_integer(p->skipped_depth));
    json_object_set_new(inv, "failed", json_integer(p->failed));
    json_object_set_new(inv, "bytes", json_integer(p->bytes));
    json_object_set_new(inv, "docs", json_integer(p->docs));
    json_object_set_new(inv, "text_bytes", json_integer(p->text_bytes));
    json_object_set_new(inv, "errors", json_integer(p->errors));
    if (p->mtime_min <= p->mtime_max) {
        json_object_set_new(inv, "mtime_min", json_integer(p->mtime_min));
        json_object_set_new(inv, "mtime_max", json_integer(p->mtime_max));
    }
    json_object_set_new(inv, "folders", folders);
    json_object_set_new(inv, "type_stats", ts);
    json_object_set_new(cp, "inventory", inv);
    return cp;
}

static int ph_over_budget(struct ph *p, long long size)
{
    if (p->b.max_items > 0 && p->fetched >= p->b.max_items)
        snprintf(p->stop_reason, sizeof p->stop_reason, "item budget (%ld) reached",
                 p->b.max_items);
    else if (p->b.max_bytes > 0 && p->bytes + size > p->b.max_bytes)
        snprintf(p->stop_reason, sizeof p->stop_reason, "byte budget (%lld) reached",
                 p->b.max_bytes);
    else if (p->b.max_seconds > 0 && ph_now() - p->t0 > p->b.max_seconds)
        snprintf(p->stop_reason, sizeof p->stop_reason, "time budget (%.0f s) reached",
                 p->b.max_seconds);
    else
        return 0;
    return 1;
}

static int ph_next(void *st, struct plan_step *s)
{
    struct ph *p = st;

    memset(s, 0, sizeof *s);
    if (p->stopped)
        return 0;
    while (p->page && p->idx < json_array_size(p->page)) {
        json_t *f = json_array_get(p->page, p->idx++);
        const char *path = json_string_value(json_object_get(f, "path"));
        long long size = json_integer_value(json_object_get(f, "size"));
        json_t *mt = json_object_get(f, "mtime_ns");
        struct ph_type *t;
        char ext[16];

        if (!path)
            continue;
        p->listed++;
        extract_file_type(path, ext);
        if ((t = ph_type(p, ext)))
            t->n++;
        ph_folder(p, path);
        if (json_is_integer(mt)) {
            int64_t v = json_integer_value(mt);
            p->mtime_min = v < p->mtime_min ? v : p->mtime_min;
            p->mtime_max = v > p->mtime_max ? v : p->mtime_max;
        }
        if (json_is_true(json_object_get(f, "known"))) {
            p->known++;
            continue;
        }
        if (p->b.max_depth > 0 && ph_depth(path) > p->b.max_depth) {
            p->skipped_depth++;
            continue;
        }
        if (ph_skipped_type(p, ext)) {
            p->skipped_pattern++;
            continue;
        }
        if (ph_over_budget(p, size)) {
            /* The items after this one are neither fetched nor checkpointed:
             * a later run (or a larger budget) picks them up. */
            p->stopped = 1;
            return 0;
        }
        s->kind = PLAN_FETCH;
        s->tool = p->fetch_tool;
        s->item = f;
        s->args = json_object();
        json_object_set_new(s->args, "path", json_string(path));
        return 0;
    }
    if (p->page && !p->page_saved) { /* everything the page covers is emitted */
        json_t *last =
            json_object_get(json_array_get(p->page, json_array_size(p->page) - 1), "path");
        if (last) {
            json_decref(p->after);
            p->after = json_incref(last);
        }
        p->page_saved = 1;
        s->kind = PLAN_CHECKPOINT;
        s->args = ph_state(p);
        return 0;
    }
    if (p->last_page) {
        p->stopped = 1;
        return 0;
    }
    s->kind = PLAN_LIST;
    s->tool = p->list_tool;
    s->args = json_object();
    json_object_set_new(s->args, "limit", json_integer(PH_PAGE));
    if (p->after)
        json_object_set(s->args, "after", p->after);
    return 0;
}

static void ph_error(struct ph *p, const char *what, const char *path, const char *err)
{
    if (p->nerrs < PH_ERRORS)
        snprintf(p->errs[p->nerrs++], sizeof p->errs[0], "%s '%.80s': %.60s", what,
                 path ? path : "?", err ? err : "failed");
}

static void ph_observe(void *st, const struct plan_step *s, const json_t *res, const char *err,
                       const struct plan_outcome *o)
{
    struct ph *p = st;

    if (s->kind == PLAN_LIST) {
        json_t *files = json_object_get(res, "files");
        json_decref(p->page);
        p->page = NULL;
        p->idx = 0;
        p->page_saved = 0;
        if (!res) { /* a listing that fails ends the exploration */
            ph_error(p, "list", "", err);
            snprintf(p->stop_reason, sizeof p->stop_reason, "listing failed");
            p->failed++;
            p->stopped = 1;
            return;
        }
        if (json_array_size(files))
            p->page = json_incref(files);
        p->last_page = !json_is_string(json_object_get(res, "next"));
        return;
    }
    if (s->kind != PLAN_FETCH)
        return;
    const char *path = json_string_value(json_object_get(s->item, "path"));
    char ext[16];
    struct ph_type *t;

    extract_file_type(path ? path : "", ext);
    t = ph_type(p, ext);
    p->fetched++;
    p->bytes += json_integer_value(json_object_get(s->item, "size"));
    if (t)
        t->fetched++;
    if (!res || (o && o->error)) {
        p->failed++;
        ph_error(p, res ? "extract" : "fetch", path, res ? o->error : err);
    }
    if (o) {
        p->docs += o->docs;
        p->text_bytes += o->text_bytes;
        p->errors += o->errors;
        if (t) {
            t->docs += o->docs;
            t->text_bytes += o->text_bytes;
            t->errors += o->errors;
        }
    }
}

static void ph_date(int64_t ns, char out[16])
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(out, 16, "%Y-%m-%d", &tm))
        snprintf(out, 16, "?");
}

static json_t *ph_post(const char *title, const char *body, const char *file_type)
{
    json_t *o = json_object();
    struct buf b = BUF_INIT;

    /* names cut to fit may end inside a UTF-8 sequence */
    extract_utf8_clean(&b, body, strlen(body));
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "body", json_stringn(b.data ? b.data : "", b.len));
    buf_release(&b);
    if (file_type && *file_type)
        json_object_set_new(o, "file_type", json_string(file_type));
    return o;
}

static int ph_cmp_type(const void *a, const void *b)
{
    const struct ph_type *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->ext, y->ext);
}

static json_t *ph_findings(void *st)
{
    struct ph *p = st;
    json_t *out = json_array();
    char body[4096], d0[16], d1[16];
    size_t off = 0;
    int best = -1;

#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (off < sizeof body)                                                                     \
            off += (size_t)snprintf(body + off, sizeof body - off, __VA_ARGS__);                   \
    } while (0)

    if (p->listed == 0 && p->nerrs == 0)
        return out;
    qsort(p->types, (size_t)p->ntypes, sizeof p->types[0], ph_cmp_type);
    best = p->ntypes ? 0 : -1;

    /* 1. the inventory */
    /* What the source holds, not how this run went (that is in the run
     * record): a resumed run posts the same inventory as an uninterrupted one. */
    ADD("%ld files", p->listed);
    if (p->skipped_pattern)
        ADD(", %ld not fetched as forum patterns advise", p->skipped_pattern);
    if (p->skipped_depth)
        ADD(", %ld below the depth budget", p->skipped_depth);
    ADD(".\nFile types:");
    for (int i = 0; i < p->ntypes; i++)
        ADD(" %s %ld%s", p->types[i].ext[0] ? p->types[i].ext : "(none)", p->types[i].n,
            i + 1 < p->ntypes ? "," : ".");
    if (p->nfolders) {
        ADD("\nStructure: %d top-level folders:", p->nfolders + (p->folders_other > 0));
        for (int i = 0; i < p->nfolders; i++)
            ADD(" %s (%ld)%s", p->folders[i].name, p->folders[i].n, i + 1 < p->nfolders ? "," : "");
        if (p->folders_other)
            ADD(", others (%ld)", p->folders_other);
        ADD(".");
    }
    if (p->mtime_min <= p->mtime_max) {
        ph_date(p->mtime_min, d0);
        ph_date(p->mtime_max, d1);
        ADD("\nDates: modified from %s to %s.", d0, d1);
    }
    if (p->stop_reason[0])
        ADD("\nStopped early: %s.", p->stop_reason);
    json_array_append_new(
        out, ph_post("file types of this source", body, best >= 0 ? p->types[best].ext : NULL));

    /* 2. the patterns it used */
    off = 0;
    for (int i = 0; i < p->nskip; i++)
        if (p->skip_hits[i])
            ADD("%s%s (%ld files)",
                off ? ", " : "Not fetched, as forum patterns advise: ", p->skip[i],
                p->skip_hits[i]);
    if (off) {
        ADD(".");
        json_array_append_new(out, ph_post("patterns used", body, NULL));
    }

    /* 3. the patterns it found: file types whose files gave no text */
    off = 0;
    json_t *skip = json_array();
    for (int i = 0; i < p->ntypes; i++) {
        struct ph_type *t = &p->types[i];
        if (t->ext[0] && t->fetched >= PH_NOISE_MIN && t->text_bytes == 0) {
            ADD("%s%s", off ? " " : "skip-types: ", t->ext);
            json_array_append_new(skip, json_string(t->ext));
        }
    }
    if (off) {
        ADD("\nFiles of these types gave no text in a %s source.",
            p->source_type ? p->source_type : "");
        json_t *post = ph_post("file types without text", body, NULL);
        json_t *pat = json_object();
        json_object_set_new(pat, "skip_types", skip);
        json_object_set_new(post, "pattern", pat);
        json_array_append_new(out, post);
    } else {
        json_decref(skip);
    }

    /* 4. the errors it met */
    if (p->failed || p->errors) {
        off = 0;
        ADD("%ld files failed, %ld parts had extraction errors.", p->failed, p->errors);
        for (int i = 0; i < p->nerrs; i++)
            ADD("\n%s", p->errs[i]);
        json_array_append_new(out, ph_post("errors met", body, NULL));
    }
#undef ADD
    return out;
}

static void ph_free(void *st)
{
    struct ph *p = st;
    if (!p)
        return;
    json_decref(p->after);
    json_decref(p->page);
    free(p);
}

const struct planner_ops planner_heuristic = {
    .name = "heuristic",
    .start = ph_start,
    .next = ph_next,
    .observe = ph_observe,
    .findings = ph_findings,
    .free = ph_free,
};
