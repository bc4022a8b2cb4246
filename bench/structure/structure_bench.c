/*
 * The baseline of bench/structure: flat k-means on plain TF-IDF, as a
 * reader would set it up with a standard toolkit (tokens lower-cased, stop
 * words removed, no stemming, tf * log(N/df), L2-normalised, k-means++
 * seeds from a fixed random sequence, Lloyd iterations on cosine
 * similarity). It reads the documents trawl stored (a `trawl export` JSONL:
 * the same text the structurers saw) and clusters them once per k given.
 *
 *   structure_bench EXPORT.jsonl K1 [K2 ...]
 *
 * Output: one line per document, "SOURCE\tEXTERNAL_ID\tC1\tC2...", the
 * cluster of the document for each k, in the order of the file.
 */
#include "textstat.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB_MAX 8000 /* the most frequent words: keeps k * V centroids small */

struct word {
    char *w;
    size_t df;
};

struct dvec {
    uint32_t *id;
    float *w;
    size_t n;
};

struct toks {
    char **v;
    size_t n, cap;
};

static int tok_cb(const char *t, size_t len, size_t off, void *ud)
{
    struct toks *k = ud;

    (void)off;
    if (ts_is_stopword(t, len))
        return 0;
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 256;
        k->v = realloc(k->v, k->cap * sizeof *k->v);
        if (!k->v)
            exit(1);
    }
    k->v[k->n++] = strndup(t, len);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_word(const void *a, const void *b)
{
    return strcmp(((const struct word *)a)->w, ((const struct word *)b)->w);
}

static int cmp_df(const void *a, const void *b)
{
    const struct word *x = a, *y = b;

    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return strcmp(x->w, y->w);
}

static uint64_t rng = 88172645463325252ULL;
static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double dot(const struct dvec *d, const float *c)
{
    double s = 0;

    for (size_t i = 0; i < d->n; i++)
        s += d->w[i] * c[d->id[i]];
    return s;
}

static void kmeans(const struct dvec *d, size_t n, size_t V, int k, int *assign)
{
    float *cent = calloc((size_t)k * V, sizeof *cent);
    double *best = malloc(n * sizeof *best);
    int iters = k > 200 ? 8 : 25;

    if (!cent || !best)
        exit(1);
    /* k-means++ on cosine distance */
    for (int g = 0; g < k; g++) {
        size_t pick = 0;
        if (g == 0) {
            pick = (size_t)(rnd() * (double)n) % n;
        } else {
            double tot = 0, r;
            for (size_t i = 0; i < n; i++)
                tot += best[i];
            r = rnd() * tot;
            for (pick = 0; pick + 1 < n && r > best[pick]; pick++)
                r -= best[pick];
        }
        for (size_t t = 0; t < d[pick].n; t++)
            cent[(size_t)g * V + d[pick].id[t]] = d[pick].w[t];
        for (size_t i = 0; i < n; i++) {
            double dist = 1 - dot(&d[i], cent + (size_t)g * V);
            if (dist < 0)
                dist = 0;
            if (g == 0 || dist < best[i])
                best[i] = dist;
        }
    }
    for (int it = 0; it < iters; it++) {
        int changed = 0;
        for (size_t i = 0; i < n; i++) {
            int bg = 0;
            double bs = -2;
            for (int g = 0; g < k; g++) {
                double s = dot(&d[i], cent + (size_t)g * V);
                if (s > bs) {
                    bs = s;
                    bg = g;
                }
            }
            changed |= assign[i] != bg;
            assign[i] = bg;
        }
        if (!changed)
            break;
        for (int g = 0; g < k; g++) {
            float *c = cent + (size_t)g * V;
            double norm = 0;
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                cnt += assign[i] == g;
            if (!cnt)
                continue;
            memset(c, 0, V * sizeof *c);
            for (size_t i = 0; i < n; i++)
                if (assign[i] == g)
                    for (size_t t = 0; t < d[i].n; t++)
                        c[d[i].id[t]] += d[i].w[t];
            for (size_t t = 0; t < V; t++)
                norm += (double)c[t] * c[t];
            norm = norm > 0 ? sqrt(norm) : 1;
            for (size_t t = 0; t < V; t++)
                c[t] = (float)(c[t] / norm);
        }
    }
    free(cent);
    free(best);
}

int main(int argc, char **argv)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0, n = 0, ncap = 0, nw = 0, V;
    struct toks *docs = NULL;
    char **src = NULL, **ext = NULL;
    struct word *words = NULL;
    struct dvec *vec;
    int nk = argc - 2, **assign;

    if (argc < 3 || !(f = fopen(argv[1], "r"))) {
        fprintf(stderr, "usage: structure_bench EXPORT.jsonl K1 [K2 ...]\n");
        return 2;
    }
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        const char *text = json_string_value(json_object_get(o, "text"));
        if (kind && strcmp(kind, "document") == 0 && text) {
            if (n == ncap) {
                ncap = ncap ? 2 * ncap : 1024;
                docs = realloc(docs, ncap * sizeof *docs);
                src = realloc(src, ncap * sizeof *src);
                ext = realloc(ext, ncap * sizeof *ext);
                if (!docs || !src || !ext)
                    return 1;
            }
            memset(&docs[n], 0, sizeof docs[n]);
            ts_tokenize(text, strlen(text), tok_cb, &docs[n]);
            src[n] = strdup(json_string_value(json_object_get(o, "source")));
            ext[n] = strdup(json_string_value(json_object_get(o, "external_id")));
            n++;
        }
        json_decref(o);
    }
    fclose(f);
    free(line);
    if (!n)
        return 1;
    /* vocabulary with document frequencies */
    for (size_t i = 0; i < n; i++) {
        struct toks *d = &docs[i];
        size_t u = 0;
        if (d->n)
            qsort(d->v, d->n, sizeof *d->v, cmp_str);
        for (size_t t = 0; t < d->n; t++)
            if (!t || strcmp(d->v[t], d->v[t - 1]) != 0) {
                words = realloc(words, (nw + 1) * sizeof *words);
                words[nw].w = d->v[t];
                words[nw++].df = 1;
                u++;
            }
    }
    qsort(words, nw, sizeof *words, cmp_word);
    {
        size_t m = 0;
        for (size_t i = 0; i < nw; i++) {
            if (m && strcmp(words[m - 1].w, words[i].w) == 0)
                words[m - 1].df++;
            else
                words[m++] = words[i];
        }
        nw = m;
    }
    qsort(words, nw, sizeof *words, cmp_df);
    V = nw < VOCAB_MAX ? nw : VOCAB_MAX;
    qsort(words, V, sizeof *words, cmp_word);
    vec = calloc(n, sizeof *vec);
    for (size_t i = 0; i < n; i++) {
        struct toks *d = &docs[i];
        double norm = 0;
        vec[i].id = malloc((d->n + 1) * sizeof *vec[i].id);
        vec[i].w = malloc((d->n + 1) * sizeof *vec[i].w);
        for (size_t t = 0; t < d->n;) {
            size_t e = t;
            struct word key = {d->v[t], 0}, *hit;
            while (e < d->n && strcmp(d->v[e], d->v[t]) == 0)
                e++;
            hit = bsearch(&key, words, V, sizeof *words, cmp_word);
            if (hit) {
                vec[i].id[vec[i].n] = (uint32_t)(hit - words);
                vec[i].w[vec[i].n] = (float)((double)(e - t) * log((double)n / (double)hit->df));
                norm += (double)vec[i].w[vec[i].n] * vec[i].w[vec[i].n];
                vec[i].n++;
            }
            t = e;
        }
        norm = norm > 0 ? sqrt(norm) : 1;
        for (size_t t = 0; t < vec[i].n; t++)
            vec[i].w[t] = (float)(vec[i].w[t] / norm);
    }
    assign = calloc((size_t)nk, sizeof *assign);
    for (int a = 0; a < nk; a++) {
        int k = atoi(argv[2 + a]);
        if (k < 1)
            k = 1;
        if ((size_t)k > n)
            k = (int)n;
        assign[a] = calloc(n, sizeof **assign);
        for (size_t i = 0; i < n; i++)
            assign[a][i] = -1;
        kmeans(vec, n, V, k, assign[a]);
    }
    for (size_t i = 0; i < n; i++) {
        printf("%s\t%s", src[i], ext[i]);
        for (int a = 0; a < nk; a++)
            printf("\t%d", assign[a][i]);
        printf("\n");
    }
    return 0;
}
