#ifndef TRAWL_BUF_H
#define TRAWL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/**
 * A growable byte buffer with a hard size cap, in the way of git's strbuf and
 * curl's dynbuf. Every byte read from a child, a file or the network goes
 * through one, so no input can make us allocate without bound. The contents
 * are always NUL-terminated once anything was added.
 */
struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* the most bytes data may hold, not counting the NUL */
};

#define BUF_CAP_DEFAULT ((size_t)64 << 20)
#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0, BUF_CAP_DEFAULT                                                                \
    }

/** Sets up an empty buffer that refuses to grow past cap bytes. */
void buf_init(struct buf *b, size_t cap);

/** Frees the contents; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);

/** Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/** Appends n bytes. Returns 0, or -1 when the cap or memory would be exceeded (nothing added). */
int buf_add(struct buf *b, const void *p, size_t n);

/** Appends a NUL-terminated string; see buf_add. */
int buf_adds(struct buf *b, const char *s);

/** Appends one byte; see buf_add. */
int buf_addch(struct buf *b, int c);

/** Appends printf-style formatted text; see buf_add. */
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The contents as a C string: never NULL, "" when empty. Owned by the buffer. */
const char *buf_str(const struct buf *b);

/**
 * Appends the whole file at path to b. Returns 0, or -1 with errno set
 * (EFBIG when the file does not fit under b's cap).
 */
int buf_read_file(struct buf *b, const char *path);

/** Hands the contents to the caller (free() them); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
