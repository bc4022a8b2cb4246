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
    uint32_t **tid;      /* tid[i][j]: vocabulary id of docs[i].terms[j] */
    int threads;         /* for the k-means assignment step; 0 or 1 = none */
};

/* Build vocabulary, DF and BM25 vectors (each document keeps at most
 * max_terms highest-weighted terms; 0 = all). Returns 0 or -1. */
int st_corpus_build(struct st_corpus *c, const struct ts_doc *docs, size_t ndocs, size_t max_terms);
void st_corpus_free(struct st_corpus *c);

double st_dot(const struct st_vec *a, const struct st_vec *b);

/* Context smoothing: *out gets, for every document, its vector plus
 * weight[q] times the mean vector of its group in each grouping q
 * (group[q][d] = the first document of d's group, or >= ndocs for none;
 * a mean is cut to its maxterms heaviest terms, 0 = all), normalised. A
 * short reply then reads with its thread, a message with its sender's other
 * mail. c->vecs stay as they are. Deterministic. Returns 0, or -1 (out of
 * memory). st_vecs_free(*out, c->ndocs) afterwards. */
int st_smooth(const struct st_corpus *c, const size_t *const *group, const double *weight,
              int ngroups, size_t maxterms, struct st_vec **out);
void st_vecs_free(struct st_vec *v, size_t n);

/* Cluster the documents listed in members[0..n) into k groups (k = 0: the
 * best k in 2..kmax by silhouette, chosen on an evenly spaced sample of 4000
 * when there are more; 1 if n is too small or nothing splits).
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

/* Near-duplicate groups from MinHash signatures (n * TS_MINHASH values):
 * locality-sensitive hashing in 16 bands of 4 rows finds candidates, and a
 * pair whose signatures agree in at least min_agree of TS_MINHASH places
 * (about that Jaccard similarity of their word 3-shingles) shares a group,
 * transitively. Documents with has[i] == 0 (no shingles) are never
 * duplicates. group[i] = the smallest index in i's group. Returns the number
 * of groups with more than one member, or -1 (out of memory). */
long st_neardup_minhash(const uint32_t *sig, const unsigned char *has, size_t n, int min_agree,
                        size_t *group);

/* Quality of a clustering against reference labels (both 0-based ints):
 * purity and normalised mutual information, each in [0,1]. */
double st_purity(const int *pred, const int *truth, size_t n);
double st_nmi(const int *pred, const int *truth, size_t n);

/* A mail message's threading headers (any field may be NULL/empty). */
struct st_mail {
    const char *msgid, *irt; /* Message-ID, In-Reply-To */
    char *const *refs;       /* References */
    size_t nrefs;
    const char *subject_key; /* normalised subject (no Re:, [list] tags) */
    int reply;               /* the subject had a reply/forward prefix */
};

/* Mail threads: union-find over Message-ID, In-Reply-To and References
 * (messages referring to the same missing parent share a thread). A reply
 * with no In-Reply-To and no References falls back to its normalised
 * subject: it joins the first message with the same one. root[i] = the
 * smallest index in i's thread, or SIZE_MAX for a document with nothing to
 * thread on. Returns 0 or -1 (out of memory). */
int st_threads(const struct st_mail *m, size_t n, size_t *root);

/* 1 if a subject begins (after whitespace and [tags]) with Re:, Fwd:, AW: ... */
int st_subject_is_reply(const char *subject);

#endif
