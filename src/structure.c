/* Whole-corpus steps of the structure phase; see structure.h. */
#include "structure.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tw {
    const char *term, *word;
};

static int cmp_tw(const void *a, const void *b)
{
    const struct tw *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    size_t lx, ly;

    if (c)
        return c;
    lx = strlen(x->word);
    ly = strlen(y->word);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->word, y->word);
}

static long vocab_id(const struct st_corpus *c, const char *term)
{
    size_t lo = 0, hi = c->nvocab;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(c->vocab[mid], term);
        if (!r)
            return (long)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

struct iw {
    uint32_t id;
    double w;
};

static int cmp_iw_weight(const void *a, const void *b)
{
    const struct iw *x = a, *y = b;

    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_iw_id(const void *a, const void *b)
{
    const struct iw *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

int st_corpus_build(struct st_corpus *c, const struct ts_doc *docs, size_t ndocs, size_t max_terms)
{
    struct tw *all = NULL;
    struct iw *tmp = NULL;
    size_t total = 0, i, j, k, maxn = 0;
    double avgdl = 0;

    memset(c, 0, sizeof *c);
    c->docs = docs;
    c->ndocs = ndocs;
    for (i = 0; i < ndocs; i++) {
        total += docs[i].n;
        avgdl += (double)docs[i].ntokens;
        if (docs[i].n > maxn)
            maxn = docs[i].n;
    }
    avgdl = ndocs ? avgdl / (double)ndocs : 1;
    all = malloc((total ? total : 1) * sizeof *all);
    c->vocab = malloc((total ? total : 1) * sizeof *c->vocab);
    c->words = malloc((total ? total : 1) * sizeof *c->words);
    c->df = calloc(total ? total : 1, sizeof *c->df);
    c->vecs = calloc(ndocs ? ndocs : 1, sizeof *c->vecs);
    c->tid = calloc(ndocs ? ndocs : 1, sizeof *c->tid);
    tmp = malloc((maxn ? maxn : 1) * sizeof *tmp);
    if (!all || !c->vocab || !c->words || !c->df || !c->vecs || !c->tid || !tmp)
        goto fail;
    for (i = k = 0; i < ndocs; i++)
        for (j = 0; j < docs[i].n; j++) {
            all[k].term = docs[i].terms[j].term;
            all[k].word = docs[i].terms[j].word ? docs[i].terms[j].word : docs[i].terms[j].term;
            k++;
        }
    if (total)
        qsort(all, total, sizeof *all, cmp_tw);
    /* A stem reads as the surface form most documents use (ties: the
     * shortest): a stemmed search index in one file must not name a topic. */
    for (i = 0, j = 0; i < total; i = j) {
        size_t best = 1, run;
        const char *word = all[i].word;
        for (j = i; j < total && strcmp(all[j].term, all[i].term) == 0; j += run) {
            for (run = 1; j + run < total && strcmp(all[j + run].term, all[i].term) == 0 &&
                          strcmp(all[j + run].word, all[j].word) == 0;
                 run++)
                ;
            if (run > best) {
                best = run;
                word = all[j].word;
            }
        }
        c->vocab[c->nvocab] = (char *)all[i].term;
        c->words[c->nvocab] = word;
        c->df[c->nvocab] = (uint32_t)(j - i);
        c->nvocab++;
    }
    for (i = 0; i < ndocs; i++) {
        const struct ts_doc *d = &docs[i];
        size_t n = d->n;
        double norm = 0;
        c->tid[i] = malloc((n ? n : 1) * sizeof *c->tid[i]);
        if (!c->tid[i])
            goto fail;
        for (j = 0; j < n; j++) {
            long id = vocab_id(c, d->terms[j].term);
            tmp[j].id = (uint32_t)(id < 0 ? 0 : id);
            c->tid[i][j] = tmp[j].id;
            tmp[j].w =
                ts_bm25_weight(d->terms[j].count, d->ntokens, avgdl, c->df[tmp[j].id], ndocs);
        }
        if (max_terms && n > max_terms) {
            qsort(tmp, n, sizeof *tmp, cmp_iw_weight);
            n = max_terms;
            qsort(tmp, n, sizeof *tmp, cmp_iw_id);
        }
        c->vecs[i].ids = malloc((n ? n : 1) * sizeof *c->vecs[i].ids);
        c->vecs[i].w = malloc((n ? n : 1) * sizeof *c->vecs[i].w);
        if (!c->vecs[i].ids || !c->vecs[i].w)
            goto fail;
        for (j = 0; j < n; j++)
            norm += tmp[j].w * tmp[j].w;
        norm = norm > 0 ? sqrt(norm) : 1;
        for (j = 0; j < n; j++) {
            c->vecs[i].ids[j] = tmp[j].id;
            c->vecs[i].w[j] = tmp[j].w / norm;
        }
        c->vecs[i].n = n;
    }
    free(all);
    free(tmp);
    return 0;
fail:
    free(all);
    free(tmp);
    st_corpus_free(c);
    return -1;
}

void st_corpus_free(struct st_corpus *c)
{
    size_t i;

    if (c->vecs)
        for (i = 0; i < c->ndocs; i++) {
            free(c->vecs[i].ids);
            free(c->vecs[i].w);
        }
    if (c->tid)
        for (i = 0; i < c->ndocs; i++)
            free(c->tid[i]);
    free(c->tid);
    free(c->vecs);
    free(c->vocab);
    free(c->words);
    free(c->df);
    memset(c, 0, sizeof *c);
}

double st_dot(const struct st_vec *a, const struct st_vec *b)
{
    size_t i = 0, j = 0;
    double s = 0;

    while (i < a->n && j < b->n) {
        if (a->ids[i] == b->ids[j])
            s += a->w[i++] * b->w[j++];
        else if (a->ids[i] < b->ids[j])
            i++;
        else
            j++;
    }
    return s;
}

/* Centroids are term-major: cent[id * k + g] is term id's weight in
 * centroid g, so a document's pass over its terms reads the k weights of a
 * term from one cache line. Every sum runs over the document's terms in
 * order. out gets the similarity to each of the k centroids. */
static void dots_all(const struct st_vec *a, const double *cent, int k, double *out)
{
    for (int g = 0; g < k; g++)
        out[g] = 0;
    for (size_t i = 0; i < a->n; i++) {
        const double *row = cent + (size_t)a->ids[i] * (size_t)k;
        double w = a->w[i];
        for (int g = 0; g < k; g++)
            out[g] += w * row[g];
    }
}

static double dot_one(const struct st_vec *a, const double *cent, int k, int g)
{
    double s = 0;

    for (size_t i = 0; i < a->n; i++)
        s += a->w[i] * cent[(size_t)a->ids[i] * (size_t)k + (size_t)g];
    return s;
}

#define ST_MAX_THREADS 64

/* fn(ctx, lo, hi) over [0, n) split into c->threads ranges, one per thread.
 * Callers make each index's result depend on nothing but that index (and
 * sum any results afterwards in index order), so any number of threads
 * gives the same answer byte for byte. */
typedef void (*par_fn)(void *ctx, size_t lo, size_t hi);

struct par_job {
    par_fn fn;
    void *ctx;
    size_t lo, hi;
};

static void *par_run(void *arg)
{
    struct par_job *j = arg;

    j->fn(j->ctx, j->lo, j->hi);
    return NULL;
}

static void par_for_min(const struct st_corpus *c, size_t n, size_t min, par_fn fn, void *ctx);

static void par_for(const struct st_corpus *c, size_t n, par_fn fn, void *ctx)
{
    par_for_min(c, n, 512, fn, ctx);
}

/* par_for, on one thread when n < min. */
static void par_for_min(const struct st_corpus *c, size_t n, size_t min, par_fn fn, void *ctx)
{
    struct par_job job[ST_MAX_THREADS];
    pthread_t th[ST_MAX_THREADS];
    int T = c->threads < 1                ? 1
            : c->threads > ST_MAX_THREADS ? ST_MAX_THREADS
                                          : c->threads,
        t, started[ST_MAX_THREADS] = {0};

    if (n < min || (size_t)T > n)
        T = n < min || n == 0 ? 1 : (int)n;
    for (t = 0; t < T; t++) {
        job[t] =
            (struct par_job){fn, ctx, n * (size_t)t / (size_t)T, n * (size_t)(t + 1) / (size_t)T};
        if (t > 0 && pthread_create(&th[t], NULL, par_run, &job[t]) == 0)
            started[t] = 1;
    }
    par_run(&job[0]);
    for (t = 1; t < T; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            par_run(&job[t]); /* no thread: do it here */
    }
}

struct assign_job {
    const struct st_corpus *c;
    const size_t *mem;
    int k;
    const double *cent;
    int *best;
    double *sim;
};

static void assign_range(void *arg, size_t lo, size_t hi)
{
    struct assign_job *j = arg;
    double *sims = malloc((size_t)j->k * sizeof *sims);

    for (size_t i = lo; i < hi; i++) {
        int bg = 0;
        double bs = -1;
        if (sims)
            dots_all(&j->c->vecs[j->mem[i]], j->cent, j->k, sims);
        for (int g = 0; g < j->k; g++) {
            double s = sims ? sims[g] : dot_one(&j->c->vecs[j->mem[i]], j->cent, j->k, g);
            if (s > bs + 1e-12) {
                bs = s;
                bg = g;
            }
        }
        j->best[i] = bg;
        j->sim[i] = bs;
    }
    free(sims);
}

/* The nearest centroid of every document, on c->threads threads. */
static void assign_all(const struct st_corpus *c, const size_t *mem, size_t n, int k,
                       const double *cent, int *best, double *sim)
{
    struct assign_job job = {c, mem, k, cent, best, sim};

    par_for(c, n, assign_range, &job);
}

/* k-means++ seeding: every document's best similarity to the seeds so far,
 * updated with seed g (its vector is centroid row g). */
struct seed_job {
    const struct st_corpus *c;
    const size_t *mem;
    const double *cent;
    int k, g;
    double *best_sim;
};

static void seed_range(void *arg, size_t lo, size_t hi)
{
    struct seed_job *j = arg;

    for (size_t i = lo; i < hi; i++) {
        double s = dot_one(&j->c->vecs[j->mem[i]], j->cent, j->k, j->g);
        if (j->g == 0 || s > j->best_sim[i])
            j->best_sim[i] = s;
    }
}

static uint64_t xs_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Centroid rows are dense (nvocab doubles) for fast dot products, but a
 * row has few non-zero places: nz lists them (first touched first), so
 * clearing and normalising a row costs its non-zeros, not nvocab. */
/* Centroid rows are dense for fast dot products but have few non-zero
 * places. The vocabulary is cut into ST_CHUNKS fixed ranges; for each row
 * and range a list holds the non-zero places (first touched first), so
 * clearing and normalising a row costs its non-zeros, and the ranges are
 * summed on separate threads. The ranges do not depend on the number of
 * threads, nor does any sum's order: the same centroids for any K. */
#define ST_CHUNKS 8

struct centroids {
    double *cent; /* V * k, term-major (see dots_all) */
    uint32_t *nz; /* k * V: row g's places in chunk q at nz + g * V + chunk_lo(q) */
    size_t *nzn;  /* k * ST_CHUNKS */
    int k;        /* the current number of rows */
};

static size_t chunk_lo(size_t V, int q)
{
    return V * (size_t)q / ST_CHUNKS;
}

static void row_clear(struct centroids *cs, size_t V, int g)
{
    double *ce = cs->cent + g;
    size_t k = (size_t)cs->k;

    for (int q = 0; q < ST_CHUNKS; q++) {
        const uint32_t *nz = cs->nz + (size_t)g * V + chunk_lo(V, q);
        size_t *nn = &cs->nzn[(size_t)g * ST_CHUNKS + (size_t)q];
        for (size_t t = 0; t < *nn; t++)
            ce[(size_t)nz[t] * k] = 0;
        *nn = 0;
    }
}

/* Adds the positive weights of v's terms in chunk q to row g (a place is
 * new while it is 0). */
static void row_add_chunk(struct centroids *cs, size_t V, int g, int q, const struct st_vec *v)
{
    double *ce = cs->cent + g;
    size_t k = (size_t)cs->k, lo = chunk_lo(V, q), hi = chunk_lo(V, q + 1), a = 0, b = v->n;
    uint32_t *nz = cs->nz + (size_t)g * V + lo;
    size_t *nn = &cs->nzn[(size_t)g * ST_CHUNKS + (size_t)q];

    while (a < b) { /* the first term in the chunk */
        size_t mid = a + (b - a) / 2;
        if (v->ids[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t t = a; t < v->n && v->ids[t] < hi; t++) {
        double *x = ce + (size_t)v->ids[t] * k;
        if (!(v->w[t] > 0))
            continue; /* never the case for BM25 weights; keeps nz exact */
        if (*x == 0 && *nn < hi - lo)
            nz[(*nn)++] = v->ids[t];
        *x += v->w[t];
    }
}

static void row_add(struct centroids *cs, size_t V, int g, const struct st_vec *v)
{
    for (int q = 0; q < ST_CHUNKS; q++)
        row_add_chunk(cs, V, g, q, v);
}

/* Sum of squares of row g's places in chunk q. */
static double row_chunk_sq(const struct centroids *cs, size_t V, int g, int q)
{
    const double *ce = cs->cent + g;
    const uint32_t *nz = cs->nz + (size_t)g * V + chunk_lo(V, q);
    size_t k = (size_t)cs->k, nn = cs->nzn[(size_t)g * ST_CHUNKS + (size_t)q];
    double s = 0;

    for (size_t t = 0; t < nn; t++)
        s += ce[(size_t)nz[t] * k] * ce[(size_t)nz[t] * k];
    return s;
}

static void row_chunk_scale(struct centroids *cs, size_t V, int g, int q, double f)
{
    double *ce = cs->cent + g;
    const uint32_t *nz = cs->nz + (size_t)g * V + chunk_lo(V, q);
    size_t k = (size_t)cs->k, nn = cs->nzn[(size_t)g * ST_CHUNKS + (size_t)q];

    for (size_t t = 0; t < nn; t++)
        ce[(size_t)nz[t] * k] *= f;
}

static void row_normalise(struct centroids *cs, size_t V, int g)
{
    double norm = 0;

    for (int q = 0; q < ST_CHUNKS; q++)
        norm += row_chunk_sq(cs, V, g, q);
    norm = norm > 0 ? sqrt(norm) : 1;
    for (int q = 0; q < ST_CHUNKS; q++)
        row_chunk_scale(cs, V, g, q, 1 / norm);
}

struct update_job {
    const struct st_corpus *c;
    const size_t *mem;
    size_t n;
    int k;
    const int *assign;
    const size_t *cnt;
    struct centroids *cs;
    double *sq;      /* k * ST_CHUNKS partial sums of squares */
    const double *f; /* k scale factors, for the second pass */
};

/* Chunks [lo, hi): clear the rows that have members, sum their documents in
 * document order, and the sums of squares per row and chunk. */
static void update_range(void *arg, size_t lo, size_t hi)
{
    struct update_job *j = arg;
    size_t V = j->c->nvocab;

    for (size_t q = lo; q < hi; q++) {
        for (int g = 0; g < j->k; g++)
            if (j->cnt[g]) {
                double *ce = j->cs->cent + g;
                const uint32_t *nz = j->cs->nz + (size_t)g * V + chunk_lo(V, (int)q);
                size_t *nn = &j->cs->nzn[(size_t)g * ST_CHUNKS + q];
                for (size_t t = 0; t < *nn; t++)
                    ce[(size_t)nz[t] * (size_t)j->k] = 0;
                *nn = 0;
            }
        for (size_t i = 0; i < j->n; i++)
            row_add_chunk(j->cs, V, j->assign[i], (int)q, &j->c->vecs[j->mem[i]]);
        for (int g = 0; g < j->k; g++)
            j->sq[(size_t)g * ST_CHUNKS + q] = j->cnt[g] ? row_chunk_sq(j->cs, V, g, (int)q) : 0;
    }
}

static void scale_range(void *arg, size_t lo, size_t hi)
{
    struct update_job *j = arg;

    for (size_t q = lo; q < hi; q++)
        for (int g = 0; g < j->k; g++)
            if (j->cnt[g])
                row_chunk_scale(j->cs, j->c->nvocab, g, (int)q, j->f[g]);
}

/* Centroids of the groups in assign (a group with no member keeps its row). */
static void centroids_update(const struct st_corpus *c, const size_t *mem, size_t n, int k,
                             const int *assign, struct centroids *cs, size_t *cnt)
{
    double *sq = malloc((size_t)k * ST_CHUNKS * sizeof *sq), *f = malloc((size_t)k * sizeof *f);
    struct update_job j = {c, mem, n, k, assign, cnt, cs, sq, f};
    size_t V = c->nvocab;

    for (int g = 0; g < k; g++)
        cnt[g] = 0;
    for (size_t i = 0; i < n; i++)
        cnt[assign[i]]++;
    if (!sq || !f || c->threads <= 1 || n < 512) {
        /* one pass over the documents: the same sums in the same order */
        for (int g = 0; g < k; g++)
            if (cnt[g])
                row_clear(cs, V, g);
        for (size_t i = 0; i < n; i++)
            row_add(cs, V, assign[i], &c->vecs[mem[i]]);
        for (int g = 0; g < k; g++)
            if (cnt[g])
                row_normalise(cs, V, g);
        free(sq);
        free(f);
        return;
    }
    par_for_min(c, ST_CHUNKS, 1, update_range, &j);
    for (int g = 0; g < k; g++) {
        double norm = 0;
        for (int q = 0; q < ST_CHUNKS; q++) /* in chunk order, as row_normalise */
            norm += sq[(size_t)g * ST_CHUNKS + (size_t)q];
        norm = norm > 0 ? sqrt(norm) : 1;
        f[g] = 1 / norm;
    }
    par_for_min(c, ST_CHUNKS, 1, scale_range, &j);
    free(sq);
    free(f);
}

/* Lloyd iterations of spherical k-means from k-means++ seeds drawn with a
 * fixed pseudo-random sequence (rng): deterministic for the same input.
 * cs: k rows, all zero on entry and left holding the last centroids.
 * Returns the mean similarity of the documents to their centroid (the
 * objective); assign gets the groups. */
static double kmeans_run(const struct st_corpus *c, const size_t *mem, size_t n, int k, int *assign,
                         struct centroids *cs, double *best_sim, uint64_t rng)
{
    size_t V = c->nvocab, i;
    int g, it;
    double obj = 0;
    int *nbest = malloc((n ? n : 1) * sizeof *nbest);
    double *nsim = malloc((n ? n : 1) * sizeof *nsim);
    size_t *cnt = malloc((size_t)k * sizeof *cnt);

    if (!nbest || !nsim || !cnt) {
        free(nbest);
        free(nsim);
        free(cnt);
        return -2;
    }
    for (g = 0; g < k; g++) {
        size_t seed = 0;
        if (g == 0) {
            seed = (size_t)(xs_next(&rng) % n);
        } else {
            double tot = 0, r;
            for (i = 0; i < n; i++) {
                double d = 1 - best_sim[i];
                tot += d > 0 ? d * d : 0;
            }
            r = (double)(xs_next(&rng) >> 11) / 9007199254740992.0 * tot;
            for (seed = 0; seed + 1 < n; seed++) {
                double d = 1 - best_sim[seed];
                d = d > 0 ? d * d : 0;
                if (r < d)
                    break;
                r -= d;
            }
        }
        row_clear(cs, V, g);
        row_add(cs, V, g, &c->vecs[mem[seed]]);
        {
            struct seed_job sj = {c, mem, cs->cent, k, g, best_sim};
            par_for(c, n, seed_range, &sj);
        }
    }
    for (i = 0; i < n; i++)
        assign[i] = -1;
    for (it = 0; it < 30; it++) {
        int changed = 0;
        obj = 0;
        assign_all(c, mem, n, k, cs->cent, nbest, nsim);
        for (i = 0; i < n; i++) { /* in order: the same sum whatever the threads */
            if (assign[i] != nbest[i])
                changed = 1;
            assign[i] = nbest[i];
            obj += nsim[i];
        }
        if (!changed)
            break;
        centroids_update(c, mem, n, k, assign, cs, cnt);
    }
    free(nbest);
    free(nsim);
    free(cnt);
    return n ? obj / (double)n : 0;
}

struct sil_job {
    const struct st_corpus *c;
    const size_t *mem;
    int k;
    const int *assign;
    const double *cent;
    double *val;
};

static void sil_range(void *arg, size_t lo, size_t hi)
{
    struct sil_job *j = arg;
    double *sims = malloc((size_t)j->k * sizeof *sims);

    for (size_t i = lo; i < hi; i++) {
        const struct st_vec *v = &j->c->vecs[j->mem[i]];
        double own, other = -1, a, b, m;
        if (sims)
            dots_all(v, j->cent, j->k, sims);
        own = sims ? sims[j->assign[i]] : dot_one(v, j->cent, j->k, j->assign[i]);
        for (int g = 0; g < j->k; g++)
            if (g != j->assign[i]) {
                double s = sims ? sims[g] : dot_one(v, j->cent, j->k, g);
                if (s > other)
                    other = s;
            }
        a = 1 - own;
        b = 1 - other;
        m = a > b ? a : b;
        j->val[i] = m > 0 ? (b - a) / m : 0;
    }
    free(sims);
}

/* The centroid silhouette of a clustering (cent from kmeans_run). */
static double silhouette(const struct st_corpus *c, const size_t *mem, size_t n, int k,
                         const int *assign, const double *cent)
{
    double sil = 0, *val = malloc((n ? n : 1) * sizeof *val);
    struct sil_job j = {c, mem, k, assign, cent, val};

    if (!val)
        return -1;
    par_for(c, n, sil_range, &j);
    for (size_t i = 0; i < n; i++) /* in order: the same sum whatever the threads */
        sil += val[i];
    free(val);
    return n ? sil / (double)n : 0;
}

#define ST_RESTARTS 3

/* The best of ST_RESTARTS k-means++ runs by objective; returns its
 * centroid silhouette. cs: k zero rows, zero again on return. */
static double kmeans_fixed(const struct st_corpus *c, const size_t *mem, size_t n, int k,
                           int restarts, int *assign, struct centroids *cs, double *best_sim)
{
    int *tmp = malloc(n * sizeof *tmp);
    size_t *cnt = malloc((size_t)k * sizeof *cnt), V = c->nvocab;
    double best = -2, sil;
    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)n << 20) ^ (uint64_t)k;

    if (!tmp || !cnt) {
        free(tmp);
        free(cnt);
        return -1;
    }
    cs->k = k; /* every row is zero: any layout reads the same */
    for (int r = 0; r < restarts; r++) {
        double obj = kmeans_run(c, mem, n, k, tmp, cs, best_sim, rng + (uint64_t)r * 7919);
        if (obj > best + 1e-12) {
            best = obj;
            memcpy(assign, tmp, n * sizeof *tmp);
        }
    }
    free(tmp);
    /* centroids of the chosen run, for the silhouette */
    for (int g = 0; g < k; g++)
        row_clear(cs, V, g);
    centroids_update(c, mem, n, k, assign, cs, cnt);
    sil = silhouette(c, mem, n, k, assign, cs->cent);
    for (int g = 0; g < k; g++)
        row_clear(cs, V, g);
    free(cnt);
    return sil;
}

/* Number groups by first member; returns the number of non-empty groups. */
static int renumber(int *assign, size_t n, int k)
{
    int *map = malloc((size_t)k * sizeof *map), next = 0;
    size_t i;

    if (!map)
        return -1;
    for (int g = 0; g < k; g++)
        map[g] = -1;
    for (i = 0; i < n; i++) {
        if (map[assign[i]] < 0)
            map[assign[i]] = next++;
        assign[i] = map[assign[i]];
    }
    free(map);
    return next;
}

#define ST_SAMPLE 4000       /* documents k is chosen on */
#define ST_QUICK_SELECT 1000 /* from this many documents, k is chosen on one run per k */

int st_kmeans(const struct st_corpus *c, const size_t *members, size_t n, int k, int kmax,
              int *assign)
{
    struct centroids cs = {0};
    double *tmp_sim = NULL, best = 0.02; /* below this, nothing splits */
    int *try = NULL, kk, lo, hi, bestk = 1, rc = -1, quick;
    size_t i;

    for (i = 0; i < n; i++)
        assign[i] = 0;
    if (k == 1 || n < 4)
        return n ? 1 : 0;
    if (k > 0) {
        lo = hi = k;
    } else {
        lo = 2;
        hi = kmax < 2 ? 2 : kmax;
    }
    if ((size_t)hi > n / 2)
        hi = (int)(n / 2);
    if (hi < lo)
        return 1;
    if (k == 0 && n > ST_SAMPLE) {
        /* Choosing k costs (kmax - 1) clusterings: on a large set they run on
         * an evenly spaced sample, and only the chosen k on everything. */
        size_t *sample = malloc(ST_SAMPLE * sizeof *sample);
        int *sa = malloc(ST_SAMPLE * sizeof *sa), ks;
        if (!sample || !sa) {
            free(sample);
            free(sa);
            return -1;
        }
        for (i = 0; i < ST_SAMPLE; i++)
            sample[i] = members[i * n / ST_SAMPLE];
        ks = st_kmeans(c, sample, ST_SAMPLE, 0, kmax, sa);
        free(sample);
        free(sa);
        if (ks < 0)
            return -1;
        if (ks <= 1)
            return 1;
        lo = hi = ks;
        k = ks;
    }
    cs.cent = calloc((size_t)hi * (c->nvocab ? c->nvocab : 1), sizeof *cs.cent);
    cs.nz = malloc((size_t)hi * (c->nvocab ? c->nvocab : 1) * sizeof *cs.nz);
    cs.nzn = calloc((size_t)hi * ST_CHUNKS, sizeof *cs.nzn);
    tmp_sim = malloc(n * sizeof *tmp_sim);
    try = malloc(n * sizeof *try);
    if (!cs.cent || !cs.nz || !cs.nzn || !tmp_sim || !try)
        goto out;
    /* On a large set k is chosen on one k-means++ run per k (the first of
     * the restarts) and the chosen k then gets the best of ST_RESTARTS: less
     * than half the work. A small set, where one run is a poor guide, gets
     * ST_RESTARTS for every k. */
    quick = lo < hi && n >= ST_QUICK_SELECT;
    for (kk = lo; kk <= hi; kk++) {
        double s = kmeans_fixed(c, members, n, kk, quick ? 1 : ST_RESTARTS, try, &cs, tmp_sim);
        if (k > 0 || s > best + 1e-9) {
            best = s;
            bestk = kk;
            memcpy(assign, try, n * sizeof *assign);
        }
    }
    if (quick && bestk > 1)
        kmeans_fixed(c, members, n, bestk, ST_RESTARTS, assign, &cs, tmp_sim);
    rc = bestk == 1 ? 1 : renumber(assign, n, bestk);
out:
    free(cs.cent);
    free(cs.nz);
    free(cs.nzn);
    free(tmp_sim);
    free(try);
    return rc;
}

struct lw {
    size_t id;
    double w;
};

static int cmp_lw(const void *a, const void *b)
{
    const struct lw *x = a, *y = b;

    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int st_label(const struct st_corpus *c, const int *group_of, int ngroups, int group, int nterms,
             struct buf *out)
{
    double *tfc = calloc(c->nvocab ? c->nvocab : 1, sizeof *tfc);
    double *fall = calloc(c->nvocab ? c->nvocab : 1, sizeof *fall);
    struct lw *cand = NULL;
    double totc = 0, totall = 0, A;
    size_t i, j, nc = 0;
    int got = 0;

    if (!tfc || !fall)
        goto fail;
    for (i = 0; i < c->ndocs; i++) {
        if (group_of[i] < 0)
            continue;
        for (j = 0; j < c->docs[i].n; j++) {
            uint32_t id = c->tid[i][j];
            double cnt = c->docs[i].terms[j].count;
            fall[id] += cnt;
            totall += cnt;
            if (group_of[i] == group) {
                tfc[id] += cnt;
                totc += cnt;
            }
        }
    }
    A = ngroups > 0 ? totall / ngroups : 1;
    cand = malloc((c->nvocab ? c->nvocab : 1) * sizeof *cand);
    if (!cand)
        goto fail;
    for (i = 0; i < c->nvocab; i++)
        if (tfc[i] > 0 && c->df[i] > 1) {
            cand[nc].id = i;
            cand[nc].w = tfc[i] / totc * log(1 + A / fall[i]);
            nc++;
        }
    qsort(cand, nc, sizeof *cand, cmp_lw);
    for (i = 0; i < nc && got < nterms; i++) {
        char slug[64];
        ts_slug(c->words[cand[i].id], slug, sizeof slug);
        if (strcmp(slug, "untitled") == 0)
            continue;
        if (got)
            buf_addch(out, '-');
        buf_adds(out, slug);
        got++;
    }
    if (!got)
        buf_adds(out, "misc");
    free(tfc);
    free(fall);
    free(cand);
    return 0;
fail:
    free(tfc);
    free(fall);
    free(cand);
    return -1;
}

static size_t uf_find(size_t *p, size_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

size_t st_neardup(const uint64_t *sig, size_t n, int maxdist, size_t *group)
{
    size_t i, j, multi = 0;
    size_t *size;

    for (i = 0; i < n; i++)
        group[i] = i;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (ts_hamming(sig[i], sig[j]) <= maxdist) {
                size_t a = uf_find(group, i), b = uf_find(group, j);
                if (a != b) {
                    if (a < b)
                        group[b] = a;
                    else
                        group[a] = b;
                }
            }
    for (i = 0; i < n; i++)
        group[i] = uf_find(group, i);
    size = calloc(n ? n : 1, sizeof *size);
    if (!size)
        return 0;
    for (i = 0; i < n; i++)
        if (++size[group[i]] == 2)
            multi++;
    free(size);
    return multi;
}

static int max_label(const int *v, size_t n)
{
    int m = 0;

    for (size_t i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m + 1;
}

double st_purity(const int *pred, const int *truth, size_t n)
{
    int P = max_label(pred, n), T = max_label(truth, n);
    size_t *m = calloc((size_t)P * (size_t)T, sizeof *m), sum = 0;

    if (!m || !n) {
        free(m);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        m[(size_t)pred[i] * (size_t)T + (size_t)truth[i]]++;
    for (int p = 0; p < P; p++) {
        size_t best = 0;
        for (int t = 0; t < T; t++)
            if (m[(size_t)p * (size_t)T + (size_t)t] > best)
                best = m[(size_t)p * (size_t)T + (size_t)t];
        sum += best;
    }
    free(m);
    return (double)sum / (double)n;
}

double st_nmi(const int *pred, const int *truth, size_t n)
{
    int P = max_label(pred, n), T = max_label(truth, n);
    double *m = calloc((size_t)P * (size_t)T, sizeof *m), *pp = calloc((size_t)P, sizeof *pp),
           *pt = calloc((size_t)T, sizeof *pt), mi = 0, hp = 0, ht = 0, N = (double)n;

    if (!m || !pp || !pt || !n) {
        free(m);
        free(pp);
        free(pt);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        m[(size_t)pred[i] * (size_t)T + (size_t)truth[i]]++;
        pp[pred[i]]++;
        pt[truth[i]]++;
    }
    for (int p = 0; p < P; p++)
        for (int t = 0; t < T; t++) {
            double x = m[(size_t)p * (size_t)T + (size_t)t];
            if (x > 0)
                mi += x / N * log(x * N / (pp[p] * pt[t]));
        }
    for (int p = 0; p < P; p++)
        if (pp[p] > 0)
            hp -= pp[p] / N * log(pp[p] / N);
    for (int t = 0; t < T; t++)
        if (pt[t] > 0)
            ht -= pt[t] / N * log(pt[t] / N);
    free(m);
    free(pp);
    free(pt);
    if (hp + ht <= 0)
        return 1;
    return 2 * mi / (hp + ht);
}

struct idref {
    const char *id;
    size_t doc;
};

static int cmp_idref(const void *a, const void *b)
{
    const struct idref *x = a, *y = b;
    int c = strcmp(x->id, y->id);

    return c ? c : (x->doc < y->doc ? -1 : x->doc > y->doc);
}

static void uf_union(size_t *p, size_t a, size_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a < b)
        p[b] = a;
    else if (b < a)
        p[a] = b;
}

int st_threads(const struct st_mail *m, size_t n, size_t *root)
{
    struct idref *ids, *keys;
    size_t nids = 0, nkeys = 0, i, j, *par;

    for (i = 0; i < n; i++)
        nids += (m[i].msgid && *m[i].msgid) + (m[i].irt && *m[i].irt) + m[i].nrefs;
    ids = malloc((nids ? nids : 1) * sizeof *ids);
    keys = malloc((n ? n : 1) * sizeof *keys);
    par = malloc((n ? n : 1) * sizeof *par);
    if (!ids || !keys || !par) {
        free(ids);
        free(keys);
        free(par);
        return -1;
    }
    nids = 0;
    for (i = 0; i < n; i++) {
        par[i] = i;
        if (m[i].msgid && *m[i].msgid)
            ids[nids++] = (struct idref){m[i].msgid, i};
        if (m[i].irt && *m[i].irt)
            ids[nids++] = (struct idref){m[i].irt, i};
        for (j = 0; j < m[i].nrefs; j++)
            if (m[i].refs[j] && *m[i].refs[j])
                ids[nids++] = (struct idref){m[i].refs[j], i};
        if (m[i].subject_key && *m[i].subject_key)
            keys[nkeys++] = (struct idref){m[i].subject_key, i};
    }
    /* Documents naming the same message id are in one thread. */
    if (nids)
        qsort(ids, nids, sizeof *ids, cmp_idref);
    for (i = 1; i < nids; i++)
        if (strcmp(ids[i].id, ids[i - 1].id) == 0)
            uf_union(par, ids[i].doc, ids[i - 1].doc);
    /* A reply without references joins the first message of its subject. */
    if (nkeys)
        qsort(keys, nkeys, sizeof *keys, cmp_idref);
    for (i = 0, j = 0; i < nkeys; i++) {
        const struct st_mail *x = &m[keys[i].doc];
        if (strcmp(keys[i].id, keys[j].id) != 0)
            j = i; /* first document of this subject */
        if (i != j && x->reply && !(x->irt && *x->irt) && !x->nrefs)
            uf_union(par, keys[i].doc, keys[j].doc);
    }
    for (i = 0; i < n; i++) {
        int any = (m[i].msgid && *m[i].msgid) || (m[i].irt && *m[i].irt) || m[i].nrefs ||
                  (m[i].subject_key && *m[i].subject_key);
        size_t r = uf_find(par, i);
        root[i] = any || r != i ? r : SIZE_MAX;
    }
    free(ids);
    free(keys);
    free(par);
    return 0;
}

int st_subject_is_reply(const char *s)
{
    static const char *const pre[] = {"re", "fw",   "fwd", "aw", "sv",
                                      "wg", "antw", "tr",  "rv", "vs"};

    if (!s)
        return 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s != '[')
            break;
        const char *e = strchr(s, ']');
        if (!e || e - s > 64)
            break;
        s = e + 1;
    }
    for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
        size_t l = strlen(pre[k]);
        const char *q = s + l;
        if (strncasecmp(s, pre[k], l) != 0)
            continue;
        if (*q == '[' || *q == '(') { /* Re[2]: */
            while (*q && *q != ']' && *q != ')')
                q++;
            if (*q)
                q++;
        }
        while (*q == ' ')
            q++;
        if (*q == ':')
            return 1;
    }
    return 0;
}

struct band {
    uint64_t h;
    size_t doc;
};

static int cmp_band(const void *a, const void *b)
{
    const struct band *x = a, *y = b;

    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

#define ST_BANDS 16
#define ST_ROWS (TS_MINHASH / ST_BANDS)

long st_neardup_minhash(const uint32_t *sig, const unsigned char *has, size_t n, int min_agree,
                        size_t *group)
{
    struct band *v = malloc((n ? n : 1) * sizeof *v);
    size_t *size;
    long multi = 0;

    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        group[i] = i;
    for (int b = 0; b < ST_BANDS; b++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t h = 0x84222325cbf29ce4ULL;
            if (!has[i])
                continue;
            for (int r = 0; r < ST_ROWS; r++)
                h = (h ^ sig[i * TS_MINHASH + (size_t)(b * ST_ROWS + r)]) * 0x100000001b3ULL;
            v[m++] = (struct band){h, i};
        }
        qsort(v, m, sizeof *v, cmp_band);
        /* Within a bucket, each member is checked against the bucket's first
         * and its predecessor: linear in the bucket, transitive through union. */
        for (size_t a = 0, e; a < m; a = e) {
            for (e = a + 1; e < m && v[e].h == v[a].h; e++) {
                size_t x = v[e].doc;
                if (uf_find(group, x) != uf_find(group, v[a].doc) &&
                    ts_minhash_agree(sig + x * TS_MINHASH, sig + v[a].doc * TS_MINHASH) >=
                        min_agree)
                    uf_union(group, x, v[a].doc);
                if (e - 1 > a && uf_find(group, x) != uf_find(group, v[e - 1].doc) &&
                    ts_minhash_agree(sig + x * TS_MINHASH, sig + v[e - 1].doc * TS_MINHASH) >=
                        min_agree)
                    uf_union(group, x, v[e - 1].doc);
            }
        }
    }
    free(v);
    for (size_t i = 0; i < n; i++)
        group[i] = uf_find(group, i);
    size = calloc(n ? n : 1, sizeof *size);
    if (!size)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (++size[group[i]] == 2)
            multi++;
    free(size);
    return multi;
}

/* ---- context smoothing ------------------------------------------------------ */

void st_vecs_free(struct st_vec *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].ids);
        free(v[i].w);
    }
    free(v);
}

struct smooth_acc {
    double *sum;  /* nvocab, zero between uses */
    uint32_t *nz; /* places of sum that are not zero */
    size_t nnz;
};

/* The normalised mean of the vectors of docs[0..m), cut to its maxterms
 * heaviest terms (ties: lower id), ids ascending, into out. */
static int group_vector(const struct st_corpus *c, const size_t *docs, size_t m, size_t maxterms,
                        struct smooth_acc *acc, struct st_vec *out)
{
    struct iw *tmp;
    double norm = 0;
    size_t n;

    acc->nnz = 0;
    for (size_t x = 0; x < m; x++) { /* in document order: the same sums every time */
        const struct st_vec *v = &c->vecs[docs[x]];
        for (size_t t = 0; t < v->n; t++) {
            if (!(v->w[t] > 0))
                continue;
            if (acc->sum[v->ids[t]] == 0)
                acc->nz[acc->nnz++] = v->ids[t];
            acc->sum[v->ids[t]] += v->w[t];
        }
    }
    tmp = malloc((acc->nnz ? acc->nnz : 1) * sizeof *tmp);
    if (!tmp)
        return -1;
    for (size_t t = 0; t < acc->nnz; t++) {
        tmp[t].id = acc->nz[t];
        tmp[t].w = acc->sum[acc->nz[t]];
        acc->sum[acc->nz[t]] = 0;
    }
    n = acc->nnz;
    qsort(tmp, n, sizeof *tmp, cmp_iw_weight);
    if (maxterms && n > maxterms)
        n = maxterms;
    qsort(tmp, n, sizeof *tmp, cmp_iw_id);
    out->ids = malloc((n ? n : 1) * sizeof *out->ids);
    out->w = malloc((n ? n : 1) * sizeof *out->w);
    if (!out->ids || !out->w) {
        free(tmp);
        return -1;
    }
    for (size_t t = 0; t < n; t++)
        norm += tmp[t].w * tmp[t].w;
    norm = norm > 0 ? sqrt(norm) : 1;
    for (size_t t = 0; t < n; t++) {
        out->ids[t] = tmp[t].id;
        out->w[t] = tmp[t].w / norm;
    }
    out->n = n;
    free(tmp);
    return 0;
}

/* a + f * b for sparse vectors with ascending ids, into out (ids ascending). */
static int vec_axpy(const struct st_vec *a, double f, const struct st_vec *b, struct st_vec *out)
{
    size_t i = 0, j = 0, n = 0, cap = a->n + b->n;

    out->ids = malloc((cap ? cap : 1) * sizeof *out->ids);
    out->w = malloc((cap ? cap : 1) * sizeof *out->w);
    if (!out->ids || !out->w)
        return -1;
    while (i < a->n || j < b->n) {
        if (j >= b->n || (i < a->n && a->ids[i] < b->ids[j])) {
            out->ids[n] = a->ids[i];
            out->w[n++] = a->w[i++];
        } else if (i >= a->n || b->ids[j] < a->ids[i]) {
            out->ids[n] = b->ids[j];
            out->w[n++] = f * b->w[j++];
        } else {
            out->ids[n] = a->ids[i];
            out->w[n++] = a->w[i++] + f * b->w[j++];
        }
    }
    out->n = n;
    return 0;
}

static void vec_normalise(struct st_vec *v)
{
    double norm = 0;

    for (size_t t = 0; t < v->n; t++)
        norm += v->w[t] * v->w[t];
    norm = norm > 0 ? sqrt(norm) : 1;
    for (size_t t = 0; t < v->n; t++)
        v->w[t] /= norm;
}

int st_smooth(const struct st_corpus *c, const size_t *const *group, const double *weight,
              int ngroups, size_t maxterms, struct st_vec **outp)
{
    size_t N = c->ndocs, G = (size_t)(ngroups > 0 ? ngroups : 1) * (N ? N : 1);
    size_t *order = malloc((N ? N : 1) * sizeof *order), *start = malloc((N + 1) * sizeof *start);
    struct st_vec *outv = calloc(N ? N : 1, sizeof *outv), *gv = calloc(G, sizeof *gv);
    struct smooth_acc acc = {calloc(c->nvocab ? c->nvocab : 1, sizeof(double)),
                             malloc((c->nvocab ? c->nvocab : 1) * sizeof(uint32_t)), 0};
    int rc = -1;

    *outp = NULL;
    if (!outv || !acc.sum || !acc.nz || !order || !start || !gv)
        goto out;
    for (size_t i = 0; i < N; i++) {
        const struct st_vec *v = &c->vecs[i];
        outv[i].ids = malloc((v->n ? v->n : 1) * sizeof *outv[i].ids);
        outv[i].w = malloc((v->n ? v->n : 1) * sizeof *outv[i].w);
        if (!outv[i].ids || !outv[i].w)
            goto out;
        memcpy(outv[i].ids, v->ids, v->n * sizeof *v->ids);
        memcpy(outv[i].w, v->w, v->n * sizeof *v->w);
        outv[i].n = v->n;
    }
    for (int q = 0; q < ngroups; q++) {
        /* members of each group, by a counting sort on the group's first member */
        size_t *cnt = calloc(N + 1, sizeof *cnt);
        if (!cnt)
            goto out;
        for (size_t i = 0; i < N; i++)
            if (group[q][i] < N)
                cnt[group[q][i]]++;
        start[0] = 0;
        for (size_t r = 0; r < N; r++)
            start[r + 1] = start[r] + cnt[r];
        memset(cnt, 0, (N + 1) * sizeof *cnt);
        for (size_t i = 0; i < N; i++)
            if (group[q][i] < N) {
                size_t r = group[q][i];
                order[start[r] + cnt[r]++] = i;
            }
        free(cnt);
        for (size_t r = 0; r < N; r++)
            if (start[r + 1] - start[r] > 1 &&
                group_vector(c, order + start[r], start[r + 1] - start[r], maxterms, &acc,
                             &gv[(size_t)q * N + r]) < 0)
                goto out;
    }
    for (size_t i = 0; i < N; i++) {
        for (int q = 0; q < ngroups; q++) {
            const struct st_vec *g = group[q][i] < N ? &gv[(size_t)q * N + group[q][i]] : NULL;
            struct st_vec nv = {0};
            if (!g || !g->n)
                continue;
            if (vec_axpy(&outv[i], weight[q], g, &nv) < 0) {
                free(nv.ids);
                free(nv.w);
                goto out;
            }
            free(outv[i].ids);
            free(outv[i].w);
            outv[i] = nv;
        }
        vec_normalise(&outv[i]);
    }
    *outp = outv;
    outv = NULL;
    rc = 0;
out:
    st_vecs_free(gv, gv ? G : 0);
    st_vecs_free(outv, outv ? N : 0);
    free(order);
    free(start);
    free(acc.sum);
    free(acc.nz);
    return rc;
}
