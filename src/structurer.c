/* The structure phase: master side and structurer child; see structurer.h. */
#include "structurer.h"

#include "proto.h"
#include "structure.h"
#include "textstat.h"
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPHASE_BATCH 32
#define SPHASE_MAX_K 64
#define SPHASE_KEYWORDS 8 /* words kept on a skill node to place later documents */

int sphase_add(struct sphase *p, const char *source, const char *ext, const char *title,
               const char *text, const char *file_type, const char *thread_key)
{
    struct sphase_item *it;
    size_t tl = strlen(text ? text : "");

    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        struct sphase_item *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = nc;
    }
    if (tl > SPHASE_TEXT_MAX) {
        tl = SPHASE_TEXT_MAX;
        while (tl > 0 && ((unsigned char)text[tl] & 0xc0) == 0x80)
            tl--;
    }
    it = &p->v[p->n];
    it->source = strdup(source);
    it->ext = strdup(ext);
    it->title = strdup(title ? title : ext);
    it->text = strndup(text ? text : "", tl);
    it->file_type = strdup(file_type ? file_type : "");
    it->thread = thread_key && *thread_key ? strndup(thread_key, 500) : NULL;
    if (!it->source || !it->ext || !it->title || !it->text || !it->file_type) {
        free(it->thread);
        free(it->source);
        free(it->ext);
        free(it->title);
        free(it->text);
        free(it->file_type);
        return -1;
    }
    p->n++;
    return 0;
}

static void item_free(struct sphase_item *it)
{
    free(it->thread);
    free(it->source);
    free(it->ext);
    free(it->title);
    free(it->text);
    free(it->file_type);
}

void sphase_free(struct sphase *p)
{
    for (size_t i = 0; i < p->n; i++)
        item_free(&p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- the structurer child ---------------------------------------------------- */

static json_t *analyse(json_t *doc)
{
    const char *text = json_string_value(json_object_get(doc, "text"));
    json_t *r = json_object(), *terms = json_array();
    struct ts_doc d;
    struct buf sum = BUF_INIT;
    char hex[17];
    size_t tl = text ? strlen(text) : 0;

    json_object_set(r, "i", json_object_get(doc, "i"));
    if (ts_doc_build(&d, text ? text : "", tl) == 0) {
        for (size_t k = 0; k < d.n; k++)
            json_array_append_new(terms, json_pack("[ssi]", d.terms[k].term, d.terms[k].word,
                                                   (json_int_t)d.terms[k].count));
        snprintf(hex, sizeof hex, "%016" PRIx64, ts_simhash(&d));
        json_object_set_new(r, "simhash", json_string(hex));
        json_object_set_new(r, "ntokens", json_integer((json_int_t)d.ntokens));
        ts_doc_free(&d);
    }
    json_object_set_new(r, "terms", terms);
    if (ts_summary(text ? text : "", tl, 3, 400, &sum) == 0 && sum.len)
        json_object_set_new(r, "summary", json_stringn(sum.data, sum.len));
    buf_release(&sum);
    return r;
}

int structurer_main(int fd, void *arg)
{
    struct proto_conn c;
    json_t *hello = json_object(), *welcome = NULL;
    int rc = 1;

    (void)arg;
    proto_conn_init(&c, fd, PROTO_MAX_FRAME);
    json_object_set_new(hello, "role", json_string("structurer"));
    json_object_set_new(hello, "version", json_integer(PROTO_VERSION));
    if (proto_call(&c, "hello", hello, &welcome, NULL) < 0)
        goto out;
    json_decref(welcome);
    for (;;) {
        json_t *batch = NULL, *docs, *out, *doc, *ack = NULL;
        size_t k;
        if (proto_call(&c, "structure/next", NULL, &batch, NULL) < 0)
            goto out;
        docs = json_object_get(batch, "docs");
        if (!json_is_array(docs) || json_array_size(docs) == 0) {
            json_decref(batch);
            break;
        }
        out = json_array();
        json_array_foreach(docs, k, doc) json_array_append_new(out, analyse(doc));
        json_decref(batch);
        if (proto_call(&c, "structure/result", json_pack("{so}", "docs", out), &ack, NULL) < 0)
            goto out;
        json_decref(ack);
    }
    rc = 0;
out:
    proto_conn_release(&c);
    return rc;
}

/* ---- the master side ---------------------------------------------------------- */

struct sdoc {
    struct ts_doc d;
    uint64_t sig;
    char *summary;
    int done;
};

struct sworker {
    struct worker w;
    struct proto_conn c;
    int hello, alive;
    size_t lo, hi; /* the batch it holds */
};

struct sctx {
    struct sphase *p;
    struct sdoc *docs;
    size_t next, ndone;
    FILE *log;
};

static int cmp_item(const void *a, const void *b)
{
    const struct sphase_item *x = a, *y = b;
    int c = strcmp(x->source, y->source);

    return c ? c : strcmp(x->ext, y->ext);
}

/* Takes a structurer's results for [lo, hi); anything malformed leaves the
 * document empty (it still gets placed) and counts as a violation. */
static int take_results(struct sctx *s, struct sworker *w, json_t *params)
{
    json_t *docs = json_object_get(params, "docs"), *r;
    size_t k;
    int bad = 0;

    if (!json_is_array(docs))
        return -1;
    json_array_foreach(docs, k, r)
    {
        json_int_t i = json_integer_value(json_object_get(r, "i"));
        json_t *terms = json_object_get(r, "terms"), *t;
        const char *hex = json_string_value(json_object_get(r, "simhash"));
        const char *sum = json_string_value(json_object_get(r, "summary"));
        struct sdoc *sd;
        size_t n;
        if (i < (json_int_t)w->lo || i >= (json_int_t)w->hi || s->docs[i].done ||
            !json_is_array(terms)) {
            bad = 1;
            continue;
        }
        sd = &s->docs[i];
        sd->done = 1;
        s->ndone++;
        sd->d.terms = calloc(json_array_size(terms) + 1, sizeof *sd->d.terms);
        if (!sd->d.terms)
            return -1;
        json_array_foreach(terms, n, t)
        {
            const char *stem = json_string_value(json_array_get(t, 0));
            const char *word = json_string_value(json_array_get(t, 1));
            json_int_t cnt = json_integer_value(json_array_get(t, 2));
            size_t sl, wl;
            char *mem;
            if (!stem || !word || cnt <= 0 || cnt > UINT32_MAX || !*stem ||
                strlen(stem) > 2 * TS_TOKEN_MAX || strlen(word) > TS_TOKEN_MAX ||
                (sd->d.n && strcmp(sd->d.terms[sd->d.n - 1].term, stem) >= 0)) {
                bad = 1;
                continue; /* unsorted, duplicate or oversized terms are dropped */
            }
            sl = strlen(stem);
            wl = strlen(word);
            mem = malloc(sl + wl + 2);
            if (!mem)
                return -1;
            memcpy(mem, stem, sl + 1);
            memcpy(mem + sl + 1, word, wl + 1);
            sd->d.terms[sd->d.n].term = mem;
            sd->d.terms[sd->d.n].word = mem + sl + 1;
            sd->d.terms[sd->d.n].count = (uint32_t)cnt;
            sd->d.ntokens += (size_t)cnt;
            sd->d.n++;
        }
        sd->sig = hex ? strtoull(hex, NULL, 16) : 0;
        sd->summary = sum ? strndup(sum, 1000) : NULL;
    }
    if (bad && s->log)
        fprintf(s->log, "trawl: a structurer returned malformed results (dropped)\n");
    return 0;
}

static json_t *next_batch(struct sctx *s, struct sworker *w)
{
    json_t *docs = json_array();

    w->lo = s->next;
    while (s->next < s->p->n && s->next - w->lo < SPHASE_BATCH) {
        json_array_append_new(
            docs, json_pack("{sIss}", "i", (json_int_t)s->next, "text", s->p->v[s->next].text));
        s->next++;
    }
    w->hi = s->next;
    return json_pack("{so}", "docs", docs);
}

/* Allowed methods for role "structurer": hello, structure/next, structure/result. */
static int dispatch(struct sctx *s, struct sworker *w, json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *id = json_object_get(msg, "id"), *res = NULL, *reply;

    if (!method || !id)
        return -1;
    if (strcmp(method, "hello") == 0 && !w->hello) {
        const char *role =
            json_string_value(json_object_get(json_object_get(msg, "params"), "role"));
        if (!role || strcmp(role, "structurer") != 0)
            return -1;
        w->hello = 1;
        res = json_pack("{si}", "version", PROTO_VERSION);
    } else if (w->hello && strcmp(method, "structure/next") == 0 && w->lo == w->hi) {
        res = next_batch(s, w);
    } else if (w->hello && strcmp(method, "structure/result") == 0 && w->lo < w->hi) {
        if (take_results(s, w, json_object_get(msg, "params")) < 0)
            return -1;
        w->lo = w->hi = 0;
        res = json_object();
    } else {
        reply = proto_error(id, PROTO_ENOMETHOD, "method not allowed for a structurer now");
        proto_conn_queue(&w->c, reply);
        json_decref(reply);
        return -1;
    }
    reply = proto_result(id, res);
    proto_conn_queue(&w->c, reply);
    json_decref(reply);
    return 0;
}

static void worker_down(struct sworker *w)
{
    if (!w->alive)
        return;
    w->alive = 0;
    worker_kill(&w->w);
    close(w->w.fd);
    while (waitpid(w->w.pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Analyse documents in the structurers; any document a dead structurer held
 * is analysed in the master instead (the text is the same). */
static int analyse_all(struct sctx *s, int K, const char *root, int strict, char *err,
                       size_t errlen)
{
    struct sworker *ws = calloc((size_t)K, sizeof *ws);
    int alive = 0;

    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int k = 0; k < K; k++) {
        struct worker_opts wo = {0};
        char dir[600], e[300];
        snprintf(dir, sizeof dir, "%.500s/structurer-%d", root, k);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            continue;
        wo.workspace = dir;
        wo.strict = strict;
        if (worker_spawn(&wo, structurer_main, NULL, &ws[k].w, e, sizeof e) < 0) {
            if (s->log)
                fprintf(s->log, "trawl: cannot start structurer %d: %s\n", k, e);
            continue;
        }
        proto_conn_init(&ws[k].c, ws[k].w.fd, PROTO_MAX_FRAME);
        ws[k].alive = 1;
        alive++;
    }
    while (alive > 0) {
        struct pollfd pfd[SPHASE_MAX_K];
        for (int k = 0; k < K; k++)
            pfd[k] = (struct pollfd){ws[k].alive ? ws[k].w.fd : -1,
                                     (short)(POLLIN | (ws[k].c.out.len ? POLLOUT : 0)), 0};
        if (poll(pfd, (nfds_t)K, 1000) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < K; k++) {
            struct sworker *w = &ws[k];
            json_t *msg;
            int r, bad = 0;
            if (!w->alive || !pfd[k].revents)
                continue;
            if (pfd[k].revents & POLLOUT)
                proto_conn_flush(&w->c);
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                int rr = proto_conn_read(&w->c);
                while (!bad && (r = proto_conn_next(&w->c, &msg)) == 1) {
                    bad = dispatch(s, w, msg) < 0;
                    json_decref(msg);
                }
                if (r < 0 || rr < 0)
                    bad = 1;
                if (w->c.out.len)
                    proto_conn_flush(&w->c);
                if (bad || rr == 0) {
                    if (bad && s->log)
                        fprintf(s->log, "trawl: structurer %d broke the protocol: stopped\n", k);
                    worker_down(w);
                    alive--;
                }
            }
        }
    }
    for (int k = 0; k < K; k++) {
        worker_down(&ws[k]);
        proto_conn_release(&ws[k].c);
    }
    free(ws);
    /* Documents no structurer finished. */
    for (size_t i = 0; i < s->p->n; i++) {
        json_t *doc, *r, *params;
        struct sworker w = {0};
        if (s->docs[i].done)
            continue;
        doc = json_pack("{sIss}", "i", (json_int_t)i, "text", s->p->v[i].text);
        r = analyse(doc);
        params = json_pack("{s[o]}", "docs", r);
        w.lo = i;
        w.hi = i + 1;
        take_results(s, &w, params);
        json_decref(params);
        json_decref(doc);
    }
    return 0;
}

/* Writes document i's entry under skill path sp, in its entry group:
 * near-duplicate set, else its top folder, else its source. */
static void place_entry(struct kb *kb, int64_t client_id, struct sphase *p, struct sctx *s,
                        size_t i, const char *sp, const size_t *dup, const uint64_t *sig, FILE *log)
{
    struct sphase_item *it = &p->v[i];
    struct buf path = BUF_INIT, key = BUF_INIT, meta = BUF_INIT;
    struct kb_doc_ref ref = {it->source, it->ext};
    struct kb_entry e = {0};
    const char *slash = strchr(it->ext, '/');
    char folder[48], hex[17];
    json_t *mj = json_object();
    char *ms;

    if (it->thread) { /* mail threads first: the explorer's thread key */
        char ts[40];
        ts_slug(it->thread, ts, sizeof ts);
        snprintf(folder, sizeof folder, "thread-%s", ts);
    } else if (dup && dup[i] != i) {
        snprintf(folder, sizeof folder, "near-duplicates");
    } else if (slash) {
        char top[48];
        size_t fl = (size_t)(slash - it->ext) < 40 ? (size_t)(slash - it->ext) : 40;
        memcpy(top, it->ext, fl);
        top[fl] = '\0';
        ts_slug(top, folder, 40);
    } else {
        ts_slug(it->source, folder, 40);
    }
    buf_addf(&path, "%s/%s", sp, folder);
    buf_addf(&key, "doc:%s:%s", it->source, it->ext);
    snprintf(hex, sizeof hex, "%016" PRIx64, sig[i]);
    json_object_set_new(mj, "source", json_string(it->source));
    json_object_set_new(mj, "file_type", json_string(it->file_type));
    json_object_set_new(mj, "simhash", json_string(hex));
    if (dup && dup[i] != i)
        json_object_set_new(mj, "near_duplicate_of", json_string(p->v[dup[i]].ext));
    ms = json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS);
    buf_adds(&meta, ms);
    free(ms);
    json_decref(mj);
    e.key = buf_str(&key);
    e.path = buf_str(&path);
    e.title = it->title;
    e.body = it->text;
    e.summary = s->docs[i].summary;
    e.metadata_json = buf_str(&meta);
    e.docs = &ref;
    e.ndocs = 1;
    if (kb_entry_upsert(kb, client_id, &e, NULL, NULL) < 0 && log)
        fprintf(log, "trawl: cannot place %s:%s: %s\n", it->source, it->ext, kb_errmsg(kb));
    buf_release(&path);
    buf_release(&key);
    buf_release(&meta);
}

/* ---- the client's taxonomy ------------------------------------------------------ */

struct taxskill {
    char path[130], title[128], summary[512];
    char stems[16][2 * TS_TOKEN_MAX + 1];
    int n;
};

static void tax_keywords(struct taxskill *k, json_t *arr)
{
    size_t x;
    json_t *w;

    json_array_foreach(arr, x, w)
    {
        const char *kw = json_string_value(w);
        char lower[TS_TOKEN_MAX + 1];
        size_t l;
        if (!kw || k->n >= 16 || (l = strlen(kw)) < 2 || l > TS_TOKEN_MAX)
            continue;
        for (size_t c = 0; c <= l; c++)
            lower[c] = (char)(kw[c] >= 'A' && kw[c] <= 'Z' ? kw[c] - 'A' + 'a' : kw[c]);
        ts_stem(lower, l, k->stems[k->n], sizeof k->stems[k->n]);
        k->n++;
    }
}

/* Flattens the taxonomy into skills (a domain without skills is one skill,
 * "general"). Malformed parts are skipped with a note. */
static size_t tax_load(json_t *tax, struct taxskill **out, FILE *log)
{
    json_t *domains = json_object_get(tax, "domains"), *d;
    struct taxskill *v = NULL;
    size_t n = 0, x;

    *out = NULL;
    if (!json_is_array(domains))
        return 0;
    json_array_foreach(domains, x, d)
    {
        char dslug[64];
        json_t *skills = json_object_get(d, "skills"), *sk, *one = NULL;
        size_t y;
        if (!json_is_string(json_object_get(d, "slug")) &&
            !json_is_string(json_object_get(d, "title"))) {
            if (log)
                fprintf(log, "trawl: taxonomy domain %zu has no slug or title: skipped\n", x);
            continue;
        }
        ts_slug(json_string_value(json_object_get(d, "slug"))
                    ? json_string_value(json_object_get(d, "slug"))
                    : json_string_value(json_object_get(d, "title")),
                dslug, 60);
        if (!json_is_array(skills) || !json_array_size(skills)) {
            one = json_pack("[{ss}]", "slug", "general");
            skills = one;
        }
        json_array_foreach(skills, y, sk)
        {
            struct taxskill *nv = realloc(v, (n + 1) * sizeof *v), *k;
            const char *ss = json_string_value(json_object_get(sk, "slug"));
            const char *st = json_string_value(json_object_get(sk, "title"));
            const char *de = json_string_value(json_object_get(sk, "description"));
            char sslug[64];
            if (!nv)
                break;
            v = nv;
            k = &v[n];
            memset(k, 0, sizeof *k);
            ts_slug(ss ? ss : st ? st : "general", sslug, 60);
            snprintf(k->path, sizeof k->path, "%s/%s", dslug, sslug);
            snprintf(k->title, sizeof k->title, "%s", st ? st : sslug);
            snprintf(k->summary, sizeof k->summary, "%s",
                     de ? de
                     : json_string_value(json_object_get(d, "description"))
                         ? json_string_value(json_object_get(d, "description"))
                         : "");
            tax_keywords(k, json_object_get(sk, "keywords"));
            tax_keywords(k, json_object_get(d, "keywords"));
            if (k->n)
                n++;
        }
        json_decref(one);
    }
    *out = v;
    return n;
}

/* Places the documents that use a taxonomy skill's keywords (at least two
 * occurrences); placed[i] is set for them. Returns how many. */
static size_t place_taxonomy(struct sphase *p, struct sctx *s, struct kb *kb, int64_t client_id,
                             const uint64_t *sig, char *placed, FILE *log)
{
    struct taxskill *v;
    size_t nsk = tax_load(p->taxonomy, &v, log), count = 0;
    int64_t node_id;

    for (size_t i = 0; i < p->n && nsk; i++) {
        long best = 0;
        size_t bk = 0;
        for (size_t k = 0; k < nsk; k++) {
            long score = 0;
            for (int w = 0; w < v[k].n; w++)
                score += ts_doc_count(&s->docs[i].d, v[k].stems[w]);
            if (score > best) {
                best = score;
                bk = k;
            }
        }
        if (best < 2)
            continue;
        if (kb_node_ensure(kb, client_id, v[bk].path, v[bk].title,
                           v[bk].summary[0] ? v[bk].summary : NULL, &node_id) < 0) {
            if (log)
                fprintf(log, "trawl: taxonomy skill %s: %s\n", v[bk].path, kb_errmsg(kb));
            continue;
        }
        place_entry(kb, client_id, p, s, i, v[bk].path, NULL, sig, log);
        placed[i] = 1;
        count++;
    }
    if (nsk && log)
        fprintf(log, "trawl: %zu of %zu documents placed by the client's taxonomy\n", count, p->n);
    free(v);
    return count;
}

/* ---- the forum as memory ----------------------------------------------------------
 * Discovered skills are posted as global patterns (phase structure, no
 * client): title "skill pattern: <domain>/<skill>", body "keywords: w1, w2".
 * Only vocabulary is posted: no addresses, names of the client or its
 * sources, digits, or document text. The next onboarding places documents
 * that use a pattern's keywords into that skill before discovering its own. */

struct blocklist {
    char **v;
    size_t n, cap;
};

static int block_tok(const char *tok, size_t len, size_t off, void *ud)
{
    struct blocklist *b = ud;
    char stem[2 * TS_TOKEN_MAX + 1];

    (void)off;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        char **nv = realloc(b->v, nc * sizeof *nv);
        if (!nv)
            return 1;
        b->v = nv;
        b->cap = nc;
    }
    ts_stem(tok, len, stem, sizeof stem);
    b->v[b->n] = strdup(stem);
    if (b->v[b->n])
        b->n++;
    return 0;
}

static int is_addr_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-';
}

/* Every word of every e-mail address in the documents, the client's name and
 * the source names. */
static void blocklist_build(struct blocklist *b, const struct sphase *p)
{
    if (p->client)
        ts_tokenize(p->client, strlen(p->client), block_tok, b);
    for (size_t i = 0; i < p->n; i++) {
        const char *t = p->v[i].text;
        size_t len = strlen(t);
        ts_tokenize(p->v[i].source, strlen(p->v[i].source), block_tok, b);
        for (size_t k = 0; k < len; k++) {
            size_t a = k, e = k + 1;
            if (t[k] != '@')
                continue;
            while (a > 0 && is_addr_byte((unsigned char)t[a - 1]))
                a--;
            while (e < len && is_addr_byte((unsigned char)t[e]))
                e++;
            ts_tokenize(t + a, e - a, block_tok, b);
        }
    }
}

static int blocked(const struct blocklist *b, const char *word)
{
    char stem[2 * TS_TOKEN_MAX + 1];

    for (const char *c = word; *c; c++)
        if (*c >= '0' && *c <= '9')
            return 1;
    ts_stem(word, strlen(word), stem, sizeof stem);
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i], stem) == 0)
            return 1;
    return 0;
}

static void blocklist_free(struct blocklist *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    free(b->v);
}

struct patterns {
    struct kb *kb;
    struct taxskill *v;
    size_t n;
};

static int pattern_hit(const struct kb_forum_entry *f, void *arg)
{
    struct patterns *ps = arg;
    struct taxskill *nv, *k;
    const char *w;

    if (f->client_id != 0 || !f->title || !f->body ||
        strncmp(f->title, "skill pattern: ", 15) != 0 || strncmp(f->body, "keywords: ", 10) != 0 ||
        strlen(f->title + 15) >= sizeof ps->v->path)
        return 0;
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].path, f->title + 15) == 0)
            return 0;
    nv = realloc(ps->v, (ps->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    ps->v = nv;
    k = &ps->v[ps->n];
    memset(k, 0, sizeof *k);
    snprintf(k->path, sizeof k->path, "%s", f->title + 15);
    snprintf(k->title, sizeof k->title, "%s", f->title + 15);
    snprintf(k->summary, sizeof k->summary, "%s", f->body);
    for (w = f->body + 10; *w && k->n < 16;) {
        size_t l = strcspn(w, ", ");
        if (l >= 2 && l <= TS_TOKEN_MAX) {
            ts_stem(w, l, k->stems[k->n], sizeof k->stems[k->n]);
            k->n++;
        }
        w += l;
        w += strspn(w, ", ");
    }
    if (k->n && kb_path_check(ps->kb, k->path) == 2)
        ps->n++;
    return 0;
}

static void patterns_load(struct kb *kb, struct patterns *ps)
{
    struct kb_forum_filter flt = {0};

    flt.global_only = 1;
    flt.phase = "structure";
    flt.limit = 200;
    ps->kb = kb;
    kb_forum_search(kb, "skill pattern", &flt, pattern_hit, ps);
}

/* Authority 2: places unplaced documents that use a pattern's keywords at
 * least twice into the pattern's skill. Returns how many. */
static size_t place_patterns(struct sphase *p, struct sctx *s, struct kb *kb, int64_t client_id,
                             const struct patterns *ps, const uint64_t *sig, char *placed,
                             FILE *log)
{
    size_t count = 0;
    int64_t node_id;

    for (size_t i = 0; i < p->n && ps->n; i++) {
        long best = 0;
        size_t bk = 0;
        if (placed[i])
            continue;
        for (size_t k = 0; k < ps->n; k++) {
            long score = 0;
            for (int w = 0; w < ps->v[k].n; w++)
                score += ts_doc_count(&s->docs[i].d, ps->v[k].stems[w]);
            if (score > best) {
                best = score;
                bk = k;
            }
        }
        if (best < 2)
            continue;
        if (kb_node_ensure(kb, client_id, ps->v[bk].path, NULL, ps->v[bk].summary, &node_id) < 0)
            continue;
        place_entry(kb, client_id, p, s, i, ps->v[bk].path, NULL, sig, log);
        placed[i] = 1;
        count++;
    }
    if (ps->n && log)
        fprintf(log, "trawl: %zu of %zu documents placed by %zu forum patterns\n", count, p->n,
                ps->n);
    return count;
}

/* Posts a discovered skill as a global pattern unless one with its path exists. */
static void pattern_post(struct kb *kb, const struct patterns *ps, const struct blocklist *bl,
                         int64_t run_id, const char *path, const char *keywords)
{
    struct kb_forum_entry f = {0};
    struct buf title = BUF_INIT, body = BUF_INIT;
    const char *w = keywords;
    int words = 0;
    int64_t id;

    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].path, path) == 0)
            return;
    buf_adds(&body, "keywords: ");
    while (*w) {
        size_t l = strcspn(w, ", ");
        char word[TS_TOKEN_MAX + 1];
        if (l >= 2 && l <= TS_TOKEN_MAX) {
            memcpy(word, w, l);
            word[l] = '\0';
            if (!blocked(bl, word)) {
                buf_addf(&body, "%s%s", words ? ", " : "", word);
                words++;
            }
        }
        w += l;
        w += strspn(w, ", ");
    }
    buf_addf(&title, "skill pattern: %s", path);
    f.client_id = 0; /* global: stripped of anything identifying */
    f.run_id = run_id;
    f.agent = "structurer";
    f.source_type = "any";
    f.phase = "structure";
    f.title = buf_str(&title);
    f.body = buf_str(&body);
    if (words >= 2)
        kb_forum_post(kb, &f, &id);
    buf_release(&title);
    buf_release(&body);
}

/* Skills of an existing tree: level-2 nodes whose summary lists keywords. */
struct skill {
    char path[256];
    char stems[SPHASE_KEYWORDS][2 * TS_TOKEN_MAX + 1];
    int n;
};
struct skills {
    struct skill *v;
    size_t n, cap;
};

static int skill_node(const struct kb_node *node, void *arg)
{
    struct skills *sk = arg;
    const char *w;
    struct skill *k;

    if (node->level != 2 || !node->summary || strncmp(node->summary, "Keywords: ", 10) != 0 ||
        strlen(node->path) >= sizeof sk->v->path)
        return 0;
    if (sk->n == sk->cap) {
        size_t nc = sk->cap ? sk->cap * 2 : 16;
        struct skill *nv = realloc(sk->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        sk->v = nv;
        sk->cap = nc;
    }
    k = &sk->v[sk->n++];
    memset(k, 0, sizeof *k);
    snprintf(k->path, sizeof k->path, "%s", node->path);
    for (w = node->summary + 10; *w && k->n < SPHASE_KEYWORDS;) {
        size_t l = strcspn(w, ", ");
        if (l && l <= TS_TOKEN_MAX) {
            ts_stem(w, l, k->stems[k->n], sizeof k->stems[k->n]);
            k->n++;
        }
        w += l;
        w += strspn(w, ", ");
    }
    return 0;
}

/* Places documents into the skills of an existing tree without reshaping
 * it: the skill whose keywords the document uses most (earlier keywords
 * weigh more); documents matching none go to unsorted/new. */
static int place_incremental(struct sphase *p, struct sctx *s, struct kb *kb, int64_t client_id,
                             const struct skills *sk, const uint64_t *sig, const char *placed,
                             FILE *log)
{
    int64_t node_id;
    size_t nplaced = 0, todo = 0;

    if (kb_begin(kb) < 0)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        long best = 0;
        const char *where = "unsorted/new";
        if (placed[i])
            continue;
        for (size_t k = 0; k < sk->n; k++) {
            long score = 0;
            for (int w = 0; w < sk->v[k].n; w++)
                score +=
                    (long)ts_doc_count(&s->docs[i].d, sk->v[k].stems[w]) * (SPHASE_KEYWORDS - w);
            if (score > best) {
                best = score;
                where = sk->v[k].path;
            }
        }
        todo++;
        if (best)
            nplaced++;
        else
            kb_node_ensure(kb, client_id, where, "New documents", NULL, &node_id);
        place_entry(kb, client_id, p, s, i, where, NULL, sig, log);
    }
    if (log)
        fprintf(log, "trawl: %zu of %zu documents placed into the existing tree\n", nplaced, todo);
    return kb_commit(kb);
}

/* A unique slug label for group g among groups already named in names[0..g). */
/* The label words of group g without blocked (identifying) words: up to
 * want words joined by '-', into out. */
static void clean_label(const struct st_corpus *c, const int *group_of, int ngroups, int g,
                        const struct blocklist *bl, int want, struct buf *out)
{
    struct buf raw = BUF_INIT;
    const char *w;
    int got = 0;

    st_label(c, group_of, ngroups, g, want + 6, &raw);
    for (w = buf_str(&raw); *w && got < want;) {
        size_t l = strcspn(w, "-");
        char word[TS_TOKEN_MAX + 1];
        if (l && l <= TS_TOKEN_MAX) {
            memcpy(word, w, l);
            word[l] = '\0';
            if (!blocked(bl, word)) {
                buf_addf(out, "%s%s", got ? "-" : "", word);
                got++;
            }
        }
        w += l;
        w += strspn(w, "-");
    }
    if (!got)
        buf_adds(out, "misc");
    buf_release(&raw);
}

static void unique_label(const struct st_corpus *c, const int *group_of, int ngroups, int g,
                         const struct blocklist *bl, char names[][48])
{
    struct buf b = BUF_INIT;
    char slug[64];
    size_t l;

    clean_label(c, group_of, ngroups, g, bl, 2, &b);
    ts_slug(buf_str(&b), slug, 40);
    for (int n = 2, again = 1; again; n++) {
        again = 0;
        for (int h = 0; h < g; h++)
            if (strcmp(names[h], slug) == 0) {
                char base[40];
                ts_slug(buf_str(&b), base, 36);
                snprintf(slug, sizeof slug, "%.36s-%d", base, n);
                again = 1;
                break;
            }
    }
    l = strlen(slug) < 47 ? strlen(slug) : 47;
    memcpy(names[g], slug, l);
    names[g][l] = '\0';
    buf_release(&b);
}

/* Words of a slug, for a node title: "payroll-tax" -> "payroll, tax". */
static void title_of(const char *slug, char *out, size_t outsz)
{
    size_t n = 0;

    for (; *slug && n + 3 < outsz; slug++) {
        if (*slug == '-') {
            out[n++] = ',';
            out[n++] = ' ';
        } else {
            out[n++] = *slug;
        }
    }
    out[n] = '\0';
}

int sphase_run(struct sphase *p, struct kb *kb, int64_t client_id, int K, const char *root,
               int strict, int rebuild, FILE *log, char *err, size_t errlen)
{
    struct sctx s = {0};
    struct st_corpus corpus;
    struct ts_doc *tdocs = NULL;
    size_t *mem = NULL, *dup = NULL;
    uint64_t *sig = NULL;
    int *dom = NULL, *skill = NULL, *tmp = NULL, ndom, rc = -1;
    int64_t node_id;
    char(*dnames)[48] = NULL;
    char *placed = NULL;
    size_t n = p->n, nu = 0;
    struct patterns ps = {0};
    struct blocklist bl = {0};

    if (!n)
        return 0;
    if (K < 1)
        K = 1;
    if (K > SPHASE_MAX_K)
        K = SPHASE_MAX_K;
    if ((size_t)K > (n + SPHASE_BATCH - 1) / SPHASE_BATCH)
        K = (int)((n + SPHASE_BATCH - 1) / SPHASE_BATCH);
    qsort(p->v, n, sizeof *p->v, cmp_item);
    s.p = p;
    s.log = log;
    s.docs = calloc(n, sizeof *s.docs);
    tdocs = calloc(n, sizeof *tdocs);
    mem = calloc(n, sizeof *mem);
    dup = calloc(n, sizeof *dup);
    sig = calloc(n, sizeof *sig);
    dom = calloc(n, sizeof *dom);
    skill = calloc(n, sizeof *skill);
    tmp = calloc(n, sizeof *tmp);
    placed = calloc(n, 1);
    if (!s.docs || !tdocs || !mem || !dup || !sig || !dom || !skill || !tmp || !placed) {
        snprintf(err, errlen, "out of memory for %zu documents", n);
        goto out;
    }
    if (analyse_all(&s, K, root, strict, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        tdocs[i] = s.docs[i].d;
        sig[i] = s.docs[i].sig;
    }
    /* Authority 1: the client's taxonomy. */
    if (p->taxonomy) {
        if (kb_begin(kb) < 0) {
            snprintf(err, errlen, "%s", kb_errmsg(kb));
            goto out;
        }
        place_taxonomy(p, &s, kb, client_id, sig, placed, log);
        if (kb_commit(kb) < 0) {
            snprintf(err, errlen, "%s", kb_errmsg(kb));
            goto out;
        }
    }
    /* Authority 2: patterns other onboardings left in the forum. */
    patterns_load(kb, &ps);
    if (ps.n) {
        if (kb_begin(kb) < 0) {
            snprintf(err, errlen, "%s", kb_errmsg(kb));
            goto out;
        }
        place_patterns(p, &s, kb, client_id, &ps, sig, placed, log);
        if (kb_commit(kb) < 0) {
            snprintf(err, errlen, "%s", kb_errmsg(kb));
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!placed[i])
            mem[nu++] = i;
    if (!nu) {
        rc = 0;
        goto out;
    }
    {
        struct skills sk = {0};
        if (!rebuild && kb_subtree(kb, client_id, NULL, 2, skill_node, &sk) == 0 && sk.n) {
            rc = place_incremental(p, &s, kb, client_id, &sk, sig, placed, log) < 0 ? -1 : 0;
            if (rc < 0)
                snprintf(err, errlen, "%s", kb_errmsg(kb));
            free(sk.v);
            goto out;
        }
        free(sk.v);
    }
    if (st_corpus_build(&corpus, tdocs, n, 64) < 0) {
        snprintf(err, errlen, "out of memory building the vocabulary");
        goto out;
    }
    /* Domains, then skills within each domain (of the documents left). */
    ndom = st_kmeans(&corpus, mem, nu, 0, 8, tmp);
    if (ndom < 1)
        ndom = 1;
    for (size_t i = 0; i < n; i++)
        dom[i] = -1;
    for (size_t t = 0; t < nu; t++)
        dom[mem[t]] = tmp[t];
    blocklist_build(&bl, p); /* no addresses or client/source names in node labels */
    dnames = calloc((size_t)ndom, sizeof *dnames);
    if (!dnames)
        goto out_corpus;
    for (int g = 0; g < ndom; g++)
        unique_label(&corpus, dom, ndom, g, &bl, dnames);
    st_neardup(sig, n, 2, dup);
    if (kb_begin(kb) < 0) {
        snprintf(err, errlen, "%s", kb_errmsg(kb));
        goto out_corpus;
    }
    for (int g = 0; g < ndom; g++) {
        size_t m = 0, *gm = mem;
        int nsk;
        char(*snames)[48], (*kw)[256];
        char title[128], stitle[256];
        for (size_t i = 0; i < n; i++)
            if (dom[i] == g)
                gm[m++] = i;
        nsk = m >= 12 ? st_kmeans(&corpus, gm, m, 0, 6, tmp) : 1;
        if (nsk > 1) { /* a skill is worth a node only with a tenth of its domain */
            size_t cnt[8] = {0}, least = m;
            for (size_t t = 0; t < m; t++)
                cnt[tmp[t] & 7]++;
            for (int h = 0; h < nsk && h < 8; h++)
                if (cnt[h] < least)
                    least = cnt[h];
            if (least < 3 || least * 10 < m)
                nsk = 1;
        }
        if (nsk < 1)
            nsk = 1;
        if (nsk == 1)
            for (size_t t = 0; t < m; t++)
                tmp[t] = 0;
        snames = calloc((size_t)nsk, sizeof *snames);
        kw = calloc((size_t)nsk, sizeof *kw);
        if (!snames || !kw) {
            free(snames);
            free(kw);
            goto out_tx;
        }
        {
            int *gof = malloc(n * sizeof *gof);
            if (!gof) {
                free(snames);
                free(kw);
                goto out_tx;
            }
            for (size_t i = 0; i < n; i++)
                gof[i] = -1;
            for (size_t t = 0; t < m; t++)
                gof[gm[t]] = tmp[t];
            for (int h = 0; h < nsk; h++) {
                struct buf kb8 = BUF_INIT;
                unique_label(&corpus, gof, nsk, h, &bl, snames);
                clean_label(&corpus, gof, nsk, h, &bl, SPHASE_KEYWORDS, &kb8);
                title_of(buf_str(&kb8), stitle, sizeof stitle);
                snprintf(kw[h], sizeof kw[h], "Keywords: %.240s", stitle);
                {
                    char pp[130];
                    snprintf(pp, sizeof pp, "%s/%s", dnames[g], snames[h]);
                    size_t members = 0;
                    for (size_t t = 0; t < m; t++)
                        members += tmp[t] == h;
                    if (members >= 5) /* one-off clusters teach nothing */
                        pattern_post(kb, &ps, &bl, p->run_id, pp, kw[h] + 10);
                }
                buf_release(&kb8);
            }
            free(gof);
        }
        title_of(dnames[g], title, sizeof title);
        kb_node_ensure(kb, client_id, dnames[g], title, NULL, &node_id);
        for (size_t t = 0; t < m; t++) {
            struct buf sp = BUF_INIT;
            skill[gm[t]] = tmp[t];
            title_of(snames[tmp[t]], stitle, sizeof stitle);
            buf_addf(&sp, "%s/%s", dnames[g], snames[tmp[t]]);
            kb_node_ensure(kb, client_id, buf_str(&sp), stitle, kw[tmp[t]], &node_id);
            place_entry(kb, client_id, p, &s, gm[t], buf_str(&sp), dup, sig, log);
            buf_release(&sp);
        }
        if (log)
            fprintf(log, "trawl: domain %s: %zu documents in %d skills\n", dnames[g], m, nsk);
        free(snames);
        free(kw);
    }
    if (kb_commit(kb) < 0) {
        snprintf(err, errlen, "%s", kb_errmsg(kb));
        goto out_corpus;
    }
    rc = 0;
    goto out_corpus;
out_tx:
    kb_rollback(kb);
    snprintf(err, errlen, "out of memory placing documents");
out_corpus:
    st_corpus_free(&corpus);
out:
    if (s.docs)
        for (size_t i = 0; i < n; i++) {
            ts_doc_free(&s.docs[i].d);
            free(s.docs[i].summary);
        }
    free(s.docs);
    free(tdocs);
    free(mem);
    free(dup);
    free(sig);
    free(dom);
    free(skill);
    free(tmp);
    free(dnames);
    free(placed);
    free(ps.v);
    blocklist_free(&bl);
    return rc;
}
