#ifndef TRAWL_EXTRACT_H
#define TRAWL_EXTRACT_H

/*
 * Text extraction, run inside sandboxed explorers on untrusted files. Every
 * output is valid UTF-8 and capped; a file that cannot be read as text gives
 * a document with metadata and no text, never an abort.
 */

#include "buf.h"

#include <stddef.h>

#define EXTRACT_MAX_TEXT ((size_t)4 << 20) /* fits a protocol frame */

/* A large file takes time legitimately (a 50 GB Takeout part, a 2 GB mbox):
 * its time budget grows by one second per 16 MiB. */
#define EXTRACT_SECONDS_PER_BYTE (1.0 / (16 << 20))

#include <jansson.h>

/**
 * One document found in a file. A plain file gives one, with part NULL; a
 * container (an archive, an mbox, a mail with attachments) gives one per
 * part, each named by a stable part id ("dir/a.txt" in a zip, "3" for the
 * third message of an mbox, "3/2" for its second attachment) and pointing at
 * the part that holds it. All strings are UTF-8 and borrowed for the call.
 */
struct extract_doc {
    const char *part;        /* NULL: the file itself */
    const char *parent_part; /* NULL: directly in the file */
    const char *title, *mime, *author, *created, *modified;
    const char *text;
    size_t text_len;
    json_t *metadata; /* may be NULL; borrowed */
};

/** Receives each document; a non-zero return stops the extraction. */
typedef int (*extract_emit_fn)(const struct extract_doc *d, void *arg);

/** Limits for hostile input (zeros mean the defaults). */
struct extract_limits {
    int max_depth;          /* nested containers, default 3 */
    long max_parts;         /* parts per file, default 100000 */
    long long max_expanded; /* bytes unpacked per file, default 4 GiB */
    double max_ratio;       /* unpacked / packed bytes, default 200 */
    double max_seconds;     /* wall-clock time per file, nested parts included, default 10,
                               plus EXTRACT_SECONDS_PER_BYTE for each byte of the file */
    /* Shared by a file and everything nested in it, so limits hold across
     * levels (a 42.zip); NULL at the top, set by containers that hand their
     * members back to extract_file. */
    struct extract_budget *budget;
};

/** What a file and its nested containers have used of the limits so far. */
struct extract_budget {
    int depth;          /* containers open above the current file */
    long parts;         /* members seen */
    long long expanded; /* bytes unpacked */
    long long packed;   /* size of the top-level file */
    long seq;           /* for temporary file names */
    double deadline;    /* CLOCK_MONOTONIC seconds when the time budget runs out */
    double seconds;     /* the budget (max_seconds), for messages */
    char tmpdir[1024];  /* where members are unpacked for extraction: beside the top file */
    char error[512];    /* the first limit hit: everything stops */
};

/**
 * Copies in (NULL: none) to out with the defaults for limits left at zero.
 * When in carries no budget, path is the top of a container tree: own
 * becomes its budget (packed size, and the directory beside the file for
 * members unpacked to be read). Containers call this on entry.
 */
void extract_limits_setup(struct extract_limits *out, const struct extract_limits *in,
                          struct extract_budget *own, const char *path);

/**
 * 1 once the file's time budget (max_seconds) is spent: the budget's error
 * then says "time budget exceeded ..." and every extractor on the file stops,
 * reporting it in the metadata of what it emits ("extract_error"). Cheap
 * enough to call per block or per message.
 */
int extract_budget_late(struct extract_budget *b);

/**
 * Extracts the documents of the file at path (name is its original name, for
 * type hints) and hands each to fn. Returns the number of documents, or -1
 * with a message in err when the file cannot be read at all; problems with
 * single parts are reported in their metadata ("extract_error") while the
 * rest goes on.
 */
long extract_file(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen);

/**
 * 1 when extract_file, given a file named name holding these n bytes, would
 * make of them exactly one text/plain document whose text is the bytes as
 * they are (clean UTF-8 text that no extractor, decompressor or archive
 * reader claims), so a caller holding them in memory may skip the file. 0
 * says nothing more than "use extract_file".
 */
int extract_text_as_is(const char *name, const char *p, size_t n);

/**
 * Appends bytes to out as valid UTF-8: invalid sequences become U+FFFD and
 * NUL bytes are dropped. Returns 0, or -1 when out's cap is reached.
 */
int extract_utf8_clean(struct buf *out, const char *p, size_t n);

/** 1 when the n bytes are valid UTF-8 without NUL bytes (what extract_utf8_clean keeps as is). */
int extract_utf8_valid(const char *s, size_t n);

/** True when the first bytes look like text rather than binary data. */
int extract_looks_textual(const unsigned char *p, size_t n);

/**
 * The file type of a path as the forum and the planner name it: its
 * extension in lower case (letters and digits, under 16 bytes), or "" when
 * there is none; a version number such as "GPL-3.0" is not a file type.
 */
void extract_file_type(const char *path, char out[16]);

#endif
