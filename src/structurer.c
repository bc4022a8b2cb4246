/* The structure phase: master side and structurer child; see structurer.h. */
#include "structurer.h"

#include "proto.h"
#include "structure.h"
#include "textstat.h"
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPHASE_BATCH 32
#define SPHASE_MAX_K 64
#define SPHASE_KEYWORDS 8 /* words kept on a skill node to place later documents */
/* of TS_MINHASH: near-duplicates share about 70% of their word 3-shingles */
#define SPHASE_DUP_AGREE 45
/* Domains are found on vectors in context (st_smooth): a message's own terms
 * plus these weights times its thread's and its sender's mean vectors (each
 * cut to SPHASE_CONTEXT_TERMS terms). On the SpamAssassin ham (bench/structure)
 * this lifted domain purity / NMI / pair-F1 from 0.897 / 0.773 / 0.784 to
 * 0.946 / 0.856 / 0.845. */
#define SPHASE_CONTEXT_THREAD 1.0
#define SPHASE_CONTEXT_SENDER 1.0
#define SPHASE_CONTEXT_TERMS 100

static char *meta_str(json_t *meta, const char *key, size_t max)
{
    const char *v = json_string_value(json_object_get(meta, key));

    return v && *v ? strndup(v, max) : NULL;
}

/* The address inside "Name <a@b>" or a bare address, lower case. */
static char *meta_addr(json_t *meta)
{
    const char *v = json_string_value(json_object_get(meta, "from_address"));
    char *a;

    if (!v || !*v)
        return NULL;
    a = strndup(v, 320);
    for (char *c = a; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return a;
}

static int noreply_sender(const char *addr)
{
    static const char *const local[] = {
        "noreply",      "no-reply",      "no_reply",     "donotreply",    "do-not-reply",
        "do_not_reply", "notifications", "notification", "mailer-daemon", "postmaster",
        "bounce",       "bounces",       "newsletter",   "news",          "alerts",
        "alert",        "auto-confirm",  "automated"};
    const char *at = addr ? strchr(addr, '@') : NULL;
    size_t l;

    if (!at)
        return 0;
    l = (size_t)(at - addr);
    for (size_t k = 0; k < sizeof local / sizeof local[0]; k++)
        if (strlen(local[k]) == l && strncmp(addr, local[k], l) == 0)
            return 1;
    /* bounces+xyz@, noreply-123@ */
    return strncmp(addr, "noreply", 7) == 0 || strncmp(addr, "no-reply", 8) == 0 ||
           strncmp(addr, "bounce", 6) == 0;
}

static unsigned meta_noise(json_t *meta, const char *from)
{
    const char *prec = json_string_value(json_object_get(meta, "precedence"));
    const char *as = json_string_value(json_object_get(meta, "auto_submitted"));
    unsigned n = 0;

    if (json_is_string(json_object_get(meta, "list_unsubscribe")))
        n |= SPHASE_NOISE_UNSUBSCRIBE;
    if (prec) {
        while (*prec == ' ')
            prec++;
        if (strncasecmp(prec, "bulk", 4) == 0 || strncasecmp(prec, "list", 4) == 0 ||
            strncasecmp(prec, "junk", 4) == 0)
            n |= SPHASE_NOISE_BULK;
    }
    if (as) {
        while (*as == ' ')
            as++;
        if (*as && strncasecmp(as, "no", 2) != 0)
            n |= SPHASE_NOISE_AUTO;
    }
    if (noreply_sender(from))
        n |= SPHASE_NOISE_NOREPLY;
    return n;
}

static void item_free(struct sphase_item *it)
{
    free(it->thread);
    free(it->source);
    free(it->ext);
    free(it->title);
    free(it->text);
    free(it->file_type);
    free(it->msgid);
    free(it->irt);
    for (size_t k = 0; k < it->nrefs; k++)
        free(it->refs[k]);
    free(it->refs);
    free(it->from);
}

int sphase_add(struct sphase *p, const char *source, const char *ext, const char *title,
               const char *text, json_t *meta)
{
    struct sphase_item *it;
    size_t tl = strlen(text ? text : "");
    json_t *refs = json_object_get(meta, "references"), *r;
    size_t k;

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
    memset(it, 0, sizeof *it);
    it->source = strdup(source);
    it->ext = strdup(ext);
    it->title = strdup(title ? title : ext);
    it->text = strndup(text ? text : "", tl);
    it->file_type = meta_str(meta, "file_type", 64);
    if (!it->file_type)
        it->file_type = strdup("");
    it->thread = meta_str(meta, "thread_key", 500);
    it->msgid = meta_str(meta, "message_id", 500);
    it->irt = meta_str(meta, "in_reply_to", 500);
    it->from = meta_addr(meta);
    it->reply = st_subject_is_reply(json_string_value(json_object_get(meta, "subject")));
    it->noise = meta_noise(meta, it->from);
    /* A server-side thread id (Gmail's X-GM-THRID, "gmail:<hex>") joins
     * its messages like a shared reference; message ids have an '@' and
     * never look like it. */
    const char *hint = json_string_value(json_object_get(meta, "thread_hint"));
    if (hint && (!*hint || strlen(hint) > 500))
        hint = NULL;
    if ((json_is_array(refs) && json_array_size(refs)) || hint) {
        it->refs = calloc(json_array_size(refs) + 1, sizeof *it->refs);
        if (it->refs) {
            json_array_foreach(refs, k, r) if (json_is_string(r) && json_string_length(r) &&
                                               json_string_length(r) <= 500) it->refs[it->nrefs++] =
                strdup(json_string_value(r));
            if (hint)
                it->refs[it->nrefs++] = strdup(hint);
        }
    }
    if (!it->source || !it->ext || !it->title || !it->text || !it->file_type) {
        item_free(it);
        return -1;
    }
    p->n++;
    return 0;
}

void sphase_free(struct sphase *p)
{
    for (size_t i = 0; i < p->n; i++)
        item_free(&p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static int stored_doc(const struct kb_stored_doc *d, void *arg)
{
    struct sphase *p = arg;
    json_t *meta = d->metadata_json ? json_loads(d->metadata_json, 0, NULL) : NULL;
    int rc = sphase_add(p, d->source, d->external_id, d->title, d->text,
                        json_is_object(meta) ? meta : NULL);

    json_decref(meta);
    return rc < 0 ? -1 : 0;
}

int sphase_load_stored(struct sphase *p, struct kb *kb, int64_t client_id, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++)
        item_free(&p->v[i]);
    p->n = 0;
    if (kb_documents_each(kb, client_id, stored_doc, p) != 0) {
        snprintf(err, errlen, "reading the stored documents: %s", kb_errmsg(kb));
        return -1;
    }
    return 0;
}

/* ---- the structurer child ---------------------------------------------------- */

/* A mail document's text starts with the extractor's header lines (From,
 * To, Cc, Date, Subject, Attachments) and a blank line. Of those only the
 * subject says what the message is about; names, addresses and dates would
 * make topics of people. Appends subject and body to out. */
void sphase_mail_content(const char *text, struct buf *out)
{
    const char *p = text;
    size_t start = out->len;

    while (*p && *p != '\n') {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (!memchr(p, ':', l) || !e) {
            /* not a header block after all: the whole text */
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            buf_adds(out, text);
            return;
        }
        if (l > 9 && strncmp(p, "Subject: ", 9) == 0) {
            const char *v = p + 9;
            while (st_subject_is_reply(v)) { /* Re: Fwd: ... */
                const char *c = strchr(v, ':');
                if (!c || c >= p + l)
                    break;
                v = c + 1;
            }
            buf_add(out, v, (size_t)(p + l - v));
            buf_addch(out, '\n');
        }
        p = e + 1;
    }
    if (*p == '\n')
        p++;
    buf_adds(out, p);
}

static json_t *analyse(json_t *doc)
{
    const char *text = json_string_value(json_object_get(doc, "text"));
    json_t *r = json_object();
    struct buf terms = BUF_INIT; /* "stem\tword\tcount\n" lines: cheap for the master to read */
    struct ts_doc d;
    struct buf sum = BUF_INIT, content = BUF_INIT;
    char hex[17], mhex[TS_MINHASH * 8 + 1];
    uint32_t mh[TS_MINHASH];
    size_t tl;

    if (text && json_is_true(json_object_get(doc, "mail"))) {
        sphase_mail_content(text, &content);
        text = buf_str(&content);
    }
    tl = text ? strlen(text) : 0;

    json_object_set(r, "i", json_object_get(doc, "i"));
    if (ts_doc_build(&d, text ? text : "", tl) == 0) {
        for (size_t k = 0; k < d.n; k++)
            buf_addf(&terms, "%s\t%s\t%" PRIu32 "\n", d.terms[k].term, d.terms[k].word,
                     d.terms[k].count);
        snprintf(hex, sizeof hex, "%016" PRIx64, ts_simhash(&d));
        json_object_set_new(r, "simhash", json_string(hex));
        json_object_set_new(r, "ntokens", json_integer((json_int_t)d.ntokens));
        ts_doc_free(&d);
    }
    json_object_set_new(r, "terms", json_stringn(terms.data ? terms.data : "", terms.len));
    buf_release(&terms);
    if (ts_minhash(text ? text : "", tl, mh) >= 3) {
        for (int k = 0; k < TS_MINHASH; k++)
            snprintf(mhex + 8 * k, 9, "%08" PRIx32, mh[k]);
        json_object_set_new(r, "minhash", json_string(mhex));
    }
    if (ts_summary(text ? text : "", tl, 3, 400, &sum) == 0 && sum.len)
        json_object_set_new(r, "summary", json_stringn(sum.data, sum.len));
    buf_release(&sum);
    buf_release(&content);
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
    uint32_t mh[TS_MINHASH];
    int has_mh; /* at least 3 shingles */
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
    /* per document, after the analysis */
    uint64_t *sig;
    size_t *thread;    /* first document of its mail thread, or SIZE_MAX */
    size_t *dupof;     /* first document of its near-duplicate set, or SIZE_MAX */
    char (*group)[48]; /* entry group slug */
};

static int cmp_item(const void *a, const void *b)
{
    const struct sphase_item *x = a, *y = b;
    int c = strcmp(x->source, y->source);

    return c ? c : strcmp(x->ext, y->ext);
}

int sphase_terms_parse(const char *s, size_t len, struct ts_doc *d)
{
    const char *t, *end = s + len;
    size_t lines = 0;
    int dropped = 0;

    memset(d, 0, sizeof *d);
    for (t = s; t < end; t++)
        lines += *t == '\n';
    d->terms = calloc(lines + 2, sizeof *d->terms);
    if (!d->terms)
        return -1;
    for (t = s; t < end;) {
        const char *nl = memchr(t, '\n', (size_t)(end - t)), *tab1, *tab2;
        size_t sl, wl, pl;
        char *mem, *e = NULL;
        unsigned long cnt;
        int c = 0;
        if (!nl)
            nl = end;
        tab1 = memchr(t, '\t', (size_t)(nl - t));
        tab2 = tab1 ? memchr(tab1 + 1, '\t', (size_t)(nl - tab1 - 1)) : NULL;
        sl = tab1 ? (size_t)(tab1 - t) : 0;
        wl = tab2 ? (size_t)(tab2 - tab1 - 1) : 0;
        cnt = tab2 && tab2 + 1 < nl && tab2[1] >= '1' && tab2[1] <= '9' ? strtoul(tab2 + 1, &e, 10)
                                                                        : 0;
        if (d->n) { /* strictly after the previous stem, in byte order */
            const char *prev = d->terms[d->n - 1].term;
            pl = strlen(prev);
            c = memcmp(prev, t, pl < sl ? pl : sl);
            if (!c)
                c = pl < sl ? -1 : 1;
        } else {
            c = -1;
        }
        if (!tab2 || e != nl || !sl || !wl || cnt == 0 || cnt > UINT32_MAX ||
            sl > 2 * TS_TOKEN_MAX || wl > TS_TOKEN_MAX || memchr(t, 0, sl) ||
            memchr(tab1 + 1, 0, wl) || c >= 0) {
            dropped++; /* malformed, unsorted, duplicate or oversized: left out */
            t = nl + 1;
            continue;
        }
        mem = malloc(sl + wl + 2);
        if (!mem) {
            ts_doc_free(d);
            return -1;
        }
        memcpy(mem, t, sl);
        mem[sl] = '\0';
        memcpy(mem + sl + 1, tab1 + 1, wl);
        mem[sl + 1 + wl] = '\0';
        d->terms[d->n].term = mem;
        d->terms[d->n].word = mem + sl + 1;
        d->terms[d->n].count = (uint32_t)cnt;
        d->ntokens += (size_t)cnt;
        d->n++;
        t = nl + 1;
    }
    return dropped;
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
        const char *terms = json_string_value(json_object_get(r, "terms")), *end;
        const char *hex = json_string_value(json_object_get(r, "simhash"));
        const char *sum = json_string_value(json_object_get(r, "summary"));
        struct sdoc *sd;
        if (i < (json_int_t)w->lo || i >= (json_int_t)w->hi || s->docs[i].done || !terms) {
            bad = 1;
            continue;
        }
        sd = &s->docs[i];
        sd->done = 1;
        s->ndone++;
        end = terms + json_string_length(json_object_get(r, "terms"));
        {
            int dropped = sphase_terms_parse(terms, (size_t)(end - terms), &sd->d);
            if (dropped < 0)
                return -1;
            bad |= dropped > 0;
        }
        sd->sig = hex ? strtoull(hex, NULL, 16) : 0;
        {
            const char *mh = json_string_value(json_object_get(r, "minhash"));
            if (mh && strlen(mh) == TS_MINHASH * 8 &&
                strspn(mh, "0123456789abcdef") == strlen(mh)) {
                for (int q = 0; q < TS_MINHASH; q++) {
                    char part[9];
                    memcpy(part, mh + 8 * q, 8);
                    part[8] = '\0';
                    sd->mh[q] = (uint32_t)strtoul(part, NULL, 16);
                }
                sd->has_mh = 1;
            } else if (mh) {
                bad = 1;
            }
        }
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
        const struct sphase_item *it = &s->p->v[s->next];
        json_array_append_new(docs, json_pack("{sIsssb}", "i", (json_int_t)s->next, "text",
                                              it->text, "mail", it->msgid || it->thread));
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
        doc = json_pack("{sIsssb}", "i", (json_int_t)i, "text", s->p->v[i].text, "mail",
                        s->p->v[i].msgid || s->p->v[i].thread);
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

/* Writes document i's entry under skill path sp, in its entry group; why
 * (kept in the entry's metadata as placed_by) says what put it there. */
static void place_entry(struct kb *kb, int64_t client_id, struct sctx *s, size_t i, const char *sp,
                        const char *why)
{
    struct sphase_item *it = &s->p->v[i];
    struct buf path = BUF_INIT, key = BUF_INIT, meta = BUF_INIT;
    struct kb_doc_ref ref = {it->source, it->ext};
    struct kb_entry e = {0};
    char hex[17];
    json_t *mj = json_object();
    char *ms;

    buf_addf(&path, "%s/%s", sp, s->group[i]);
    buf_addf(&key, "doc:%s:%s", it->source, it->ext);
    snprintf(hex, sizeof hex, "%016" PRIx64, s->sig[i]);
    json_object_set_new(mj, "source", json_string(it->source));
    json_object_set_new(mj, "file_type", json_string(it->file_type));
    json_object_set_new(mj, "simhash", json_string(hex));
    json_object_set_new(mj, "placed_by", json_string(why));
    if (s->dupof[i] != SIZE_MAX && s->dupof[i] != i)
        json_object_set_new(mj, "near_duplicate_of", json_string(s->p->v[s->dupof[i]].ext));
    if (s->thread[i] != SIZE_MAX && s->thread[i] != i)
        json_object_set_new(mj, "thread_of", json_string(s->p->v[s->thread[i]].ext));
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
    if (kb_entry_upsert(kb, client_id, &e, NULL, NULL) < 0 && s->log)
        fprintf(s->log, "trawl: cannot place %s:%s: %s\n", it->source, it->ext, kb_errmsg(kb));
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

/* "PREFIX: N keyword hits (word, word)" for a document scored against stems:
 * the words are the document's own readable forms. */
static void why_hits(struct buf *out, const char *prefix, const struct ts_doc *d,
                     char (*stems)[2 * TS_TOKEN_MAX + 1], int nstems)
{
    long hits = 0;
    int shown = 0;

    for (int w = 0; w < nstems; w++)
        hits += ts_doc_count(d, stems[w]); /* counted as the placement scored it */
    buf_addf(out, "%s: %ld keyword hits (", prefix, hits);
    for (int w = 0; w < nstems && shown < 6; w++) {
        size_t lo = 0, hi = d->n;
        int seen = 0;
        for (int v = 0; v < w; v++)
            seen |= strcmp(stems[v], stems[w]) == 0;
        if (seen)
            continue; /* "pension" and "pensions" are one stem */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int r = strcmp(d->terms[mid].term, stems[w]);
            if (!r) {
                buf_addf(out, "%s%s", shown++ ? ", " : "",
                         d->terms[mid].word ? d->terms[mid].word : d->terms[mid].term);
                break;
            }
            if (r < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    buf_addch(out, ')');
}

/* Places the documents that use a taxonomy skill's keywords (at least two
 * occurrences); placed[i] is set for them. Returns how many. */
static size_t place_taxonomy(struct sphase *p, struct sctx *s, struct kb *kb, int64_t client_id,
                             char *placed, FILE *log)
{
    struct taxskill *v;
    size_t nsk = tax_load(p->taxonomy, &v, log), count = 0;
    int64_t node_id;

    for (size_t i = 0; i < p->n && nsk; i++) {
        long best = 0;
        size_t bk = 0;
        struct buf why = BUF_INIT;
        if (placed[i])
            continue;
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
        why_hits(&why, "the client's taxonomy", &s->docs[i].d, v[bk].stems, v[bk].n);
        place_entry(kb, client_id, s, i, v[bk].path, buf_str(&why));
        buf_release(&why);
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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
    /* sorted and unique: blocked() looks a word up by binary search */
    if (b->n)
        qsort(b->v, b->n, sizeof *b->v, cmp_str);
    for (size_t i = 0, w = 0; i < b->n; i++) {
        if (w && strcmp(b->v[w - 1], b->v[i]) == 0) {
            free(b->v[i]);
        } else {
            b->v[w++] = b->v[i];
        }
        if (i + 1 == b->n)
            b->n = w;
    }
}

static int blocked(const struct blocklist *b, const char *word)
{
    char stem[2 * TS_TOKEN_MAX + 1];

    for (const char *c = word; *c; c++)
        if (*c >= '0' && *c <= '9')
            return 1;
    ts_stem(word, strlen(word), stem, sizeof stem);
    for (size_t lo = 0, hi = b->n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(b->v[mid], stem);
        if (!r)
            return 1;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
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
    int64_t *own; /* this client's runs: its own patterns are not outside knowledge */
    size_t nown;
};

static int pattern_hit(const struct kb_forum_entry *f, void *arg)
{
    struct patterns *ps = arg;
    struct taxskill *nv, *k;
    const char *w;

    for (size_t r = 0; r < ps->nown; r++)
        if (f->run_id == ps->own[r])
            return 0;
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

static int own_run(const struct kb_run *run, void *arg)
{
    struct patterns *ps = arg;
    int64_t *nv = realloc(ps->own, (ps->nown + 1) * sizeof *nv);

    if (!nv)
        return -1;
    ps->own = nv;
    ps->own[ps->nown++] = run->id;
    return 0;
}

/* Global skill patterns, except those this client's own runs posted. */
static void patterns_load(struct kb *kb, const char *client, struct patterns *ps)
{
    struct kb_forum_filter flt = {0};

    if (client)
        kb_runs_list(kb, client, own_run, ps);
    flt.global_only = 1;
    flt.phase = "structure";
    flt.limit = 200;
    ps->kb = kb;
    kb_forum_search(kb, "skill pattern", &flt, pattern_hit, ps);
}

/* Authority 2: places unplaced documents that use a pattern's keywords at
 * least twice into the pattern's skill. Returns how many. */
static size_t place_patterns(struct sphase *p, struct sctx *s, struct kb *kb, int64_t client_id,
                             const struct patterns *ps, char *placed, FILE *log)
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
        {
            struct buf why = BUF_INIT, pre = BUF_INIT;
            buf_addf(&pre, "forum pattern 'skill pattern: %s'", ps->v[bk].path);
            why_hits(&why, buf_str(&pre), &s->docs[i].d, ps->v[bk].stems, ps->v[bk].n);
            place_entry(kb, client_id, s, i, ps->v[bk].path, buf_str(&why));
            buf_release(&why);
            buf_release(&pre);
        }
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
                             const struct skills *sk, const char *placed, FILE *log)
{
    int64_t node_id;
    size_t nplaced = 0, todo = 0;

    if (kb_begin(kb) < 0)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        long best = 0;
        const char *where = "unsorted/new";
        size_t bk = 0;
        struct buf why = BUF_INIT;
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
                bk = k;
            }
        }
        todo++;
        if (best) {
            nplaced++;
            why_hits(&why, "keywords of the existing skill", &s->docs[i].d, sk->v[bk].stems,
                     sk->v[bk].n);
        } else {
            kb_node_ensure(kb, client_id, where, "New documents", NULL, &node_id);
            buf_adds(&why, "a later run: no skill of the existing tree matched");
        }
        place_entry(kb, client_id, s, i, where, buf_str(&why));
        buf_release(&why);
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

    st_label(c, group_of, ngroups, g, want + 24, &raw); /* many may be blocked */
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

/* ---- entry groups ---------------------------------------------------------------- */

/* A set of group names with their owners, to keep different threads or
 * near-duplicate sets apart when their subjects slug the same. */
struct nameset {
    struct {
        char name[80];
        size_t owner;
    } * v;
    size_t cap;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Returns 1 when name is free or already owner's (and claims it), 0 if
 * another owner holds it. */
static int name_claim(struct nameset *ns, const char *name, size_t owner)
{
    size_t i = (size_t)(name_hash(name) % ns->cap);

    for (;; i = (i + 1) % ns->cap) {
        if (!ns->v[i].name[0]) {
            snprintf(ns->v[i].name, sizeof ns->v[i].name, "%s", name);
            ns->v[i].owner = owner;
            return 1;
        }
        if (strcmp(ns->v[i].name, name) == 0)
            return ns->v[i].owner == owner;
    }
}

/* A unique group name "PREFIX-<slug of text>" for owner, suffixed -2, -3
 * when another owner has it. */
static void group_name(struct nameset *ns, const char *prefix, const char *text, size_t owner,
                       char out[48])
{
    char slug[40], cand[80];
    size_t l;

    ts_slug(text, slug, 33);
    snprintf(cand, sizeof cand, "%.8s-%s", prefix, slug);
    for (int k = 2; !name_claim(ns, cand, owner); k++)
        snprintf(cand, sizeof cand, "%.8s-%s-%d", prefix, slug, k);
    l = strlen(cand) < 47 ? strlen(cand) : 47;
    memcpy(out, cand, l);
    out[l] = '\0';
}

/* Threads (Message-ID / In-Reply-To / References, the subject as a fallback),
 * near-duplicate sets and folders: the entry group of every document. */
static int groups_compute(struct sctx *s)
{
    struct sphase *p = s->p;
    size_t n = p->n, *size = calloc(n ? n : 1, sizeof *size);
    struct st_mail *m = calloc(n ? n : 1, sizeof *m);
    struct nameset ns = {calloc(2 * n + 16, sizeof *ns.v), 2 * n + 16};
    size_t nthreads = 0, ndup = 0;

    if (!size || !m || !ns.v) {
        free(size);
        free(m);
        free(ns.v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct sphase_item *it = &p->v[i];
        m[i] = (struct st_mail){it->msgid, it->irt, it->refs, it->nrefs, it->thread, it->reply};
    }
    if (st_threads(m, n, s->thread) < 0) {
        free(size);
        free(m);
        free(ns.v);
        return -1;
    }
    {
        uint32_t *mh = malloc((n ? n : 1) * TS_MINHASH * sizeof *mh);
        unsigned char *has = malloc(n ? n : 1);
        long r = -1;
        if (mh && has) {
            for (size_t i = 0; i < n; i++) {
                memcpy(mh + i * TS_MINHASH, s->docs[i].mh, sizeof s->docs[i].mh);
                has[i] = (unsigned char)s->docs[i].has_mh;
            }
            r = st_neardup_minhash(mh, has, n, SPHASE_DUP_AGREE, s->dupof);
        }
        free(mh);
        free(has);
        if (r < 0) {
            free(size);
            free(m);
            free(ns.v);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        size[s->dupof[i]]++;
    for (size_t i = 0; i < n; i++) {
        struct sphase_item *it = &p->v[i];
        size_t t = s->thread[i];
        if (size[s->dupof[i]] < 2 || s->p->v[i].text[0] == '\0')
            s->dupof[i] = SIZE_MAX; /* empty texts are not duplicates of each other */
        if (t != SIZE_MAX) {
            const struct sphase_item *first = &p->v[t];
            group_name(&ns, "thread", first->thread ? first->thread : first->title, t, s->group[i]);
            nthreads += t == i;
        } else if (s->dupof[i] != SIZE_MAX) {
            group_name(&ns, "dup", p->v[s->dupof[i]].title, n + s->dupof[i], s->group[i]);
            ndup += s->dupof[i] == i;
        } else {
            const char *slash = strchr(it->ext, '/');
            char top[48];
            if (slash) {
                size_t fl = (size_t)(slash - it->ext) < 40 ? (size_t)(slash - it->ext) : 40;
                memcpy(top, it->ext, fl);
                top[fl] = '\0';
                ts_slug(top, s->group[i], 40);
            } else {
                ts_slug(it->source, s->group[i], 40);
            }
        }
    }
    if (s->log)
        fprintf(s->log, "trawl: %zu mail threads, %zu near-duplicate sets\n", nthreads, ndup);
    free(size);
    free(m);
    free(ns.v);
    return 0;
}

/* ---- noise: newsletters and notifications ----------------------------------------- */

#define SPHASE_VOLUME_MIN 10 /* messages from one sender before volume alone counts */

struct noise_senders {
    char **v;
    size_t n;
    int64_t client_id;
};

static int noise_hit(const struct kb_forum_entry *f, void *arg)
{
    struct noise_senders *ns = arg;
    char **nv;

    if (f->client_id != ns->client_id || !f->title || strncmp(f->title, "noise sender: ", 14) != 0)
        return 0;
    nv = realloc(ns->v, (ns->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    ns->v = nv;
    if ((ns->v[ns->n] = strdup(f->title + 14)))
        ns->n++;
    return 0;
}

static int cmp_from(const void *a, const void *b, void *arg)
{
    const struct sphase *p = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(p->v[x].from, p->v[y].from);

    return c ? c : (x < y ? -1 : x > y);
}

/* Flags high-volume senders nobody replies to, and senders the forum knows
 * as noise for this client; posts newly found ones (client-scoped: they are
 * addresses). */
static void noise_compute(struct sctx *s, struct kb *kb, int64_t client_id, int64_t run_id)
{
    struct sphase *p = s->p;
    struct noise_senders known = {NULL, 0, client_id};
    struct kb_forum_filter flt = {0};
    size_t n = p->n, nm = 0, *ord = malloc((n ? n : 1) * sizeof *ord);
    size_t *tsize = calloc(n ? n : 1, sizeof *tsize);

    flt.client_id = client_id;
    flt.phase = "structure";
    flt.limit = 1000;
    kb_forum_search(kb, "noise sender", &flt, noise_hit, &known);
    if (!ord || !tsize)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (p->v[i].from) {
            for (size_t k = 0; k < known.n; k++)
                if (strcmp(known.v[k], p->v[i].from) == 0)
                    p->v[i].noise |= SPHASE_NOISE_FORUM;
            ord[nm++] = i;
        }
    for (size_t i = 0; i < n; i++)
        if (s->thread[i] != SIZE_MAX)
            tsize[s->thread[i]]++;
    /* Discussion lists send List-Unsubscribe and Precedence: list too: those
     * headers make a newsletter only of a sender with three or more messages
     * that are no conversation; volume alone needs SPHASE_VOLUME_MIN. */
    for (size_t i = 0; i < n; i++)
        if (!p->v[i].from)
            p->v[i].noise &= ~(unsigned)(SPHASE_NOISE_UNSUBSCRIBE | SPHASE_NOISE_BULK);
    qsort_r(ord, nm, sizeof *ord, cmp_from, p);
    for (size_t a = 0, b; a < nm; a = b) {
        size_t conv = 0, bulk = 0;
        int newsletter;
        for (b = a; b < nm && strcmp(p->v[ord[b]].from, p->v[ord[a]].from) == 0; b++) {
            size_t i = ord[b];
            /* a reply, or a message in a thread of more than one: a conversation */
            conv += p->v[i].reply || p->v[i].irt || p->v[i].nrefs ||
                    (s->thread[i] != SIZE_MAX && tsize[s->thread[i]] > 1);
            bulk += (p->v[i].noise & (SPHASE_NOISE_UNSUBSCRIBE | SPHASE_NOISE_BULK)) != 0;
        }
        newsletter = !conv && (b - a >= SPHASE_VOLUME_MIN || (b - a >= 3 && bulk == b - a));
        for (size_t t = a; t < b; t++) {
            if (!newsletter)
                p->v[ord[t]].noise &= ~(unsigned)(SPHASE_NOISE_UNSUBSCRIBE | SPHASE_NOISE_BULK);
            else if (b - a >= SPHASE_VOLUME_MIN)
                p->v[ord[t]].noise |= SPHASE_NOISE_VOLUME;
        }
        if (!newsletter)
            continue;
        if (p->v[ord[a]].noise & SPHASE_NOISE_FORUM)
            continue; /* known already */
        {
            struct kb_forum_entry f = {0};
            struct buf title = BUF_INIT, body = BUF_INIT;
            int64_t id;
            buf_addf(&title, "noise sender: %s", p->v[ord[a]].from);
            buf_addf(&body,
                     "%zu messages, none a reply or replied to: a newsletter or notification "
                     "sender; its mail goes to noise/",
                     b - a);
            f.client_id = client_id;
            f.run_id = run_id;
            f.agent = "structurer";
            f.source_type = "any";
            f.phase = "structure";
            f.title = buf_str(&title);
            f.body = buf_str(&body);
            kb_forum_post(kb, &f, &id);
            buf_release(&title);
            buf_release(&body);
        }
    }
out:
    for (size_t k = 0; k < known.n; k++)
        free(known.v[k]);
    free(known.v);
    free(ord);
    free(tsize);
}

/* Routes noise into its own subtree: noise/SENDER/GROUP, the skill titled
 * "Newsletter from ..." or "Notifications from ...". Returns how many. */
static size_t place_noise(struct sctx *s, struct kb *kb, int64_t client_id, char *placed)
{
    struct sphase *p = s->p;
    size_t count = 0;
    int64_t node_id;

    for (size_t i = 0; i < p->n; i++) {
        unsigned z = p->v[i].noise;
        const char *kind, *why;
        struct buf path = BUF_INIT;
        if (placed[i] || !z)
            continue;
        kind = z & (SPHASE_NOISE_AUTO | SPHASE_NOISE_NOREPLY) ? "Notifications" : "Newsletter";
        why = z & SPHASE_NOISE_UNSUBSCRIBE ? "noise: a List-Unsubscribe header"
              : z & SPHASE_NOISE_BULK      ? "noise: Precedence bulk, list or junk"
              : z & SPHASE_NOISE_AUTO      ? "noise: an Auto-Submitted header"
              : z & SPHASE_NOISE_NOREPLY   ? "noise: a no-reply sender"
              : z & SPHASE_NOISE_FORUM     ? "noise: forum finding 'noise sender' for its sender"
                                           : "noise: a high-volume sender nobody replies to";
        {
            char sender[48], title[200];
            ts_slug(p->v[i].from ? p->v[i].from : "unknown-sender", sender, 40);
            buf_addf(&path, "noise/%s", sender);
            snprintf(title, sizeof title, "%s from %.150s", kind,
                     p->v[i].from ? p->v[i].from : "an unknown sender");
            kb_node_ensure(kb, client_id, "noise", "Noise: newsletters and notifications", NULL,
                           &node_id);
            kb_node_ensure(kb, client_id, buf_str(&path), title, NULL, &node_id);
        }
        place_entry(kb, client_id, s, i, buf_str(&path), why);
        buf_release(&path);
        placed[i] = 1;
        count++;
    }
    if (count && s->log)
        fprintf(s->log, "trawl: %zu of %zu documents routed to noise/\n", count, p->n);
    return count;
}

/* ---- the phase ---------------------------------------------------------------------- */

struct tsk {
    size_t thread, doc;
    int dom, skill;
};

static int cmp_tsk(const void *a, const void *b)
{
    const struct tsk *x = a, *y = b;

    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* A thread stays together: its messages go to the (domain, skill) most of
 * them were clustered into (ties: the earliest message's). */
static void threads_together(const struct sctx *s, const size_t *mem, size_t nu, int *dom,
                             int *skill)
{
    struct tsk *v = malloc((nu ? nu : 1) * sizeof *v);
    size_t m = 0;

    if (!v)
        return;
    for (size_t t = 0; t < nu; t++)
        if (s->thread[mem[t]] != SIZE_MAX)
            v[m++] = (struct tsk){s->thread[mem[t]], mem[t], dom[mem[t]], skill[mem[t]]};
    qsort(v, m, sizeof *v, cmp_tsk);
    for (size_t a = 0, b; a < m; a = b) {
        size_t best = a, bestc = 0;
        for (b = a; b < m && v[b].thread == v[a].thread; b++)
            ;
        for (size_t x = a; x < b; x++) {
            size_t c = 0;
            for (size_t y = a; y < b; y++)
                c += v[y].dom == v[x].dom && v[y].skill == v[x].skill;
            if (c > bestc) {
                bestc = c;
                best = x;
            }
        }
        for (size_t x = a; x < b; x++) {
            dom[v[x].doc] = v[best].dom;
            skill[v[x].doc] = v[best].skill;
        }
    }
    free(v);
}

struct skills_job {
    const struct st_corpus *c;
    const int *dom;
    size_t n;
    int ndom, T, t;
    int *skill, *nsk;
    int failed;
};

static void *skills_range(void *arg)
{
    struct skills_job *j = arg;
    size_t *gm = malloc((j->n ? j->n : 1) * sizeof *gm);
    int *a = malloc((j->n ? j->n : 1) * sizeof *a);

    if (!gm || !a) {
        j->failed = 1;
        free(gm);
        free(a);
        return NULL;
    }
    for (int g = j->t; g < j->ndom; g += j->T) {
        size_t m = 0;
        for (size_t i = 0; i < j->n; i++)
            if (j->dom[i] == g)
                gm[m++] = i;
        j->nsk[g] = m >= 12 ? st_kmeans(j->c, gm, m, 0, 6, a) : 1;
        for (size_t x = 0; x < m; x++)
            j->skill[gm[x]] = m >= 12 ? a[x] : 0;
    }
    free(gm);
    free(a);
    return NULL;
}

/* Skills within each domain: the domains are clustered on T threads
 * (domain g on thread g % T); each result depends on its domain alone.
 * skill[i] gets document i's group within its domain, nsk[g] the number of
 * groups of domain g (-1 when out of memory, as st_kmeans). */
static int skills_cluster(const struct st_corpus *corpus, const int *dom, size_t n, int ndom, int T,
                          int *skill, int *nsk)
{
    struct st_corpus one = *corpus;
    struct skills_job job[SPHASE_MAX_K];
    pthread_t th[SPHASE_MAX_K];
    int started[SPHASE_MAX_K] = {0}, failed = 0;

    one.threads = 1; /* the parallelism is across domains */
    if (T > ndom)
        T = ndom;
    if (T < 1)
        T = 1;
    for (int t = 0; t < T; t++) {
        job[t] = (struct skills_job){&one, dom, n, ndom, T, t, skill, nsk, 0};
        if (t > 0 && pthread_create(&th[t], NULL, skills_range, &job[t]) == 0)
            started[t] = 1;
    }
    skills_range(&job[0]);
    for (int t = 1; t < T; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            skills_range(&job[t]);
    }
    for (int t = 0; t < T; t++)
        failed |= job[t].failed;
    return failed ? -1 : 0;
}

/* Clustering reads each message with its context: its thread and the other
 * mail of its sender (see st_smooth). */
static int context_smooth(const struct sctx *s, const struct st_corpus *c, struct st_vec **out)
{
    const struct sphase *p = s->p;
    size_t n = p->n, nm = 0, *sender = malloc((n ? n : 1) * sizeof *sender);
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    const size_t *groups[2];
    double weight[2];
    int rc = -1;

    if (!sender || !ord)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sender[i] = SIZE_MAX;
        if (p->v[i].from)
            ord[nm++] = i;
    }
    qsort_r(ord, nm, sizeof *ord, cmp_from, (void *)p);
    for (size_t a = 0, b; a < nm; a = b) {
        for (b = a; b < nm && strcmp(p->v[ord[b]].from, p->v[ord[a]].from) == 0; b++)
            sender[ord[b]] = ord[a]; /* ord is by (from, index): ord[a] is the first */
    }
    groups[0] = s->thread;
    groups[1] = sender;
    weight[0] = SPHASE_CONTEXT_THREAD;
    weight[1] = SPHASE_CONTEXT_SENDER;
    rc = st_smooth(c, groups, weight, 2, SPHASE_CONTEXT_TERMS, out);
out:
    free(sender);
    free(ord);
    return rc;
}

/* Logs how long the step since t[0] took ("trawl: step: 0.123 s (0.120 s
 * CPU)": the master's CPU time, all its threads) and restarts t[0..1]. */
static void step_done(FILE *log, struct timespec t[2], const char *step)
{
    struct timespec now, cpu;

    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    if (log)
        fprintf(log, "trawl: %s: %.3f s (%.3f s CPU)\n", step,
                (double)(now.tv_sec - t[0].tv_sec) + (double)(now.tv_nsec - t[0].tv_nsec) / 1e9,
                (double)(cpu.tv_sec - t[1].tv_sec) + (double)(cpu.tv_nsec - t[1].tv_nsec) / 1e9);
    t[0] = now;
    t[1] = cpu;
}

static int tx_fail(struct kb *kb, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", kb_errmsg(kb));
    return -1;
}

int sphase_run(struct sphase *p, struct kb *kb, int64_t client_id, int K, const char *root,
               int strict, int rebuild, FILE *log, char *err, size_t errlen)
{
    struct sctx s = {0};
    struct st_corpus corpus = {0};
    struct ts_doc *tdocs = NULL;
    size_t *mem = NULL, nu = 0, n;
    int *dom = NULL, *skill = NULL, *tmp = NULL, ndom = 0, rc = -1, fresh;
    int64_t node_id, pruned = 0;
    char(*dnames)[48] = NULL;
    char(**snames)[48] = NULL;
    char(**kws)[256] = NULL;
    char *placed = NULL;
    struct patterns ps = {0};
    struct blocklist bl = {0};
    struct skills sk = {0};
    struct timespec tk[2];
    struct st_vec *smooth = NULL;
    int *dskills = NULL;

    /* An existing structured tree takes new documents as they come; without
     * one (or when asked to rebuild) every stored document is structured. */
    if (kb_subtree(kb, client_id, NULL, 2, skill_node, &sk) < 0)
        sk.n = 0;
    fresh = rebuild || sk.n == 0;
    if (!rebuild && (!fresh || !p->n)) {
        /* Documents an earlier run stored but did not place (its structure
         * phase failed or was killed): they are structured now. */
        size_t before = p->n;
        if (kb_documents_unplaced_each(kb, client_id, stored_doc, p) != 0) {
            snprintf(err, errlen, "reading the unplaced documents: %s", kb_errmsg(kb));
            goto out;
        }
        if (p->n > before && log)
            fprintf(log, "trawl: %zu stored documents without a place join the phase\n",
                    p->n - before);
        if (!p->n) {
            rc = 0;
            goto out;
        }
    }
    if (fresh) {
        if (sphase_load_stored(p, kb, client_id, err, errlen) < 0)
            goto out;
        if (log)
            fprintf(log, "trawl: %s all %zu stored documents of the client\n",
                    rebuild ? "rebuilding the tree from" : "structuring", p->n);
    }
    n = p->n;
    if (!n) {
        rc = 0;
        goto out;
    }
    if (K < 1)
        K = 1;
    if (K > SPHASE_MAX_K)
        K = SPHASE_MAX_K;
    if ((size_t)K > (n + SPHASE_BATCH - 1) / SPHASE_BATCH)
        K = (int)((n + SPHASE_BATCH - 1) / SPHASE_BATCH);
    qsort(p->v, n, sizeof *p->v, cmp_item);
    {
        /* a document of this run may also be among the unplaced ones */
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (w && cmp_item(&p->v[w - 1], &p->v[i]) == 0) {
                item_free(&p->v[i]);
                continue;
            }
            p->v[w++] = p->v[i];
        }
        p->n = n = w;
    }
    s.p = p;
    s.log = log;
    s.docs = calloc(n, sizeof *s.docs);
    s.sig = calloc(n, sizeof *s.sig);
    s.thread = calloc(n, sizeof *s.thread);
    s.dupof = calloc(n, sizeof *s.dupof);
    s.group = calloc(n, sizeof *s.group);
    tdocs = calloc(n, sizeof *tdocs);
    mem = calloc(n, sizeof *mem);
    dom = calloc(n, sizeof *dom);
    skill = calloc(n, sizeof *skill);
    tmp = calloc(n, sizeof *tmp);
    placed = calloc(n, 1);
    if (!s.docs || !s.sig || !s.thread || !s.dupof || !s.group || !tdocs || !mem || !dom ||
        !skill || !tmp || !placed) {
        snprintf(err, errlen, "out of memory for %zu documents", n);
        goto out;
    }
    {
        struct timespec t0, t1, c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        if (analyse_all(&s, K, root, strict, err, errlen) < 0)
            goto out;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        if (log)
            fprintf(
                log,
                "trawl: %d structurers analysed %zu documents in %.3f s (the master: %.3f s CPU)\n",
                K, n, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
    }
    for (size_t i = 0; i < n; i++) {
        tdocs[i] = s.docs[i].d;
        s.sig[i] = s.docs[i].sig;
    }
    clock_gettime(CLOCK_MONOTONIC, &tk[0]);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &tk[1]);
    if (groups_compute(&s) < 0) {
        snprintf(err, errlen, "out of memory grouping documents");
        goto out;
    }
    if (kb_begin(kb) < 0) {
        tx_fail(kb, err, errlen);
        goto out;
    }
    noise_compute(&s, kb, client_id, p->run_id);
    /* Authority 1: the client's taxonomy; then noise gets its own subtree. */
    if (p->taxonomy)
        place_taxonomy(p, &s, kb, client_id, placed, log);
    place_noise(&s, kb, client_id, placed);
    /* Authority 2: patterns other onboardings left in the forum. */
    patterns_load(kb, p->client, &ps);
    if (ps.n)
        place_patterns(p, &s, kb, client_id, &ps, placed, log);
    if (kb_commit(kb) < 0) {
        tx_fail(kb, err, errlen);
        goto out;
    }
    step_done(log, tk, "threads, near-duplicates, noise, taxonomy and patterns");
    for (size_t i = 0; i < n; i++)
        if (!placed[i])
            mem[nu++] = i;
    if (nu && !fresh) {
        if (place_incremental(p, &s, kb, client_id, &sk, placed, log) < 0) {
            tx_fail(kb, err, errlen);
            goto out;
        }
        nu = 0;
    }
    if (kb_begin(kb) < 0) {
        tx_fail(kb, err, errlen);
        goto out;
    }
    if (nu) {
        /* Authority 3: discovery. Domains, then skills within each domain. */
        if (st_corpus_build(&corpus, tdocs, n, 0) < 0) { /* every term: cut vectors cluster worse */
            snprintf(err, errlen, "out of memory building the vocabulary");
            goto out_tx;
        }
        corpus.threads = K; /* the structurers are done: their cores are free */
        if (context_smooth(&s, &corpus, &smooth) < 0) {
            snprintf(err, errlen, "out of memory building the vocabulary");
            goto out_tx;
        }
        step_done(log, tk, "vocabulary and vectors");
        {
            /* domains from the vectors in context; skills from the documents' own */
            struct st_corpus dc = corpus;
            dc.vecs = smooth;
            ndom = st_kmeans(&dc, mem, nu, 0, 8, tmp);
        }
        step_done(log, tk, "domains");
        if (ndom < 1)
            ndom = 1;
        for (size_t i = 0; i < n; i++)
            dom[i] = skill[i] = -1;
        for (size_t t = 0; t < nu; t++)
            dom[mem[t]] = tmp[t];
        blocklist_build(&bl, p); /* no addresses or client/source names in node labels */
        dnames = calloc((size_t)ndom, sizeof *dnames);
        snames = calloc((size_t)ndom, sizeof *snames);
        kws = calloc((size_t)ndom, sizeof *kws);
        if (!dnames || !snames || !kws) {
            snprintf(err, errlen, "out of memory placing documents");
            goto out_tx;
        }
        for (int g = 0; g < ndom; g++)
            unique_label(&corpus, dom, ndom, g, &bl, dnames);
        dskills = calloc((size_t)ndom, sizeof *dskills);
        if (!dskills || skills_cluster(&corpus, dom, n, ndom, K, skill, dskills) < 0) {
            snprintf(err, errlen, "out of memory placing documents");
            goto out_tx;
        }
        for (int g = 0; g < ndom; g++) {
            size_t m = 0, *gm = malloc(n * sizeof *gm);
            int nsk, *gof = malloc(n * sizeof *gof);
            if (!gm || !gof) {
                free(gm);
                free(gof);
                snprintf(err, errlen, "out of memory placing documents");
                goto out_tx;
            }
            for (size_t i = 0; i < n; i++)
                if (dom[i] == g)
                    gm[m++] = i;
            nsk = dskills[g];
            for (size_t t = 0; t < m; t++)
                tmp[t] = skill[gm[t]];
            if (nsk > 1) { /* a skill is worth a node only with a 20th of its domain */
                size_t cnt[8] = {0}, least = m;
                for (size_t t = 0; t < m; t++)
                    cnt[tmp[t] & 7]++;
                for (int h = 0; h < nsk && h < 8; h++)
                    if (cnt[h] < least)
                        least = cnt[h];
                if (least < 3 || least * 20 < m)
                    nsk = 1;
            }
            if (nsk < 1)
                nsk = 1;
            if (nsk == 1)
                for (size_t t = 0; t < m; t++)
                    tmp[t] = 0;
            snames[g] = calloc((size_t)nsk, sizeof *snames[g]);
            kws[g] = calloc((size_t)nsk, sizeof *kws[g]);
            if (!snames[g] || !kws[g]) {
                free(gm);
                free(gof);
                snprintf(err, errlen, "out of memory placing documents");
                goto out_tx;
            }
            for (size_t i = 0; i < n; i++)
                gof[i] = -1;
            for (size_t t = 0; t < m; t++) {
                gof[gm[t]] = tmp[t];
                skill[gm[t]] = tmp[t];
            }
            for (int h = 0; h < nsk; h++) {
                struct buf kb8 = BUF_INIT;
                char stitle[256], pp[130];
                size_t members = 0;
                unique_label(&corpus, gof, nsk, h, &bl, snames[g]);
                clean_label(&corpus, gof, nsk, h, &bl, SPHASE_KEYWORDS, &kb8);
                title_of(buf_str(&kb8), stitle, sizeof stitle);
                snprintf(kws[g][h], sizeof kws[g][h], "Keywords: %.240s", stitle);
                snprintf(pp, sizeof pp, "%s/%s", dnames[g], snames[g][h]);
                for (size_t t = 0; t < m; t++)
                    members += tmp[t] == h;
                if (members >= 5) /* one-off clusters teach nothing */
                    pattern_post(kb, &ps, &bl, p->run_id, pp, kws[g][h] + 10);
                buf_release(&kb8);
            }
            if (log)
                fprintf(log, "trawl: domain %s: %zu documents in %d skills\n", dnames[g], m, nsk);
            free(gm);
            free(gof);
        }
        step_done(log, tk, "skills and labels");
        threads_together(&s, mem, nu, dom, skill);
        for (size_t t = 0; t < nu; t++) {
            size_t i = mem[t];
            int g = dom[i], h = skill[i];
            struct buf sp = BUF_INIT, why = BUF_INIT;
            char title[128], stitle[256];
            title_of(dnames[g], title, sizeof title);
            kb_node_ensure(kb, client_id, dnames[g], title, NULL, &node_id);
            title_of(snames[g][h], stitle, sizeof stitle);
            buf_addf(&sp, "%s/%s", dnames[g], snames[g][h]);
            kb_node_ensure(kb, client_id, buf_str(&sp), stitle, kws[g][h], &node_id);
            buf_addf(&why, "topic terms: %s", kws[g][h] + 10);
            place_entry(kb, client_id, &s, i, buf_str(&sp), buf_str(&why));
            buf_release(&sp);
            buf_release(&why);
        }
    }
    /* Folder places of the explore phase, and nodes a rebuild emptied. */
    if (kb_tree_prune(kb, client_id, &pruned) < 0) {
        tx_fail(kb, err, errlen);
        goto out_tx;
    }
    if (kb_commit(kb) < 0) {
        tx_fail(kb, err, errlen);
        goto out;
    }
    step_done(log, tk, "entries written");
    rc = 0;
    goto out;
out_tx:
    kb_rollback(kb);
out:
    st_vecs_free(smooth, p->n);
    st_corpus_free(&corpus);
    if (s.docs)
        for (size_t i = 0; i < p->n; i++) {
            ts_doc_free(&s.docs[i].d);
            free(s.docs[i].summary);
        }
    for (int g = 0; snames && g < ndom; g++)
        free(snames[g]);
    for (int g = 0; kws && g < ndom; g++)
        free(kws[g]);
    free(snames);
    free(kws);
    free(s.docs);
    free(s.sig);
    free(s.thread);
    free(s.dupof);
    free(s.group);
    free(tdocs);
    free(mem);
    free(dom);
    free(skill);
    free(tmp);
    free(dnames);
    free(dskills);
    free(placed);
    free(ps.v);
    free(ps.own);
    free(sk.v);
    blocklist_free(&bl);
    return rc;
}
