#ifndef TRAWL_SANDBOX_INTERNAL_H
#define TRAWL_SANDBOX_INTERNAL_H

/* Shared by the sandbox's own files; not part of the interface. */

#include <stddef.h>

/** Moves keep_fd to 3 and keep2 (if >= 0, close-on-exec) to 4, closes every other fd. */
int sbx_close_fds(int keep_fd, int keep2, char *err, size_t errlen);

#endif
