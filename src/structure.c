/* Whole-corpus steps of the structure phase; see structure.h. */
#include "structure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    tmp = malloc((maxn ? maxn : 1) * sizeof *tmp);
    if (!all || !c->vocab || !c->words || !c->df || !c->vecs || !tmp)
        goto fail;
    for (i = k = 0; i < ndocs; i++)
        for (j = 0; j < docs[i].n; j++) {
            all[k].term = docs[i].terms[j].term;
            all[k].word = docs[i].terms[j].word ? docs[i].terms[j].word : docs[i].terms[j].term;
            k++;
        }
    if (total)
        qsort(all, total, sizeof *all, cmp_tw);
    for (i = 0; i < total; i++) {
        if (c->nvocab && strcmp(c->vocab[c->nvocab - 1], all[i].term) == 0) {
            c->df[c->nvocab - 1]++;
            continue;
        }
        c->vocab[c->nvocab] = (char *)all[i].term;
        c->words[c->nvocab] = all[i].word;
        c->df[c->nvocab] = 1;
        c->nvocab++;
    }
    for (i = 0; i < ndocs; i++) {
        const struct ts_doc *d = &docs[i];
        size_t n = d->n;
        double norm = 0;
        for (j = 0; j < n; j++) {
            long id = vocab_id(c, d->terms[j].term);
            tmp[j].id = (uint32_t)(id < 0 ? 0 : id);
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

static double dot_dense(const struct st_vec *a, const double *cent)
{
    double s = 0;
    size_t i;

    for (i = 0; i < a->n; i++)
        s += a->w[i] * cent[a->ids[i]];
    return s;
}

/* Lloyd iterations of spherical k-means with farthest-first seeds.
 * cent: k * nvocab doubles. Returns the centroid silhouette. */
static double kmeans_fixed(const struct st_corpus *c, const size_t *mem, size_t n, int k,
                           int *assign, double *cent, double *best_sim)
{
    size_t V = c->nvocab, i;
    int g, it;
    double sil = 0;

    memset(cent, 0, (size_t)k * V * sizeof *cent);
    for (i = 0; i < n; i++)
        best_sim[i] = -1;
    {
        size_t seed = 0;
        for (g = 0; g < k; g++) {
            const struct st_vec *v = &c->vecs[mem[seed]];
            double worst = 2;
            for (i = 0; i < v->n; i++)
                cent[(size_t)g * V + v->ids[i]] = v->w[i];
            for (i = 0; i < n; i++) {
                double s = st_dot(&c->vecs[mem[i]], v);
                if (s > best_sim[i])
                    best_sim[i] = s;
                if (best_sim[i] < worst) {
                    worst = best_sim[i];
                    seed = i;
                }
            }
        }
    }
    for (i = 0; i < n; i++)
        assign[i] = -1;
    for (it = 0; it < 30; it++) {
        int changed = 0;
        for (i = 0; i < n; i++) {
            int bg = 0;
            double bs = -1;
            for (g = 0; g < k; g++) {
                double s = dot_dense(&c->vecs[mem[i]], cent + (size_t)g * V);
                if (s > bs + 1e-12) {
                    bs = s;
                    bg = g;
                }
            }
            if (assign[i] != bg)
                changed = 1;
            assign[i] = bg;
        }
        if (!changed)
            break;
        for (g = 0; g < k; g++) {
            double *ce = cent + (size_t)g * V, norm = 0;
            size_t cnt = 0, t;
            for (i = 0; i < n; i++)
                if (assign[i] == g)
                    cnt++;
            if (!cnt)
                continue; /* keep the old centroid */
            memset(ce, 0, V * sizeof *ce);
            for (i = 0; i < n; i++)
                if (assign[i] == g) {
                    const struct st_vec *v = &c->vecs[mem[i]];
                    for (t = 0; t < v->n; t++)
                        ce[v->ids[t]] += v->w[t];
                }
            for (t = 0; t < V; t++)
                norm += ce[t] * ce[t];
            norm = norm > 0 ? sqrt(norm) : 1;
            for (t = 0; t < V; t++)
                ce[t] /= norm;
        }
    }
    for (i = 0; i < n; i++) {
        double own = dot_dense(&c->vecs[mem[i]], cent + (size_t)assign[i] * V), other = -1, a, b, m;
        for (g = 0; g < k; g++)
            if (g != assign[i]) {
                double s = dot_dense(&c->vecs[mem[i]], cent + (size_t)g * V);
                if (s > other)
                    other = s;
            }
        a = 1 - own;
        b = 1 - other;
        m = a > b ? a : b;
        sil += m > 0 ? (b - a) / m : 0;
    }
    return n ? sil / (double)n : 0;
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

int st_kmeans(const struct st_corpus *c, const size_t *members, size_t n, int k, int kmax,
              int *assign)
{
    double *cent = NULL, *tmp_sim = NULL, best = 0.02; /* below this, nothing splits */
    int *try = NULL, kk, lo, hi, bestk = 1, rc = -1;
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
    cent = malloc((size_t)hi * (c->nvocab ? c->nvocab : 1) * sizeof *cent);
    tmp_sim = malloc(n * sizeof *tmp_sim);
    try = malloc(n * sizeof *try);
    if (!cent || !tmp_sim || !try)
        goto out;
    for (kk = lo; kk <= hi; kk++) {
        double s = kmeans_fixed(c, members, n, kk, try, cent, tmp_sim);
        if (k > 0 || s > best + 1e-9) {
            best = s;
            bestk = kk;
            memcpy(assign, try, n * sizeof *assign);
        }
    }
    rc = bestk == 1 ? 1 : renumber(assign, n, bestk);
out:
    free(cent);
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
            long id = vocab_id(c, c->docs[i].terms[j].term);
            double cnt = c->docs[i].terms[j].count;
            if (id < 0)
                continue;
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
