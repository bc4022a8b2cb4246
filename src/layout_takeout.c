/*
 * Google Takeout: "Takeout/<Service>/..." in one or several archives
 * (takeout-...-001.zip, ...). Members are extracted generically (Drive files
 * by their type); the layout adds where they came from: the service and the
 * Drive folder path. Mail/<name>.mbox is split here, streaming, into its
 * messages (an "All mail" mbox is often larger than the workspace's file
 * size limit): each goes through the type dispatch as an .eml with its
 * Gmail labels (X-Gmail-Labels) and thread id (X-GM-THRID).
 */
#include "extract_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TAKEOUT_MESSAGE_MAX ((size_t)64 << 20) /* Gmail's own limit is far lower */
#define TAKEOUT_LINE_MAX ((size_t)1 << 20)

struct takeout {
    size_t prefix; /* bytes before "Takeout/" (a wrapping folder) */
};

static int takeout_preload(const char *path)
{
    (void)path;
    return 0;
}

/* Where "Takeout/" starts in path: at the root or below one wrapping folder. */
static long takeout_root(const char *path)
{
    const char *slash;

    if (strncmp(path, "Takeout/", 8) == 0)
        return 0;
    slash = strchr(path, '/');
    if (slash && strncmp(slash + 1, "Takeout/", 8) == 0)
        return slash + 1 - path;
    return -1;
}

static void *takeout_begin(const char *const *names, size_t n, json_t *preloaded)
{
    struct takeout *t;
    size_t hits = 0;
    long root = -1;

    (void)preloaded;
    for (size_t i = 0; i < n; i++) {
        long r = takeout_root(names[i]);
        /* Takeout/<Service>/<something>: one service folder is enough */
        if (r >= 0 && strchr(names[i] + r + 8, '/')) {
            hits++;
            root = r;
        }
    }
    if (!hits)
        return NULL;
    t = calloc(1, sizeof *t);
    if (t)
        t->prefix = (size_t)root;
    return t;
}

/* ---- mbox, streamed ------------------------------------------------------------ */

struct mbox {
    struct arc *a;
    const char *path;
    json_t *meta;
    struct buf msg, line;
    long n;
    int too_big, prev_blank, mid_line;
    int stop;
};

/* The value of header `name` in the header block of msg (unfolded), into out. */
static int mbox_header(const char *msg, size_t len, const char *name, struct buf *out)
{
    size_t nl = strlen(name), i = 0;

    buf_reset(out);
    while (i < len) {
        const char *eol = memchr(msg + i, '\n', len - i);
        size_t ll = eol ? (size_t)(eol - (msg + i)) : len - i;
        if (ll == 0 || (ll == 1 && msg[i] == '\r'))
            break; /* end of the headers */
        if (ll > nl && strncasecmp(msg + i, name, nl) == 0 && msg[i + nl] == ':') {
            size_t j = i + nl + 1;
            while (j < len && (msg[j] == ' ' || msg[j] == '\t'))
                j++;
            for (;;) {
                const char *e = memchr(msg + j, '\n', len - j);
                size_t l = e ? (size_t)(e - (msg + j)) : len - j;
                while (l && (msg[j + l - 1] == '\r'))
                    l--;
                buf_add(out, msg + j, l);
                j = e ? (size_t)(e - msg) + 1 : len;
                if (j >= len || (msg[j] != ' ' && msg[j] != '\t'))
                    break;
            }
            return 1;
        }
        i += ll + 1;
    }
    return 0;
}

static void mbox_finish(struct mbox *m)
{
    struct buf part = BUF_INIT, name = BUF_INIT, h = BUF_INIT, title = BUF_INIT;
    json_t *meta;
    size_t len = m->msg.len;
    const char *d = m->msg.data ? m->msg.data : "";

    if (m->n == 0 || m->stop)
        return;
    /* the blank line before the next "From " belongs to the mbox */
    if (len && d[len - 1] == '\n')
        len--;
    if (len && d[len - 1] == '\r')
        len--;
    buf_addf(&part, "%s/%ld", m->path, m->n);
    buf_addf(&name, "%s.eml", buf_str(&part));
    meta = json_deep_copy(m->meta);
    json_object_set_new(meta, "message", json_integer(m->n));
    if (mbox_header(d, len, "X-Gmail-Labels", &h))
        json_object_set_new(meta, "labels", takeout_gmail_labels(buf_str(&h)));
    if (mbox_header(d, len, "X-GM-THRID", &h))
        json_object_set_new(meta, "gmail_thread_id", json_string(buf_str(&h)));
    if (mbox_header(d, len, "Subject", &h) && h.len) {
        struct buf clean = BUF_INIT;
        size_t a = 0;
        while (a < h.len && (h.data[a] == ' ' || h.data[a] == '\t'))
            a++;
        extract_utf8_clean(&clean, h.data + a, h.len - a);
        buf_adds(&title, buf_str(&clean));
        buf_release(&clean);
    } else {
        buf_addf(&title, "message %ld", m->n);
    }
    if (m->too_big) {
        char e[128];
        snprintf(e, sizeof e, "message larger than %zu bytes: not extracted", TAKEOUT_MESSAGE_MAX);
        json_object_set_new(meta, "extract_error", json_string(e));
        /* described, not extracted: nothing goes through the mail reader */
        struct extract_doc doc = {0};
        doc.part = buf_str(&part);
        doc.parent_part = m->path;
        doc.title = buf_str(&title);
        doc.mime = "message/rfc822";
        doc.text = "";
        doc.metadata = meta;
        m->stop = arc_emit(m->a, &doc);
    } else {
        m->stop = arc_extract_buffer(m->a, buf_str(&part), m->path, buf_str(&name), buf_str(&title),
                                     d, len, meta);
    }
    json_decref(meta);
    buf_release(&part);
    buf_release(&name);
    buf_release(&h);
    buf_release(&title);
}

static void mbox_add(struct mbox *m, const char *p, size_t n)
{
    if (m->n == 0 || m->too_big)
        return; /* before the first "From " line: not a message */
    if (buf_add(&m->msg, p, n) < 0)
        m->too_big = 1;
}

/* One whole line (with its newline, if any). */
static void mbox_line(struct mbox *m, const char *l, size_t n)
{
    int blank = (n == 1 && l[0] == '\n') || (n == 2 && l[0] == '\r' && l[1] == '\n');

    if (!m->mid_line && n >= 5 && memcmp(l, "From ", 5) == 0 && (m->n == 0 || m->prev_blank)) {
        mbox_finish(m);
        m->n++;
        buf_reset(&m->msg);
        m->too_big = 0;
        m->prev_blank = 0;
        return;
    }
    if (!m->mid_line && n > 5 && l[0] == '>') {
        /* mboxrd: ">From " and ">>From " lost one '>' when quoted */
        size_t k = 0;
        while (k < n && l[k] == '>')
            k++;
        if (n - k >= 5 && memcmp(l + k, "From ", 5) == 0) {
            l++;
            n--;
        }
    }
    mbox_add(m, l, n);
    m->prev_blank = blank;
}

static int takeout_mbox(struct arc *a, const char *path, json_t *meta)
{
    struct mbox m = {a, path, meta, BUF_INIT, BUF_INIT, 0, 0, 1, 0, 0};
    char block[65536], err[512];
    long got;
    struct extract_doc d = {0};
    json_t *bm;
    int rc;

    buf_init(&m.msg, TAKEOUT_MESSAGE_MAX);
    buf_init(&m.line, TAKEOUT_LINE_MAX);
    err[0] = '\0';
    while (!m.stop && (got = arc_read(a, block, sizeof block, err, sizeof err)) > 0) {
        const char *p = block, *end = block + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            if (m.line.len + n > TAKEOUT_LINE_MAX) {
                /* an absurdly long line: passed on in pieces, never a From_ line */
                mbox_line(&m, m.line.data ? m.line.data : "", m.line.len);
                buf_reset(&m.line);
                m.mid_line = 1;
                mbox_add(&m, p, n);
            } else if (nl) {
                buf_add(&m.line, p, n);
                mbox_line(&m, m.line.data, m.line.len);
                buf_reset(&m.line);
                m.mid_line = 0;
            } else {
                buf_add(&m.line, p, n);
            }
            p += n;
        }
    }
    if (m.line.len)
        mbox_line(&m, m.line.data, m.line.len);
    mbox_finish(&m);
    /* the mailbox itself */
    bm = json_deep_copy(meta);
    json_object_set_new(bm, "messages", json_integer(m.n));
    if (err[0])
        json_object_set_new(bm, "extract_error", json_string(err));
    d.part = path;
    d.title = layout_basename(path);
    d.mime = "application/mbox";
    d.text = "";
    d.modified = arc_member_mtime(a);
    d.metadata = bm;
    rc = m.stop ? 1 : arc_emit(a, &d);
    json_decref(bm);
    buf_release(&m.msg);
    buf_release(&m.line);
    return rc || arc_stopped(a) ? -1 : 1;
}

static int takeout_member(void *st, struct arc *a, const char *path, json_t *meta)
{
    struct takeout *t = st;
    const char *svc, *rest, *slash;
    long r = takeout_root(path);

    (void)t;
    if (r < 0)
        return 0;
    svc = path + r + 8;
    slash = strchr(svc, '/');
    if (!slash)
        return 0; /* archive_browser.html and the like */
    json_object_set_new(meta, "takeout_service", json_stringn(svc, (size_t)(slash - svc)));
    rest = slash + 1;
    if ((size_t)(slash - svc) == 5 && strncmp(svc, "Drive", 5) == 0) {
        const char *last = strrchr(rest, '/');
        json_object_set_new(meta, "drive_path",
                            json_stringn(rest, last ? (size_t)(last - rest) : 0));
    } else if ((size_t)(slash - svc) == 4 && strncmp(svc, "Mail", 4) == 0) {
        const char *base = layout_basename(rest);
        size_t n = strlen(base);
        if (n > 5 && strcasecmp(base + n - 5, ".mbox") == 0)
            n -= 5;
        json_object_set_new(meta, "mailbox", json_stringn(base, n));
        if (n < strlen(base))
            return takeout_mbox(a, path, meta);
    }
    return 0;
}

/* Splits a Gmail label list ("Inbox,Important,\"Work, 2024\",Opened") on the
 * commas outside quotes. */
json_t *takeout_gmail_labels(const char *s)
{
    json_t *arr = json_array();
    char cur[512];
    size_t n = 0;
    int quoted = 0;

    for (const char *p = s;; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (*p == '\0' || (*p == ',' && !quoted)) {
            size_t a = 0, b = n;
            while (a < b && (cur[a] == ' ' || cur[a] == '\t'))
                a++;
            while (b > a && (cur[b - 1] == ' ' || cur[b - 1] == '\t' || cur[b - 1] == '\r' ||
                             cur[b - 1] == '\n'))
                b--;
            if (b > a)
                json_array_append_new(arr, json_stringn(cur + a, b - a));
            n = 0;
            if (*p == '\0')
                break;
            continue;
        }
        if (n < sizeof cur)
            cur[n++] = *p;
    }
    return arr;
}

/* The mail extractor's documents carry their headers; the header's name may
 * come in any case and in a "headers" object or at the top. */
static const char *takeout_find_labels(json_t *meta)
{
    const char *key;
    json_t *v;
    json_t *headers = json_object_get(meta, "headers");

    json_object_foreach(meta, key, v)
    {
        if (strcasecmp(key, "x-gmail-labels") == 0 && json_is_string(v))
            return json_string_value(v);
    }
    json_object_foreach(headers, key, v)
    {
        if (strcasecmp(key, "x-gmail-labels") == 0) {
            if (json_is_string(v))
                return json_string_value(v);
            if (json_is_string(json_array_get(v, 0)))
                return json_string_value(json_array_get(v, 0));
        }
    }
    return NULL;
}

static void takeout_adjust(void *st, const char *path, json_t *meta)
{
    const char *labels = takeout_find_labels(meta);

    (void)st;
    (void)path;
    if (labels && !json_object_get(meta, "labels"))
        json_object_set_new(meta, "labels", takeout_gmail_labels(labels));
}

static void takeout_free(void *st)
{
    free(st);
}

const struct layout_ops layout_takeout_ops = {
    "takeout", takeout_preload, takeout_begin, takeout_member, takeout_adjust, NULL, takeout_free,
};
