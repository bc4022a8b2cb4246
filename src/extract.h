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

struct extract_result {
    const char *mime; /* static string */
    struct buf text;  /* UTF-8 */
    int truncated;    /* text hit EXTRACT_MAX_TEXT */
    int compressed;   /* came out of a gzip/bzip2/xz/zstd stream */
};

/** Sets up r; extract_result_release() frees it. */
void extract_result_init(struct extract_result *r);
void extract_result_release(struct extract_result *r);

/**
 * Extracts the text of the file at path (name is the original name, for
 * hints). Returns 0 (r filled), or -1 with a message in err when the file
 * cannot be read at all.
 */
int extract_file(const char *path, const char *name, struct extract_result *r, char *err,
                 size_t errlen);

/**
 * Appends bytes to out as valid UTF-8: invalid sequences become U+FFFD and
 * NUL bytes are dropped. Returns 0, or -1 when out's cap is reached.
 */
int extract_utf8_clean(struct buf *out, const char *p, size_t n);

/** True when the first bytes look like text rather than binary data. */
int extract_looks_textual(const unsigned char *p, size_t n);

#endif
