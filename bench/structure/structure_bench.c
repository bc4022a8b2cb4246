/*
 * Structure-phase benchmark.
 *
 * Quality: a generated labelled corpus (bench/structure/gen.h: topics with
 * their own vocabulary, shared office words, stop words, inflections) is
 * clustered (k chosen automatically) three ways in the same run:
 *   trawl     stop words removed, stemmed, BM25 vectors, spherical k-means
 *   raw       the same clustering on raw tokens (no stop words, no stemming)
 *   random    random groups, as many as trawl found
 * and scored by purity and NMI against the topic labels.
 *
 * Throughput: the per-document work a structurer does (term vector, SimHash,
 * extractive summary) over the corpus with K=1 and K=2 worker processes.
 *
 *   structure_bench [--docs N] [--topics T] [--noise PCT] [--words W]
 */
#include "gen.h"
#include "structure.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rawc {
    char **toks;
    size_t n, cap;
};

static int raw_tok(const char *t, size_t len, size_t off, void *ud)
{
    struct rawc *r = ud;

    (void)off;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->toks = realloc(r->toks, r->cap * sizeof *r->toks);
    }
    r->toks[r->n++] = strndup(t, len);
    return 0;
}

static int cmp_s(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Term vector of raw tokens: no stop words removed, no stemming. */
static void raw_doc(struct ts_doc *d, const char *text, size_t len)
{
    struct rawc r = {0};
    size_t i;

    memset(d, 0, sizeof *d);
    ts_tokenize(text, len, raw_tok, &r);
    d->ntokens = r.n;
    if (!r.n)
        return;
    qsort(r.toks, r.n, sizeof *r.toks, cmp_s);
    d->terms = calloc(r.n, sizeof *d->terms);
    for (i = 0; i < r.n; i++) {
        if (d->n && strcmp(d->terms[d->n - 1].term, r.toks[i]) == 0) {
            d->terms[d->n - 1].count++;
            free(r.toks[i]);
            continue;
        }
        d->terms[d->n].term = d->terms[d->n].word = r.toks[i];
        d->terms[d->n].count = 1;
        d->n++;
    }
    free(r.toks);
}

static int cluster(const struct ts_doc *docs, size_t n, int *assign, int *k)
{
    struct st_corpus c;
    size_t *mem = malloc(n * sizeof *mem);

    for (size_t i = 0; i < n; i++)
        mem[i] = i;
    if (st_corpus_build(&c, docs, n, 64) < 0)
        return -1;
    *k = st_kmeans(&c, mem, n, 0, 12, assign);
    st_corpus_free(&c);
    free(mem);
    return 0;
}

/* Per-document structurer work over docs [lo, hi); returns a checksum. */
static uint64_t per_doc(char **texts, size_t n, size_t lo, size_t hi)
{
    uint64_t sum = 0;
    struct buf s = BUF_INIT;

    for (size_t i = lo; i < hi; i++) {
        struct ts_doc d;
        const char *t = texts[i % n];
        ts_doc_build(&d, t, strlen(t));
        sum ^= ts_simhash(&d);
        ts_doc_free(&d);
        buf_reset(&s);
        ts_summary(t, strlen(t), 3, 400, &s);
        sum += s.len;
    }
    buf_release(&s);
    return sum;
}

static double throughput(char **texts, size_t n, size_t m, int K)
{
    double t0 = now();

    for (int w = 0; w < K; w++) {
        pid_t p = fork();
        if (p == 0) {
            volatile uint64_t x =
                per_doc(texts, n, m * (size_t)w / (size_t)K, m * (size_t)(w + 1) / (size_t)K);
            (void)x;
            _exit(0);
        }
    }
    for (int w = 0; w < K; w++)
        wait(NULL);
    return (double)m / (now() - t0);
}

int main(int argc, char **argv)
{
    size_t n = 1200;
    int topics = 6, noise = 55, words = 25, k_trawl, k_raw;
    struct ts_doc *docs, *raw;
    int *truth, *a_trawl, *a_raw, *a_rand;
    char **texts;
    struct buf b = BUF_INIT;
    uint64_t seed = 42;
    double t0, t_trawl, r1, r2;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--docs"))
            n = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--topics"))
            topics = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--words"))
            words = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--noise"))
            noise = atoi(argv[i + 1]);
    }
    if (topics < 2 || topics > 6 || noise < 0 || noise > 65 || n < 8) {
        fprintf(stderr, "structure_bench: --topics 2..6, --noise 0..65, --docs >= 8\n");
        return 2;
    }
    docs = calloc(n, sizeof *docs);
    raw = calloc(n, sizeof *raw);
    truth = calloc(n, sizeof *truth);
    a_trawl = calloc(n, sizeof *a_trawl);
    a_raw = calloc(n, sizeof *a_raw);
    a_rand = calloc(n, sizeof *a_rand);
    texts = calloc(n, sizeof *texts);
    for (size_t i = 0; i < n; i++) {
        buf_reset(&b);
        truth[i] = gen_doc(i, topics, noise, words < 4 ? 4 : words, &b);
        texts[i] = strdup(b.data);
    }
    t0 = now();
    for (size_t i = 0; i < n; i++)
        ts_doc_build(&docs[i], texts[i], strlen(texts[i]));
    cluster(docs, n, a_trawl, &k_trawl);
    t_trawl = now() - t0;
    for (size_t i = 0; i < n; i++)
        raw_doc(&raw[i], texts[i], strlen(texts[i]));
    cluster(raw, n, a_raw, &k_raw);
    for (size_t i = 0; i < n; i++)
        a_rand[i] = (int)(gen_rand(&seed) % (uint32_t)(k_trawl > 0 ? k_trawl : 1));

    printf("corpus: %zu documents of %d words, %d topics, %d%% shared words\n", n, words, topics,
           noise);
    printf("%-8s %6s %8s %8s\n", "system", "groups", "purity", "NMI");
    printf("%-8s %6d %8.3f %8.3f\n", "trawl", k_trawl, st_purity(a_trawl, truth, n),
           st_nmi(a_trawl, truth, n));
    printf("%-8s %6d %8.3f %8.3f\n", "raw", k_raw, st_purity(a_raw, truth, n),
           st_nmi(a_raw, truth, n));
    printf("%-8s %6d %8.3f %8.3f\n", "random", k_trawl, st_purity(a_rand, truth, n),
           st_nmi(a_rand, truth, n));
    printf("NMI ratio trawl/raw: %.2f\n",
           st_nmi(a_raw, truth, n) > 0 ? st_nmi(a_trawl, truth, n) / st_nmi(a_raw, truth, n) : 0);
    printf("trawl vectors+clustering: %.2f s\n", t_trawl);
    {
        size_t m = n < 20000 ? 20000 : n; /* documents processed, cycling the corpus */
        r1 = throughput(texts, n, m, 1);
        r2 = throughput(texts, n, m, 2);
        printf("per-document work: K=1 %.0f docs/s, K=2 %.0f docs/s, ratio %.2f (%ld cores)\n", r1,
               r2, r2 / r1, sysconf(_SC_NPROCESSORS_ONLN));
    }
    return 0;
}
