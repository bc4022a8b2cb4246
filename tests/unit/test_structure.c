/* Unit tests for src/structure.c on a generated labelled corpus. */
#include "../../bench/structure/gen.h"
#include "structure.h"
#include "tap.h"

#include <stdlib.h>

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
