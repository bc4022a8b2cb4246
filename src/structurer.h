#ifndef TRAWL_STRUCTURER_H
#define TRAWL_STRUCTURER_H

/*
 * The structure phase. The master collects the documents the explorers
 * emitted, forks K structurers (role "structurer"), and hands them batches
 * over the protocol: a structurer pulls work with structure/next and returns
 * term vectors, SimHash signatures and extractive summaries with
 * structure/result. The master then runs the whole-corpus steps (vocabulary,
 * BM25, clustering into domains on vectors in context and skills within
 * them, c-TF-IDF labels, near-duplicate groups; the CPU-heavy parts on K
 * threads) and writes the entries in one transaction. Deterministic:
 * documents are ordered by (source, external id) before anything else
 * happens, and no result depends on K.
 */

#include "kb.h"
#include "textstat.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Why a document is noise (newsletters, notifications), a bit set. */
enum {
    SPHASE_NOISE_UNSUBSCRIBE = 1, /* List-Unsubscribe header */
    SPHASE_NOISE_BULK = 2,        /* Precedence: bulk, list or junk */
    SPHASE_NOISE_AUTO = 4,        /* Auto-Submitted other than "no" */
    SPHASE_NOISE_NOREPLY = 8,     /* a no-reply sender address */
    SPHASE_NOISE_VOLUME = 16,     /* a high-volume sender nobody replies to */
    SPHASE_NOISE_FORUM = 32,      /* a sender the forum knows as noise */
};

struct sphase_item {
    char *source, *ext, *title, *text, *file_type;
    char *thread;      /* normalised subject (mail thread_key), or NULL */
    char *msgid, *irt; /* Message-ID and In-Reply-To, or NULL */
    char **refs;       /* References */
    size_t nrefs;
    char *from; /* sender address, lower case, or NULL */
    int reply;  /* the subject had Re:/Fwd: */
    unsigned noise;
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

/* Remember a document for the structure phase (text capped). meta is the
 * document's metadata (borrowed, may be NULL): file_type, and for mail
 * thread_key, message_id, in_reply_to, references, from_address,
 * precedence, list_unsubscribe, auto_submitted. */
int sphase_add(struct sphase *p, const char *source, const char *ext, const char *title,
               const char *text, json_t *meta);
void sphase_free(struct sphase *p);

/* Replace the documents held by every stored, not deleted document of the
 * client (for a rebuild, or the first structuring of a client whose earlier
 * runs were interrupted). Returns 0 or -1 with err. */
int sphase_load_stored(struct sphase *p, struct kb *kb, int64_t client_id, char *err,
                       size_t errlen);

/* Run the phase with K structurers, workspaces under root. When the client
 * already has a structured tree (skill nodes with keywords) and rebuild is 0,
 * the documents are placed into it without reshaping it, together with the
 * stored documents an earlier run left without an entry; otherwise (rebuild,
 * or no tree yet) every stored document of the client is structured afresh.
 * With nothing to do (no documents, no unplaced ones, no rebuild) it returns
 * 0 at once. Writes entries (keys "doc:<source>:<ext>", replacing a folder
 * placement) inside a transaction of its own. Returns 0 or -1 with err. */
int sphase_run(struct sphase *p, struct kb *kb, int64_t client_id, int K, const char *root,
               int strict, int rebuild, FILE *log, char *err, size_t errlen);

/* Reads a structurer's term lines ("stem\tword\tcount\n", stems strictly
 * ascending) into d (hostile input: any bytes). Lines that are malformed,
 * out of order, duplicated or oversized are dropped. Returns how many were
 * dropped, or -1 (out of memory). ts_doc_free(d) afterwards. */
int sphase_terms_parse(const char *s, size_t len, struct ts_doc *d);

/* What a structurer analyses of a mail document's text: the extractor's
 * header lines give only the subject (no Re:/Fwd:), then the body. Appends
 * to out. */
void sphase_mail_content(const char *text, struct buf *out);

/* The structurer child: fn for worker_spawn. */
int structurer_main(int fd, void *arg);

#endif
