#ifndef TRAWL_STRUCTURE_H
#define TRAWL_STRUCTURE_H

/*
 * Whole-corpus steps of the structure phase: a vocabulary with document
 * frequencies, BM25-weighted unit vectors, deterministic spherical k-means
 * (farthest-first seeding, k chosen by a centroid silhouette), hierarchical
 * splitting up to a depth, c-TF-IDF labels and SimHash near-duplicate groups.
 * Per-document work (ts_doc_build, ts_simhash) happens before, in parallel;
 * these functions take the results. Same input, same output, byte for byte.
 */

#include "buf.h"
#include "textstat.h"

#include <stddef.h>
#include <stdint.h>

struct st_vec {
    uint32_t *ids; /* vocabulary ids, ascending */
    double *w;     /* L2-normalised weights */
    size_t n;
};

struct st_corpus {
    const struct ts_doc *docs; /* borrowed */
    size_t ndocs;
    char **vocab;       /* sorted stems (borrowed from docs) */
    const char **words; /* a readable form per stem */
    uint32_t *df;
    size_t nvocab;
    struct st_vec *vecs; /* one per document */
};

/* Build vocabulary, DF and BM25 vectors (each document keeps at most
 * max_terms highest-weighted terms; 0 = all). Returns 0 or -1. */
int st_corpus_build(struct st_corpus *c, const struct ts_doc *docs, size_t ndocs, size_t max_terms);
void st_corpus_free(struct st_corpus *c);
double st_dot(const struct st_vec *a, const struct st_vec *b);

/* Cluster the documents listed in members[0..n) into k groups (k = 0: the
 * best k in 2..kmax by silhouette; 1 if n is too small or nothing splits).
 * assign[i] receives the group of members[i], groups numbered by their
 * first member. Returns the number of groups, or -1. */
int st_kmeans(const struct st_corpus *c, const size_t *members, size_t n, int k, int kmax,
              int *assign);

/* c-TF-IDF label of a group: the nterms most distinctive readable words,
 * joined by '-' (slug form). group_of[d] is the group of document d (or -1);
 * ngroups groups. Appends to out. */
int st_label(const struct st_corpus *c, const int *group_of, int ngroups, int group, int nterms,
             struct buf *out);

/* Near-duplicate groups: documents whose SimHash signatures differ in at
 * most maxdist bits share a group (transitively). group[i] = the smallest
 * index in i's group. Returns the number of groups with more than one member. */
size_t st_neardup(const uint64_t *sig, size_t n, int maxdist, size_t *group);

/* Quality of a clustering against reference labels (both 0-based ints):
 * purity and normalised mutual information, each in [0,1]. */
double st_purity(const int *pred, const int *truth, size_t n);
double st_nmi(const int *pred, const int *truth, size_t n);

#endif
