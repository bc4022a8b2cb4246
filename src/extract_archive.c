/*
 * Archive expansion inside the explorer. libarchive streams the members; a
 * member is unpacked into a numbered temporary file beside the archive (in
 * the workspace, never under its own name) only so that extract_file's type
 * dispatch (mail, office, nested archives, text) can read it like any file,
 * and is removed as soon as it has been extracted.
 *
 * Two passes: the first reads only the headers (names for the layouts,
 * counts, a few small index files), the second extracts. Limits are kept in
 * an extract_budget shared with every nested level, so a 42.zip or an
 * overlapping-entry zip stops at the same bytes as a flat bomb would.
 */
#include "extract_archive.h"

#include "archive_path.h"
#include "extract_layout.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARC_BLOCK 65536
#define ARC_RATIO_FLOOR ((long long)32 << 20) /* small archives may expand this much anyway */
#define ARC_LISTING_MAX ((size_t)1 << 20)
#define ARC_SKIPPED_MAX 1000
#define ARC_PRELOAD_MAX ((size_t)64 << 20)

static const struct layout_ops *const layouts[] = {
    &layout_slack_ops,
    &layout_notion_ops,
    &layout_takeout_ops,
};

struct arc {
    const char *path, *name;
    struct extract_limits lim; /* defaults filled in, budget set */
    struct extract_budget *b;
    extract_emit_fn fn;
    void *arg;
    struct archive *a;
    json_t *seen;    /* part ids emitted: duplicates get a suffix */
    json_t *skipped; /* [{path, reason}] */
    struct buf listing;
    long docs, members, encrypted, damaged;
    long long fsize; /* RLIMIT_FSIZE: the largest member a temporary file can hold */
    int stop;        /* the receiver asked to stop */
    char mtime[32];  /* current member */
    char damage[300];
    const struct layout_ops *layout;
    void *lstate;
};

/* ---- limits ------------------------------------------------------------------- */

static long long arc_ratio_allowed(const struct arc *c)
{
    double allowed = c->lim.max_ratio * (double)c->b->packed;

    if (allowed < (double)ARC_RATIO_FLOOR)
        return ARC_RATIO_FLOOR;
    return allowed > 9e18 ? (long long)9e18 : (long long)allowed;
}

/* Checks the budget after `more` bytes came out of member `what`. */
static int arc_check(struct arc *c, long long expanded, const char *what)
{
    struct extract_budget *b = c->b;

    if (b->error[0])
        return -1;
    if (expanded > c->lim.max_expanded) {
        snprintf(b->error, sizeof b->error,
                 "archive expands to more than %lld bytes (the max_expanded limit); stopped at "
                 "'%.200s'",
                 c->lim.max_expanded, what);
        return -1;
    }
    if (expanded > arc_ratio_allowed(c)) {
        snprintf(b->error, sizeof b->error,
                 "archive expands more than %g times its %lld packed bytes (the max_ratio limit: a "
                 "zip bomb?); stopped at '%.200s' after %lld bytes",
                 c->lim.max_ratio, b->packed, what, expanded);
        return -1;
    }
    return 0;
}

/* ---- opening ------------------------------------------------------------------ */

/* Formats and filters named one by one: no external helper programs (the
 * sandbox forbids exec) and no text-like formats (mtree) that could claim a
 * plain file. */
static struct archive *arc_new(void)
{
    struct archive *a = archive_read_new();

    if (!a)
        return NULL;
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_lzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_lz4(a);
    archive_read_support_filter_compress(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_cpio(a);
    archive_read_support_format_iso9660(a);
    archive_read_support_format_rar(a);
    archive_read_support_format_rar5(a);
    archive_read_support_format_ar(a);
    archive_read_support_format_cab(a);
    archive_read_support_format_xar(a);
    archive_read_support_format_lha(a);
    return a;
}

/* Names that are zip containers of one document, read by their own extractors. */
static int arc_is_document_name(const char *name)
{
    static const char *const exts[] = {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx",
                                       ".pptx", ".pptm", ".potx", ".odt",  ".ods",  ".odp",
                                       ".odg",  ".ott",  ".deb",  ".apk"};
    const char *dot = name ? strrchr(name, '.') : NULL;

    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

int extract_archive_detect(const char *path, const char *name)
{
    struct archive *a;
    struct archive_entry *e;
    int r, fmt;

    if (arc_is_document_name(name))
        return 0;
    a = arc_new();
    if (!a)
        return 0;
    if (archive_read_open_filename(a, path, ARC_BLOCK) != ARCHIVE_OK) {
        archive_read_free(a);
        return 0;
    }
    r = archive_read_next_header(a, &e);
    fmt = archive_format(a);
    archive_read_free(a);
    /* a damaged first header of a recognised format still makes an archive,
     * so that its error is reported as such */
    return r == ARCHIVE_OK || r == ARCHIVE_WARN || (r == ARCHIVE_FATAL && fmt != 0);
}

static const char *arc_mime(int fmt)
{
    switch (fmt & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP:
        return "application/zip";
    case ARCHIVE_FORMAT_TAR:
        return "application/x-tar";
    case ARCHIVE_FORMAT_7ZIP:
        return "application/x-7z-compressed";
    case ARCHIVE_FORMAT_CPIO:
        return "application/x-cpio";
    case ARCHIVE_FORMAT_ISO9660:
        return "application/x-iso9660-image";
    case ARCHIVE_FORMAT_RAR:
    case ARCHIVE_FORMAT_RAR_V5:
        return "application/vnd.rar";
    case ARCHIVE_FORMAT_AR:
        return "application/x-archive";
    case ARCHIVE_FORMAT_CAB:
        return "application/vnd.ms-cab-compressed";
    case ARCHIVE_FORMAT_XAR:
        return "application/x-xar";
    case ARCHIVE_FORMAT_LHA:
        return "application/x-lzh-compressed";
    default:
        return "application/octet-stream";
    }
}

/* ---- helpers shared with the layouts --------------------------------------------- */

void layout_iso_time(double t, char *dst, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;

    if (t < 0 || t > 253402300799.0 || !gmtime_r(&s, &tm)) {
        snprintf(dst, n, "%s", "");
        return;
    }
    strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *layout_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int arc_stopped(const struct arc *c)
{
    return c->stop || c->b->error[0];
}

const char *arc_member_mtime(const struct arc *c)
{
    return c->mtime[0] ? c->mtime : NULL;
}

int arc_emit(struct arc *c, const struct extract_doc *d)
{
    struct extract_doc nd = *d;
    struct buf id = BUF_INIT;
    int rc;

    if (c->stop)
        return 1;
    if (!d->part)
        return 0;
    buf_adds(&id, d->part);
    for (int k = 2; json_object_get(c->seen, buf_str(&id)); k++) {
        buf_reset(&id);
        buf_addf(&id, "%s~%d", d->part, k);
    }
    json_object_set_new(c->seen, buf_str(&id), json_true());
    nd.part = buf_str(&id);
    rc = c->fn(&nd, c->arg);
    buf_release(&id);
    c->docs++;
    if (rc)
        c->stop = 1;
    return rc;
}

static int arc_read_block(struct arc *c, char *block, size_t n, la_ssize_t *got, const char *what,
                          long long *member_bytes, char *err, size_t errlen)
{
    la_ssize_t r = archive_read_data(c->a, block, n);

    if (r < 0) {
        snprintf(err, errlen, "damaged entry: %s",
                 archive_error_string(c->a) ? archive_error_string(c->a) : "read error");
        if (r == ARCHIVE_FATAL)
            snprintf(c->damage, sizeof c->damage, "%s", err);
        return -1;
    }
    *got = r;
    *member_bytes += r;
    c->b->expanded += r;
    if (arc_check(c, c->b->expanded, what) < 0) {
        snprintf(err, errlen, "%s", c->b->error);
        return -1;
    }
    return 0;
}

int arc_read_member(struct arc *c, struct buf *out, char *err, size_t errlen)
{
    char block[ARC_BLOCK];
    long long bytes = 0;

    buf_reset(out);
    for (;;) {
        la_ssize_t n;
        if (arc_read_block(c, block, sizeof block, &n, "member", &bytes, err, errlen) < 0)
            return -1;
        if (n == 0)
            return 0;
        if (buf_add(out, block, (size_t)n) < 0) {
            snprintf(err, errlen, "member is larger than %zu bytes, the most read at once",
                     out->cap);
            return -1;
        }
    }
}

/* ---- pass 1: names ------------------------------------------------------------ */

struct names {
    char **v;
    size_t n, alloc;
};

static void names_release(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->v[i]);
    free(nm->v);
    memset(nm, 0, sizeof *nm);
}

static int names_add(struct names *nm, const char *s)
{
    if (nm->n == nm->alloc) {
        size_t na = nm->alloc ? nm->alloc * 2 : 256;
        char **nv = realloc(nm->v, na * sizeof *nv);
        if (!nv)
            return -1;
        nm->v = nv;
        nm->alloc = na;
    }
    nm->v[nm->n] = strdup(s);
    if (!nm->v[nm->n])
        return -1;
    nm->n++;
    return 0;
}

static int names_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int arc_open(struct arc *c, char *err, size_t errlen)
{
    c->a = arc_new();
    if (!c->a || archive_read_open_filename(c->a, c->path, ARC_BLOCK) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot open archive: %s",
                 c->a && archive_error_string(c->a) ? archive_error_string(c->a) : "out of memory");
        if (c->a)
            archive_read_free(c->a);
        c->a = NULL;
        return -1;
    }
    return 0;
}

static int arc_wants_preload(const char *path)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i]->preload && layouts[i]->preload(path))
            return 1;
    return 0;
}

/* Reads the headers: names for the layouts and a few small index files. A
 * damaged archive is not an error here: pass 2 reports it where it happens. */
static void arc_pass1(struct arc *c, struct names *nm, json_t *preloaded)
{
    struct archive_entry *e;
    struct buf path = BUF_INIT, data;
    size_t preload_total = 0;
    char err[256];

    buf_init(&data, ARC_PRELOAD_MAX);
    if (arc_open(c, err, sizeof err) < 0)
        return;
    while (nm->n <= (size_t)c->lim.max_parts) {
        int r = archive_read_next_header(c->a, &e);
        const char *raw;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            break;
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
            continue;
        raw = archive_entry_pathname(e);
        if (archive_path_sanitise(raw ? raw : "", raw ? strlen(raw) : 0, &path) < 0 ||
            names_add(nm, buf_str(&path)) < 0)
            break;
        /* the headers of a tar.gz lie behind its data: skipping decompresses */
        if (arc_check(c, archive_filter_bytes(c->a, 0), buf_str(&path)) < 0)
            break;
        if (!archive_entry_is_data_encrypted(e) && arc_wants_preload(buf_str(&path)) &&
            preload_total < ARC_PRELOAD_MAX) {
            char block[ARC_BLOCK];
            la_ssize_t n;
            buf_reset(&data);
            while ((n = archive_read_data(c->a, block, sizeof block)) > 0)
                if (buf_add(&data, block, (size_t)n) < 0)
                    break;
            if (n == 0) {
                preload_total += data.len;
                json_object_set_new(preloaded, buf_str(&path),
                                    json_stringn(data.data ? data.data : "", data.len));
            }
        }
    }
    /* the budget error of pass 1 is a verdict on the whole archive */
    archive_read_free(c->a);
    c->a = NULL;
    buf_release(&path);
    buf_release(&data);
    if (nm->n > 1)
        qsort(nm->v, nm->n, sizeof *nm->v, names_cmp);
}

/* ---- pass 2: members ---------------------------------------------------------- */

/* Maps the documents of a member's extraction into this archive's part ids. */
struct member_ctx {
    struct arc *c;
    const char *part;   /* the member's part id */
    json_t *meta;       /* added to every document (absent keys only) */
    const char *name;   /* the name extract_file was given */
    const char *title;  /* when the extractor finds none better, or NULL */
    const char *parent; /* the part holding this one, or NULL */
};

static int member_emit(const struct extract_doc *d, void *arg)
{
    struct member_ctx *m = arg;
    struct extract_doc nd = *d;
    struct buf part = BUF_INIT, parent = BUF_INIT;
    json_t *meta = d->metadata ? json_deep_copy(d->metadata) : json_object();
    const char *key;
    json_t *v;
    int rc;

    buf_adds(&part, m->part);
    if (d->part) {
        buf_addf(&part, "/%s", d->part);
        buf_adds(&parent, m->part);
        if (d->parent_part)
            buf_addf(&parent, "/%s", d->parent_part);
        nd.parent_part = buf_str(&parent);
    } else {
        nd.parent_part = m->parent;
        if (!d->title || strcmp(d->title, m->name) == 0)
            nd.title = m->title ? m->title : layout_basename(m->part);
        if (!d->modified)
            nd.modified = arc_member_mtime(m->c);
    }
    nd.part = buf_str(&part);
    json_object_foreach(m->meta, key, v)
    {
        if (!json_object_get(meta, key))
            json_object_set(meta, key, v);
    }
    if (m->c->layout && m->c->layout->adjust)
        m->c->layout->adjust(m->c->lstate, m->part, meta);
    nd.metadata = meta;
    rc = arc_emit(m->c, &nd);
    json_decref(meta);
    buf_release(&part);
    buf_release(&parent);
    return rc;
}

/* One document for a member that could not be read. */
static int arc_emit_error(struct arc *c, const char *part, const char *msg, json_t *meta)
{
    struct extract_doc d = {0};
    json_t *m = meta ? json_deep_copy(meta) : json_object();
    int rc;

    json_object_set_new(m, "extract_error", json_string(msg));
    d.part = part;
    d.title = layout_basename(part);
    d.mime = "application/octet-stream";
    d.text = "";
    d.modified = arc_member_mtime(c);
    d.metadata = m;
    rc = arc_emit(c, &d);
    json_decref(m);
    return rc;
}

/* Unpacks the current member into a temporary file and extracts that. */
static void arc_member_generic(struct arc *c, const char *part, json_t *meta)
{
    char tmp[1200], block[ARC_BLOCK], err[512] = "";
    long long bytes = 0;
    int fd, damaged = 0, toolarge = 0;
    struct member_ctx m = {c, part, meta, part, NULL, NULL};

    snprintf(tmp, sizeof tmp, "%s/.trawl-member-%ld-%ld", c->b->tmpdir, (long)getpid(),
             ++c->b->seq);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, sizeof err, "cannot unpack the member for extraction: %s", strerror(errno));
        arc_emit_error(c, part, err, meta);
        return;
    }
    for (;;) {
        la_ssize_t n;
        if (arc_read_block(c, block, sizeof block, &n, part, &bytes, err, sizeof err) < 0) {
            damaged = 1;
            break;
        }
        if (n == 0)
            break;
        if (bytes > c->fsize) {
            /* the sandbox's file size limit would kill us with SIGXFSZ */
            snprintf(err, sizeof err,
                     "member is larger than the %lld-byte file size limit of the workspace: not "
                     "extracted",
                     c->fsize);
            toolarge = 1;
            break;
        }
        if (write(fd, block, (size_t)n) != n) {
            snprintf(err, sizeof err, "cannot unpack the member for extraction: %s",
                     strerror(errno));
            damaged = 1;
            break;
        }
    }
    close(fd);
    if (c->b->error[0]) {
        /* a limit: the member is cut, nothing of it is kept */
        arc_emit_error(c, part, c->b->error, meta);
    } else if (toolarge) {
        arc_emit_error(c, part, err, meta);
    } else {
        json_t *mm = json_deep_copy(meta);
        if (damaged) /* keep what came out, say so */
            json_object_set_new(mm, "extract_error", json_string(err));
        m.meta = mm;
        c->b->depth++;
        if (extract_file(tmp, part, &c->lim, member_emit, &m, err, sizeof err) < 0)
            arc_emit_error(c, part, err, mm);
        c->b->depth--;
        json_decref(mm);
    }
    unlink(tmp);
}

long arc_read(struct arc *c, char *block, size_t n, char *err, size_t errlen)
{
    la_ssize_t got;
    long long bytes = 0;

    if (arc_read_block(c, block, n, &got, "member", &bytes, err, errlen) < 0)
        return -1;
    return (long)got;
}

int arc_extract_buffer(struct arc *c, const char *part, const char *parent, const char *name,
                       const char *title, const char *data, size_t len, json_t *meta)
{
    char tmp[1200], err[512] = "";
    struct member_ctx m = {c, part, meta, name, title, parent};
    int fd;

    if ((long long)len > c->fsize) {
        snprintf(err, sizeof err,
                 "part is larger than the %lld-byte file size limit of the workspace: not "
                 "extracted",
                 c->fsize);
        return arc_emit_error(c, part, err, meta);
    }
    snprintf(tmp, sizeof tmp, "%s/.trawl-member-%ld-%ld", c->b->tmpdir, (long)getpid(),
             ++c->b->seq);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        snprintf(err, sizeof err, "cannot unpack the part for extraction: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return arc_emit_error(c, part, err, meta);
    }
    close(fd);
    c->b->depth++;
    if (extract_file(tmp, name, &c->lim, member_emit, &m, err, sizeof err) < 0)
        arc_emit_error(c, part, err, meta);
    c->b->depth--;
    unlink(tmp);
    return c->stop;
}

static void arc_skip(struct arc *c, const char *part, const char *reason)
{
    json_t *s;

    if (json_array_size(c->skipped) < ARC_SKIPPED_MAX) {
        s = json_object();
        json_object_set_new(s, "path", json_string(part));
        json_object_set_new(s, "reason", json_string(reason));
        json_array_append_new(c->skipped, s);
    }
    buf_addf(&c->listing, "%s (skipped: %s)\n", part, reason);
}

/* Why an entry that is not a regular file is not read, or NULL for a directory. */
static const char *arc_not_content(struct archive_entry *e, struct buf *clean_target, char *why,
                                   size_t n)
{
    const char *t;

    if ((t = archive_entry_hardlink(e))) {
        archive_path_sanitise(t, strlen(t), clean_target);
        snprintf(why, n, "hard link to '%.300s' is not followed", buf_str(clean_target));
        return why;
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return NULL;
    case AE_IFDIR:
        return "";
    case AE_IFLNK:
        t = archive_entry_symlink(e);
        buf_reset(clean_target);
        extract_utf8_clean(clean_target, t ? t : "", t ? strlen(t) : 0);
        snprintf(why, n, "symbolic link to '%.300s' is not followed", buf_str(clean_target));
        return why;
    case AE_IFCHR:
        return "character device entry is not content";
    case AE_IFBLK:
        return "block device entry is not content";
    case AE_IFIFO:
        return "named pipe entry is not content";
    case AE_IFSOCK:
        return "socket entry is not content";
    default:
        return "entry of unknown type is not content";
    }
}

static void arc_pass2(struct arc *c)
{
    struct archive_entry *e;
    struct buf path = BUF_INIT, target = BUF_INIT;
    char why[400], err[256];

    if (arc_open(c, err, sizeof err) < 0) {
        snprintf(c->damage, sizeof c->damage, "%s", err);
        return;
    }
    while (!arc_stopped(c)) {
        int r = archive_read_next_header(c->a, &e), flags;
        const char *raw, *reason;
        json_t *meta;

        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            snprintf(c->damage, sizeof c->damage, "damaged archive after %ld entries: %s",
                     c->members,
                     archive_error_string(c->a) ? archive_error_string(c->a) : "read error");
            break;
        }
        raw = archive_entry_pathname(e);
        flags = archive_path_sanitise(raw ? raw : "", raw ? strlen(raw) : 0, &path);
        if (flags < 0)
            break;
        reason = arc_not_content(e, &target, why, sizeof why);
        if (reason && !*reason)
            continue; /* a directory */
        if (c->b->parts >= c->lim.max_parts) {
            snprintf(c->b->error, sizeof c->b->error,
                     "archive has more than %ld entries (the max_parts limit); stopped at '%.200s'",
                     c->lim.max_parts, buf_str(&path));
            break;
        }
        c->b->parts++;
        c->members++;
        if (reason) {
            arc_skip(c, buf_str(&path), reason);
            continue;
        }
        c->mtime[0] = '\0';
        if (archive_entry_mtime_is_set(e))
            layout_iso_time((double)archive_entry_mtime(e), c->mtime, sizeof c->mtime);
        buf_addf(&c->listing, "%s (%lld bytes)\n", buf_str(&path),
                 (long long)archive_entry_size(e));
        meta = json_object();
        json_object_set_new(meta, "archive_path", json_string(buf_str(&path)));
        if (flags) {
            char d[200];
            archive_path_describe(flags, d, sizeof d);
            json_object_set_new(meta, "path_sanitised", json_string(d));
            if (raw) {
                struct buf rawc = BUF_INIT;
                extract_utf8_clean(&rawc, raw, strlen(raw) < 2048 ? strlen(raw) : 2048);
                json_object_set_new(meta, "archive_path_raw", json_string(buf_str(&rawc)));
                buf_release(&rawc);
            }
        }
        if (archive_entry_is_data_encrypted(e)) {
            c->encrypted++;
            json_object_set_new(meta, "encrypted", json_true());
            arc_emit_error(c, buf_str(&path), "encrypted entry: no passphrase to read it", meta);
            json_decref(meta);
            continue;
        }
        if (c->layout) {
            json_object_set_new(meta, "layout", json_string(c->layout->name));
            int lr = c->layout->member(c->lstate, c, buf_str(&path), meta);
            if (lr != 0) {
                json_decref(meta);
                if (lr < 0)
                    break;
                continue;
            }
        }
        arc_member_generic(c, buf_str(&path), meta);
        json_decref(meta);
        if (c->damage[0])
            break; /* the stream is lost: nothing after this member can be read */
    }
    if (c->layout && c->layout->finish && !c->stop)
        c->layout->finish(c->lstate, c);
    buf_release(&path);
    buf_release(&target);
}

/* The archive's own document: what it holds and what happened. */
static void arc_emit_container(struct arc *c, int fmt, const char *fmtname, const char *compression)
{
    struct extract_doc d = {0};
    json_t *meta = json_object();

    if (compression[0])
        json_object_set_new(meta, "compression", json_string(compression));
    json_object_set_new(meta, "archive_format", json_string(fmtname ? fmtname : "unknown"));
    json_object_set_new(meta, "entries", json_integer(c->members));
    json_object_set_new(meta, "documents", json_integer(c->docs));
    if (json_array_size(c->skipped))
        json_object_set(meta, "skipped", c->skipped);
    if (c->encrypted)
        json_object_set_new(meta, "encrypted_entries", json_integer(c->encrypted));
    if (c->layout)
        json_object_set_new(meta, "layout", json_string(c->layout->name));
    if (c->b->error[0])
        json_object_set_new(meta, "extract_error", json_string(c->b->error));
    else if (c->damage[0])
        json_object_set_new(meta, "extract_error", json_string(c->damage));
    if (c->listing.len == ARC_LISTING_MAX)
        json_object_set_new(meta, "truncated", json_true());
    d.title = layout_basename(c->name);
    d.mime = arc_mime(fmt);
    d.text = buf_str(&c->listing);
    d.text_len = c->listing.len;
    d.metadata = meta;
    c->fn(&d, c->arg);
    c->docs++;
    json_decref(meta);
}

long extract_archive(const char *path, const char *name, const struct extract_limits *lim,
                     extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    struct arc c;
    struct extract_budget own;
    struct names nm = {0};
    json_t *preloaded = json_object();
    struct archive_entry *e;
    const char *fmtname = NULL;
    char fmtbuf[64] = "", compression[32] = "";
    int fmt = 0;

    memset(&c, 0, sizeof c);
    extract_limits_setup(&c.lim, lim, &own, path);
    c.path = path;
    c.name = name ? name : path;
    c.fn = fn;
    c.arg = arg;
    c.b = c.lim.budget;
    {
        struct rlimit rl;
        c.fsize = getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? (long long)rl.rlim_cur
                      : (long long)1 << 62;
    }
    c.seen = json_object();
    c.skipped = json_array();
    buf_init(&c.listing, ARC_LISTING_MAX);

    /* the format, for the container's document */
    if (arc_open(&c, err, errlen) < 0)
        goto fail;
    if (archive_read_next_header(c.a, &e) == ARCHIVE_FATAL && archive_format(c.a) == 0) {
        snprintf(err, errlen, "not a readable archive: %s",
                 archive_error_string(c.a) ? archive_error_string(c.a) : "unknown format");
        archive_read_free(c.a);
        goto fail;
    }
    fmt = archive_format(c.a);
    if (archive_filter_count(c.a) > 1 && archive_filter_name(c.a, 0))
        snprintf(compression, sizeof compression, "%s", archive_filter_name(c.a, 0));
    if (archive_format_name(c.a))
        snprintf(fmtbuf, sizeof fmtbuf, "%s", archive_format_name(c.a));
    fmtname = fmtbuf;
    archive_read_free(c.a);
    c.a = NULL;

    if (c.b->depth >= c.lim.max_depth) {
        snprintf(c.damage, sizeof c.damage,
                 "nested archive not expanded: it lies %d containers deep (the max_depth limit)",
                 c.b->depth);
    } else {
        arc_pass1(&c, &nm, preloaded);
        if (!c.b->error[0]) {
            for (size_t i = 0; i < sizeof layouts / sizeof layouts[0] && !c.layout; i++) {
                c.lstate = layouts[i]->begin((const char *const *)nm.v, nm.n, preloaded);
                if (c.lstate)
                    c.layout = layouts[i];
            }
            arc_pass2(&c);
        }
    }
    if (c.a)
        archive_read_free(c.a);
    c.a = NULL;
    if (!c.stop)
        arc_emit_container(&c, fmt, fmtname, compression);
    if (c.layout)
        c.layout->free(c.lstate);
    names_release(&nm);
    json_decref(preloaded);
    json_decref(c.seen);
    json_decref(c.skipped);
    buf_release(&c.listing);
    return c.docs;
fail:
    /* unreadable, but recorded: the file's document says why */
    {
        struct extract_doc d = {0};
        json_t *meta = json_object();
        json_object_set_new(meta, "extract_error", json_string(err));
        d.title = layout_basename(c.name);
        d.mime = "application/octet-stream";
        d.text = "";
        d.metadata = meta;
        fn(&d, arg);
        json_decref(meta);
    }
    names_release(&nm);
    json_decref(preloaded);
    json_decref(c.seen);
    json_decref(c.skipped);
    buf_release(&c.listing);
    return 1;
}
