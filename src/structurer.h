#ifndef TRAWL_STRUCTURER_H
#define TRAWL_STRUCTURER_H

/*
 * The structure phase. The master collects the documents the explorers
 * emitted, forks K structurers (role "structurer"), and hands them batches
 * over the protocol: a structurer pulls work with structure/next and returns
 * term vectors, SimHash signatures and extractive summaries with
 * structure/result. The master then runs the whole-corpus steps (vocabulary,
 * BM25, clustering into domains and skills, c-TF-IDF labels, near-duplicate
 * groups) and writes the entries in one transaction. Deterministic: documents
 * are ordered by (source, external id) before anything else happens.
 */

#include "kb.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sphase_item {
    char *source, *ext, *title, *text, *file_type;
    char *thread; /* mail thread key from the document metadata, or NULL */
};

struct sphase {
    struct sphase_item *v;
    size_t n, cap;
    /* The client's taxonomy from the sources file (borrowed, may be NULL):
     * {"domains": [{"slug", "title", "description", "keywords": [...],
     *   "skills": [{"slug", "title", "description", "keywords": [...]}]}]}.
     * It outranks everything: a document using a skill's keywords goes there. */
    json_t *taxonomy;
    const char *client; /* for stripping identifying words from global patterns */
    int64_t run_id;
};

#define SPHASE_TEXT_MAX 65536 /* bytes of text a structurer sees per document */

/* Remember a document for the structure phase (text capped). */
int sphase_add(struct sphase *p, const char *source, const char *ext, const char *title,
               const char *text, const char *file_type, const char *thread_key);
void sphase_free(struct sphase *p);

/* Run the phase with K structurers, workspaces under root. When the client
 * already has a structured tree (skill nodes with keywords) and rebuild is 0,
 * the documents are placed into it without reshaping it. Writes entries
 * (keys "doc:<source>:<ext>", so they replace the explore-time placement)
 * inside a transaction of its own. Returns 0 or -1 with err. */
int sphase_run(struct sphase *p, struct kb *kb, int64_t client_id, int K, const char *root,
               int strict, int rebuild, FILE *log, char *err, size_t errlen);

/* The structurer child: fn for worker_spawn. */
int structurer_main(int fd, void *arg);

#endif
