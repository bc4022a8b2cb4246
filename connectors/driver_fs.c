#include "driver_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FS_MAX_FILES 10000000L
#define FS_MAX_DEPTH 64

struct fs_source {
    int rootfd;
    int walked;
    json_t *exclude; /* shell patterns on names; "name/" for folders */
    struct fs_file *files;
    long n, alloc;
    char *root;
};

struct fs_source *fs_source_open(const char *root, char *err, size_t errlen)
{
    struct fs_source *fs = calloc(1, sizeof *fs);

    if (!fs) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fs->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs->rootfd < 0) {
        snprintf(err, errlen, "cannot open folder '%s': %s", root, strerror(errno));
        free(fs);
        return NULL;
    }
    fs->root = strdup(root);
    return fs;
}

void fs_source_free(struct fs_source *fs)
{
    if (!fs)
        return;
    for (long i = 0; i < fs->n; i++)
        free((char *)fs->files[i].path);
    free(fs->files);
    free(fs->root);
    json_decref(fs->exclude);
    if (fs->rootfd >= 0)
        close(fs->rootfd);
    free(fs);
}

int fs_source_exclude(struct fs_source *fs, const json_t *patterns, char *err, size_t errlen)
{
    size_t i;
    json_t *p;

    if (!patterns)
        return 0;
    if (!json_is_array(patterns)) {
        snprintf(err, errlen, "\"exclude\" must be an array of name patterns");
        return -1;
    }
    json_array_foreach(patterns, i, p)
    {
        const char *s = json_string_value(p);
        if (!s || !*s || strcmp(s, "/") == 0 || strlen(s) > 255) {
            snprintf(err, errlen,
                     "\"exclude\" item %zu must be a name pattern such as \"*.tmp\" or \"tmp/\"",
                     i);
            return -1;
        }
        if (!fs->exclude)
            fs->exclude = json_array();
        json_array_append(fs->exclude, p);
    }
    fs->walked = 0; /* a later listing applies them */
    return 0;
}

/* 1 when the file (or folder, dir != 0) called name is left out of the listing. */
static int fs_excluded(const struct fs_source *fs, const char *name, int dir)
{
    size_t i;
    json_t *p;
    char pat[256];

    json_array_foreach(fs->exclude, i, p)
    {
        const char *s = json_string_value(p);
        size_t n = strlen(s);
        if (s[n - 1] == '/') {
            if (!dir)
                continue;
            snprintf(pat, sizeof pat, "%.*s", (int)(n - 1), s);
            s = pat;
        } else if (dir) {
            continue;
        }
        if (fnmatch(s, name, FNM_PERIOD) == 0)
            return 1;
    }
    return 0;
}

static int fs_add(struct fs_source *fs, const char *path, const struct stat *st)
{
    if (fs->n == FS_MAX_FILES)
        return -1;
    if (fs->n == fs->alloc) {
        long na = fs->alloc ? fs->alloc * 2 : 1024;
        struct fs_file *nf = realloc(fs->files, (size_t)na * sizeof *nf);
        if (!nf)
            return -1;
        fs->files = nf;
        fs->alloc = na;
    }
    fs->files[fs->n].path = strdup(path);
    if (!fs->files[fs->n].path)
        return -1;
    fs->files[fs->n].size = st->st_size;
    fs->files[fs->n].mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    fs->n++;
    return 0;
}

/* Walks dirfd (owned) whose path relative to the root is prefix. */
static int fs_walk(struct fs_source *fs, int dirfd, const char *prefix, int depth, char *err,
                   size_t errlen)
{
    DIR *d = fdopendir(dirfd);
    struct dirent *e;
    char path[4096];

    if (!d) {
        close(dirfd);
        snprintf(err, errlen, "cannot read folder '%s/%s': %s", fs->root, prefix, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* vanished while we walked */
        if ((size_t)snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name) >=
            sizeof path)
            continue; /* absurdly deep: skipped */
        if (fs->exclude && fs_excluded(fs, e->d_name, S_ISDIR(st.st_mode)))
            continue;
        if (S_ISREG(st.st_mode)) {
            if (fs_add(fs, path, &st) < 0) {
                snprintf(err, errlen, "folder '%s' has more than %ld files", fs->root,
                         FS_MAX_FILES);
                closedir(d);
                return -1;
            }
        } else if (S_ISDIR(st.st_mode) && depth < FS_MAX_DEPTH) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0 && fs_walk(fs, sub, path, depth + 1, err, errlen) < 0) {
                closedir(d);
                return -1;
            }
        }
        /* symlinks, devices, fifos and sockets are not content: skipped */
    }
    closedir(d);
    return 0;
}

static int fs_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fs_file *)a)->path, ((const struct fs_file *)b)->path);
}

static int fs_ensure_walked(struct fs_source *fs, char *err, size_t errlen)
{
    int fd;

    if (fs->walked)
        return 0;
    fd = openat(fs->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fs_walk(fs, fd, "", 0, err, errlen) < 0) {
        if (fd < 0)
            snprintf(err, errlen, "cannot read folder '%s': %s", fs->root, strerror(errno));
        return -1;
    }
    qsort(fs->files, (size_t)fs->n, sizeof *fs->files, fs_cmp);
    fs->walked = 1;
    return 0;
}

long fs_source_count(struct fs_source *fs, char *err, size_t errlen)
{
    return fs_ensure_walked(fs, err, errlen) < 0 ? -1 : fs->n;
}

int fs_source_page(struct fs_source *fs, const char *after, int limit, const struct fs_file **files,
                   int *n, int *more, char *err, size_t errlen)
{
    long lo = 0, hi;

    if (fs_ensure_walked(fs, err, errlen) < 0)
        return -1;
    hi = fs->n;
    if (after) { /* first index whose path sorts after `after` */
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            if (strcmp(fs->files[mid].path, after) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    *files = fs->files + lo;
    *n = (int)(fs->n - lo < limit ? fs->n - lo : limit);
    *more = lo + *n < fs->n;
    return 0;
}

int fs_source_all(struct fs_source *fs, const struct fs_file **files, long *n, char *err,
                  size_t errlen)
{
    if (fs_ensure_walked(fs, err, errlen) < 0)
        return -1;
    *files = fs->files;
    *n = fs->n;
    return 0;
}

static int fs_rel_ok(const char *rel)
{
    const char *p = rel;

    if (!*rel || *rel == '/' || strlen(rel) >= 4096)
        return 0;
    for (;;) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!s)
            return 1;
        p = s + 1;
    }
}

/* The copy's file: created (reuse 0), or the same file again, overwritten
 * from its start (reuse 1: an inode allocated and one freed per item cost
 * ext4 a scan past every recently deleted inode, a third of the master's
 * loop on /usr/share/doc; emptying it first would make ext4 write it out on
 * close, so the copy goes over the old bytes and the rest is cut after).
 * The directory is the explorer's: whatever it put under that name other
 * than a regular file of one link is refused, and a FIFO cannot block. */
int fs_payload_open(int dirfd, const char *name, int reuse)
{
    struct stat st;
    int fd =
        openat(dirfd, name,
               O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (reuse ? O_NONBLOCK : O_EXCL), 0644);

    if (fd < 0 || !reuse)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

static int64_t fetch_into(struct fs_source *fs, const char *rel, int dest_dirfd,
                          const char *dest_name, int reuse, int64_t max_size, char *err,
                          size_t errlen)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                      RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    struct stat st;
    int in, out;
    int64_t total = 0;

    if (!fs_rel_ok(rel)) {
        snprintf(err, errlen, "path '%.200s' is not a relative path inside the source", rel);
        return -1;
    }
    in = (int)syscall(SYS_openat2, fs->rootfd, rel, &how, sizeof how);
    if (in < 0) {
        snprintf(err, errlen, "cannot open '%.200s' in '%s': %s", rel, fs->root,
                 errno == EXDEV || errno == ELOOP ? "it leaves the source (symlink or mount)"
                                                  : strerror(errno));
        return -1;
    }
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "'%.200s' is not a regular file", rel);
        close(in);
        return -1;
    }
    if (st.st_size > max_size) {
        snprintf(err, errlen, "'%.200s' is %lld bytes, over the %lld-byte limit per file", rel,
                 (long long)st.st_size, (long long)max_size);
        close(in);
        return -1;
    }
    out = fs_payload_open(dest_dirfd, dest_name, reuse);
    if (out < 0) {
        snprintf(err, errlen, "cannot write the copy of '%.200s': %s", rel, strerror(errno));
        close(in);
        return -1;
    }
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0);
        if (n < 0 &&
            (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            char buf[65536];
            n = read(in, buf, sizeof buf);
            if (n > 0 && write(out, buf, (size_t)n) != n)
                n = -1;
        }
        if (n < 0) {
            snprintf(err, errlen, "copying '%.200s': %s", rel, strerror(errno));
            total = -1;
            break;
        }
        if (n == 0)
            break;
        total += n;
        if (total > max_size) { /* grew while we copied */
            snprintf(err, errlen, "'%.200s' grew over the %lld-byte limit", rel,
                     (long long)max_size);
            total = -1;
            break;
        }
    }
    if (total >= 0 && reuse) { /* the old content's tail, if longer */
        struct stat ost;
        if (fstat(out, &ost) < 0 || (ost.st_size > total && ftruncate(out, total) < 0)) {
            snprintf(err, errlen, "copying '%.200s': %s", rel, strerror(errno));
            total = -1;
        }
    }
    close(in);
    close(out);
    if (total < 0)
        unlinkat(dest_dirfd, dest_name, 0);
    return total;
}

int64_t fs_source_fetch(struct fs_source *fs, const char *rel, int dest_dirfd,
                        const char *dest_name, int64_t max_size, char *err, size_t errlen)
{
    return fetch_into(fs, rel, dest_dirfd, dest_name, 0, max_size, err, errlen);
}

/* ---- the fs driver's operations -------------------------------------------------- */

#include "driver.h"

static void fs_version(const struct fs_file *f, char *v, size_t n)
{
    snprintf(v, n, "%lld:%lld", (long long)f->size, (long long)f->mtime_ns);
}

static const struct fs_file *fs_find(struct fs_source *fs, const char *path, size_t n)
{
    const struct fs_file *all;
    long total, lo = 0, hi;
    char err[64];

    if (fs_source_all(fs, &all, &total, err, sizeof err) < 0)
        return NULL;
    hi = total;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        int c = strncmp(all[mid].path, path, n);
        if (c == 0 && all[mid].path[n] != '\0')
            c = 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < total && strncmp(all[lo].path, path, n) == 0 && all[lo].path[n] == '\0')
        return &all[lo];
    return NULL;
}

int fs_source_exclude_for(struct fs_source *fs, const json_t *toolkit, const json_t *settings,
                          char *err, size_t errlen)
{
    char e[200];

    if (fs_source_exclude(fs, json_object_get(toolkit, "exclude"), e, sizeof e) < 0) {
        snprintf(err, errlen, "toolkit: %s", e);
        return -1;
    }
    if (fs_source_exclude(fs, json_object_get(settings, "exclude"), e, sizeof e) < 0) {
        snprintf(err, errlen, "source: %s", e);
        return -1;
    }
    return 0;
}

static int fs_op_open(struct driver_source *s, char *err, size_t errlen)
{
    const char *path = json_string_value(json_object_get(s->settings, "path"));

    if (!path) {
        snprintf(err, errlen, "source has no \"path\"");
        return -1;
    }
    s->state = fs_source_open(path, err, errlen);
    if (s->state && fs_source_exclude_for(s->state, s->toolkit, s->settings, err, errlen) < 0) {
        fs_source_free(s->state);
        s->state = NULL;
    }
    return s->state ? 0 : -1;
}

static int fs_op_call(struct driver_source *s, struct driver_call *call, const char *op,
                      json_t *args, json_t **out, char *err, size_t errlen)
{
    struct fs_source *fs = s->state;

    (void)call; /* local files answer at once */
    if (strcmp(op, "list") == 0) {
        const char *after = json_string_value(json_object_get(args, "after"));
        json_t *lim = json_object_get(args, "limit");
        int limit = lim ? (int)json_integer_value(lim) : 200, n, more;
        const struct fs_file *files;
        json_t *arr = json_array();

        if (limit < 1 || limit > 1000)
            limit = 200;
        if (fs_source_page(fs, after, limit, &files, &n, &more, err, errlen) < 0) {
            json_decref(arr);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            char v[64];
            fs_version(&files[i], v, sizeof v);
            json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:b}", "path", files[i].path, "size",
                                                 (json_int_t)files[i].size, "mtime_ns",
                                                 (json_int_t)files[i].mtime_ns, "known",
                                                 s->known(s->known_arg, files[i].path, v)));
        }
        *out = json_object();
        json_object_set_new(*out, "files", arr);
        if (more && n > 0)
            json_object_set_new(*out, "next", json_string(files[n - 1].path));
        return 0;
    }
    if (strcmp(op, "fetch") == 0) {
        const char *path = json_string_value(json_object_get(args, "path"));
        const struct fs_file *f;
        char name[32], rel[64], v[64];
        int64_t size;

        /* one file, rewritten per fetch: the explorer asks for the next
         * item once it has read this one (it keeps the file, "reuse") */
        snprintf(name, sizeof name, "fetched");
        snprintf(rel, sizeof rel, "%.20s/%s", s->payload_dir, name);
        size = fetch_into(fs, path, s->payload_dirfd, name, 1, DRIVER_MAX_PAYLOAD, err, errlen);
        if (size < 0)
            return -1;
        f = fs_find(fs, path, strlen(path));
        if (f)
            fs_version(f, v, sizeof v);
        *out = json_pack("{s:s,s:I,s:b}", "file", rel, "size", (json_int_t)size, "reuse", 1);
        if (f)
            json_object_set_new(*out, "version", json_string(v));
        return 0;
    }
    snprintf(err, errlen, "the fs driver has no operation '%s'", op);
    return -1;
}

static int fs_op_present(struct driver_source *s, const char *external_id)
{
    const char *hash = strchr(external_id, '#');
    size_t n = hash ? (size_t)(hash - external_id) : strlen(external_id);

    return fs_find(s->state, external_id, n) != NULL;
}

static void fs_op_close(struct driver_source *s)
{
    fs_source_free(s->state);
    s->state = NULL;
}

static const char *const fs_operations[] = {"list", "fetch", NULL};

const struct driver_ops driver_fs_ops = {"fs",          fs_op_open,  fs_op_call,
                                         fs_op_present, fs_op_close, fs_operations};
