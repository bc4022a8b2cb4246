/*
 * Champion lists: ranked search of common terms without ranking every match.
 * See schema/005_entry_champions.sql for what is stored and why the answer
 * is exact.
 *
 * The lists are kept up to date from the tokens FTS5 produces itself: on
 * trawl's connection the 'porter' tokenizer is wrapped (registered under the
 * same name, which FTS5 looks up newest first) by one that passes every
 * token through unchanged and, while kb code has capture switched on around
 * a statement that indexes or removes one entry, also records the entry's
 * terms. FTS5 tokenizes a row's columns in order, title then body, so the
 * calls of one statement come in pairs: one pair for an insert or a delete,
 * two (old, new) for an update.
 */
#include "kb_internal.h"

#include "buf.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CH_MAX_TERMS 8
#define CH_MAX_TOKEN 32768 /* FTS5_MAX_TOKEN_SIZE */
#define CH_K1 1.2
#define CH_B 0.75

/* One listed entry: id, weighted count (4 per title token, 1 per body token,
 * the schema's bm25(4.0, 1.0)) and length in tokens; s is f at the term's a. */
struct ch_ent {
    int64_t id;
    uint32_t w, n;
    double s;
};

struct ch_term {
    char *tok;
    int ntok;
    uint64_t h;
    int64_t df;
    double floor, floor_a; /* bound of f for unlisted entries, computed at avgdl floor_a */
    double a;              /* the avgdl v[].s were computed at */
    struct ch_ent *v;      /* min-heap on s */
    int n, cap;
    int dirty;
};

/* A token seen in a captured document, or in the current batch. */
struct ch_tok {
    uint64_t h;
    uint32_t c[2]; /* per column (doc), or documents (batch) */
    uint32_t off, len;
};

struct ch_map {
    struct ch_tok *v;
    size_t cap, n;  /* cap a power of two */
    uint32_t *used; /* the n slots in use */
    char *arena;
    size_t alen, acap;
};

struct ch_doc {
    struct ch_map m;
    uint32_t ntok;
};

/* An entry of a not yet tracked term in the current batch (id 0: removed since). */
struct ch_post {
    int64_t id;
    uint32_t w, n;
    uint32_t next; /* 1 + index of the term's previous posting, 0 = none */
};

struct kb_champ {
    struct kb *kb;
    fts5_api *api;
    fts5_tokenizer porter;
    void *porter_ud;
    Fts5Tokenizer *qtok; /* for query terms */

    /* capture */
    int capture, ncalls, raw_query;
    struct ch_doc doc[2];

    /* writer state */
    int loaded, verified, bootstrap;
    int poisoned;       /* lists dropped inside a transaction: untouched until it ends */
    int from_empty;     /* loaded on an empty index, nothing committed since */
    int64_t nrow, ntok; /* index totals the in-memory lists belong to */
    int64_t gen;        /* and entry_index_gen */
    double a;           /* avgdl the current statement's entries are scored at */
    struct ch_term **terms;
    size_t nterms, aterms;
    struct ch_slot *idx; /* hash index into terms, i = -1 free */
    size_t idxcap;
    struct ch_map batch; /* c[0] entries, c[1] 1 + index of the last posting */
    long batch_docs;
    struct ch_post *posts;
    size_t nposts, aposts;
    struct ch_map rejected; /* c[0]: entries in the index when the term was rejected */

    /* tuning */
    int min_df, kmin, kdiv, tdiv;
    int scan_cap; /* most in-range rows one pass keeps for an untracked term */

    /* CPU seconds spent (TRAWL_KB_CHAMP_PROF=1 prints them at close) */
    double prof[3];
    long pcount[2];
    int prof_on; /* the clock is a system call: read it only when asked */
};

/* A tracked term's place in the hash index, with what a new entry is checked
 * against, so that most entries (those that do not make the list) touch
 * nothing else: df is the true count (the term's copy is updated by
 * slot_sync), and an entry scoring at most min_s at avgdl a, when the list
 * is full, only raises max_rej, folded into the floor later. */
struct ch_slot {
    uint64_t h;
    int32_t i;
    int32_t full;
    int64_t df;
    double a, min_s, max_rej;
};

struct ch_wrap {
    Fts5Tokenizer *inner;
    struct kb_champ *ch;
};

struct ch_cap {
    struct kb_champ *ch;
    void *ctx;
    int (*xToken)(void *, int, const char *, int, int, int);
    int col;
    struct ch_doc *d;
};

static double prof_now(const struct kb_champ *ch)
{
    struct timespec ts;
    if (!ch->prof_on)
        return 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- small maps -------------------------------------------------------------------- */

static void map_clear(struct ch_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->v[m->used[i]].h = 0;
    m->n = 0;
    m->alen = 0;
}

static void map_free(struct ch_map *m)
{
    free(m->v);
    free(m->used);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

/* The slot for h (h is never 0: callers set the low bit), added if new. NULL on OOM. */
static struct ch_tok *map_get(struct ch_map *m, uint64_t h, const char *tok, int n, int *added)
{
    size_t i;

    if (2 * (m->n + 1) > m->cap) {
        size_t ncap = m->cap ? 2 * m->cap : 512;
        struct ch_tok *nv = calloc(ncap, sizeof *nv);
        uint32_t *nu = malloc(ncap / 2 * sizeof *nu);
        if (!nv || !nu) {
            free(nv);
            free(nu);
            return NULL;
        }
        for (size_t j = 0; j < m->n; j++) {
            const struct ch_tok *o = &m->v[m->used[j]];
            for (i = o->h & (ncap - 1); nv[i].h; i = (i + 1) & (ncap - 1))
                ;
            nv[i] = *o;
            nu[j] = (uint32_t)i;
        }
        free(m->v);
        free(m->used);
        m->v = nv;
        m->used = nu;
        m->cap = ncap;
    }
    for (i = h & (m->cap - 1); m->v[i].h; i = (i + 1) & (m->cap - 1)) {
        if (m->v[i].h == h) {
            *added = 0;
            return &m->v[i];
        }
    }
    if (m->alen + (size_t)n > m->acap) {
        size_t ncap = m->acap ? 2 * m->acap : 4096;
        while (ncap < m->alen + (size_t)n)
            ncap *= 2;
        char *na = realloc(m->arena, ncap);
        if (!na)
            return NULL;
        m->arena = na;
        m->acap = ncap;
    }
    if (n)
        memcpy(m->arena + m->alen, tok, (size_t)n);
    m->v[i] = (struct ch_tok){h, {0, 0}, (uint32_t)m->alen, (uint32_t)n};
    m->alen += (size_t)n;
    m->used[m->n++] = (uint32_t)i;
    *added = 1;
    return &m->v[i];
}

/* Tokens are compared by this hash alone, so it must be a good 64-bit hash:
 * two overlapping loads cover every byte of a short token (nearly all are),
 * then multiplications and shifts that lose nothing but the low bit, so
 * tokens of one length up to 7 bytes collide only in that bit. It runs for
 * every token FTS5 indexes, so it is inline and makes no library call. */
static inline uint64_t tok_hash(const char *tok, int n)
{
    const unsigned char *p = (const unsigned char *)tok;
    uint64_t lo, hi = 0, h;
    uint32_t a, b;

    if (n > 16)
        return XXH3_64bits(tok, (size_t)n) | 1;
    if (n >= 8) {
        memcpy(&lo, p, 8);
        memcpy(&hi, p + n - 8, 8);
    } else if (n >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        lo = (uint64_t)a | (uint64_t)b << 32;
    } else {
        lo = n ? (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16 : 0;
    }
    h = (lo ^ (uint64_t)n * 0xc2b2ae3d27d4eb4fULL) * 0x9e3779b97f4a7c15ULL;
    h ^= hi * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 29;
    return h | 1;
}

/* Copies n bytes (n at most 16) without a library call. */
static inline void copy_small(char *dst, const char *src, int n)
{
    uint64_t x, y;
    uint32_t a, b;

    if (n >= 8) {
        memcpy(&x, src, 8);
        memcpy(&y, src + n - 8, 8);
        memcpy(dst, &x, 8);
        memcpy(dst + n - 8, &y, 8);
    } else if (n >= 4) {
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        for (int i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* map_get for a captured token: the common cases inline (the token seen
 * already, or a new short one with room to spare), the rest through map_get. */
static inline struct ch_tok *doc_tok(struct ch_map *m, uint64_t h, const char *tok, int n)
{
    int added;

    if (2 * (m->n + 1) <= m->cap) {
        size_t mask = m->cap - 1, i;
        for (i = h & mask; m->v[i].h; i = (i + 1) & mask)
            if (m->v[i].h == h)
                return &m->v[i];
        if (n <= 16 && m->alen + 16 <= m->acap) {
            copy_small(m->arena + m->alen, tok, n);
            m->v[i] = (struct ch_tok){h, {0, 0}, (uint32_t)m->alen, (uint32_t)n};
            m->alen += (size_t)n;
            m->used[m->n++] = (uint32_t)i;
            return &m->v[i];
        }
    }
    return map_get(m, h, tok, n, &added);
}

/* ---- the tokenizer wrapper ------------------------------------------------------------ */

static int ch_capture_token(void *p, int tflags, const char *tok, int n, int s, int e)
{
    struct ch_cap *c = p;

    if (n > CH_MAX_TOKEN)
        n = CH_MAX_TOKEN;
    if (c->d) {
        struct ch_tok *t = doc_tok(&c->d->m, tok_hash(tok, n), tok, n);
        if (t) {
            t->c[c->col]++;
            if (!(tflags & FTS5_TOKEN_COLOCATED))
                c->d->ntok++;
        }
    }
    return c->xToken(c->ctx, tflags, tok, n, s, e);
}

static int ch_tok_create(void *ud, const char **argv, int argc, Fts5Tokenizer **out)
{
    struct kb_champ *ch = ud;
    struct ch_wrap *w = calloc(1, sizeof *w);
    int rc;

    if (!w)
        return SQLITE_NOMEM;
    w->ch = ch;
    if ((rc = ch->porter.xCreate(ch->porter_ud, argv, argc, &w->inner)) != SQLITE_OK) {
        free(w);
        return rc;
    }
    *out = (Fts5Tokenizer *)w;
    return SQLITE_OK;
}

static void ch_tok_delete(Fts5Tokenizer *t)
{
    struct ch_wrap *w = (struct ch_wrap *)t;

    w->ch->porter.xDelete(w->inner);
    free(w);
}

static int ch_tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int n,
                           int (*xToken)(void *, int, const char *, int, int, int))
{
    struct ch_wrap *w = (struct ch_wrap *)t;
    struct kb_champ *ch = w->ch;

    /* An index term as the query: promotion scans look terms up as stored. */
    if (ch->raw_query && (flags & FTS5_TOKENIZE_QUERY))
        return n > 0 ? xToken(ctx, 0, text, n, 0, n) : SQLITE_OK;
    if (ch->capture && (flags & FTS5_TOKENIZE_DOCUMENT)) {
        struct ch_cap c = {ch, ctx, xToken, ch->ncalls & 1,
                           ch->ncalls < 4 ? &ch->doc[ch->ncalls / 2] : NULL};
        ch->ncalls++;
        return ch->porter.xTokenize(w->inner, &c, flags, text, n, ch_capture_token);
    }
    return ch->porter.xTokenize(w->inner, ctx, flags, text, n, xToken);
}

/* trawl_wn(entries_fts): blob of uint32 [n, w0, w1, ...]: the row's length in
 * tokens and each phrase's weighted count, as bm25 weighs them. */
static void ch_wn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                  sqlite3_value **val)
{
    uint32_t out[1 + CH_MAX_TERMS] = {0};
    int nphrase = api->xPhraseCount(fts), ninst = 0, ip, ic, io, ntok = 0;

    (void)nval;
    (void)val;
    if (nphrase > CH_MAX_TERMS)
        nphrase = CH_MAX_TERMS;
    if (api->xInstCount(fts, &ninst) != SQLITE_OK ||
        api->xColumnSize(fts, -1, &ntok) != SQLITE_OK) {
        sqlite3_result_error(ctx, "trawl_wn: cannot read the row", -1);
        return;
    }
    for (int i = 0; i < ninst; i++)
        if (api->xInst(fts, i, &ip, &ic, &io) == SQLITE_OK && ip < nphrase)
            out[1 + ip] += ic == 0 ? 4 : 1;
    out[0] = (uint32_t)ntok;
    sqlite3_result_blob(ctx, out, (int)((1 + (size_t)nphrase) * sizeof out[0]), SQLITE_TRANSIENT);
}

static void ch_top_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                      sqlite3_value **val);

/* ---- scoring ------------------------------------------------------------------------- */

/* FTS5's bm25 term component, written as fts5Bm25Function computes it. */
static double ch_f(uint32_t w, uint32_t n, double avgdl)
{
    const double k1 = CH_K1, b = CH_B;
    double freq = (double)w;

    return (freq * (k1 + 1.0)) / (freq + k1 * (1 - b + b * (double)n / avgdl));
}

static double ch_idf(int64_t nrow, int64_t nhit)
{
    double idf = log((nrow - nhit + 0.5) / (nhit + 0.5));
    return idf <= 0.0 ? 1e-6 : idf;
}

static double ch_avgdl(int64_t nrow, int64_t ntok)
{
    return nrow > 0 ? (double)ntok / (double)nrow : 1.0;
}

static int ch_kcap(const struct kb_champ *ch, int64_t df)
{
    int64_t k = ch->kmin + df / ch->kdiv;
    return k > 1 << 20 ? 1 << 20 : (int)k;
}

static int64_t ch_threshold(const struct kb_champ *ch, int64_t nrow)
{
    int64_t t = nrow / ch->tdiv;
    return t < ch->min_df ? ch->min_df : t;
}

/* ---- heap --------------------------------------------------------------------------- */

static void heap_down(struct ch_ent *v, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && v[l].s < v[m].s)
            m = l;
        if (l + 1 < n && v[l + 1].s < v[m].s)
            m = l + 1;
        if (m == i)
            return;
        struct ch_ent t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void heap_up(struct ch_ent *v, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (v[p].s <= v[i].s)
            return;
        struct ch_ent t = v[i];
        v[i] = v[p];
        v[p] = t;
        i = p;
    }
}

/* Rescores a term's list at avgdl a. */
static void term_rescore(struct ch_term *t, double a)
{
    if (t->a == a)
        return;
    for (int i = 0; i < t->n; i++)
        t->v[i].s = ch_f(t->v[i].w, t->v[i].n, a);
    for (int i = t->n / 2 - 1; i >= 0; i--)
        heap_down(t->v, t->n, i);
    t->a = a;
}

/* Raises the floor to cover an entry of score s at avgdl a that is not
 * listed. The floor is kept at one reference avgdl (the first it was computed
 * at): the entry's score there is at most s * max(1, floor_a / a). */
static void term_floor(struct ch_term *t, double s, double a)
{
    if (t->floor_a <= 0)
        t->floor_a = a;
    if (t->floor_a > a)
        s *= t->floor_a / a;
    if (s > t->floor)
        t->floor = s;
}

static int term_offer(struct kb_champ *ch, struct ch_term *t, int64_t id, uint32_t w, uint32_t n,
                      double a)
{
    struct ch_ent e = {id, w, n, ch_f(w, n, a)};
    int k = ch_kcap(ch, t->df);

    term_rescore(t, a);
    t->dirty = 1;
    if (t->n < k) {
        if (t->n == t->cap) {
            int ncap = t->cap ? 2 * t->cap : 16;
            struct ch_ent *nv = realloc(t->v, (size_t)ncap * sizeof *nv);
            if (!nv)
                return -1;
            t->v = nv;
            t->cap = ncap;
        }
        t->v[t->n] = e;
        heap_up(t->v, t->n++);
        return 0;
    }
    if (t->n > 0 && e.s > t->v[0].s) {
        term_floor(t, t->v[0].s, a);
        t->v[0] = e;
        heap_down(t->v, t->n, 0);
    } else {
        term_floor(t, e.s, a);
    }
    return 0;
}

static void term_remove(struct ch_term *t, int64_t id)
{
    for (int i = 0; i < t->n; i++) {
        if (t->v[i].id != id)
            continue;
        t->v[i] = t->v[--t->n];
        for (int j = t->n / 2 - 1; j >= 0; j--)
            heap_down(t->v, t->n, j);
        t->dirty = 1;
        return;
    }
}

static void term_free(struct ch_term *t)
{
    if (!t)
        return;
    free(t->tok);
    free(t->v);
    free(t);
}

/* ---- the tracked terms ------------------------------------------------------------- */

static struct ch_slot *slot_find(struct kb_champ *ch, uint64_t h)
{
    if (!ch->idxcap)
        return NULL;
    for (size_t i = h & (ch->idxcap - 1); ch->idx[i].i >= 0; i = (i + 1) & (ch->idxcap - 1))
        if (ch->idx[i].h == h)
            return &ch->idx[i];
    return NULL;
}

/* The slot's term with the slot's df and rejections applied. */
static struct ch_term *slot_sync(struct kb_champ *ch, struct ch_slot *sl)
{
    struct ch_term *t = ch->terms[sl->i];

    if (sl->max_rej > 0) {
        term_floor(t, sl->max_rej, sl->a);
        sl->max_rej = 0;
        t->dirty = 1;
    }
    if (t->df != sl->df) {
        t->df = sl->df;
        t->dirty = 1;
    }
    return t;
}

static void slot_update(struct kb_champ *ch, struct ch_slot *sl, const struct ch_term *t)
{
    sl->df = t->df;
    sl->a = t->a;
    sl->min_s = t->n ? t->v[0].s : 0;
    sl->full = t->n > 0 && t->n >= ch_kcap(ch, t->df);
}

static struct ch_term *terms_find(struct kb_champ *ch, uint64_t h)
{
    struct ch_slot *sl = slot_find(ch, h);
    return sl ? slot_sync(ch, sl) : NULL;
}

static int terms_add(struct kb_champ *ch, struct ch_term *t)
{
    size_t i;

    if (ch->nterms == ch->aterms) {
        size_t na = ch->aterms ? 2 * ch->aterms : 256;
        struct ch_term **nt = realloc(ch->terms, na * sizeof *nt);
        if (!nt)
            return -1;
        ch->terms = nt;
        ch->aterms = na;
    }
    if (2 * (ch->nterms + 1) > ch->idxcap) {
        size_t ncap = ch->idxcap ? 2 * ch->idxcap : 4096;
        struct ch_slot *ni = malloc(ncap * sizeof *ni);
        if (!ni)
            return -1;
        for (size_t j = 0; j < ncap; j++)
            ni[j].i = -1;
        for (size_t j = 0; j < ch->idxcap; j++) {
            if (ch->idx[j].i < 0)
                continue;
            for (i = ch->idx[j].h & (ncap - 1); ni[i].i >= 0; i = (i + 1) & (ncap - 1))
                ;
            ni[i] = ch->idx[j];
        }
        free(ch->idx);
        ch->idx = ni;
        ch->idxcap = ncap;
    }
    for (i = t->h & (ch->idxcap - 1); ch->idx[i].i >= 0; i = (i + 1) & (ch->idxcap - 1))
        ;
    ch->idx[i] = (struct ch_slot){t->h, (int32_t)ch->nterms, 0, 0, 0, 0, 0};
    slot_update(ch, &ch->idx[i], t);
    ch->terms[ch->nterms++] = t;
    return 0;
}

static void terms_clear(struct kb_champ *ch)
{
    for (size_t i = 0; i < ch->nterms; i++)
        term_free(ch->terms[i]);
    ch->nterms = 0;
    for (size_t i = 0; i < ch->idxcap; i++)
        ch->idx[i].i = -1;
}

/* ---- reading and writing ------------------------------------------------------------- */

static int get_varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;

    for (int i = 0; i < 9 && p + i < end; i++) {
        if (i == 8) {
            *v = (x << 8) | p[i];
            return 9;
        }
        x = (x << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* The sum of the varints from p to end (FTS5's per-column token counts). */
static int64_t varint_sum(const unsigned char *p, const unsigned char *end)
{
    int64_t sum = 0;
    uint64_t v;
    int k;

    for (; p && p < end && (k = get_varint(p, end, &v)) > 0; p += k)
        sum += (int64_t)v;
    return sum;
}

/* FTS5's row count and token total (its averages record). */
static int ch_totals(struct kb *kb, int64_t *nrow, int64_t *ntok)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT block FROM entries_fts_data WHERE id = 1");
    int rc;

    *nrow = *ntok = 0;
    if (!st)
        return KB_ERROR;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 0);
        const unsigned char *end = p + sqlite3_column_bytes(st, 0);
        uint64_t v;
        int k;
        if (p && (k = get_varint(p, end, &v)) > 0) {
            *nrow = (int64_t)v;
            *ntok = varint_sum(p + k, end);
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kb_sqlfail(kb, "read index totals");
    return 0;
}

static int64_t ch_gen(struct kb *kb)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT gen FROM entry_index_gen WHERE id = 1");
    int64_t gen = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        gen = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return gen;
}

/* 1 when the stored lists belong to the index as it is, 0 if not. */
static int ch_stamp_ok(struct kb *kb, int64_t nrow, int64_t ntok, int64_t gen)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "SELECT nrow, ntok, gen FROM entry_champion_stamp WHERE id = 1");
    int ok = 0;

    if (!st)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_int64(st, 0) == nrow && sqlite3_column_int64(st, 1) == ntok &&
             sqlite3_column_int64(st, 2) == gen && gen >= 0;
    sqlite3_reset(st);
    return ok;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* A term from a row (term, df, floor, floor_avgdl, list) of st. */
static struct ch_term *term_from_row(sqlite3_stmt *st, int col)
{
    struct ch_term *t = calloc(1, sizeof *t);
    const char *tok = (const char *)sqlite3_column_text(st, col);
    int ntok = sqlite3_column_bytes(st, col);
    const unsigned char *b = sqlite3_column_blob(st, col + 4);
    int nb = sqlite3_column_bytes(st, col + 4) / 16;

    if (!t || !tok || !(t->tok = malloc((size_t)ntok + 1)) ||
        (nb && !(t->v = malloc((size_t)nb * sizeof *t->v)))) {
        term_free(t);
        return NULL;
    }
    memcpy(t->tok, tok, (size_t)ntok + 1);
    t->ntok = ntok;
    t->h = tok_hash(tok, ntok);
    t->df = sqlite3_column_int64(st, col + 1);
    t->floor = sqlite3_column_double(st, col + 2);
    t->floor_a = sqlite3_column_double(st, col + 3);
    t->n = t->cap = nb;
    t->a = -1;
    for (int i = 0; i < nb; i++, b += 16) {
        uint64_t id = (uint64_t)rd32(b) | (uint64_t)rd32(b + 4) << 32;
        t->v[i] = (struct ch_ent){(int64_t)id, rd32(b + 8), rd32(b + 12), 0};
    }
    return t;
}

static int term_store(struct kb *kb, struct ch_term *t)
{
    sqlite3_stmt *st = kb_prepare(kb, "INSERT OR REPLACE INTO entry_champions(term, df, floor, "
                                      "floor_avgdl, list) VALUES (?, ?, ?, ?, ?)");
    unsigned char *b = malloc((size_t)t->n * 16 + 1);
    int rc;

    if (!st || !b) {
        free(b);
        return st ? kb_fail(kb, KB_ERROR, "out of memory") : KB_ERROR;
    }
    for (int i = 0; i < t->n; i++) {
        wr32(b + 16 * i, (uint32_t)((uint64_t)t->v[i].id & 0xffffffffu));
        wr32(b + 16 * i + 4, (uint32_t)((uint64_t)t->v[i].id >> 32));
        wr32(b + 16 * i + 8, t->v[i].w);
        wr32(b + 16 * i + 12, t->v[i].n);
    }
    sqlite3_bind_text(st, 1, t->tok, t->ntok, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t->df);
    sqlite3_bind_double(st, 3, t->floor);
    sqlite3_bind_double(st, 4, t->floor_a);
    sqlite3_bind_blob(st, 5, b, t->n * 16, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(b);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "store champion list");
    t->dirty = 0;
    return 0;
}

/* Builds a term's list from the index: every entry containing it. */
static int term_scan(struct kb *kb, const char *tok, int ntok, double a, struct ch_term **out)
{
    struct kb_champ *ch = kb->champ;
    sqlite3_stmt *st = kb_prepare(kb, "SELECT rowid, trawl_wn(entries_fts) FROM entries_fts "
                                      "WHERE entries_fts MATCH ?");
    struct ch_term *t = calloc(1, sizeof *t);
    char *q = malloc(2 * (size_t)ntok + 3);
    int rc, k = 0;

    *out = NULL;
    if (!st || !t || !q || !(t->tok = malloc((size_t)ntok + 1))) {
        free(q);
        term_free(t);
        return st ? kb_fail(kb, KB_ERROR, "out of memory") : KB_ERROR;
    }
    memcpy(t->tok, tok, (size_t)ntok);
    t->tok[ntok] = '\0';
    t->ntok = ntok;
    t->h = tok_hash(tok, ntok);
    t->a = a;
    q[k++] = '"';
    for (int i = 0; i < ntok; i++) {
        if (tok[i] == '"')
            q[k++] = '"';
        q[k++] = tok[i];
    }
    q[k++] = '"';
    sqlite3_bind_text(st, 1, q, k, SQLITE_STATIC);
    ch->raw_query = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(st, 1);
        if (sqlite3_column_bytes(st, 1) < 8)
            continue;
        t->df++;
        if (term_offer(ch, t, sqlite3_column_int64(st, 0), rd32(b + 4), rd32(b), a) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    ch->raw_query = 0;
    sqlite3_reset(st);
    free(q);
    if (rc != SQLITE_DONE) {
        term_free(t);
        return rc == SQLITE_NOMEM ? kb_fail(kb, KB_ERROR, "out of memory")
                                  : kb_sqlfail(kb, "scan a term for its champion list");
    }
    t->dirty = 1;
    *out = t;
    return 0;
}

/* Entries containing index term tok. */
static int ch_count_raw(struct kb *kb, const char *tok, int ntok, int64_t *df)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?");
    char q[2 * 256 + 3];
    int rc, k = 0;

    if (!st)
        return KB_ERROR;
    if (ntok > 256) { /* not worth a list; the scan path would do */
        *df = -1;
        return 0;
    }
    q[k++] = '"';
    for (int i = 0; i < ntok; i++) {
        if (tok[i] == '"')
            q[k++] = '"';
        q[k++] = tok[i];
    }
    q[k++] = '"';
    sqlite3_bind_text(st, 1, q, k, SQLITE_STATIC);
    kb->champ->raw_query = 1;
    rc = sqlite3_step(st);
    kb->champ->raw_query = 0;
    if (rc == SQLITE_ROW)
        *df = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : kb_sqlfail(kb, "count a term's entries");
}

/* Terms found under the threshold are not looked at again before the index doubles. */
static int ch_rejected(struct kb_champ *ch, uint64_t h, int64_t nrow)
{
    int added;
    struct ch_tok *r = map_get(&ch->rejected, h, "", 0, &added);

    if (!r || added) {
        if (r)
            r->c[0] = 0; /* not rejected yet: kept as a free entry */
        return 0;
    }
    return r->c[0] && (int64_t)r->c[0] * 2 > nrow;
}

static void ch_reject(struct kb_champ *ch, uint64_t h, int64_t nrow)
{
    int added;
    struct ch_tok *r = map_get(&ch->rejected, h, "", 0, &added);

    if (r)
        r->c[0] = nrow > UINT32_MAX ? UINT32_MAX : (uint32_t)nrow;
}

static int ch_count_raw(struct kb *kb, const char *tok, int ntok, int64_t *df);

/* Tracks tok if it has at least the threshold's entries. post is the head of
 * its postings in this batch (1-based, 0 = none) and npost their number:
 * when the index has no others, the list is made from them, not by a scan. */
static int ch_promote(struct kb *kb, const char *tok, int ntok, uint32_t post, int64_t npost,
                      int check)
{
    struct kb_champ *ch = kb->champ;
    uint64_t h = tok_hash(tok, ntok);
    double a = ch_avgdl(ch->nrow, ch->ntok);
    struct ch_term *t;
    int64_t df = -1;
    int rc;

    if (terms_find(ch, h) || ch_rejected(ch, h, ch->nrow))
        return 0;
    if (check) {
        /* from an empty index, this handle saw every entry */
        ch->pcount[0]++;
        if (ch->from_empty)
            df = npost;
        else if ((rc = ch_count_raw(kb, tok, ntok, &df)) < 0)
            return rc;
        if (df < ch_threshold(ch, ch->nrow)) {
            ch_reject(ch, h, ch->nrow);
            return 0;
        }
    }
    if (post && df == npost) {
        if (!(t = calloc(1, sizeof *t)) || !(t->tok = malloc((size_t)ntok + 1))) {
            term_free(t);
            return kb_fail(kb, KB_ERROR, "out of memory");
        }
        memcpy(t->tok, tok, (size_t)ntok);
        t->tok[ntok] = '\0';
        t->ntok = ntok;
        t->h = h;
        t->a = a;
        t->df = df;
        for (uint32_t k = post; k; k = ch->posts[k - 1].next) {
            const struct ch_post *p = &ch->posts[k - 1];
            if (p->id && term_offer(ch, t, p->id, p->w, p->n, a) < 0) {
                term_free(t);
                return kb_fail(kb, KB_ERROR, "out of memory");
            }
        }
        t->dirty = 1;
    } else if (ch->pcount[1]++, (rc = term_scan(kb, tok, ntok, a, &t)) < 0) {
        return rc;
    }
    if (t->df < ch_threshold(ch, ch->nrow)) {
        ch_reject(ch, h, ch->nrow);
        term_free(t);
        return 0;
    }
    if (terms_add(ch, t) < 0) {
        term_free(t);
        return kb_fail(kb, KB_ERROR, "out of memory");
    }
    return 0;
}

/* Lists every term of the index above the threshold (a database whose lists
 * were missing or stale). */
static int ch_bootstrap(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;
    sqlite3_stmt *st = NULL;
    char **toks = NULL;
    size_t n = 0, a = 0;
    int rc;

    if (ch->nrow == 0)
        return 0;
    if (sqlite3_exec(kb->db,
                     "CREATE VIRTUAL TABLE IF NOT EXISTS temp.entries_fts_rows USING "
                     "fts5vocab(main, entries_fts, row)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return kb_sqlfail(kb, "read the index vocabulary");
    if (sqlite3_prepare_v2(kb->db, "SELECT term FROM temp.entries_fts_rows WHERE doc >= ?", -1, &st,
                           NULL) != SQLITE_OK)
        return kb_sqlfail(kb, "read the index vocabulary");
    sqlite3_bind_int64(st, 1, ch_threshold(ch, ch->nrow));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == a) {
            char **nt = realloc(toks, (a = a ? 2 * a : 256) * sizeof *nt);
            if (!nt)
                break;
            toks = nt;
        }
        if (!(toks[n] = strdup((const char *)sqlite3_column_text(st, 0))))
            break;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rc = rc == SQLITE_ROW ? kb_fail(kb, KB_ERROR, "out of memory")
                              : kb_sqlfail(kb, "read the index vocabulary");
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = ch_promote(kb, toks[i], (int)strlen(toks[i]), 0, -1, 0);
out:
    for (size_t i = 0; i < n; i++)
        free(toks[i]);
    free(toks);
    return rc;
}

/* Loads the stored lists, or starts over when they do not match the index. */
static int ch_load(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;
    sqlite3_stmt *st;
    int64_t nrow, ntok;
    int rc;

    terms_clear(ch);
    map_clear(&ch->rejected);
    if ((rc = ch_totals(kb, &nrow, &ntok)) < 0)
        return rc;
    ch->nrow = nrow;
    ch->ntok = ntok;
    ch->gen = ch_gen(kb);
    ch->from_empty = nrow == 0;
    ch->loaded = 1;
    ch->verified = 1;
    if (!ch_stamp_ok(kb, nrow, ntok, ch->gen)) {
        ch->bootstrap = 1;
        if (sqlite3_exec(kb->db, "DELETE FROM entry_champions", NULL, NULL, NULL) != SQLITE_OK)
            return kb_sqlfail(kb, "reset champion lists");
        return 0;
    }
    if (!(st = kb_prepare(kb, "SELECT term, df, floor, floor_avgdl, list FROM entry_champions")))
        return KB_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ch_term *t = term_from_row(st, 0);
        if (!t || terms_add(ch, t) < 0) {
            term_free(t);
            sqlite3_reset(st);
            ch->loaded = 0;
            return kb_fail(kb, KB_ERROR, "out of memory");
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ch->loaded = 0;
        return kb_sqlfail(kb, "read champion lists");
    }
    return 0;
}

/* ---- the kb_internal.h interface ---------------------------------------------------------- */

int kb_champ_open(struct kb *kb)
{
    struct kb_champ *ch = calloc(1, sizeof *ch);
    sqlite3_stmt *st;
    const char *args[] = {"unicode61", "remove_diacritics", "2"};
    fts5_tokenizer wrap = {ch_tok_create, ch_tok_delete, ch_tok_tokenize};

    const char *env = getenv("TRAWL_KB_CHAMPIONS");

    if (env && strcmp(env, "0") == 0) { /* off: FTS5 ranks everything (benchmarks) */
        free(ch);
        return 0;
    }
    if (!ch)
        return kb_fail(kb, KB_ERROR, "out of memory");
    kb->champ = ch;
    ch->kb = kb;
    ch->min_df = 16;
    ch->kmin = 32;
    ch->kdiv = 256;
    ch->tdiv = 512;
    ch->scan_cap = 4096;
    ch->prof_on = getenv("TRAWL_KB_CHAMP_PROF") != NULL;
    if (sqlite3_prepare_v2(kb->db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return kb_fail(kb, KB_ERROR, "this SQLite has no FTS5: %s", sqlite3_errmsg(kb->db));
    sqlite3_bind_pointer(st, 1, (void *)&ch->api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!ch->api || ch->api->iVersion < 2)
        return kb_fail(kb, KB_ERROR, "this SQLite's FTS5 is too old (API version 2 needed)");
    if (ch->api->xFindTokenizer(ch->api, "porter", &ch->porter_ud, &ch->porter) != SQLITE_OK)
        return kb_fail(kb, KB_ERROR, "FTS5 has no porter tokenizer");
    if (ch->porter.xCreate(ch->porter_ud, args, 3, &ch->qtok) != SQLITE_OK)
        return kb_fail(kb, KB_ERROR, "cannot create the porter tokenizer");
    if (ch->api->xCreateTokenizer(ch->api, "porter", ch, &wrap, NULL) != SQLITE_OK ||
        ch->api->xCreateFunction(ch->api, "trawl_wn", ch, ch_wn, NULL) != SQLITE_OK ||
        ch->api->xCreateFunction(ch->api, "trawl_top", ch, ch_top_fn, NULL) != SQLITE_OK)
        return kb_fail(kb, KB_ERROR, "cannot register with FTS5: %s", sqlite3_errmsg(kb->db));
    return 0;
}

void kb_champ_close(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;

    if (!ch)
        return;
    if (ch->prof_on)
        fprintf(stderr,
                "champion lists: apply %.2f s, promote %.2f s, store %.2f s CPU; %ld "
                "candidates counted, %ld scanned, %zu terms\n",
                ch->prof[0], ch->prof[1], ch->prof[2], ch->pcount[0], ch->pcount[1], ch->nterms);
    if (ch->qtok)
        ch->porter.xDelete(ch->qtok);
    terms_clear(ch);
    free(ch->terms);
    free(ch->idx);
    map_free(&ch->rejected);
    free(ch->posts);
    map_free(&ch->batch);
    map_free(&ch->doc[0].m);
    map_free(&ch->doc[1].m);
    free(ch);
    kb->champ = NULL;
}

void kb_champ_tune(struct kb *kb, int min_df, int kmin, int kdiv, int tdiv)
{
    if (!kb->champ)
        return;
    kb->champ->min_df = min_df;
    kb->champ->kmin = kmin;
    kb->champ->kdiv = kdiv;
    kb->champ->tdiv = tdiv;
}

void kb_champ_scan_cap(struct kb *kb, int cap)
{
    if (kb->champ)
        kb->champ->scan_cap = cap < 1 ? 1 : cap;
}

void kb_champ_reset(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;

    if (!ch)
        return;
    ch->loaded = ch->verified = ch->bootstrap = 0;
    ch->poisoned = kb->in_tx;
    ch->capture = 0;
    terms_clear(ch);
    map_clear(&ch->batch);
    ch->batch_docs = 0;
    ch->nposts = 0;
}

int kb_champ_write_begin(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;
    int64_t nrow, ntok;
    int rc;

    if (!ch || ch->poisoned)
        return 0;
    if (!ch->loaded) {
        rc = ch_load(kb);
        ch->a = ch_avgdl(ch->nrow, ch->ntok);
        return rc;
    }
    /* one avgdl for the statement's entries: lists are rescored once */
    ch->a = ch_avgdl(ch->nrow, ch->ntok);
    if (ch->verified)
        return 0;
    /* Nothing of this transaction is in the index yet: its totals are on disk. */
    if ((rc = ch_totals(kb, &nrow, &ntok)) < 0)
        return rc;
    if (nrow != ch->nrow || ntok != ch->ntok || ch_gen(kb) != ch->gen) { /* another writer */
        rc = ch_load(kb);
        ch->a = ch_avgdl(ch->nrow, ch->ntok);
        return rc;
    }
    ch->verified = 1;
    return 0;
}

void kb_champ_capture(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;

    if (!ch)
        return;
    ch->capture = 1;
    ch->ncalls = 0;
    for (int i = 0; i < 2; i++) {
        map_clear(&ch->doc[i].m);
        ch->doc[i].ntok = 0;
    }
}

static int ch_apply_doc(struct kb *kb, int64_t id, struct ch_doc *d, int add)
{
    struct kb_champ *ch = kb->champ;
    double a = ch->a;
    int added;
    /* New common terms are spotted in a sample of one entry in CH_SAMPLE
     * (all of them from an empty index, where the batch's postings make the
     * lists); a candidate is then counted exactly. */
    int sampled = ch->from_empty || ((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 61 == 0;

    if (add && sampled)
        ch->batch_docs++;
    for (size_t i = 0; i < d->m.n; i++) {
        struct ch_tok *x = &d->m.v[d->m.used[i]];
        struct ch_slot *sl;
        struct ch_term *t;
        if ((sl = slot_find(ch, x->h))) {
            uint32_t w = 4 * x->c[0] + x->c[1];
            if (add) {
                sl->df++;
                /* the common case: a full list that the entry does not make */
                if (sl->full && sl->a == a && sl->df % ch->kdiv != 0) {
                    double sc = ch_f(w, d->ntok, a);
                    if (sc <= sl->min_s) {
                        if (sc > sl->max_rej)
                            sl->max_rej = sc;
                        continue;
                    }
                }
                t = slot_sync(ch, sl);
                if (term_offer(ch, t, id, w, d->ntok, a) < 0)
                    return kb_fail(kb, KB_ERROR, "out of memory");
            } else {
                sl->df--;
                t = slot_sync(ch, sl);
                term_remove(t, id);
                t->dirty = 1;
            }
            slot_update(ch, sl, t);
        } else if (add && sampled) {
            struct ch_tok *b = map_get(&ch->batch, x->h, d->m.arena + x->off, (int)x->len, &added);
            if (!b)
                return kb_fail(kb, KB_ERROR, "out of memory");
            b->c[0]++;
            /* postings are only complete, and worth keeping, from an empty index */
            if (!ch->from_empty)
                continue;
            if (ch->nposts == ch->aposts) {
                size_t na = ch->aposts ? 2 * ch->aposts : 65536;
                struct ch_post *np = realloc(ch->posts, na * sizeof *np);
                if (!np)
                    return kb_fail(kb, KB_ERROR, "out of memory");
                ch->posts = np;
                ch->aposts = na;
            }
            ch->posts[ch->nposts] = (struct ch_post){id, 4 * x->c[0] + x->c[1], d->ntok, b->c[1]};
            b->c[1] = (uint32_t)++ch->nposts;
        } else if (!add && ch->from_empty) {
            /* an entry of this batch goes again: out of its terms' postings */
            struct ch_tok *b = map_get(&ch->batch, x->h, d->m.arena + x->off, (int)x->len, &added);
            for (uint32_t k = b ? b->c[1] : 0; k; k = ch->posts[k - 1].next) {
                if (ch->posts[k - 1].id == id) {
                    ch->posts[k - 1].id = 0;
                    b->c[0]--;
                    break;
                }
            }
        }
    }
    if (add) {
        ch->nrow++;
        ch->ntok += d->ntok;
    } else {
        ch->nrow--;
        ch->ntok -= d->ntok;
    }
    return 0;
}

int kb_champ_apply(struct kb *kb, int64_t id, int kind)
{
    struct kb_champ *ch = kb->champ;
    int rc = 0, calls;

    if (!ch)
        return 0;
    calls = ch->ncalls;
    ch->capture = 0;
    if (!ch->loaded)
        return 0;
    if (calls != (kind == KB_CHAMP_UPDATE ? 4 : 2) && calls != 0) {
        /* not the shape we expect: trust nothing kept in memory */
        kb_champ_reset(kb);
        return 0;
    }
    if (kind != KB_CHAMP_INSERT)
        ch->gen++; /* the trigger counted this update or delete */
    if (calls == 0)
        return 0;
    double t0 = prof_now(ch);
    if (kind == KB_CHAMP_INSERT)
        rc = ch_apply_doc(kb, id, &ch->doc[0], 1);
    else if (kind == KB_CHAMP_DELETE)
        rc = ch_apply_doc(kb, id, &ch->doc[0], 0);
    else if ((rc = ch_apply_doc(kb, id, &ch->doc[0], 0)) == 0)
        rc = ch_apply_doc(kb, id, &ch->doc[1], 1);
    ch->prof[0] += prof_now(ch) - t0;
    return rc;
}

int kb_champ_commit(struct kb *kb)
{
    struct kb_champ *ch = kb->champ;
    sqlite3_stmt *st;
    int rc = 0;

    if (!ch)
        return 0;
    if (ch->poisoned) {
        ch->poisoned = 0;
        return 0;
    }
    if (!ch->loaded || !ch->verified) /* nothing of the index changed here */
        return 0;
    if (ch->bootstrap) {
        ch->bootstrap = 0;
        map_clear(&ch->batch);
        ch->batch_docs = 0;
        ch->nposts = 0;
        if ((rc = ch_bootstrap(kb)) < 0)
            goto fail;
    }
    double t0 = prof_now(ch);
    if (ch->batch.n) {
        /* terms frequent in this batch may have become frequent overall */
        int64_t bt = ch->batch_docs / ch->tdiv;
        if (bt < 4)
            bt = 4;
        for (size_t i = 0; i < ch->batch.n && rc == 0; i++) {
            struct ch_tok *x = &ch->batch.v[ch->batch.used[i]];
            if (x->c[0] >= bt)
                rc = ch_promote(kb, ch->batch.arena + x->off, (int)x->len, x->c[1], x->c[0], 1);
        }
        map_clear(&ch->batch);
        ch->batch_docs = 0;
        ch->nposts = 0;
        if (rc < 0)
            goto fail;
    }
    ch->prof[1] += prof_now(ch) - t0;
    t0 = prof_now(ch);
    for (size_t i = 0; i < ch->idxcap; i++)
        if (ch->idx[i].i >= 0)
            slot_sync(ch, &ch->idx[i]);
    for (size_t i = 0; i < ch->nterms; i++)
        if (ch->terms[i]->dirty && (rc = term_store(kb, ch->terms[i])) < 0)
            goto fail;
    if (!(st = kb_prepare(kb, "INSERT OR REPLACE INTO entry_champion_stamp(id, nrow, ntok, gen) "
                              "VALUES (1, ?, ?, ?)"))) {
        rc = KB_ERROR;
        goto fail;
    }
    sqlite3_bind_int64(st, 1, ch->nrow);
    sqlite3_bind_int64(st, 2, ch->ntok);
    sqlite3_bind_int64(st, 3, ch->gen);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = kb_sqlfail(kb, "store champion stamp");
        goto fail;
    }
    ch->verified = 0;
    ch->from_empty = 0;
    ch->prof[2] += prof_now(ch) - t0;
    return 0;
fail:
    kb_champ_reset(kb);
    return rc;
}

/* ---- search ------------------------------------------------------------------------- */

struct ch_qterm {
    char *phrase; /* the user's text of the term, unquoted */
    char tok[256];
    int ntok, ntokens;
    int64_t df;
    double idf;
    struct ch_term *t; /* list, owned when from the database */
    int owned;
    int have_df; /* df known without the list */
};

struct ch_hit {
    int64_t id;
    double score; /* FTS5 rank: lower is better */
};

static int ch_tok_cb(void *p, int tflags, const char *tok, int n, int s, int e)
{
    struct ch_qterm *q = p;

    (void)s;
    (void)e;
    if (tflags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (q->ntokens++ == 0 && n < (int)sizeof q->tok) {
        memcpy(q->tok, tok, (size_t)n);
        q->ntok = n;
    }
    return SQLITE_OK;
}

/* Splits an FTS query of kb_fts_query's form into its quoted terms when it is
 * a plain conjunction ("a" AND "b" ...). 0 when it is anything else. */
static int ch_parse(const char *q, struct ch_qterm *terms, int *nterms, char *store, size_t cap)
{
    size_t k = 0;
    int n = 0;

    for (;;) {
        if (*q++ != '"' || n == CH_MAX_TERMS)
            return 0;
        terms[n].phrase = store + k;
        for (;;) {
            if (!*q)
                return 0;
            if (*q == '"') {
                if (q[1] != '"')
                    break;
                q++;
            }
            if (k + 1 >= cap)
                return 0;
            store[k++] = *q++;
        }
        q++;
        store[k++] = '\0';
        n++;
        if (!*q)
            break;
        if (strncmp(q, " AND ", 5) != 0)
            return 0;
        q += 5;
    }
    *nterms = n;
    return 1;
}

static int hit_worse(const struct ch_hit *a, const struct ch_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->id > b->id);
}

/* Keeps the best `limit` hits in a heap whose root is the worst. */
static void hits_offer(struct ch_hit *h, int *n, int limit, struct ch_hit x)
{
    int i;

    if (*n < limit) {
        i = (*n)++;
        h[i] = x;
        while (i > 0 && hit_worse(&h[i], &h[(i - 1) / 2])) {
            struct ch_hit t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (!hit_worse(&h[0], &x))
        return;
    h[0] = x;
    i = 0;
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < *n && hit_worse(&h[l], &h[m]))
            m = l;
        if (l + 1 < *n && hit_worse(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            break;
        struct ch_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int hit_cmp(const void *a, const void *b)
{
    const struct ch_hit *x = a, *y = b;

    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A tracked term's list as the search sees it, or NULL when not tracked. */
static int ch_term_get(struct kb *kb, int from_memory, int df_only, struct ch_qterm *q)
{
    sqlite3_stmt *st;
    int rc;

    if (from_memory) {
        q->t = terms_find(kb->champ, tok_hash(q->tok, q->ntok));
        return 0;
    }
    if (df_only) { /* AND queries use the df alone: the list blob stays unread */
        if (!(st = kb_prepare(kb, "SELECT df FROM entry_champions WHERE term = ?")))
            return KB_ERROR;
        sqlite3_bind_text(st, 1, q->tok, q->ntok, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            q->df = sqlite3_column_int64(st, 0);
            q->have_df = 1;
        }
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : kb_sqlfail(kb, "read champion list");
    }
    if (!(st = kb_prepare(kb, "SELECT term, df, floor, floor_avgdl, list FROM entry_champions "
                              "WHERE term = ?")))
        return KB_ERROR;
    sqlite3_bind_text(st, 1, q->tok, q->ntok, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!(q->t = term_from_row(st, 0))) {
            sqlite3_reset(st);
            return kb_fail(kb, KB_ERROR, "out of memory");
        }
        q->owned = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : kb_sqlfail(kb, "read champion list");
}

static int ch_count(struct kb *kb, const char *fts, int64_t *df)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?");
    int rc;

    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, fts);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *df = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : kb_sqlfail(kb, "count matches");
}

/* Quotes s for FTS5 into out (cap bytes). */
static void ch_quote(const char *s, char *out, size_t cap)
{
    size_t k = 0;

    out[k++] = '"';
    for (; *s && k + 3 < cap; s++) {
        if (*s == '"')
            out[k++] = '"';
        out[k++] = *s;
    }
    out[k++] = '"';
    out[k] = '\0';
}

/* ---- snippets ---------------------------------------------------------------------- */

/* Snippets of the hits, made here as FTS5's snippet(entries_fts, 1, open,
 * close, '…', 16) makes them (fts5SnippetFunction and its highlighter, for
 * queries of single-token terms), from the body tokenized by the same
 * tokenizer. Asking FTS5 instead means a lookup of the hit in the index, in
 * every segment and for every term: for a common term about 0.2 ms a hit at
 * 1M entries. test_champ compares every snippet with FTS5's own. */
#define CH_SNIP_TOKENS 16

struct ch_sn_tok {
    int s, e; /* byte offsets */
};

struct ch_sn_inst {
    int ip, io; /* phrase, token offset */
};

struct ch_sn {
    const char *doc;
    const struct ch_qterm *q;
    int nq;
    struct ch_sn_tok *tok;
    int ntok, atok;
    int *first; /* first token of each sentence */
    int nfirst, afirst;
    struct ch_sn_inst *inst;
    int ninst, ainst;
    int err;
};

static int ch_sn_grow(void **v, int *cap, int n, size_t size)
{
    if (n < *cap)
        return 0;
    int ncap = *cap ? 2 * *cap : 64;
    void *nv = realloc(*v, (size_t)ncap * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

static int ch_sn_cb(void *p, int tflags, const char *tok, int n, int s, int e)
{
    struct ch_sn *x = p;

    if (tflags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (ch_sn_grow((void **)&x->tok, &x->atok, x->ntok, sizeof *x->tok) < 0 ||
        ch_sn_grow((void **)&x->first, &x->afirst, x->nfirst, sizeof *x->first) < 0) {
        x->err = 1;
        return SQLITE_NOMEM;
    }
    /* a sentence starts at the first token and after '.' or ':' and a space */
    if (x->ntok == 0) {
        x->first[x->nfirst++] = 0;
    } else {
        int i;
        char c = 0;
        for (i = s - 1; i >= 0; i--) {
            c = x->doc[i];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
        }
        if (i != s - 1 && (c == '.' || c == ':'))
            x->first[x->nfirst++] = x->ntok;
    }
    for (int i = 0; i < x->nq; i++) {
        if (n != x->q[i].ntok || memcmp(tok, x->q[i].tok, (size_t)n) != 0)
            continue;
        if (ch_sn_grow((void **)&x->inst, &x->ainst, x->ninst, sizeof *x->inst) < 0) {
            x->err = 1;
            return SQLITE_NOMEM;
        }
        x->inst[x->ninst++] = (struct ch_sn_inst){i, x->ntok};
    }
    x->tok[x->ntok++] = (struct ch_sn_tok){s, e};
    return SQLITE_OK;
}

/* fts5SnippetScore: the score of the window of nt tokens from pos, and where
 * a window around its hits would start. */
static int ch_sn_score(const struct ch_sn *x, unsigned char *seen, int pos, int nt, int *adj)
{
    int score = 0, first = -1, last = 0;
    int64_t end = (int64_t)pos + nt;

    memset(seen, 0, (size_t)x->nq);
    for (int i = 0; i < x->ninst; i++) {
        const struct ch_sn_inst *in = &x->inst[i];
        if (in->io >= pos && in->io < end) {
            score += seen[in->ip] ? 1 : 1000;
            seen[in->ip] = 1;
            if (first < 0)
                first = in->io;
            last = in->io + 1;
        }
    }
    if (adj) {
        int64_t a = first - (nt - (last - first)) / 2;
        if (a + nt > x->ntok)
            a = x->ntok - nt;
        if (a < 0)
            a = 0;
        *adj = (int)a;
    }
    return score;
}

/* The next coalesced hit from instance *ii: [*st, *en], -1 when none. */
static void ch_sn_next(const struct ch_sn *x, int *ii, int *st, int *en)
{
    *st = *en = -1;
    while (*ii < x->ninst) {
        int io = x->inst[*ii].io;
        if (*st < 0) {
            *st = *en = io;
        } else if (io > *en) { /* one-token terms: only the same offset coalesces */
            break;
        }
        (*ii)++;
    }
}

static int ch_snippet(struct kb_champ *ch, const struct ch_qterm *q, int nq, const char *body,
                      int nbody, const char *open, const char *close, struct buf *out)
{
    static const char ellips[] = "…";
    const int nt = CH_SNIP_TOKENS;
    struct ch_sn x = {body, q, nq, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, 0};
    unsigned char seen[CH_MAX_TERMS];
    int best = 0, best_score = 0, rc = 0, ii = 0, st, en, off = 0, rend;

    if (ch->porter.xTokenize(ch->qtok, &x, FTS5_TOKENIZE_DOCUMENT, body, nbody, ch_sn_cb) !=
            SQLITE_OK ||
        x.err) {
        rc = -1;
        goto out;
    }
    for (int i = 0; i < x.ninst; i++) {
        int io = x.inst[i].io, adj, score, jj;
        score = ch_sn_score(&x, seen, io, nt, &adj);
        if (score > best_score) {
            best_score = score;
            best = adj;
        }
        if (x.nfirst && x.ntok > nt) {
            for (jj = 0; jj < x.nfirst - 1; jj++)
                if (x.first[jj + 1] > io)
                    break;
            if (x.first[jj] < io) {
                score = ch_sn_score(&x, seen, x.first[jj], nt, NULL);
                score += x.first[jj] == 0 ? 120 : 100;
                if (score > best_score) {
                    best_score = score;
                    best = x.first[jj];
                }
            }
        }
    }
    /* the highlighter over the window [best, best + nt - 1] */
    rend = best + nt - 1;
    if (best > 0)
        rc |= buf_adds(out, ellips);
    ch_sn_next(&x, &ii, &st, &en);
    while (st >= 0 && st < best)
        ch_sn_next(&x, &ii, &st, &en);
    for (int pos = 0; pos < x.ntok; pos++) {
        int s = x.tok[pos].s, e = x.tok[pos].e;
        if (pos < best || pos > rend)
            continue;
        if (best && pos == best)
            off = s;
        if (pos == st) {
            rc |= buf_add(out, body + off, (size_t)(s - off));
            rc |= buf_adds(out, open);
            off = s;
        }
        if (pos == en) {
            if (st < best)
                rc |= buf_adds(out, open);
            rc |= buf_add(out, body + off, (size_t)(e - off));
            rc |= buf_adds(out, close);
            off = e;
            ch_sn_next(&x, &ii, &st, &en);
        }
        if (pos == rend) {
            rc |= buf_add(out, body + off, (size_t)(e - off));
            off = e;
            if (pos >= st && pos < en)
                rc |= buf_adds(out, close);
        }
    }
    if (rend >= x.ntok - 1)
        rc |= buf_add(out, body + off, (size_t)(nbody - off));
    else
        rc |= buf_adds(out, ellips);
out:
    free(x.tok);
    free(x.first);
    free(x.inst);
    return rc < 0 ? -1 : 0;
}

static int ch_emit(struct kb *kb, const struct ch_qterm *q, int nq, struct ch_hit *h, int n,
                   const struct kb_search_opts *opts, kb_hit_fn fn, void *arg)
{
    struct buf snip = BUF_INIT;
    sqlite3_stmt *ent = kb_prepare(kb, "SELECT n.path, t.title, t.body FROM knowledge_entries e "
                                       "JOIN entry_text t ON t.id = e.text_id JOIN knowledge_tree "
                                       "n ON n.id = e.tree_node_id WHERE e.id = ?");
    int rc = 0;

    if (!ent)
        return KB_ERROR;
    qsort(h, (size_t)n, sizeof *h, hit_cmp);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(ent, 1, h[i].id);
        if ((rc = sqlite3_step(ent)) != SQLITE_ROW) {
            sqlite3_reset(ent);
            rc = rc == SQLITE_DONE
                     ? kb_fail(kb, KB_ERROR, "entry %lld left the index", (long long)h[i].id)
                     : kb_sqlfail(kb, "search");
            break;
        }
        buf_reset(&snip);
        if (ch_snippet(kb->champ, q, nq, kb_col(ent, 2), sqlite3_column_bytes(ent, 2),
                       opts && opts->mark_open ? opts->mark_open : "",
                       opts && opts->mark_close ? opts->mark_close : "", &snip) < 0) {
            sqlite3_reset(ent);
            rc = kb_fail(kb, KB_ERROR, "out of memory");
            break;
        }
        struct kb_hit hit = {h[i].id, kb_col(ent, 0), kb_col(ent, 1), buf_str(&snip), h[i].score};
        rc = fn(&hit, arg);
        sqlite3_reset(ent);
        if (rc) {
            rc = 0;
            break;
        }
    }
    buf_release(&snip);
    return rc;
}

struct ch_cand {
    int64_t id;
    uint32_t w, nmin;
    double bound; /* score at its shortest, FTS5 rank (lower is better) */
};

/* What trawl_top(entries_fts, state) ranks one scan into: the best `limit`
 * rows by FTS5's bm25 with the known idfs. */
struct ch_top {
    int nq, limit, nh;
    double idf[CH_MAX_TERMS];
    double a;            /* avgdl */
    struct ch_hit *h;    /* heap, worst at the root */
    const int64_t *seen; /* ids already in h (from a champion list), ascending */
    int nseen;
    long rows, exact; /* rows seen, rows whose length was looked up */
    int err;
    /* one-pass mode (an untracked single term): every row is counted, the
     * rows in [lo, hi] are kept with their weight and shortest length */
    int collect, over;
    int64_t lo, hi, all;
    struct ch_cand *c;
    int nc, ac, cap;
};

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* trawl_top(entries_fts, state): offers the row to state's heap. Most rows of
 * a common term cannot make it, and that is known from the row's term
 * counts alone: a row's bm25 only falls as its length grows, and its length
 * is at least what its columns hold up to their last hit. Only rows whose
 * bound beats the heap's worst pay for their length (xColumnSize: a seek in
 * FTS5's docsize table); their score is then computed exactly as bm25 does,
 * in the same order of operations, so ties and rounding are FTS5's. */
static void ch_top_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                      sqlite3_value **val)
{
    struct ch_top *t = nval >= 1 ? sqlite3_value_pointer(val[0], "trawl_top") : NULL;
    uint32_t w[CH_MAX_TERMS] = {0}, nmin, end[2] = {0, 0};
    int ninst = 0, ip, ic, io, ntok = 0;
    double score = 0.0;
    int64_t id;

    if (t && t->collect) {
        t->all++;
        id = api->xRowid(fts);
        if (id < t->lo || id > t->hi || t->over)
            return;
        if (t->nc == t->ac) {
            struct ch_cand *c;
            int ac = t->ac ? 4 * t->ac : 64;
            if (t->ac >= t->cap) { /* not rare after all: ranked by a second scan */
                t->over = 1;
                return;
            }
            ac = ac > t->cap ? t->cap : ac;
            if (!(c = realloc(t->c, (size_t)ac * sizeof *c))) {
                t->err = 1;
                sqlite3_result_error_nomem(ctx);
                return;
            }
            t->c = c;
            t->ac = ac;
        }
    }
    if (!t || api->xPhraseCount(fts) != t->nq || api->xInstCount(fts, &ninst) != SQLITE_OK) {
        if (t)
            t->err = 1;
        sqlite3_result_error(ctx, "trawl_top: cannot read the row", -1);
        return;
    }
    for (int i = 0; i < ninst; i++) {
        if (api->xInst(fts, i, &ip, &ic, &io) != SQLITE_OK || ip < 0 || ip >= t->nq) {
            t->err = 1;
            sqlite3_result_error(ctx, "trawl_top: cannot read the row", -1);
            return;
        }
        w[ip] += ic == 0 ? 4 : 1;
        if (ic >= 0 && ic < 2 && io >= 0 && (uint32_t)io + 1 > end[ic])
            end[ic] = (uint32_t)io + 1;
    }
    nmin = end[0] + end[1]; /* each column holds at least its last hit's tokens */
    id = api->xRowid(fts);
    if (t->collect) {
        t->c[t->nc++] = (struct ch_cand){id, w[0], nmin, 0.0};
        return;
    }
    t->rows++;
    if (t->nh == t->limit) {
        for (int i = 0; i < t->nq; i++)
            score += t->idf[i] * ch_f(w[i], nmin, t->a);
        if (-1.0 * score > t->h[0].score)
            return; /* even at its shortest it ranks below the worst kept */
        score = 0.0;
    }
    if (t->nseen && bsearch(&id, t->seen, (size_t)t->nseen, sizeof id, id_cmp))
        return;
    if (api->xColumnSize(fts, -1, &ntok) != SQLITE_OK) {
        t->err = 1;
        sqlite3_result_error(ctx, "trawl_top: cannot read the row's length", -1);
        return;
    }
    t->exact++;
    for (int i = 0; i < t->nq; i++)
        score += t->idf[i] * ch_f(w[i], (uint32_t)ntok, t->a);
    hits_offer(t->h, &t->nh, t->limit, (struct ch_hit){id, -1.0 * score});
}

static int cand_cmp(const void *a, const void *b)
{
    const struct ch_cand *x = a, *y = b;

    if (x->bound != y->bound)
        return x->bound < y->bound ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A row's length as xColumnSize(-1) gives it: its docsize record summed. */
static int ch_docsize(struct kb *kb, int64_t id, uint32_t *ntok)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT sz FROM entries_fts_docsize WHERE id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    *ntok = 0;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 0);
        *ntok = (uint32_t)varint_sum(p, p + sqlite3_column_bytes(st, 0));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return kb_fail(kb, KB_ERROR, "entry %lld has no length in the index", (long long)id);
    return rc == SQLITE_ROW ? 0 : kb_sqlfail(kb, "read an entry's length");
}

/* A single term without a list (df under the lists' threshold): one pass
 * over its doclist counts its entries, for its idf, and keeps the range's
 * rows with their term weight and shortest possible length. FTS5 (and
 * counting first, then scanning the range) reads the doclist twice. The
 * kept rows are then taken best bound first, and only those that can still
 * make the top pay for their length (a docsize seek), scored exactly as
 * ch_top_fn scores them. 1 when ranked into h, 0 when the range held more
 * than scan_cap rows (q->df and q->idf are then set), < 0 on error. */
static int ch_one_pass(struct kb *kb, const char *fts, struct ch_qterm *q, int64_t lo, int64_t hi,
                       int limit, double a, int64_t nrow, struct ch_hit *h, int *nh)
{
    struct ch_top top = {0};
    sqlite3_stmt *st = kb_prepare(kb, "SELECT trawl_top(entries_fts, ?2) FROM entries_fts "
                                      "WHERE entries_fts MATCH ?1");
    int rc;

    if (!st)
        return KB_ERROR;
    top.nq = 1;
    top.limit = limit;
    top.a = a;
    top.h = h;
    top.collect = 1;
    top.lo = lo;
    top.hi = hi;
    top.cap = kb->champ->scan_cap;
    kb_bind_text(st, 1, fts);
    sqlite3_bind_pointer(st, 2, &top, "trawl_top", NULL);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || top.err) {
        free(top.c);
        return kb_sqlfail(kb, "search");
    }
    q->df = top.all;
    q->have_df = 1;
    q->idf = ch_idf(nrow, q->df);
    if (top.over) {
        free(top.c);
        return 0;
    }
    for (int i = 0; i < top.nc; i++) {
        double score = 0.0;
        score += q->idf * ch_f(top.c[i].w, top.c[i].nmin, a);
        top.c[i].bound = -1.0 * score;
    }
    if (top.nc > 1) /* no rows: no array */
        qsort(top.c, (size_t)top.nc, sizeof *top.c, cand_cmp);
    rc = 0;
    for (int i = 0; i < top.nc; i++) {
        double score = 0.0;
        uint32_t ntok;
        if (*nh == limit && top.c[i].bound > h[0].score)
            break; /* neither it nor any after it can make the top */
        if ((rc = ch_docsize(kb, top.c[i].id, &ntok)) < 0)
            break;
        score += q->idf * ch_f(top.c[i].w, ntok, a);
        hits_offer(h, nh, limit, (struct ch_hit){top.c[i].id, -1.0 * score});
    }
    free(top.c);
    return rc < 0 ? rc : 1;
}

static int ch_search(struct kb *kb, const char *fts, int64_t lo, int64_t hi, int limit,
                     const struct kb_search_opts *opts, kb_hit_fn fn, void *arg)
{
    struct kb_champ *ch = kb->champ;
    struct ch_qterm q[CH_MAX_TERMS];
    char store[1024];
    struct ch_hit *h = NULL;
    int64_t *seen = NULL;
    int nq = 0, nh = 0, nseen = 0, rc = 0, mem;
    int64_t nrow, ntok, gen;
    double a;

    kb->search_path = "fts5";
    if (!ch || kb->in_tx || !ch_parse(fts, q, &nq, store, sizeof store))
        return 0;
    for (int i = 0; i < nq; i++) {
        q[i].ntokens = q[i].ntok = 0;
        q[i].t = NULL;
        q[i].owned = 0;
        q[i].df = 0;
        q[i].have_df = 0;
        ch->porter.xTokenize(ch->qtok, &q[i], FTS5_TOKENIZE_QUERY, q[i].phrase,
                             (int)strlen(q[i].phrase), ch_tok_cb);
        if (q[i].ntokens != 1 || q[i].ntok == 0)
            return 0; /* a phrase or nothing: FTS5 does it */
    }
    if ((rc = ch_totals(kb, &nrow, &ntok)) < 0)
        return rc;
    gen = ch_gen(kb);
    if (!ch_stamp_ok(kb, nrow, ntok, gen))
        return 0;
    mem = ch->loaded && ch->nrow == nrow && ch->ntok == ntok && ch->gen == gen;
    a = ch_avgdl(nrow, ntok);
    if (!(h = malloc((size_t)limit * sizeof *h)))
        return kb_fail(kb, KB_ERROR, "out of memory");
    for (int i = 0; i < nq; i++)
        if ((rc = ch_term_get(kb, mem, nq > 1, &q[i])) < 0)
            goto out;
    /* Rare terms too: their count is one short doclist, and the scan below
     * looks up the length of far fewer rows than FTS5's ranking does (it
     * reads every match's length, each a seek in the docsize table, and
     * makes a new sorting statement every time). */
    if (nq == 1 && !q[0].t && !q[0].have_df) {
        if ((rc = ch_one_pass(kb, fts, &q[0], lo, hi, limit, a, nrow, h, &nh)) < 0)
            goto out;
        if (rc > 0) {
            kb->search_path = "one-pass";
            rc = ch_emit(kb, q, nq, h, nh, opts, fn, arg);
            goto out;
        }
    }
    for (int i = 0; i < nq; i++) {
        if (q[i].t) {
            q[i].df = q[i].t->df;
        } else if (!q[i].have_df) {
            char one[600];
            ch_quote(q[i].phrase, one, sizeof one);
            if ((rc = ch_count(kb, one, &q[i].df)) < 0)
                goto out;
        }
        q[i].idf = ch_idf(nrow, q[i].df);
    }

    /* One term with a list: the listed entries in range that beat the floor
     * are the best of the range, in the same order as FTS5 ranks them. */
    if (nq == 1 && q[0].t) {
        struct ch_term *t = q[0].t;
        double floor = t->floor;
        if (floor > 0 && a > t->floor_a)
            floor *= a / t->floor_a;
        for (int i = 0; i < t->n; i++) {
            const struct ch_ent *e = &t->v[i];
            double s;
            if (e->id < lo || e->id > hi)
                continue;
            s = ch_f(e->w, e->n, a);
            if (s > floor) {
                double score = 0.0;
                score += q[0].idf * s;
                hits_offer(h, &nh, limit, (struct ch_hit){e->id, -1.0 * score});
            }
        }
        if (nh == limit || (floor == 0 && t->df == t->n)) {
            kb->search_path = "champions";
            rc = ch_emit(kb, q, nq, h, nh, opts, fn, arg);
            goto out;
        }
        /* Not enough above the floor: every listed entry of the range is
         * still a match with its exact score, and starts the heap the scan
         * below fills, so that most of the scan's rows are dismissed early. */
        nh = 0;
        if (!(seen = malloc(((size_t)t->n + 1) * sizeof *seen))) {
            rc = kb_fail(kb, KB_ERROR, "out of memory");
            goto out;
        }
        for (int i = 0; i < t->n; i++) {
            const struct ch_ent *e = &t->v[i];
            double score = 0.0;
            if (e->id < lo || e->id > hi)
                continue;
            score += q[0].idf * ch_f(e->w, e->n, a);
            hits_offer(h, &nh, limit, (struct ch_hit){e->id, -1.0 * score});
            seen[nseen++] = e->id;
        }
        qsort(seen, (size_t)nseen, sizeof *seen, id_cmp);
    }

    /* Rank the range's matches here: FTS5 would first count every match of
     * each term in the whole index for its idf, which we know. */
    {
        struct ch_top top = {0};
        sqlite3_stmt *st = kb_prepare(kb, "SELECT trawl_top(entries_fts, ?4) FROM entries_fts "
                                          "WHERE entries_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3");
        if (!st) {
            rc = KB_ERROR;
            goto out;
        }
        top.nq = nq;
        top.limit = limit;
        top.a = a;
        top.h = h;
        top.nh = nh;
        top.seen = seen;
        top.nseen = nseen;
        for (int i = 0; i < nq; i++)
            top.idf[i] = q[i].idf;
        kb_bind_text(st, 1, fts);
        sqlite3_bind_int64(st, 2, lo);
        sqlite3_bind_int64(st, 3, hi);
        sqlite3_bind_pointer(st, 4, &top, "trawl_top", NULL);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
        if (rc != SQLITE_DONE || top.err) {
            rc = kb_sqlfail(kb, "search");
            goto out;
        }
        nh = top.nh;
        kb->search_path = "ranked";
        rc = ch_emit(kb, q, nq, h, nh, opts, fn, arg);
    }
out:
    for (int i = 0; i < nq; i++)
        if (q[i].owned)
            term_free(q[i].t);
    free(h);
    free(seen);
    return rc < 0 ? rc : 1;
}

int kb_champ_search(struct kb *kb, const char *fts, int64_t lo, int64_t hi, int limit,
                    const struct kb_search_opts *opts, kb_hit_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc;

    kb->search_path = "fts5";
    if (!kb->champ || kb->in_tx)
        return 0;
    /* one read snapshot for the stamp, the lists and the index (prepared
     * once: sqlite3_exec would compile both statements for every search) */
    if (!(st = kb_prepare(kb, "BEGIN")) || sqlite3_step(st) != SQLITE_DONE) {
        rc = kb_sqlfail(kb, "search");
        if (st)
            sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    rc = ch_search(kb, fts, lo, hi, limit, opts, fn, arg);
    if ((st = kb_prepare(kb, "COMMIT"))) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    return rc;
}
