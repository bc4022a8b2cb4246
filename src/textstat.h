#ifndef TRAWL_TEXTSTAT_H
#define TRAWL_TEXTSTAT_H

/*
 * Per-document text statistics for the structure phase: tokenising,
 * stop words, English stemming (libstemmer), term-count vectors, TF-IDF
 * weights, SimHash signatures, extractive summaries and readable slugs.
 * Everything here is deterministic: same input bytes, same output bytes.
 * Input is hostile (extracted text): any byte sequence is accepted.
 */

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define TS_TOKEN_MAX 64 /* longer runs are not words (hashes, base64): skipped */

/* Called for each token (lower-cased, 2..TS_TOKEN_MAX bytes, not all digits).
 * Return non-zero to stop. */
typedef int (*ts_token_cb)(const char *tok, size_t len, size_t offset, void *ud);

/* Split text into word tokens: runs of ASCII letters/digits and UTF-8
 * non-ASCII bytes. Returns the number of tokens delivered. */
size_t ts_tokenize(const char *text, size_t len, ts_token_cb cb, void *ud);

/* 1 if the (lower-case) word is an English stop word. */
int ts_is_stopword(const char *w, size_t len);

/* Stem one lower-case word into out (NUL-terminated, at most outsz-1 bytes).
 * Returns the stem length. Words the stemmer rejects are copied unchanged. */
size_t ts_stem(const char *w, size_t len, char *out, size_t outsz);

struct ts_term {
    char *term;     /* stem */
    char *word;     /* a readable surface form: the shortest seen, then byte order */
    uint32_t count; /* occurrences in the document */
};

/* A document as a bag of stems, terms sorted by byte order. */
struct ts_doc {
    struct ts_term *terms;
    size_t n;       /* distinct terms */
    size_t ntokens; /* content tokens counted (stop words excluded) */
};

/* Build the term vector of text. Returns 0, or -1 on allocation failure. */
int ts_doc_build(struct ts_doc *d, const char *text, size_t len);
void ts_doc_free(struct ts_doc *d);
/* Count of term in d (binary search), 0 if absent. */
uint32_t ts_doc_count(const struct ts_doc *d, const char *term);

/* 64-bit SimHash over the terms, weighted by 1 + log(count). */
uint64_t ts_simhash(const struct ts_doc *d);
int ts_hamming(uint64_t a, uint64_t b);

/* BM25-style saturated TF times smoothed IDF: tf*(k1+1)/(tf+k1*(1-b+b*dl/avgdl)) *
 * log(1 + (N - df + 0.5)/(df + 0.5)). */
double ts_bm25_weight(uint32_t tf, size_t dl, double avgdl, size_t df, size_t ndocs);

/* Extractive summary: the max_sentences highest-scoring sentences (score =
 * sum of the document frequencies of their stems / sqrt(length)), emitted in
 * their original order, separated by a space, whitespace collapsed, at most
 * max_bytes bytes (cut at a UTF-8 boundary). Returns 0 or -1. */
int ts_summary(const char *text, size_t len, size_t max_sentences, size_t max_bytes,
               struct buf *out);

/* Readable slug: lower-case ASCII letters/digits, other runs become one '-',
 * no leading/trailing '-', at most outsz-1 bytes; "untitled" if empty.
 * Returns the slug length. */
size_t ts_slug(const char *in, char *out, size_t outsz);

#endif
