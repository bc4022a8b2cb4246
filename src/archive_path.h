#ifndef TRAWL_ARCHIVE_PATH_H
#define TRAWL_ARCHIVE_PATH_H

/*
 * Member names of hostile archives become part ids (and, for nested
 * containers, hints for temporary files), so they are rewritten into a
 * relative, clean, bounded UTF-8 path before anything else sees them.
 */

#include "buf.h"

#include <stddef.h>

#define ARCHIVE_PATH_ABSOLUTE 0x01  /* leading '/', '//' or a drive letter removed */
#define ARCHIVE_PATH_DOTDOT 0x02    /* '..' components dropped */
#define ARCHIVE_PATH_BACKSLASH 0x04 /* '\' taken as a separator */
#define ARCHIVE_PATH_CONTROL 0x08   /* NUL or control characters replaced */
#define ARCHIVE_PATH_UTF8 0x10      /* invalid UTF-8 repaired */
#define ARCHIVE_PATH_LONG 0x20      /* components or the whole path cut */
#define ARCHIVE_PATH_EMPTY 0x40     /* nothing was left: named "_" */

#define ARCHIVE_PATH_MAX 1024      /* bytes in a sanitised path */
#define ARCHIVE_PATH_COMPONENT 255 /* bytes in one component */
#define ARCHIVE_PATH_DEPTH 64      /* components in a path */

/**
 * Writes the sanitised form of the n bytes at raw into out (reset first):
 * components joined by '/', none empty, "." or "..", no leading '/', no
 * backslash, no byte below 0x20 or 0x7f, valid UTF-8, at most
 * ARCHIVE_PATH_MAX bytes. Returns the ARCHIVE_PATH_* flags of what had to
 * change (0: the name was clean), or -1 when out could not grow.
 */
int archive_path_sanitise(const char *raw, size_t n, struct buf *out);

/** The flags as a short English phrase ("absolute path, '..' removed"), into dst. */
void archive_path_describe(int flags, char *dst, size_t dstlen);

#endif
