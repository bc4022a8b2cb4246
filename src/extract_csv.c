/*
 * CSV/TSV to readable text. The file is converted to UTF-8 first (BOM, then
 * a UTF-8 check, else Windows-1252, the usual spreadsheet export charset),
 * then parsed in one pass with a small state machine.
 */
#include "extract_csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (!k || (k == 2 && c < 0xc2) || i + k > n)
            return i + k > n && k && n - i < 4 && i + 4 > n; /* a cut-off last char is fine */
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

/* Converts to UTF-8 with iconv; invalid input bytes are skipped. */
static int to_utf8(const char *from, const char *p, size_t n, struct buf *out)
{
    iconv_t cd = iconv_open("UTF-8", from);
    char block[16384];
    char *in = (char *)p;
    size_t left = n;

    if (cd == (iconv_t)-1)
        return -1;
    while (left > 0) {
        char *o = block;
        size_t ol = sizeof block;
        size_t r = iconv(cd, &in, &left, &o, &ol);
        if (o > block && extract_utf8_clean(out, block, (size_t)(o - block)) < 0)
            break;
        if (r == (size_t)-1 && errno != E2BIG) {
            if (errno == EINVAL)
                break; /* incomplete sequence at the end */
            in++;      /* EILSEQ: skip the byte */
            left--;
        }
    }
    iconv_close(cd);
    return 0;
}

/* The delimiter whose count is the same, and not zero, on most of the first lines. */
static char sniff_delimiter(const char *p, size_t n, const char *name)
{
    static const char cand[] = ",\t;|";
    const char *dot = name ? strrchr(name, '.') : NULL;
    int best = -1, best_score = 0;

    for (int c = 0; cand[c]; c++) {
        int counts[20] = {0}, lines = 0, quoted = 0, score = 0;
        for (size_t i = 0; i < n && lines < 20; i++) {
            if (p[i] == '"')
                quoted = !quoted;
            else if (!quoted && p[i] == cand[c])
                counts[lines]++;
            else if (!quoted && p[i] == '\n')
                lines++;
        }
        if (lines < 20 && n && p[n - 1] != '\n')
            lines++;
        for (int l = 0; l < lines && l < 20; l++)
            if (counts[l] > 0 && counts[l] == counts[0])
                score++;
        score = score * 1000 + counts[0];
        if (counts[0] > 0 && score > best_score) {
            best_score = score;
            best = c;
        }
    }
    if (best < 0)
        return dot && (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0) ? '\t' : ',';
    return cand[best];
}

struct row {
    struct buf cells; /* NUL-separated fields */
    size_t n;
};

/* Reads one record from p[*pos]; returns 0 at the end of input. */
static int next_record(const char *p, size_t n, size_t *pos, char delim, struct row *r,
                       int *bad_quote)
{
    size_t i = *pos;
    int quoted = 0, in_field_quote = 0;

    if (i >= n)
        return 0;
    buf_reset(&r->cells);
    r->n = 1;
    while (i < n) {
        char c = p[i];
        if (in_field_quote) {
            if (c == '"') {
                if (i + 1 < n && p[i + 1] == '"') {
                    buf_addch(&r->cells, '"');
                    i += 2;
                    continue;
                }
                in_field_quote = 0;
            } else {
                buf_addch(&r->cells, c);
            }
            i++;
            continue;
        }
        if (c == '"' && !quoted) {
            in_field_quote = quoted = 1;
        } else if (c == delim) {
            buf_addch(&r->cells, '\0');
            r->n++;
            quoted = 0;
        } else if (c == '\n' || c == '\r') {
            i++;
            if (c == '\r' && i < n && p[i] == '\n')
                i++;
            *pos = i;
            return 1;
        } else {
            buf_addch(&r->cells, c);
        }
        i++;
    }
    if (in_field_quote)
        *bad_quote = 1;
    *pos = i;
    return 1;
}

static const char *field(const struct row *r, size_t k)
{
    const char *s = buf_str(&r->cells);
    const char *end = s + r->cells.len;
    for (size_t i = 0; i < k && s < end; i++)
        s += strlen(s) + 1;
    return s < end || (s == end && k < r->n) ? s : "";
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

long extract_csv_memory(const char *data, size_t n, const char *name,
                        const struct extract_limits *lim, extract_emit_fn fn, void *arg, char *err,
                        size_t errlen)
{
    struct buf u, text;
    struct row hdr, row;
    struct extract_doc d = {0};
    const char *charset = "UTF-8", *p;
    json_t *meta = json_object(), *cols = json_array();
    size_t len, pos = 0;
    long rows = 0;
    int bad_quote = 0, truncated = 0;
    char delim, dname[8];

    (void)lim;
    (void)err;
    (void)errlen;
    buf_init(&u, CSV_MAX_INPUT * 2);
    if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        extract_utf8_clean(&u, data + 3, n - 3);
    } else if (n >= 2 && memcmp(data, "\xff\xfe", 2) == 0) {
        charset = "UTF-16LE";
        to_utf8(charset, data + 2, n - 2, &u);
    } else if (n >= 2 && memcmp(data, "\xfe\xff", 2) == 0) {
        charset = "UTF-16BE";
        to_utf8(charset, data + 2, n - 2, &u);
    } else if (valid_utf8((const unsigned char *)data, n)) {
        extract_utf8_clean(&u, data, n);
    } else {
        charset = "WINDOWS-1252";
        if (to_utf8(charset, data, n, &u) < 0)
            extract_utf8_clean(&u, data, n);
    }
    p = buf_str(&u);
    len = u.len;
    delim = sniff_delimiter(p, len, name);
    buf_init(&text, EXTRACT_MAX_TEXT);
    buf_init(&hdr.cells, 1 << 20);
    buf_init(&row.cells, 1 << 20);
    hdr.n = 0;
    next_record(p, len, &pos, delim, &hdr, &bad_quote);
    for (size_t i = 0; i < hdr.n; i++)
        json_array_append_new(cols, json_string(field(&hdr, i)));
    while (next_record(p, len, &pos, delim, &row, &bad_quote)) {
        int any = 0;
        if (row.n == 1 && row.cells.len == 0)
            continue; /* blank line */
        if (++rows > CSV_MAX_ROWS) {
            truncated = 1;
            rows--;
            break;
        }
        for (size_t i = 0; i < row.n && !truncated; i++) {
            const char *v = field(&row, i);
            const char *h = i < hdr.n ? field(&hdr, i) : "";
            if (blank(v))
                continue;
            if ((!any && text.len && buf_addch(&text, '\n') < 0) ||
                (h[0] ? buf_addf(&text, "%s: %s\n", h, v)
                      : buf_addf(&text, "column %zu: %s\n", i + 1, v)) < 0)
                truncated = 1;
            any = 1;
        }
        if (truncated)
            break;
    }
    if (text.len && text.data[text.len - 1] == '\n')
        text.data[--text.len] = '\0';
    snprintf(dname, sizeof dname, "%s", delim == '\t' ? "tab" : (char[]){delim, 0});
    json_object_set_new(meta, "columns", cols);
    json_object_set_new(meta, "rows", json_integer(rows));
    json_object_set_new(meta, "delimiter", json_string(dname));
    json_object_set_new(meta, "charset", json_string(charset));
    if (truncated)
        json_object_set_new(meta, "truncated", json_true());
    if (bad_quote)
        json_object_set_new(meta, "extract_warning", json_string("unterminated quoted field"));
    d.title = name;
    d.mime = delim == '\t' ? "text/tab-separated-values" : "text/csv";
    d.text = buf_str(&text);
    d.text_len = text.len;
    d.metadata = meta;
    fn(&d, arg);
    json_decref(meta);
    buf_release(&u);
    buf_release(&text);
    buf_release(&hdr.cells);
    buf_release(&row.cells);
    return 1;
}

long extract_csv_file(const char *path, const char *name, const struct extract_limits *lim,
                      extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    struct buf b;
    char block[65536];
    size_t got;
    long r;
    FILE *f;

    if (!dot || (strcasecmp(dot, ".csv") != 0 && strcasecmp(dot, ".tsv") != 0 &&
                 strcasecmp(dot, ".tab") != 0))
        return EXTRACT_NOT_MINE;
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return -1;
    }
    buf_init(&b, CSV_MAX_INPUT);
    while ((got = fread(block, 1, sizeof block, f)) > 0)
        if (buf_add(&b, block, got) < 0)
            break; /* past the cap: the first CSV_MAX_INPUT bytes */
    fclose(f);
    r = extract_csv_memory(b.data ? b.data : "", b.len, name, lim, fn, arg, err, errlen);
    buf_release(&b);
    return r;
}
