/*
 * The archive driver: an export archive (Takeout, Slack, Notion, any zip or
 * tarball) or a folder of them. The master never parses an archive: it lists
 * the file(s) and copies one whole into the explorer's workspace, where the
 * sandboxed explorer expands it (src/extract_archive.c). A folder is read by
 * the fs driver; a single file is its own one-item listing, so the folder it
 * lies in is never walked.
 */
#include "driver.h"
#include "driver_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Exports are large: a Takeout part is 2 to 50 GB. */
#define ARCHIVE_DEFAULT_MAX ((int64_t)64 << 30)

extern const struct driver_ops driver_fs_ops;

struct archive_source {
    struct fs_source *fs;
    char *root; /* the folder (the archive's own folder for a single file) */
    char *only; /* the archive's name in root, or NULL for a folder of archives */
    int64_t max;
};

static int archive_op_open(struct driver_source *s, char *err, size_t errlen)
{
    const char *path = json_string_value(json_object_get(s->settings, "path"));
    json_t *max = json_object_get(s->settings, "max_archive_bytes");
    struct archive_source *as;
    struct stat st;

    if (!path) {
        snprintf(err, errlen, "source has no \"path\" (an archive file or a folder of archives)");
        return -1;
    }
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "cannot open archive source '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "archive source '%s' is neither a file nor a folder", path);
        return -1;
    }
    if (max && (!json_is_integer(max) || json_integer_value(max) < 1)) {
        snprintf(err, errlen, "\"max_archive_bytes\" must be a positive integer");
        return -1;
    }
    as = calloc(1, sizeof *as);
    if (!as) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    as->max = max ? (int64_t)json_integer_value(max) : ARCHIVE_DEFAULT_MAX;
    if (S_ISDIR(st.st_mode)) {
        as->root = strdup(path);
    } else {
        const char *slash = strrchr(path, '/');
        as->only = strdup(slash ? slash + 1 : path);
        as->root = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        if (as->root && !as->root[0]) {
            free(as->root);
            as->root = strdup("/");
        }
    }
    if (!as->root || (S_ISREG(st.st_mode) && !as->only)) {
        snprintf(err, errlen, "out of memory");
        free(as->root);
        free(as->only);
        free(as);
        return -1;
    }
    as->fs = fs_source_open(as->root, err, errlen);
    if (!as->fs) {
        free(as->root);
        free(as->only);
        free(as);
        return -1;
    }
    s->state = as;
    return 0;
}

/* The version of a file, as the fs driver writes it: size and mtime. */
static int archive_version(struct archive_source *as, const char *rel, struct stat *st, char *v,
                           size_t n)
{
    char full[8192];

    if ((size_t)snprintf(full, sizeof full, "%s/%s", as->root, rel) >= sizeof full ||
        lstat(full, st) < 0 || !S_ISREG(st->st_mode))
        return -1;
    snprintf(v, n, "%lld:%lld", (long long)st->st_size,
             (long long)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec);
    return 0;
}

/* Runs an fs operation on the folder. */
static int archive_fs_call(struct driver_source *s, struct driver_call *call, const char *op,
                           json_t *args, json_t **out, char *err, size_t errlen)
{
    struct archive_source *as = s->state;
    int rc;

    s->state = as->fs;
    rc = driver_fs_ops.call(s, call, op, args, out, err, errlen);
    s->state = as;
    return rc;
}

static int archive_op_call(struct driver_source *s, struct driver_call *call, const char *op,
                           json_t *args, json_t **out, char *err, size_t errlen)
{
    struct archive_source *as = s->state;

    if (strcmp(op, "list") == 0) {
        struct stat st;
        char v[64];
        const char *after = json_string_value(json_object_get(args, "after"));

        if (!as->only)
            return archive_fs_call(s, call, op, args, out, err, errlen);
        *out = json_object();
        json_t *arr = json_array();
        if ((!after || strcmp(after, as->only) < 0) &&
            archive_version(as, as->only, &st, v, sizeof v) == 0)
            json_array_append_new(
                arr, json_pack("{s:s,s:I,s:I,s:b}", "path", as->only, "size",
                               (json_int_t)st.st_size, "mtime_ns",
                               (json_int_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                               "known", s->known(s->known_arg, as->only, v)));
        json_object_set_new(*out, "files", arr);
        return 0;
    }
    if (strcmp(op, "fetch") == 0) {
        const char *path = json_string_value(json_object_get(args, "path"));
        char name[32], rel[64], v[64];
        struct stat st;
        int64_t size;

        if (!path || (as->only && strcmp(path, as->only) != 0)) {
            snprintf(err, errlen, "'%.200s' is not this source's archive '%s'", path ? path : "",
                     as->only);
            return -1;
        }
        /* the version first: a file replaced during the copy is fetched again next run */
        int have_v = archive_version(as, path, &st, v, sizeof v) == 0;
        snprintf(name, sizeof name, "a%06ld", ++s->payload_seq);
        snprintf(rel, sizeof rel, "%.20s/%s", s->payload_dir, name);
        size = fs_source_fetch(as->fs, path, s->payload_dirfd, name, as->max, err, errlen);
        if (size < 0)
            return -1;
        *out = json_pack("{s:s,s:I}", "file", rel, "size", (json_int_t)size);
        if (have_v)
            json_object_set_new(*out, "version", json_string(v));
        return 0;
    }
    snprintf(err, errlen, "the archive driver has no operation '%s'", op);
    return -1;
}

static int archive_op_present(struct driver_source *s, const char *external_id)
{
    struct archive_source *as = s->state;
    const char *hash = strchr(external_id, '#');
    size_t n = hash ? (size_t)(hash - external_id) : strlen(external_id);
    int rc;

    if (as->only) {
        struct stat st;
        char v[64];
        return strlen(as->only) == n && strncmp(external_id, as->only, n) == 0 &&
               archive_version(as, as->only, &st, v, sizeof v) == 0;
    }
    s->state = as->fs;
    rc = driver_fs_ops.present(s, external_id);
    s->state = as;
    return rc;
}

static void archive_op_close(struct driver_source *s)
{
    struct archive_source *as = s->state;

    if (!as)
        return;
    fs_source_free(as->fs);
    free(as->root);
    free(as->only);
    free(as);
    s->state = NULL;
}

static const char *const archive_operations[] = {"list", "fetch", NULL};

const struct driver_ops driver_archive_ops = {"archive",        archive_op_open,
                                              archive_op_call,  archive_op_present,
                                              archive_op_close, archive_operations};
