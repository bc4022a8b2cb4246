#ifndef TRAWL_DRIVER_FS_H
#define TRAWL_DRIVER_FS_H

/*
 * The fs driver: a local directory tree read by the master on behalf of an
 * explorer. Listing walks the tree once, without following symlinks, into a
 * sorted list; fetching copies one file into the explorer's workspace. Paths
 * are resolved beneath the root with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so neither ../ nor a symlink can leave it.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_source;

/** Opens the tree at root. NULL with a message in err when it cannot be read. */
struct fs_source *fs_source_open(const char *root, char *err, size_t errlen);

void fs_source_free(struct fs_source *fs);

/**
 * Leaves files and folders out of the listing by name: each item of patterns
 * (a JSON array of strings) is a shell pattern (fnmatch) on a file's name, or
 * on a folder's name when it ends with '/' (the folder's whole subtree is
 * skipped). Index and control files of mail servers, for example. -1 with
 * err when patterns is not such an array.
 */
int fs_source_exclude(struct fs_source *fs, const json_t *patterns, char *err, size_t errlen);

/** fs_source_exclude with the toolkit's "exclude" and then the source's own. */
int fs_source_exclude_for(struct fs_source *fs, const json_t *toolkit, const json_t *settings,
                          char *err, size_t errlen);

/** Number of regular files found (walks the tree on first use). */
long fs_source_count(struct fs_source *fs, char *err, size_t errlen);

struct fs_file {
    const char *path; /* relative to the root */
    int64_t size;
    int64_t mtime_ns;
};

/**
 * A page of files sorting after `after` (NULL = from the start), at most
 * limit. Returns the number in *files (pointers into the source, valid until
 * it is freed), and sets *more when files remain. -1 with err on failure.
 */
int fs_source_page(struct fs_source *fs, const char *after, int limit, const struct fs_file **files,
                   int *n, int *more, char *err, size_t errlen);

/** Every listed file, in order (for marking deleted documents). */
int fs_source_all(struct fs_source *fs, const struct fs_file **files, long *n, char *err,
                  size_t errlen);

/**
 * Opens a payload file in an explorer's inbox for writing: created (reuse 0,
 * never an existing name), or the one kept from the last fetch (reuse 1; the
 * caller writes from its start and cuts the old tail), refused (-1, errno)
 * unless it is a regular file of one link; never blocks on a FIFO.
 */
int fs_payload_open(int dirfd, const char *name, int reuse);

/**
 * Copies the file at rel into dest_dirfd/dest_name (created, never
 * overwritten, mode 0644). Files over max_size are refused. Returns the byte
 * count, or -1 with err.
 */
int64_t fs_source_fetch(struct fs_source *fs, const char *rel, int dest_dirfd,
                        const char *dest_name, int64_t max_size, char *err, size_t errlen);

#endif
