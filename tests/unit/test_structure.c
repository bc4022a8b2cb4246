/* Unit tests for src/structure.c on a generated labelled corpus. */
#include "../../bench/structure/gen.h"
#include "structure.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define N 120
#define TOPICS 4

int main(void)
{
    struct ts_doc docs[N];
    struct st_corpus c, c2;
    int truth[N], assign[N], assign2[N], k, k2;
    size_t mem[N], i, grp[N];
    uint64_t sig[N];
    struct buf b = BUF_INIT, lab = BUF_INIT;

    for (i = 0; i < N; i++) {
        buf_reset(&b);
        truth[i] = gen_doc(i, TOPICS, 30, 80, &b);
        ts_doc_build(&docs[i], b.data, b.len);
        mem[i] = i;
    }
    ok(st_corpus_build(&c, docs, N, 64) == 0, "corpus builds");
    ok(c.nvocab > 20 && c.nvocab < 200, "vocabulary of stems (%zu)", c.nvocab);
    {
        double s = st_dot(&c.vecs[0], &c.vecs[0]);
        ok(s > 0.999 && s < 1.001, "vectors are unit length");
        ok(st_dot(&c.vecs[0], &c.vecs[TOPICS]) > st_dot(&c.vecs[0], &c.vecs[1]),
           "same topic more similar than other topic");
    }
    k = st_kmeans(&c, mem, N, 0, 8, assign);
    is_int(k, TOPICS, "k chosen by silhouette equals the number of topics");
    ok(st_purity(assign, truth, N) > 0.95, "purity %.3f", st_purity(assign, truth, N));
    ok(st_nmi(assign, truth, N) > 0.9, "NMI %.3f", st_nmi(assign, truth, N));
    is_int(assign[0], 0, "groups numbered by first member");

    /* determinism: same input, same groups */
    st_corpus_build(&c2, docs, N, 64);
    k2 = st_kmeans(&c2, mem, N, 0, 8, assign2);
    ok(k == k2 && memcmp(assign, assign2, sizeof assign) == 0, "same input, same clustering");
    st_corpus_free(&c2);

    /* labels: the group of document 0 (topic payroll) is named by payroll words */
    st_label(&c, assign, k, assign[0], 3, &lab);
    {
        int hit = 0;
        for (int w = 0; w < 12; w++)
            if (strstr(lab.data, gen_topics[0][w]))
                hit = 1;
        ok(hit && !strstr(lab.data, "meeting") && !strstr(lab.data, "the"),
           "label from distinctive topic words: %s", lab.data);
        ok(strchr(lab.data, ' ') == NULL, "label is a slug");
    }

    /* fixed k and tiny inputs */
    is_int(st_kmeans(&c, mem, 3, 0, 8, assign2), 1, "three documents stay one group");
    is_int(st_kmeans(&c, mem, 0, 0, 8, assign2), 0, "no documents, no groups");
    is_int(st_kmeans(&c, mem, N, 2, 8, assign2), 2, "fixed k honoured");

    /* near-duplicates */
    for (i = 0; i < N; i++)
        sig[i] = ts_simhash(&docs[i]);
    sig[7] = sig[3] ^ 0x5; /* two bits from document 3 */
    st_neardup(sig, N, 3, grp);
    ok(grp[7] == 3 && grp[3] == 3, "near-duplicate grouped with the earliest");
    ok(grp[5] == 5, "distinct document alone");

    /* a large set: k is chosen on a sample, then everything is clustered;
     * on two threads the result is the same as on one */
    {
        enum { BIG = 4400 };
        struct ts_doc *bd = calloc(BIG, sizeof *bd);
        int *bt = calloc(BIG, sizeof *bt), *ba = calloc(BIG, sizeof *ba),
            *ba2 = calloc(BIG, sizeof *ba2), bk, bk2;
        size_t *bm = calloc(BIG, sizeof *bm);
        struct st_corpus bc;
        for (i = 0; i < BIG; i++) {
            buf_reset(&b);
            bt[i] = gen_doc(i, TOPICS, 30, 80, &b);
            ts_doc_build(&bd[i], b.data, b.len);
            bm[i] = i;
        }
        st_corpus_build(&bc, bd, BIG, 0);
        bk = st_kmeans(&bc, bm, BIG, 0, 8, ba);
        is_int(bk, TOPICS, "large set: k from the sample equals the number of topics");
        ok(st_purity(ba, bt, BIG) > 0.95, "large set: purity %.3f", st_purity(ba, bt, BIG));
        bc.threads = 2;
        bk2 = st_kmeans(&bc, bm, BIG, 0, 8, ba2);
        ok(bk == bk2 && memcmp(ba, ba2, BIG * sizeof *ba) == 0,
           "two threads give the same clustering as one");
        bc.threads = 3;
        bk2 = st_kmeans(&bc, bm, BIG, 0, 8, ba2);
        ok(bk == bk2 && memcmp(ba, ba2, BIG * sizeof *ba) == 0,
           "three threads (uneven vocabulary chunks) give the same clustering as one");
        st_corpus_free(&bc);
        for (i = 0; i < BIG; i++)
            ts_doc_free(&bd[i]);
        free(bd);
        free(bt);
        free(ba);
        free(ba2);
        free(bm);
    }

    /* context smoothing: a document moves towards its group's mean; one
     * without a group keeps its direction; c.vecs stay as they were */
    {
        size_t g0[N], g1[N];
        const size_t *groups[2] = {g0, g1};
        double wt[2] = {1.0, 0.5}, before = st_dot(&c.vecs[0], &c.vecs[TOPICS]);
        struct st_vec *sv = NULL, *sv2 = NULL;
        int same = 1;
        for (i = 0; i < N; i++) {
            g0[i] = (size_t)truth[i]; /* documents 0..TOPICS-1 are one of each topic */
            g1[i] = SIZE_MAX;
        }
        g0[1] = SIZE_MAX; /* document 1: no context */
        ok(st_smooth(&c, groups, wt, 2, 20, &sv) == 0 && sv, "st_smooth runs");
        ok(st_dot(&sv[0], &sv[0]) > 0.999 && st_dot(&sv[0], &sv[0]) < 1.001,
           "smoothed vectors are unit length");
        ok(st_dot(&sv[0], &sv[TOPICS]) > before + 0.05,
           "two documents of one group move closer (%.3f -> %.3f)", before,
           st_dot(&sv[0], &sv[TOPICS]));
        ok(st_dot(&sv[1], &c.vecs[1]) > 0.999, "a document without a group keeps its vector");
        ok(st_dot(&c.vecs[0], &c.vecs[TOPICS]) == before, "the corpus vectors are untouched");
        st_smooth(&c, groups, wt, 2, 20, &sv2);
        for (i = 0; i < N && sv2; i++)
            same &= sv[i].n == sv2[i].n &&
                    memcmp(sv[i].ids, sv2[i].ids, sv[i].n * sizeof *sv[i].ids) == 0 &&
                    memcmp(sv[i].w, sv2[i].w, sv[i].n * sizeof *sv[i].w) == 0;
        ok(sv2 && same, "same input, same smoothed vectors byte for byte");
        st_vecs_free(sv, N);
        st_vecs_free(sv2, N);
    }

    /* metrics */
    {
        int p[6] = {0, 0, 1, 1, 2, 2}, t[6] = {1, 1, 0, 0, 2, 2}, one[6] = {0};
        ok(st_purity(p, t, 6) == 1 && st_nmi(p, t, 6) > 0.999, "relabelled perfect clustering");
        ok(st_nmi(one, t, 6) < 1e-9, "a single group has zero NMI");
    }
    buf_release(&b);
    buf_release(&lab);
    st_corpus_free(&c);
    for (i = 0; i < N; i++)
        ts_doc_free(&docs[i]);
    return tap_done();
}
