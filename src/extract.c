/*
 * Plain-text extraction: compressed streams are unwrapped with libarchive's
 * raw reader (gzip, bzip2, xz, zstd), text is kept, binary is described.
 * Richer formats (MIME, HTML, office files) plug in here.
 */
#include "extract.h"
#include "extract_csv.h"
#include "extract_office.h"

#include "extract_archive.h"
#include "extract_html.h"
#include "extract_mail.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef TRAWL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

/* What one pass over a byte stream produced. */
struct extract_result {
    const char *mime; /* static string */
    struct buf text;  /* UTF-8 */
    int truncated;    /* text hit EXTRACT_MAX_TEXT */
    int compressed;   /* came out of a gzip/bzip2/xz/zstd stream */
    int late;         /* stopped by the time budget */
    struct extract_budget *b;
};

/* Length of the valid UTF-8 sequence at p[i] (NUL and invalid bytes: 0). */
static size_t utf8_seq(const unsigned char *p, size_t i, size_t n)
{
    unsigned c = p[i];

    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (p[i + 1] & 0xc0) == 0x80)
        return 2;
    if (c >= 0xe0 && c <= 0xef && i + 2 < n && (p[i + 1] & 0xc0) == 0x80 &&
        (p[i + 2] & 0xc0) == 0x80) {
        unsigned cp = (c & 0x0f) << 12 | (p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f);
        return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4 && i + 3 < n && (p[i + 1] & 0xc0) == 0x80 &&
        (p[i + 2] & 0xc0) == 0x80 && (p[i + 3] & 0xc0) == 0x80) {
        unsigned cp =
            (c & 0x07) << 18 | (p[i + 1] & 0x3f) << 12 | (p[i + 2] & 0x3f) << 6 | (p[i + 3] & 0x3f);
        return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
    }
    return 0;
}

/* Length of the run of ASCII bytes without NUL at p[i], eight at a time. */
static size_t ascii_run(const unsigned char *p, size_t i, size_t n)
{
    size_t start = i;

    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & 0x8080808080808080ULL) ||
            ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
            break;
        i += 8;
    }
    return i - start;
}

int extract_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k;

    for (size_t i = 0; i < n; i += k) {
        i += ascii_run(p, i, n);
        if (i >= n)
            break;
        if (!(k = utf8_seq(p, i, n)))
            return 0;
    }
    return 1;
}

int extract_utf8_clean(struct buf *out, const char *s, size_t n)
{
    static const char repl[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;

    while (i < n) {
        size_t a = ascii_run(p, i, n);
        run += a;
        i += a;
        if (i >= n)
            break;
        size_t k = utf8_seq(p, i, n);
        if (k) {
            run += k;
            i += k;
            continue;
        }
        /* flush the valid run, then replace (or drop a NUL) */
        if (run && buf_add(out, s + i - run, run) < 0)
            return -1;
        run = 0;
        if (p[i] != 0 && buf_add(out, repl, 3) < 0)
            return -1;
        i++;
    }
    if (run && buf_add(out, s + i - run, run) < 0)
        return -1;
    return 0;
}

int extract_looks_textual(const unsigned char *p, size_t n)
{
    size_t ctrl = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0)
            return 0;
        if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f' &&
            p[i] != 0x1b)
            ctrl++;
    }
    return ctrl * 100 <= n; /* at most 1% stray control bytes */
}

/* How many of the n bytes end without cutting a UTF-8 sequence in two (at
 * most 3 bytes held back; invalid bytes are not held back). */
static size_t utf8_whole_prefix(const unsigned char *s, size_t n)
{
    size_t k = 0;

    while (k < 3 && k < n && (s[n - 1 - k] & 0xc0) == 0x80)
        k++;
    if (k < n) {
        unsigned char c = s[n - 1 - k];
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (c >= 0xc0 && need > k + 1)
            return n - 1 - k;
    }
    return n;
}

/* A text read in blocks: block holds *carry bytes held back from the last
 * one (a character cut by the block's end) and n new ones after them. The
 * whole characters go to the text; the cut one waits for the next block
 * (last: no next block, it is cleaned as it is). -1 when the text is full. */
static int text_block(struct extract_result *r, char *block, size_t *carry, size_t n, int last)
{
    size_t total = *carry + n;
    size_t keep = last ? total : utf8_whole_prefix((const unsigned char *)block, total);
    int rc = extract_utf8_clean(&r->text, block, keep);

    memmove(block, block + keep, total - keep);
    *carry = total - keep;
    return rc;
}

/* Reads through libarchive's raw format, which undoes any compression filter. */
static int extract_stream(const char *path, struct extract_result *r, int filters, char *err,
                          size_t errlen)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char block[65536];
    unsigned char head[8192];
    size_t nhead = 0, carry = 0;
    int textual = -1, rc = 0;

    if (filters)
        archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot read: %s", archive_error_string(a));
        archive_read_free(a);
        return -1;
    }
    r->compressed = archive_filter_count(a) > 1;
    for (;;) {
        la_ssize_t n = archive_read_data(a, block + carry, sizeof block - carry);
        if (n < 0) {
            /* a truncated or corrupt stream: keep what came out, say so */
            snprintf(err, errlen, "damaged stream: %s", archive_error_string(a));
            rc = r->text.len ? 0 : -1;
            break;
        }
        if (n == 0) {
            if (carry && textual != 0 && text_block(r, block, &carry, 0, 1) < 0)
                r->truncated = 1;
            break;
        }
        if (extract_budget_late(r->b)) {
            r->late = 1;
            break;
        }
        if (textual < 0) {
            size_t take = (size_t)n < sizeof head - nhead ? (size_t)n : sizeof head - nhead;
            memcpy(head + nhead, block + carry, take);
            nhead += take;
            if (nhead == sizeof head || (size_t)n < sizeof block - carry)
                textual = extract_looks_textual(head, nhead);
        }
        if (textual == 0)
            break;
        if (text_block(r, block, &carry, (size_t)n, 0) < 0) {
            r->truncated = 1;
            break;
        }
    }
    if (textual < 0)
        textual = extract_looks_textual(head, nhead);
    if (textual) {
        r->mime = "text/plain";
    } else {
        buf_reset(&r->text);
        r->mime = "application/octet-stream";
    }
    archive_read_free(a);
    return rc;
}

/* Files up to this size are read whole, once: the plain reader takes their
 * text from memory (one read instead of libarchive's setup, bidding and
 * blocks), and a gzip'd one is unpacked in one call. */
#define WHOLE_MAX ((size_t)16 << 20)

/* The text of n bytes in memory, exactly as extract_stream reads a stream of
 * them: the same first-bytes test, the same 64 KiB blocks, the same cuts. */
static void text_from_memory(struct extract_result *r, const unsigned char *p, size_t n)
{
    int textual = extract_looks_textual(p, n < 8192 ? n : 8192);

    if (extract_budget_late(r->b)) {
        r->late = 1; /* as extract_stream stopped before its first block */
        textual = 1;
    } else if (textual) {
        char block[65536];
        size_t carry = 0, off = 0;
        for (;;) {
            size_t k = n - off < sizeof block - carry ? n - off : sizeof block - carry;
            if (k == 0) {
                if (carry && text_block(r, block, &carry, 0, 1) < 0)
                    r->truncated = 1;
                break;
            }
            memcpy(block + carry, p + off, k);
            off += k;
            if (text_block(r, block, &carry, k, 0) < 0) {
                r->truncated = 1;
                break;
            }
        }
    }
    if (textual) {
        r->mime = "text/plain";
    } else {
        buf_reset(&r->text);
        r->mime = "application/octet-stream";
    }
}

/* The whole file at path into *out (malloc'd, *n bytes) when it has st_size
 * bytes, 1 <= st_size <= WHOLE_MAX; -1 otherwise (too large, unreadable, or
 * changed under us). */
static int read_whole(const char *path, off_t size, unsigned char **out, size_t *n)
{
    unsigned char *in = NULL;
    int fd = -1;
    size_t off = 0;

    *out = NULL;
    if (size < 1 || (size_t)size > WHOLE_MAX || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
        !(in = malloc((size_t)size)))
        goto fail;
    while (off < (size_t)size) {
        ssize_t k = read(fd, in + off, (size_t)size - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            goto fail;
        off += (size_t)k;
    }
    close(fd);
    *out = in;
    *n = off;
    return 0;
fail:
    free(in);
    if (fd >= 0)
        close(fd);
    return -1;
}

#ifdef TRAWL_HAVE_LIBDEFLATE
/*
 * A gzip file of one member that unpacks to at most WHOLE_MAX bytes, the
 * common case (Debian's changelogs and manuals): unpacked in one call with
 * libdeflate, about twice as fast as zlib streaming through libarchive.
 * Returns the unpacked bytes (malloc'd, *n of them), or NULL when the data is
 * not such a file (multi-member, damaged, larger, a wrong size in the
 * trailer): libarchive then reads it and reports.
 */
static unsigned char *gunzip_whole(const unsigned char *in, size_t size, size_t *n)
{
    struct libdeflate_decompressor *d = NULL;
    unsigned char *out = NULL;
    size_t isize, got_in = 0, got_out = 0;

    if (size < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8)
        return NULL;
    isize = (size_t)in[size - 4] | (size_t)in[size - 3] << 8 | (size_t)in[size - 2] << 16 |
            (size_t)in[size - 1] << 24; /* the unpacked size modulo 2^32 */
    if (isize == 0 || isize > WHOLE_MAX || !(out = malloc(isize)) ||
        !(d = libdeflate_alloc_decompressor()) ||
        libdeflate_gzip_decompress_ex(d, in, size, out, isize, &got_in, &got_out) !=
            LIBDEFLATE_SUCCESS ||
        got_in != size || got_out != isize) {
        libdeflate_free_decompressor(d);
        free(out);
        return NULL;
    }
    libdeflate_free_decompressor(d);
    *n = isize;
    return out;
}
#endif

/*
 * 1 when libarchive's raw reader with every filter would read these bytes as
 * they are: they start like text (no control bytes, whole UTF-8 characters:
 * every binary signature has one or the other) and none of the text-like
 * signatures is there: bzip2 ("BZh"), lzip, lrzip, grzip, and uuencode or
 * base64 ("begin" at the start of a line in the first 128 KiB the uu filter
 * looks at, plus a margin).
 */
static int raw_as_is(const unsigned char *p, size_t n)
{
    static const char *const magic[] = {"BZh", "LZIP", "LRZI", "GRZip"};
    size_t head = n < 16 ? n : 16, look = n < ((size_t)160 << 10) ? n : (size_t)160 << 10;

    for (size_t i = 0; i < head; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f')
            return 0;
    for (size_t i = 0; i < head;) { /* whole characters (the last may be cut at 16) */
        size_t k = utf8_seq(p, i, n);
        if (!k)
            return 0;
        i += k;
    }
    for (size_t i = 0; i < sizeof magic / sizeof magic[0]; i++)
        if (n >= strlen(magic[i]) && memcmp(p, magic[i], strlen(magic[i])) == 0)
            return 0;
    for (const unsigned char *b = p; (b = memmem(b, look - (size_t)(b - p), "begin", 5)); b++)
        if (b == p || b[-1] == '\n' || b[-1] == '\r')
            return 0;
    return 1;
}

/*
 * The plain reader for a file read whole: plain text as it is, a gzip'd one
 * unpacked. Returns 0 when it did, 1 when the file is not for it (larger,
 * compressed otherwise, damaged, starting like a signature): extract_stream
 * then reads it and reports.
 */
static int plain_whole(const char *path, off_t size, struct extract_result *r)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = 1;

    if (read_whole(path, size, &in, &n) < 0)
        return 1;
#ifdef TRAWL_HAVE_LIBDEFLATE
    size_t un = 0;
    unsigned char *out = gunzip_whole(in, n, &un);
    if (out) {
        r->compressed = 1;
        text_from_memory(r, out, un);
        free(out);
        rc = 0;
    } else
#endif
        if (raw_as_is(in, n)) {
        text_from_memory(r, in, n);
        rc = 0;
    }
    free(in);
    return rc;
}

static int compressed_magic(const unsigned char *h, size_t n);

/* 1 when the file begins with the signature of a compression format. */
static int starts_compressed(const char *path)
{
    unsigned char h[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, h, sizeof h) : -1;

    if (fd >= 0)
        close(fd);
    return n > 0 && compressed_magic(h, (size_t)n);
}

/* A file extract_compressed unpacked already (and found plain). */
struct unpacked {
    unsigned char *p;
    size_t n;
};

#ifdef TRAWL_HAVE_LIBDEFLATE
/* Unpacks the gzip'd file at path into u, once: u->p stays NULL when it
 * cannot be read or unpacked in one call. */
static void unpack_gzip_once(const char *path, struct unpacked *u)
{
    struct stat st;
    unsigned char *in;
    size_t nin;

    if (!u->p && stat(path, &st) == 0 && read_whole(path, st.st_size, &in, &nin) == 0) {
        u->p = gunzip_whole(in, nin, &u->n);
        free(in);
    }
}
#endif

/* A plain file: text (possibly compressed, possibly unpacked already) or binary. */
static int extract_plain(const char *path, struct extract_result *r, const struct unpacked *u,
                         char *err, size_t errlen)
{
    char first[256];
    struct stat st;

    if (u && u->p) {
        r->compressed = 1;
        text_from_memory(r, u->p, u->n);
        return 0;
    }

    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (st.st_size == 0) {
        r->mime = "text/plain"; /* libarchive has no header to give for nothing */
        return 0;
    }
    if (plain_whole(path, st.st_size, r) == 0)
        return 0;
    if (extract_stream(path, r, 1, err, errlen) == 0)
        return 0;
    /* A weak signature (raw lzma has almost none) can make a plain file look
     * compressed: read it as it is; if that gives no text either, the first
     * error is the one to report. */
    snprintf(first, sizeof first, "%s", err);
    buf_reset(&r->text);
    r->compressed = r->truncated = 0;
    /* read as it is: text, or (when it does not start like a gzip, bzip2,
     * xz, zstd or lz4 stream that is damaged) plain binary such as a BPF
     * program, described by its metadata like any binary, without an error */
    if (!r->late && extract_stream(path, r, 0, err, errlen) == 0 &&
        (r->text.len > 0 || !starts_compressed(path)))
        return 0;
    buf_reset(&r->text);
    r->mime = "application/octet-stream";
    snprintf(err, errlen, "%s", first);
    return -1;
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int extract_budget_late(struct extract_budget *b)
{
    if (!b || b->deadline <= 0)
        return 0;
    if (strncmp(b->error, "time budget exceeded", 20) == 0)
        return 1;
    if (mono_now() <= b->deadline)
        return 0;
    if (!b->error[0])
        snprintf(b->error, sizeof b->error,
                 "time budget exceeded: extraction took longer than %.3g s (the max_seconds limit, "
                 "plus 1 s per 16 MiB of the file)",
                 b->seconds);
    return 1;
}

void extract_limits_setup(struct extract_limits *out, const struct extract_limits *in,
                          struct extract_budget *own, const char *path)
{
    memset(out, 0, sizeof *out);
    if (in)
        *out = *in;
    if (out->max_depth <= 0)
        out->max_depth = 3;
    if (out->max_parts <= 0)
        out->max_parts = 100000;
    if (out->max_expanded <= 0)
        out->max_expanded = (long long)4 << 30;
    if (out->max_ratio <= 0)
        out->max_ratio = 200;
    if (out->max_seconds <= 0)
        out->max_seconds = 10;
    if (!out->budget) {
        const char *slash = strrchr(path, '/');
        struct stat st;
        memset(own, 0, sizeof *own);
        own->packed = stat(path, &st) == 0 ? (long long)st.st_size : 0;
        own->seconds = out->max_seconds + (double)own->packed * EXTRACT_SECONDS_PER_BYTE;
        own->deadline = mono_now() + own->seconds;
        if (slash && slash > path)
            snprintf(own->tmpdir, sizeof own->tmpdir, "%.*s", (int)(slash - path), path);
        else
            snprintf(own->tmpdir, sizeof own->tmpdir, slash ? "/" : ".");
        out->budget = own;
    }
}

/* An HTML file: its text, titled by its <title>. */
static long extract_html_file(const char *path, const char *name, const struct extract_limits *lim,
                              extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    struct buf raw = BUF_INIT, text = BUF_INIT;
    struct extract_doc d = {0};
    json_t *meta;
    char *title = NULL;

    (void)lim;
    buf_init(&raw, (size_t)64 << 20);
    int cut = buf_read_file(&raw, path) < 0;
    if (cut && errno != EFBIG) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        buf_release(&raw);
        return -1;
    }
    meta = json_object();
    if (cut)
        json_object_set_new(meta, "truncated", json_true());
    buf_init(&text, EXTRACT_MAX_TEXT);
    if (html_to_text(raw.data ? raw.data : "", raw.len, NULL, &text, &title) < 0)
        json_object_set_new(meta, "extract_error", json_string("not readable as HTML"));
    d.title = title && *title ? title : name;
    d.mime = "text/html";
    d.text = buf_str(&text);
    d.text_len = text.len;
    d.metadata = meta;
    fn(&d, arg);
    free(title);
    json_decref(meta);
    buf_release(&raw);
    buf_release(&text);
    return 1;
}

static int sniff_archive(const char *path, const char *name, const unsigned char *h, size_t n)
{
    (void)h;
    (void)n;
    return extract_archive_detect(path, name) == 1;
}

static int sniff_mbox(const char *path, const char *name, const unsigned char *h, size_t n)
{
    (void)path;
    (void)name;
    return extract_mbox_detect(NULL, h, n);
}

static int sniff_mail(const char *path, const char *name, const unsigned char *h, size_t n)
{
    (void)path;
    (void)name;
    return extract_mail_detect(NULL, h, n);
}

static int sniff_html(const char *path, const char *name, const unsigned char *h, size_t n)
{
    (void)path;
    (void)name;
    return html_sniff(h, n);
}

typedef long (*extract_fn)(const char *path, const char *name, const struct extract_limits *lim,
                           extract_emit_fn fn, void *arg, char *err, size_t errlen);

/*
 * The formats, like Recoll's mimeconf: a new one is one row. A file goes to
 * the first row naming its extension, else to the first whose sniffer
 * recognises its first bytes, else to the plain-text reader (which also
 * unwraps gzip, bzip2, xz and zstd).
 */
static const struct extractor {
    const char *name;
    const char *exts; /* " .a .b " */
    int (*sniff)(const char *path, const char *name, const unsigned char *head, size_t n);
    extract_fn run;
} extractors[] = {
    {"archive", "", sniff_archive, extract_archive},
    {"mbox", " .mbox .mbx ", sniff_mbox, extract_mbox},
    {"mail", " .eml ", sniff_mail, extract_mail},
    {"html", " .html .htm .xhtml ", sniff_html, extract_html_file},
};

/* The extractor whose extension list has dot (".HTML" matches " .html "), or NULL. */
static const struct extractor *extractor_by_ext(const char *dot)
{
    char ext[24];
    size_t k = 0;

    if (!dot || strlen(dot) >= sizeof ext - 2)
        return NULL;
    ext[k++] = ' ';
    for (const char *c = dot; *c; c++)
        ext[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    ext[k++] = ' ';
    ext[k] = '\0';
    for (size_t i = 0; i < sizeof extractors / sizeof extractors[0]; i++)
        if (strstr(extractors[i].exts, ext))
            return &extractors[i];
    return NULL;
}

/*
 * 1 when these first n bytes of a stream cannot start one of the formats
 * extract_archive reads: text without control bytes and without the
 * text-like signatures (bzip2, lzip, lrzip, grzip, uuencode, cpio odc/newc,
 * ar, WARC, a DOS stub of a self-extracting archive, a tar header's octal
 * checksum). Every other signature has a control byte or a byte that is not
 * UTF-8. A UTF-8 sequence cut at n is allowed (n may be a prefix). Asked by
 * surely_not_archive (files) and extract_text_as_is (inline contents).
 */
static int text_not_archive(const unsigned char *p, size_t n)
{
    static const char *const magic[] = {"BZh",  "LZIP",    "LRZI",    "GRZip", "begin",
                                        "0707", "!<arch>", "!<thin>", "WARC/", "MZ"};

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f')
            return 0;
    if (!extract_utf8_valid((const char *)p, utf8_whole_prefix(p, n)))
        return 0;
    for (size_t i = 0; i < sizeof magic / sizeof magic[0]; i++)
        if (n >= strlen(magic[i]) && memcmp(p, magic[i], strlen(magic[i])) == 0)
            return 0;
    if (n >= 512) { /* a tar header: an octal checksum at 148 (libarchive checks it) */
        size_t k = 148;
        while (k < 156 && ((p[k] >= '0' && p[k] <= '7') || p[k] == ' '))
            k++;
        if (k == 156)
            return 0;
    }
    return 1;
}

/* An ISO 9660 volume descriptor where libarchive looks for one. */
static int iso_at(const unsigned char *p, size_t n)
{
    return n >= 32774 && memcmp(p + 32769, "CD001", 5) == 0;
}

/*
 * 1 when the file whose first n bytes are head cannot be an archive, so that
 * libarchive need not bid on it (its setup and, for a gzip'd file, a zlib
 * pass were a tenth of the explorer's time on /usr/share/doc). A gzip'd file
 * is unpacked (into *u, for the readers after this) and its content tested;
 * a plain one is tested on its first bytes, its last 64 KiB (a zip's
 * directory) and where an ISO image has its descriptor. 0: ask libarchive.
 */
static int surely_not_archive(const char *path, const unsigned char *head, size_t n,
                              size_t head_max, struct unpacked *u)
{
    if (n >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8) {
#ifdef TRAWL_HAVE_LIBDEFLATE
        unpack_gzip_once(path, u);
        return u->p && text_not_archive(u->p, u->n < head_max ? u->n : head_max) &&
               !iso_at(u->p, u->n);
#else
        return 0;
#endif
    }
    if (!text_not_archive(head, n))
        return 0;
    if (n < head_max)
        return 1; /* the whole file */
    int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto out;
    size_t size = (size_t)st.st_size, tn = size < (size_t)65600 ? size : (size_t)65600;
    unsigned char *tail = malloc(tn), vd[5];
    if (!tail)
        goto out;
    ok = pread(fd, tail, tn, (off_t)(size - tn)) == (ssize_t)tn &&
         !memmem(tail, tn, "PK\005\006", 4) &&
         (size < 32774 || (pread(fd, vd, 5, 32769) == 5 && memcmp(vd, "CD001", 5) != 0));
    free(tail);
out:
    if (fd >= 0)
        close(fd);
    return ok;
}

static const struct extractor *extractor_for(const char *path, const char *name, struct unpacked *u)
{
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *dot = name ? strrchr(slash ? slash : name, '.') : NULL;
    unsigned char head[4096];
    ssize_t n = 0;
    int fd;

    const struct extractor *x = extractor_by_ext(dot);
    if (x)
        return x;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        n = read(fd, head, sizeof head);
        close(fd);
    }
    for (size_t i = 0; i < sizeof extractors / sizeof extractors[0]; i++) {
        if (extractors[i].run == extract_archive &&
            surely_not_archive(path, head, n > 0 ? (size_t)n : 0, sizeof head, u))
            continue;
        if (extractors[i].sniff(path, name, head, n > 0 ? (size_t)n : 0))
            return &extractors[i];
    }
    return NULL;
}

/* ---- compressed documents: "notes.html.gz", "box.mbox.xz", a gzip'd mail ---- */

static const char *const compressed_exts[] = {".gz", ".bz2", ".xz", ".zst", ".lz4", ".z"};

/* 1 when the first bytes are a gzip, bzip2, xz, zstd or lz4 stream. */
static int compressed_magic(const unsigned char *h, size_t n)
{
    return (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) || (n >= 3 && memcmp(h, "BZh", 3) == 0) ||
           (n >= 6 && memcmp(h,
                             "\xfd"
                             "7zXZ\0",
                             6) == 0) ||
           (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) ||
           (n >= 4 && memcmp(h, "\x04\x22\x4d\x18", 4) == 0);
}

/*
 * Unpacks the compressed file at path: its first bytes into head (peek, out
 * NULL), or all of it into the file out, within the budget's byte and ratio
 * limits. Returns the bytes produced, or -1 with err.
 */
static long long uncompress_file(const char *path, const struct extract_limits *lim,
                                 unsigned char *head, size_t *nhead, const char *out, char *err,
                                 size_t errlen)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char block[65536];
    long long total = 0, cap = lim->max_expanded - lim->budget->expanded;
    double ratio_cap = lim->max_ratio * (double)lim->budget->packed;
    FILE *f = NULL;

    if (ratio_cap < (double)((long long)32 << 20))
        ratio_cap = (double)((long long)32 << 20);
    if ((double)cap > ratio_cap)
        cap = (long long)ratio_cap;
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot read: %s", archive_error_string(a));
        archive_read_free(a);
        return -1;
    }
    if (out && !(f = fopen(out, "wxe"))) {
        snprintf(err, errlen, "cannot unpack: %s", strerror(errno));
        archive_read_free(a);
        return -1;
    }
    if (nhead)
        *nhead = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, block, sizeof block);
        if (n < 0) {
            snprintf(err, errlen, "damaged stream: %s", archive_error_string(a));
            break; /* what came out is read */
        }
        if (n == 0)
            break;
        if (!out) {
            size_t take = (size_t)n < 4096 - *nhead ? (size_t)n : 4096 - *nhead;
            memcpy(head + *nhead, block, take);
            *nhead += take;
            if (*nhead == 4096)
                break;
            continue;
        }
        total += n;
        if (total > cap) {
            snprintf(err, errlen,
                     "compressed file expands to more than %lld bytes (max_expanded / max_ratio)",
                     cap);
            total = -1;
            break;
        }
        if (extract_budget_late(lim->budget)) {
            snprintf(err, errlen, "%s", lim->budget->error);
            total = -1;
            break;
        }
        if (fwrite(block, 1, (size_t)n, f) != (size_t)n) {
            snprintf(err, errlen, "cannot unpack: %s", strerror(errno));
            total = -1;
            break;
        }
    }
    if (f && fclose(f) != 0 && total >= 0) {
        snprintf(err, errlen, "cannot unpack: %s", strerror(errno));
        total = -1;
    }
    archive_read_free(a);
    if (total > 0)
        lim->budget->expanded += total;
    return total;
}

struct unwrapped {
    extract_emit_fn fn;
    void *arg;
};

/* The file's own documents say they came out of a compressed stream. */
static int emit_unwrapped(const struct extract_doc *d, void *arg)
{
    struct unwrapped *u = arg;
    struct extract_doc nd = *d;
    int rc;

    if (d->part)
        return u->fn(d, u->arg);
    nd.metadata = d->metadata ? json_deep_copy(d->metadata) : json_object();
    json_object_set_new(nd.metadata, "compressed", json_true());
    rc = u->fn(&nd, u->arg);
    json_decref(nd.metadata);
    return rc;
}

/*
 * A compressed file whose content is a richer format than text (HTML, mail,
 * an mbox, CSV: by the name without its compression suffix, or by the first
 * unpacked bytes) is unpacked beside it and read as that format. Returns the
 * documents, or EXTRACT_NOT_MINE when plain text reading is the right thing.
 */
static long extract_compressed(const char *path, const char *name, const struct extract_limits *lim,
                               extract_emit_fn fn, void *arg, struct unpacked *up, char *err,
                               size_t errlen)
{
    static const char *const rich[] = {".html", ".htm", ".xhtml", ".eml",
                                       ".mbox", ".mbx", ".csv",   ".tsv"};
    unsigned char head[4096];
    size_t nhead = 0;
    char inner[1024], tmp[1200];
    int fd, want = 0;
    ssize_t n;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return EXTRACT_NOT_MINE;
    n = read(fd, head, 16);
    close(fd);
    if (n <= 0 || !compressed_magic(head, (size_t)n) || lim->budget->depth >= lim->max_depth)
        return EXTRACT_NOT_MINE;
    snprintf(inner, sizeof inner, "%s", name ? name : "file");
    for (size_t i = 0; i < sizeof compressed_exts / sizeof compressed_exts[0]; i++) {
        size_t a = strlen(inner), b = strlen(compressed_exts[i]);
        if (a > b && strcasecmp(inner + a - b, compressed_exts[i]) == 0) {
            inner[a - b] = '\0';
            break;
        }
    }
    const char *slash = strrchr(inner, '/'), *dot = strrchr(slash ? slash : inner, '.');
    for (size_t i = 0; dot && i < sizeof rich / sizeof rich[0]; i++)
        want |= strcasecmp(dot, rich[i]) == 0;
#ifdef TRAWL_HAVE_LIBDEFLATE
    if (!want && head[0] == 0x1f && head[1] == 0x8b) {
        /* a gzip'd file unpacked once, in one call: its first bytes say
         * whether it is plain text (the common case), and then the plain
         * reader takes the text from memory */
        unpack_gzip_once(path, up);
        if (up->p) {
            size_t k = up->n < sizeof head ? up->n : sizeof head;
            if (!extract_mbox_detect(NULL, up->p, k) && !extract_mail_detect(NULL, up->p, k) &&
                !html_sniff(up->p, k))
                return EXTRACT_NOT_MINE;
            free(up->p); /* a richer format: unpacked into a file below */
            up->p = NULL;
            want = 1;
        }
    }
#endif
    if (!want) {
        if (uncompress_file(path, lim, head, &nhead, NULL, err, errlen) < 0 || nhead == 0)
            return EXTRACT_NOT_MINE;
        want = extract_mbox_detect(NULL, head, nhead) || extract_mail_detect(NULL, head, nhead) ||
               html_sniff(head, nhead);
    }
    if (!want)
        return EXTRACT_NOT_MINE;
    snprintf(tmp, sizeof tmp, "%.1000s/.trawl-unz-%d-%ld", lim->budget->tmpdir, (int)getpid(),
             lim->budget->seq++);
    if (uncompress_file(path, lim, NULL, NULL, tmp, err, errlen) < 0) {
        /* a bomb or a broken stream: recorded with the reason */
        struct extract_doc d = {0};
        json_t *meta = json_object();
        unlink(tmp);
        json_object_set_new(meta, "compressed", json_true());
        json_object_set_new(meta, "extract_error", json_string(err));
        d.title = name;
        d.mime = "application/octet-stream";
        d.text = "";
        d.metadata = meta;
        fn(&d, arg);
        json_decref(meta);
        return 1;
    }
    struct unwrapped u = {fn, arg};
    lim->budget->depth++;
    long docs = extract_file(tmp, inner, lim, emit_unwrapped, &u, err, errlen);
    lim->budget->depth--;
    unlink(tmp);
    return docs;
}

long extract_file(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    struct extract_result r;
    struct extract_doc d = {0};
    struct extract_limits top;
    struct extract_budget own;
    struct unpacked u = {NULL, 0}; /* a gzip'd file unpacked by one step for the next */
    const struct extractor *x = extractor_for(path, name, &u);
    json_t *meta;
    int rc;

    /* The top of a file: one budget (time, parts, bytes) for all it holds. */
    if (!lim || !lim->budget) {
        extract_limits_setup(&top, lim, &own, path);
        lim = &top;
    }

    /* Office and CSV first: each says EXTRACT_NOT_MINE or does the file. */
    long on = extract_office_file(path, name, lim, fn, arg, err, errlen);
    if (on == EXTRACT_NOT_MINE)
        on = extract_csv_file(path, name, lim, fn, arg, err, errlen);
    if (on != EXTRACT_NOT_MINE)
        free(u.p);
    if (on >= 0)
        return on;
    if (on == -1) { /* recognised but unreadable: recorded with the reason */
        meta = json_object();
        json_object_set_new(meta, "extract_error", json_string(err));
        d.title = name;
        d.mime = "application/octet-stream";
        d.text = "";
        d.metadata = meta;
        fn(&d, arg);
        json_decref(meta);
        return 1;
    }
    if (x) {
        long n = x->run(path, name, lim, fn, arg, err, errlen);
        if (n >= 0 || strcmp(x->name, "archive") == 0) {
            free(u.p);
            return n;
        }
        /* a file that only looked like mail or HTML is still read as text */
    } else {
        long n = extract_compressed(path, name, lim, fn, arg, &u, err, errlen);
        if (n >= 0) {
            free(u.p);
            return n;
        }
    }
    meta = json_object();
    memset(&r, 0, sizeof r);
    buf_init(&r.text, EXTRACT_MAX_TEXT);
    r.mime = "application/octet-stream";
    r.b = lim->budget;
    rc = extract_plain(path, &r, &u, err, errlen);
    free(u.p);
    if (r.late) {
        snprintf(err, errlen, "%s", lim->budget->error);
        rc = -1;
    }
    if (r.truncated)
        json_object_set_new(meta, "truncated", json_true());
    if (r.compressed)
        json_object_set_new(meta, "compressed", json_true());
    if (rc < 0)
        json_object_set_new(meta, "extract_error", json_string(err));
    d.title = name;
    d.mime = r.mime;
    d.text = buf_str(&r.text);
    d.text_len = r.text.len;
    d.metadata = meta;
    fn(&d, arg);
    json_decref(meta);
    buf_release(&r.text);
    return 1;
}

/*
 * Kept next to extract_file's dispatch on purpose: a new extractor must be
 * reflected here (it is when it is a row of extractors[] with a sniffer).
 */
int extract_text_as_is(const char *name, const char *p, size_t n)
{
    static const char *const by_name[] = {".csv", ".tsv", ".tab"}; /* extract_csv_file's */
    const unsigned char *u = (const unsigned char *)p;
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *dot = name ? strrchr(slash ? slash : name, '.') : NULL;

    /* whole valid UTF-8 without control bytes (neither a binary signature nor
     * a doubt for extract_looks_textual) and no text-like archive signature */
    if (n >= EXTRACT_MAX_TEXT / 2 || !extract_utf8_valid(p, n) ||
        (n > 0 && !text_not_archive(u, n)))
        return 0;
    if (extractor_by_ext(dot))
        return 0;
    if (dot) {
        for (size_t i = 0; i < sizeof by_name / sizeof by_name[0]; i++)
            if (strcasecmp(dot, by_name[i]) == 0)
                return 0;
    }
    /* office names: only a zip is theirs (PK\3\4 has control bytes) */
    for (size_t i = 0; i < sizeof extractors / sizeof extractors[0]; i++)
        if (extractors[i].run != extract_archive && /* its formats are excluded above */
            extractors[i].sniff(NULL, name, u, n < 4096 ? n : 4096))
            return 0;
    return 1;
}

void extract_file_type(const char *path, char out[16])
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t n;
    int digits = 1;

    out[0] = '\0';
    if (!dot || (slash && dot < slash) || dot == path || (slash && dot == slash + 1))
        return;
    n = strlen(dot + 1);
    if (n == 0 || n >= 16)
        return;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)dot[1 + k];
        if (!isalnum(c))
            return;
        digits &= isdigit(c) != 0;
    }
    if (digits)
        return;
    for (size_t k = 0; k < n; k++)
        out[k] = (char)tolower((unsigned char)dot[1 + k]);
    out[n] = '\0';
}
