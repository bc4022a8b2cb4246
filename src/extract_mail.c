/*
 * Mail extraction: RFC 5322 headers, MIME structure (RFC 2045/2046), encoded
 * words (RFC 2047), parameter continuations (RFC 2231), base64 and
 * quoted-printable, charsets through iconv, nested messages, attachments
 * handed back to extract_file, and streamed mbox files.
 *
 * Everything here reads hostile bytes: every count is capped, nothing is
 * trusted to be terminated, and a broken part becomes a note in the
 * message's metadata ("extract_error") while the rest goes on.
 */
#include "extract_mail.h"

#include "extract_html.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAIL_MAX_HEADERS 1000
#define MAIL_MAX_DEPTH 30      /* MIME nesting inside one message */
#define MAIL_MAX_ENTITIES 5000 /* MIME parts in one message */
#define MAIL_MAX_ATTACH 1000   /* attachments handed on per message */

/* ---- small helpers ---------------------------------------------------------- */

struct hdr {
    const char *name, *val; /* into the message: not terminated */
    size_t nlen, vlen;      /* vlen covers folded continuation lines */
};

struct hdrs {
    struct hdr v[MAIL_MAX_HEADERS];
    int n, dropped;
};

static const char *eol(const char *p, const char *end)
{
    const char *q = memchr(p, '\n', (size_t)(end - p));
    return q ? q : end;
}

/* Splits the header block; returns the offset of the body. */
static size_t parse_headers(const char *p, size_t n, struct hdrs *h)
{
    const char *s = p, *end = p + n;

    h->n = h->dropped = 0;
    while (s < end) {
        const char *e = eol(s, end), *le = e;
        if (le > s && le[-1] == '\r')
            le--;
        if (le == s) /* the empty line */
            return e < end ? (size_t)(e + 1 - p) : n;
        if ((*s == ' ' || *s == '\t') && h->n > 0) {
            struct hdr *last = &h->v[h->n - 1];
            last->vlen = (size_t)(le - last->val);
        } else {
            const char *c = memchr(s, ':', (size_t)(le - s));
            const char *k = s;
            while (c && k<c && * k> 32 && *k < 127)
                k++;
            if (!c || k != c || c == s) /* not a header line: the body starts here */
                return (size_t)(s - p);
            if (h->n < MAIL_MAX_HEADERS) {
                struct hdr *x = &h->v[h->n++];
                x->name = s;
                x->nlen = (size_t)(c - s);
                x->val = c + 1;
                while (x->val < le && (*x->val == ' ' || *x->val == '\t'))
                    x->val++;
                x->vlen = (size_t)(le - x->val);
            } else {
                h->dropped++;
            }
        }
        s = e < end ? e + 1 : end;
    }
    return n;
}

/* The first header called name, unfolded, as a new string (NULL if absent). */
static char *hdr_get(const struct hdrs *h, const char *name)
{
    size_t nl = strlen(name);

    for (int i = 0; i < h->n; i++) {
        const struct hdr *x = &h->v[i];
        if (x->nlen != nl || strncasecmp(x->name, name, nl) != 0)
            continue;
        char *s = malloc(x->vlen + 1), *o = s;
        if (!s)
            return NULL;
        for (size_t k = 0; k < x->vlen; k++)
            if (x->val[k] != '\r' && x->val[k] != '\n')
                *o++ = x->val[k];
        *o = '\0';
        while (o > s && (o[-1] == ' ' || o[-1] == '\t'))
            *--o = '\0';
        return s;
    }
    return NULL;
}

/* ---- charsets ---------------------------------------------------------------- */

static int charset_is_utf8(const char *cs)
{
    return !cs || !*cs || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
           strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Converts n bytes in charset cs to UTF-8 appended to out. Returns 0, or -1
 * when iconv does not know the charset (the bytes are then cleaned as UTF-8
 * and the caller says so). */
static int to_utf8(const char *s, size_t n, const char *cs, struct buf *out)
{
    char name[48];
    iconv_t cd;
    size_t k = 0;

    if (charset_is_utf8(cs))
        return extract_utf8_clean(out, s, n) < 0 ? 0 : 0;
    for (const char *c = cs; *c && k + 1 < sizeof name; c++)
        if (isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.' || *c == ':')
            name[k++] = *c;
    name[k] = '\0';
    /* the labels mail really uses for the Latin-1 family mean Windows-1252 */
    if (strcasecmp(name, "iso-8859-1") == 0 || strcasecmp(name, "latin1") == 0 ||
        strcasecmp(name, "us-ascii") == 0)
        snprintf(name, sizeof name, "WINDOWS-1252");
    if (!k || (cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
        extract_utf8_clean(out, s, n);
        return -1;
    }
    char *in = (char *)s, tmp[4096];
    size_t inleft = n;
    while (inleft > 0) {
        char *o = tmp;
        size_t oleft = sizeof tmp;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        if (o > tmp && extract_utf8_clean(out, tmp, (size_t)(o - tmp)) < 0)
            break;
        if (r == (size_t)-1 && errno != E2BIG) {
            /* an invalid or cut sequence: one replacement, skip a byte */
            if (buf_add(out, "\xef\xbf\xbd", 3) < 0)
                break;
            in++;
            inleft--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    iconv_close(cd);
    return 0;
}

/* ---- transfer encodings -------------------------------------------------------- */

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Lenient: characters outside the alphabet are skipped, '=' ends. Returns the
 * number of bytes that were not base64 (for the note on a broken part). */
static size_t base64_decode(const char *s, size_t n, struct buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t junk = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = b64v(c);
        if (c == '=')
            break;
        if (v < 0) {
            junk += !isspace(c);
            continue;
        }
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (buf_addch(out, (char)(acc >> bits & 0xff)) < 0)
                break;
        }
    }
    return junk;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void qp_decode(const char *s, size_t n, struct buf *out, int header)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_' && header) {
            c = ' ';
        } else if (c == '=' && i + 2 < n + 0 && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            c = (char)(hexv(s[i + 1]) << 4 | hexv(s[i + 2]));
            i += 2;
        } else if (c == '=' && !header) { /* soft line break, or a stray '=' kept */
            size_t j = i + 1;
            while (j < n && (s[j] == ' ' || s[j] == '\t'))
                j++;
            if (j < n && s[j] == '\r')
                j++;
            if (j < n && s[j] == '\n') {
                i = j;
                continue;
            }
            if (j >= n)
                break;
        }
        if (buf_addch(out, c) < 0)
            return;
    }
}

/* ---- headers: encoded words, parameters, addresses, dates ------------------------ */

void mail_decode_header(const char *s, size_t n, struct buf *out)
{
    size_t i = 0, plain_start = 0;
    int last_was_word = 0;

    while (i < n) {
        /* =?charset?E?text?= */
        if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
            const char *p = s + i + 2, *end = s + n;
            const char *q1 = memchr(p, '?', (size_t)(end - p));
            const char *q2 = q1 && q1 + 2 < end && q1[2] == '?' ? q1 + 2 : NULL;
            const char *q3 = NULL;
            for (const char *t = q2 ? q2 + 1 : NULL; t && t + 1 < end; t++)
                if (t[0] == '?' && t[1] == '=') {
                    q3 = t;
                    break;
                }
            if (q1 && q2 && q3 && q1 - p < 40 &&
                (q1[1] == 'B' || q1[1] == 'b' || q1[1] == 'Q' || q1[1] == 'q')) {
                /* white space between two encoded words is dropped */
                size_t pl = i - plain_start;
                int only_space = 1;
                for (size_t k = plain_start; k < i; k++)
                    only_space &= s[k] == ' ' || s[k] == '\t';
                if (pl && !(last_was_word && only_space))
                    to_utf8(s + plain_start, pl,
                            extract_utf8_valid(s + plain_start, pl) ? NULL : "cp1252", out);
                char cs[48];
                size_t cl = (size_t)(q1 - p) < sizeof cs ? (size_t)(q1 - p) : sizeof cs - 1;
                memcpy(cs, p, cl);
                cs[cl] = '\0';
                char *star = strchr(cs, '*'); /* RFC 2231 language suffix */
                if (star)
                    *star = '\0';
                struct buf raw = BUF_INIT;
                buf_init(&raw, 1 << 20);
                if (q1[1] == 'B' || q1[1] == 'b')
                    base64_decode(q2 + 1, (size_t)(q3 - q2 - 1), &raw);
                else
                    qp_decode(q2 + 1, (size_t)(q3 - q2 - 1), &raw, 1);
                to_utf8(raw.data ? raw.data : "", raw.len, cs, out);
                buf_release(&raw);
                i = (size_t)(q3 + 2 - s);
                plain_start = i;
                last_was_word = 1;
                continue;
            }
        }
        i++;
    }
    if (plain_start < n) {
        size_t pl = n - plain_start;
        to_utf8(s + plain_start, pl, extract_utf8_valid(s + plain_start, pl) ? NULL : "cp1252",
                out);
    }
}

static char *decode_header_str(const char *s)
{
    struct buf b = BUF_INIT;
    char *r;
    if (!s)
        return NULL;
    buf_init(&b, 1 << 20);
    mail_decode_header(s, strlen(s), &b);
    r = strndup(b.data ? b.data : "", b.len);
    buf_release(&b);
    return r;
}

/* The value of parameter `want` in a Content-Type or Content-Disposition
 * value, with RFC 2231 continuations and charsets; NULL if absent. */
static char *param_get(const char *v, const char *want)
{
    struct {
        int idx, ext;
        char *val;
    } seg[32];
    int nseg = 0;
    char *plain = NULL, cs[48] = "";
    size_t wl = strlen(want);
    const char *p = v ? strchr(v, ';') : NULL;

    while (p && *p) {
        p++;
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *ns = p;
        while (*p && *p != '=' && *p != ';')
            p++;
        const char *ne = p;
        while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        struct buf val = BUF_INIT;
        buf_init(&val, 1 << 16);
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                buf_addch(&val, *p);
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t')
                buf_addch(&val, *p++);
        }
        while (*p && *p != ';')
            p++;
        size_t nl = (size_t)(ne - ns);
        if (nl >= wl && strncasecmp(ns, want, wl) == 0) {
            const char *rest = ns + wl;
            size_t rl = nl - wl;
            char *s = strndup(val.data ? val.data : "", val.len);
            if (rl == 0) {
                free(plain);
                plain = s;
            } else if (rest[0] == '*' && nseg < 32) {
                int idx = 0, ext = 0;
                const char *r = rest + 1;
                if (rl == 1) {
                    ext = 1;
                } else {
                    while (r < ns + nl && isdigit((unsigned char)*r))
                        idx = idx * 10 + (*r++ - '0');
                    ext = r < ns + nl && *r == '*';
                }
                seg[nseg].idx = idx;
                seg[nseg].ext = ext;
                seg[nseg++].val = s;
            } else {
                free(s);
            }
        }
        buf_release(&val);
    }
    if (nseg == 0)
        return plain;
    /* join the segments in index order; the first extended one names the charset */
    struct buf raw = BUF_INIT, out = BUF_INIT;
    buf_init(&raw, 1 << 16);
    buf_init(&out, 1 << 18);
    for (int want_idx = 0; want_idx < 32; want_idx++) {
        for (int k = 0; k < nseg; k++) {
            if (seg[k].idx != want_idx)
                continue;
            const char *s = seg[k].val;
            if (seg[k].ext) {
                if (want_idx == 0) {
                    const char *a = strchr(s, '\''), *b = a ? strchr(a + 1, '\'') : NULL;
                    if (a && b) {
                        snprintf(cs, sizeof cs, "%.*s", (int)(a - s), s);
                        s = b + 1;
                    }
                }
                for (; *s; s++) {
                    if (*s == '%' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
                        buf_addch(&raw, (char)(hexv(s[1]) << 4 | hexv(s[2])));
                        s += 2;
                    } else {
                        buf_addch(&raw, *s);
                    }
                }
            } else {
                buf_adds(&raw, s);
            }
        }
    }
    to_utf8(raw.data ? raw.data : "", raw.len, cs[0] ? cs : NULL, &out);
    char *r = strndup(out.data ? out.data : "", out.len);
    buf_release(&raw);
    buf_release(&out);
    for (int k = 0; k < nseg; k++)
        free(seg[k].val);
    free(plain);
    return r;
}

/* "text/plain; charset=x" -> "text/plain" lower case, in out[80]. */
static void media_type(const char *v, char out[80], const char *dflt)
{
    size_t k = 0;
    const char *p = v;

    while (p && (*p == ' ' || *p == '\t'))
        p++;
    while (p && *p && *p != ';' && *p != ' ' && *p != '\t' && k + 1 < 80)
        out[k++] = (char)tolower((unsigned char)*p++);
    out[k] = '\0';
    if (!strchr(out, '/'))
        snprintf(out, 80, "%s", dflt);
}

/* Appends the addresses (addr-spec, lower case) found in a header value. */
static void addresses(const char *v, json_t *arr)
{
    const char *p = v;

    while (p && *p && json_array_size(arr) < 200) {
        const char *at = strchr(p, '@');
        if (!at)
            break;
        const char *s = at, *e = at + 1;
        while (s > p && !strchr(" \t<>,;:\"()[]", s[-1]))
            s--;
        while (*e && !strchr(" \t<>,;:\"()[]", *e))
            e++;
        if (s < at && e > at + 1 && e - s < 256) {
            char a[256];
            size_t n = (size_t)(e - s);
            for (size_t k = 0; k < n; k++)
                a[k] = (char)tolower((unsigned char)s[k]);
            a[n] = '\0';
            int dup = 0;
            size_t i;
            json_t *x;
            json_array_foreach(arr, i, x) dup |= strcmp(json_string_value(x), a) == 0;
            if (!dup && extract_utf8_valid(a, n))
                json_array_append_new(arr, json_string(a));
        }
        p = *e ? e + 1 : e;
    }
}

void mail_thread_key(const char *subject, struct buf *out)
{
    static const char *const pre[] = {"re",  "fw", "fwd", "aw",  "sv", "wg", "antw",
                                      "ref", "tr", "rv",  "odp", "vs", "res"};
    const char *p = subject ? subject : "";
    int changed = 1;

    while (changed) {
        changed = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[') { /* [list-name] tags */
            const char *e = strchr(p, ']');
            if (e && e - p < 64) {
                p = e + 1;
                changed = 1;
                continue;
            }
        }
        for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
            size_t l = strlen(pre[k]);
            if (strncasecmp(p, pre[k], l) != 0)
                continue;
            const char *q = p + l;
            if (*q == '[' || *q == '(') { /* Re[2]: */
                while (*q && *q != ']' && *q != ')')
                    q++;
                if (*q)
                    q++;
            }
            while (*q == ' ')
                q++;
            if (*q == ':' || (q[0] == '\xef' && q[1] == '\xbc' && q[2] == '\x9a')) {
                p = q + (*q == ':' ? 1 : 3);
                changed = 1;
                break;
            }
        }
    }
    int space = 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c)) {
            space = out->len > 0;
            continue;
        }
        if (space && buf_addch(out, ' ') < 0)
            return;
        space = 0;
        if (buf_addch(out, (char)(c < 128 ? tolower(c) : c)) < 0)
            return;
    }
}

int mail_date_iso(const char *s, char out[32])
{
    static const char *const mon[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec"};
    int d = -1, m = -1, y = -1, hh = 0, mi = 0, ss = 0, off = 0;
    const char *p = s;
    struct tm tm = {0};

    if (!s)
        return -1;
    const char *comma = strchr(p, ',');
    if (comma && comma - p < 12)
        p = comma + 1;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    d = (int)strtol(p, (char **)&p, 10);
    while (*p == ' ' || *p == '-')
        p++;
    for (int k = 0; k < 12; k++)
        if (strncasecmp(p, mon[k], 3) == 0)
            m = k;
    if (m < 0)
        return -1;
    while (*p && *p != ' ' && *p != '-')
        p++;
    while (*p == ' ' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    y = (int)strtol(p, (char **)&p, 10);
    if (y < 50)
        y += 2000;
    else if (y < 1000)
        y += 1900;
    while (*p == ' ')
        p++;
    if (isdigit((unsigned char)*p)) {
        hh = (int)strtol(p, (char **)&p, 10);
        if (*p == ':')
            mi = (int)strtol(p + 1, (char **)&p, 10);
        if (*p == ':')
            ss = (int)strtol(p + 1, (char **)&p, 10);
    }
    while (*p == ' ')
        p++;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, v = 0, k = 0;
        for (p++; k < 4 && isdigit((unsigned char)*p); k++, p++)
            v = v * 10 + (*p - '0');
        if (k == 4)
            off = sign * ((v / 100) * 60 + v % 100);
    } else {
        static const struct {
            const char *n;
            int h;
        } z[] = {{"EDT", -4}, {"EST", -5}, {"CDT", -5}, {"CST", -6},
                 {"MDT", -6}, {"MST", -7}, {"PDT", -7}, {"PST", -8}};
        for (size_t k = 0; k < sizeof z / sizeof z[0]; k++)
            if (strncasecmp(p, z[k].n, 3) == 0)
                off = z[k].h * 60;
    }
    if (d < 1 || d > 31 || y < 1900 || y > 9999 || hh > 23 || mi > 59 || ss > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss > 59 ? 59 : ss;
    time_t t = timegm(&tm) - (time_t)off * 60;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return -1;
    return 0;
}

/* ---- messages ------------------------------------------------------------------- */

struct mctx {
    const char *path;
    struct extract_limits lim; /* with budget */
    struct extract_budget *b;
    extract_emit_fn fn;
    void *arg;
    long docs;
    int stop;
};

struct attach {
    const char *p; /* the part's body, still transfer-encoded */
    size_t n;
    char *name, *mime, *cte, *charset;
    int message; /* a message/rfc822: extracted here, not by extract_file */
};

struct msg {
    struct buf text;
    json_t *notes; /* strings */
    struct attach att[MAIL_MAX_ATTACH];
    int natt, entities, dropped_att;
    int have_text;
};

static void note(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct msg *m, const char *fmt, ...)
{
    char s[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    size_t i;
    json_t *x;
    json_array_foreach(m->notes, i, x) if (strcmp(json_string_value(x), s) == 0) return;
    if (json_array_size(m->notes) < 20) {
        struct buf b = BUF_INIT;
        extract_utf8_clean(&b, s, strlen(s));
        json_array_append_new(m->notes, json_stringn(b.data ? b.data : "", b.len));
        buf_release(&b);
    }
}

/* Decodes a body by its transfer encoding into out (raw bytes). */
static void decode_body(struct msg *m, const char *p, size_t n, const char *cte, struct buf *out)
{
    char enc[32] = "7bit";
    if (cte) {
        size_t k = 0;
        for (const char *c = cte; *c == ' ' || *c == '\t'; c++)
            cte = c + 1;
        while (cte[k] && cte[k] != ' ' && cte[k] != ';' && k + 1 < sizeof enc) {
            enc[k] = (char)tolower((unsigned char)cte[k]);
            k++;
        }
        enc[k] = '\0';
    }
    if (strcmp(enc, "base64") == 0) {
        size_t junk = base64_decode(p, n, out);
        if (junk > 0)
            note(m, "base64 part with %zu bytes outside the alphabet (skipped)", junk);
    } else if (strcmp(enc, "quoted-printable") == 0) {
        qp_decode(p, n, out, 0);
    } else {
        buf_add(out, p, n);
    }
}

static void add_text(struct msg *m, const char *p, size_t n, const char *cte, const char *charset,
                     int html)
{
    struct buf raw = BUF_INIT, utf = BUF_INIT;

    buf_init(&raw, EXTRACT_MAIL_MAX_MESSAGE);
    buf_init(&utf, EXTRACT_MAX_TEXT);
    decode_body(m, p, n, cte, &raw);
    if (to_utf8(raw.data ? raw.data : "", raw.len, charset, &utf) < 0)
        note(m, "unknown charset '%.40s': text read as UTF-8", charset);
    if (m->text.len && buf_adds(&m->text, "\n\n") < 0) {
        buf_release(&raw);
        buf_release(&utf);
        return;
    }
    if (html) {
        if (html_to_text(utf.data ? utf.data : "", utf.len, "UTF-8", &m->text, NULL) < 0)
            note(m, "an HTML part could not be read");
    } else {
        buf_add(&m->text, utf.data ? utf.data : "", utf.len);
    }
    m->have_text = 1;
    buf_release(&raw);
    buf_release(&utf);
}

static void walk(struct mctx *c, struct msg *m, const char *p, size_t n, int depth,
                 const char *dflt_type);

/* The parts of a multipart body. Returns how many were found (and walked). */
static int split_multipart(struct msg *m, const char *body, size_t n, const char *boundary,
                           const char **ps, size_t *ns, int max)
{
    size_t bl = strlen(boundary);
    const char *s = body, *end = body + n, *part = NULL;
    int k = 0, closed = 0;

    while (s < end) {
        const char *e = eol(s, end);
        const char *le = e;
        if (le > s && le[-1] == '\r')
            le--;
        if ((size_t)(le - s) >= bl + 2 && s[0] == '-' && s[1] == '-' &&
            memcmp(s + 2, boundary, bl) == 0) {
            const char *after = s + 2 + bl;
            int is_close = le - after >= 2 && after[0] == '-' && after[1] == '-';
            /* only white space may follow the boundary */
            int ok = 1;
            for (const char *t = after + (is_close ? 2 : 0); t < le; t++)
                ok &= *t == ' ' || *t == '\t';
            if (ok) {
                if (part && k < max) {
                    const char *pe = s;
                    if (pe > part && pe[-1] == '\n')
                        pe--;
                    if (pe > part && pe[-1] == '\r')
                        pe--;
                    ps[k] = part;
                    ns[k++] = pe > part ? (size_t)(pe - part) : 0;
                } else if (part) {
                    note(m, "more than %d parts in one multipart: the rest skipped", max);
                }
                if (is_close) {
                    closed = 1;
                    break;
                }
                part = e < end ? e + 1 : end;
            }
        }
        s = e < end ? e + 1 : end;
    }
    if (!closed && part && part < end && k < max) {
        note(m, "multipart without its closing boundary");
        ps[k] = part;
        ns[k++] = (size_t)(end - part);
    }
    return k;
}

static void walk(struct mctx *c, struct msg *m, const char *p, size_t n, int depth,
                 const char *dflt_type)
{
    struct hdrs *h = malloc(sizeof *h);
    char type[80], *ct, *cte, *disp, *charset, *name;
    size_t off;

    if (!h)
        return;
    if (++m->entities > MAIL_MAX_ENTITIES) {
        if (m->entities == MAIL_MAX_ENTITIES + 1)
            note(m, "more than %d MIME parts: the rest skipped", MAIL_MAX_ENTITIES);
        free(h);
        return;
    }
    off = parse_headers(p, n, h);
    ct = hdr_get(h, "content-type");
    cte = hdr_get(h, "content-transfer-encoding");
    disp = hdr_get(h, "content-disposition");
    media_type(ct, type, dflt_type);
    charset = param_get(ct, "charset");
    name = param_get(disp, "filename");
    if (!name)
        name = param_get(ct, "name");
    if (name) { /* a filename may still hold encoded words */
        char *d = decode_header_str(name);
        free(name);
        name = d;
    }
    int attachment = disp && strncasecmp(disp, "attachment", 10) == 0;
    const char *body = p + off;
    size_t blen = n - off;

    if (strncmp(type, "multipart/", 10) == 0) {
        char *boundary = param_get(ct, "boundary");
        if (!boundary || !*boundary) {
            note(m, "%s without a boundary: read as text", type);
            add_text(m, body, blen, cte, charset, 0);
        } else if (depth >= MAIL_MAX_DEPTH) {
            note(m, "MIME nesting deeper than %d: the rest skipped", MAIL_MAX_DEPTH);
        } else {
            const char *ps[512];
            size_t ns[512];
            int k = split_multipart(m, body, blen, boundary, ps, ns, 512);
            const char *sub =
                strcmp(type, "multipart/digest") == 0 ? "message/rfc822" : "text/plain";
            if (k == 0) { /* nothing is lost: the body is read as it is */
                note(m, "%s with no parts (boundary '%.60s' not found): read as text", type,
                     boundary);
                add_text(m, body, blen, cte, charset, 0);
            }
            if (strcmp(type, "multipart/alternative") == 0 && k > 0) {
                /* one of them: plain text reads best, else HTML, else the last */
                int pick = -1, html = -1;
                for (int i = 0; i < k; i++) {
                    struct hdrs *sh = malloc(sizeof *sh);
                    char st[80];
                    if (!sh)
                        break;
                    parse_headers(ps[i], ns[i], sh);
                    char *sct = hdr_get(sh, "content-type");
                    media_type(sct, st, "text/plain");
                    if (pick < 0 && strcmp(st, "text/plain") == 0)
                        pick = i;
                    if (html < 0 && strcmp(st, "text/html") == 0)
                        html = i;
                    free(sct);
                    free(sh);
                }
                if (pick < 0)
                    pick = html >= 0 ? html : k - 1;
                walk(c, m, ps[pick], ns[pick], depth + 1, sub);
            } else {
                for (int i = 0; i < k; i++)
                    walk(c, m, ps[i], ns[i], depth + 1, sub);
            }
        }
        free(boundary);
    } else if (!attachment && !name &&
               (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0 ||
                strcmp(type, "text/enriched") == 0 ||
                strcmp(type, "message/delivery-status") == 0 ||
                strcmp(type, "text/rfc822-headers") == 0)) {
        add_text(m, body, blen, cte, charset, strcmp(type, "text/html") == 0);
    } else if (strcmp(type, "application/pgp-signature") == 0 ||
               strcmp(type, "application/pkcs7-signature") == 0 ||
               strcmp(type, "application/x-pkcs7-signature") == 0) {
        /* a signature is not content */
    } else if (m->natt < MAIL_MAX_ATTACH) {
        struct attach *a = &m->att[m->natt++];
        a->p = body;
        a->n = blen;
        a->message = strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0;
        a->mime = strdup(type);
        a->cte = cte ? strdup(cte) : NULL;
        a->charset = charset ? strdup(charset) : NULL;
        a->name = name ? strdup(name) : NULL;
    } else {
        m->dropped_att++;
    }
    free(ct);
    free(cte);
    free(disp);
    free(charset);
    free(name);
    free(h);
}

/* Maps an attachment's documents into the message's part ids. */
struct att_ctx {
    struct mctx *c;
    const char *part;   /* the attachment's part id */
    const char *parent; /* the message's, NULL = the file itself */
    const char *name;
};

static int att_emit(const struct extract_doc *d, void *arg)
{
    struct att_ctx *a = arg;
    struct extract_doc nd = *d;
    struct buf part = BUF_INIT, parent = BUF_INIT;
    json_t *meta = d->metadata ? json_deep_copy(d->metadata) : json_object();
    int rc;

    buf_adds(&part, a->part);
    if (d->part) {
        buf_addf(&part, "/%s", d->part);
        buf_adds(&parent, a->part);
        if (d->parent_part)
            buf_addf(&parent, "/%s", d->parent_part);
        nd.parent_part = buf_str(&parent);
    } else {
        nd.parent_part = a->parent;
        if (a->name)
            nd.title = a->name;
        json_object_set_new(meta, "attachment", json_true());
    }
    nd.part = buf_str(&part);
    nd.metadata = meta;
    rc = a->c->fn(&nd, a->c->arg);
    a->c->docs++;
    json_decref(meta);
    buf_release(&part);
    buf_release(&parent);
    return rc;
}

static void message(struct mctx *c, const char *p, size_t n, const char *part, const char *parent,
                    json_t *extra_meta);

/* Hands one attachment on: a nested message is read here, anything else is
 * written beside the file and goes through extract_file. */
static void attachment(struct mctx *c, struct msg *m, struct attach *a, const char *part,
                       const char *msgpart)
{
    struct buf raw = BUF_INIT;
    struct att_ctx ac = {c, part, msgpart, a->name};
    char err[300] = "", tmp[1200];
    int fd;

    buf_init(&raw, EXTRACT_MAIL_MAX_MESSAGE);
    decode_body(m, a->p, a->n, a->cte, &raw);
    if (a->message) {
        json_t *x = json_object();
        json_object_set_new(x, "attachment", json_true());
        message(c, raw.data ? raw.data : "", raw.len, part, msgpart, x);
        json_decref(x);
        buf_release(&raw);
        return;
    }
    if (c->b->parts++ >= c->lim.max_parts || c->b->depth + 1 > c->lim.max_depth) {
        struct extract_doc d = {0};
        json_t *meta = json_object();
        json_object_set_new(meta, "extract_error",
                            json_string(c->b->depth + 1 > c->lim.max_depth
                                            ? "attachment not read: nested too deep (max_depth)"
                                            : "attachment not read: too many parts (max_parts)"));
        d.part = part;
        d.parent_part = msgpart;
        d.title = a->name ? a->name : part;
        d.mime = a->mime;
        d.text = "";
        d.metadata = meta;
        c->stop |= c->fn(&d, c->arg) != 0;
        c->docs++;
        json_decref(meta);
        buf_release(&raw);
        return;
    }
    snprintf(tmp, sizeof tmp, "%.1000s/.trawl-mail-%d-%ld", c->b->tmpdir, (int)getpid(),
             c->b->seq++);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || (raw.len && write(fd, raw.data, raw.len) != (ssize_t)raw.len)) {
        note(m, "attachment '%.80s' could not be written for extraction: %s",
             a->name ? a->name : part, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        buf_release(&raw);
        return;
    }
    close(fd);
    buf_release(&raw);
    c->b->depth++;
    if (extract_file(tmp, a->name ? a->name : a->mime, &c->lim, att_emit, &ac, err, sizeof err) < 0)
        note(m, "attachment '%.80s': %s", a->name ? a->name : part, err);
    c->b->depth--;
    unlink(tmp);
}

static void put_header_line(struct buf *b, const char *k, const char *v)
{
    if (v && *v)
        buf_addf(b, "%s: %s\n", k, v);
}

/* One message: its document, then its attachments and nested messages. */
static void message(struct mctx *c, const char *p, size_t n, const char *part, const char *parent,
                    json_t *extra_meta)
{
    struct hdrs *h = malloc(sizeof *h);
    struct msg *m = calloc(1, sizeof *m);
    json_t *meta = extra_meta ? json_deep_copy(extra_meta) : json_object();
    struct buf text = BUF_INIT, key = BUF_INIT;
    char iso[32] = "", *subject, *from, *to, *cc, *date, *mid, *irt, *refs, *list, *labels;

    if (!h || !m || c->stop) {
        free(h);
        free(m);
        json_decref(meta);
        return;
    }
    buf_init(&m->text, EXTRACT_MAX_TEXT);
    buf_init(&text, EXTRACT_MAX_TEXT);
    buf_init(&key, 4096);
    m->notes = json_array();
    parse_headers(p, n, h);
    if (h->dropped)
        note(m, "%d headers beyond the first %d ignored", h->dropped, MAIL_MAX_HEADERS);
    {
        char *raw;
        subject = decode_header_str(raw = hdr_get(h, "subject"));
        free(raw);
        from = decode_header_str(raw = hdr_get(h, "from"));
        free(raw);
        to = decode_header_str(raw = hdr_get(h, "to"));
        free(raw);
        cc = decode_header_str(raw = hdr_get(h, "cc"));
        free(raw);
        list = decode_header_str(raw = hdr_get(h, "list-id"));
        free(raw);
        labels = decode_header_str(raw = hdr_get(h, "x-gmail-labels"));
        free(raw);
    }
    date = hdr_get(h, "date");
    mid = hdr_get(h, "message-id");
    irt = hdr_get(h, "in-reply-to");
    refs = hdr_get(h, "references");
    if (date && mail_date_iso(date, iso) < 0) {
        note(m, "unreadable Date header '%.60s'", date);
        iso[0] = '\0';
    }
    walk(c, m, p, n, 0, "text/plain");

    /* the document: a header summary, then the readable body */
    put_header_line(&text, "From", from);
    put_header_line(&text, "To", to);
    put_header_line(&text, "Cc", cc);
    put_header_line(&text, "Date", iso[0] ? iso : date);
    put_header_line(&text, "Subject", subject);
    if (m->natt) {
        buf_adds(&text, "Attachments:");
        for (int i = 0; i < m->natt; i++)
            buf_addf(&text, " %s%s", m->att[i].name ? m->att[i].name : m->att[i].mime,
                     i + 1 < m->natt ? "," : "");
        buf_addch(&text, '\n');
    }
    buf_addch(&text, '\n');
    buf_add(&text, m->text.data ? m->text.data : "", m->text.len);
    { /* raw header values (a Date we could not read, a media type) may be anything */
        struct buf clean = BUF_INIT;
        buf_init(&clean, EXTRACT_MAX_TEXT);
        extract_utf8_clean(&clean, text.data ? text.data : "", text.len);
        buf_release(&text);
        text = clean;
    }

    json_t *j;
    if (mid && extract_utf8_valid(mid, strlen(mid)))
        json_object_set_new(meta, "message_id", json_string(mid));
    if (irt) {
        json_t *a = json_array();
        const char *lt = strchr(irt, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (lt && gt && extract_utf8_valid(lt, (size_t)(gt - lt + 1)))
            json_object_set_new(meta, "in_reply_to", json_stringn(lt, (size_t)(gt - lt + 1)));
        json_decref(a);
    }
    if (refs) {
        json_t *a = json_array();
        for (const char *s = refs; (s = strchr(s, '<')) && json_array_size(a) < 100;) {
            const char *e = strchr(s, '>');
            if (!e)
                break;
            if (extract_utf8_valid(s, (size_t)(e - s + 1)))
                json_array_append_new(a, json_stringn(s, (size_t)(e - s + 1)));
            s = e + 1;
        }
        json_object_set_new(meta, "references", a);
    }
    mail_thread_key(subject, &key);
    json_object_set_new(meta, "thread_key", json_stringn(key.data ? key.data : "", key.len));
    if (subject)
        json_object_set_new(meta, "subject", json_string(subject));
    if (from) {
        json_object_set_new(meta, "from", json_string(from));
        j = json_array();
        addresses(from, j);
        if (json_array_size(j))
            json_object_set(meta, "from_address", json_array_get(j, 0));
        json_decref(j);
    }
    if (to || cc) {
        j = json_array();
        addresses(to, j);
        addresses(cc, j);
        json_object_set_new(meta, "recipients", j);
    }
    if (to)
        json_object_set_new(meta, "to", json_string(to));
    if (cc)
        json_object_set_new(meta, "cc", json_string(cc));
    if (iso[0])
        json_object_set_new(meta, "date", json_string(iso));
    if (list)
        json_object_set_new(meta, "list_id", json_string(list));
    if (labels) {
        /* comma-separated; Takeout quotes a label that holds a comma */
        struct buf lab = BUF_INIT;
        j = json_array();
        for (const char *s = labels;; s++) {
            if (*s == '"') {
                for (s++; *s && *s != '"'; s++)
                    buf_addch(&lab, *s == '\\' && s[1] ? *++s : *s);
                if (!*s)
                    s--;
                continue;
            }
            if (*s == ',' || !*s) {
                size_t a = 0, e = lab.len;
                while (a < e && lab.data[a] == ' ')
                    a++;
                while (e > a && lab.data[e - 1] == ' ')
                    e--;
                if (e > a && json_array_size(j) < 200)
                    json_array_append_new(j, json_stringn(lab.data + a, e - a));
                buf_reset(&lab);
                if (!*s)
                    break;
                continue;
            }
            buf_addch(&lab, *s);
        }
        buf_release(&lab);
        json_object_set_new(meta, "labels", j);
    }
    if (m->natt) {
        j = json_array();
        for (int i = 0; i < m->natt; i++)
            json_array_append_new(j, json_string(m->att[i].name ? m->att[i].name : m->att[i].mime));
        json_object_set_new(meta, "attachments", j);
    }
    if (m->dropped_att)
        note(m, "%d attachments beyond the first %d skipped", m->dropped_att, MAIL_MAX_ATTACH);
    if (!h->n)
        note(m, "no headers: not a mail message?");
    if (json_array_size(m->notes)) {
        struct buf e = BUF_INIT;
        size_t i;
        json_t *s;
        json_array_foreach(m->notes, i, s)
            buf_addf(&e, "%s%s", i ? "; " : "", json_string_value(s));
        json_object_set_new(meta, "extract_error", json_stringn(e.data, e.len));
        buf_release(&e);
    }

    struct extract_doc d = {0};
    d.part = part;
    d.parent_part = parent;
    d.title = subject && *subject ? subject : "(no subject)";
    d.mime = "message/rfc822";
    d.author = from;
    d.created = iso[0] ? iso : NULL;
    d.text = text.data ? text.data : "";
    d.text_len = text.len;
    d.metadata = meta;
    c->stop |= c->fn(&d, c->arg) != 0;
    c->docs++;

    for (int i = 0; i < m->natt && !c->stop; i++) {
        struct buf ap = BUF_INIT;
        if (part)
            buf_addf(&ap, "%s/%d", part, i + 1);
        else
            buf_addf(&ap, "%d", i + 1);
        attachment(c, m, &m->att[i], buf_str(&ap), part);
        buf_release(&ap);
    }
    for (int i = 0; i < m->natt; i++) {
        free(m->att[i].name);
        free(m->att[i].mime);
        free(m->att[i].cte);
        free(m->att[i].charset);
    }
    free(subject);
    free(from);
    free(to);
    free(cc);
    free(date);
    free(mid);
    free(irt);
    free(refs);
    free(list);
    free(labels);
    json_decref(m->notes);
    json_decref(meta);
    buf_release(&m->text);
    buf_release(&text);
    buf_release(&key);
    free(m);
    free(h);
}

/* ---- entry points ------------------------------------------------------------------ */

static void mctx_init(struct mctx *c, struct extract_budget *own, const char *path,
                      const struct extract_limits *lim, extract_emit_fn fn, void *arg)
{
    memset(c, 0, sizeof *c);
    extract_limits_setup(&c->lim, lim, own, path);
    c->b = c->lim.budget;
    c->path = path;
    c->fn = fn;
    c->arg = arg;
}

static int looks_like_header(const unsigned char *p, size_t n)
{
    size_t k = 0;
    while (k < n && k < 80 && p[k] > 32 && p[k] < 127 && p[k] != ':')
        k++;
    return k > 0 && k < n && p[k] == ':';
}

int extract_mail_detect(const char *name, const unsigned char *head, size_t n)
{
    static const char *const known[] = {"return-path:",
                                        "received:",
                                        "from:",
                                        "message-id:",
                                        "date:",
                                        "delivered-to:",
                                        "mime-version:",
                                        "subject:",
                                        "to:",
                                        "x-",
                                        "reply-to:",
                                        "sender:",
                                        "dkim-signature:",
                                        "authentication-results:",
                                        "arc-"};
    const char *dot = name ? strrchr(name, '.') : NULL;
    int lines = 0;

    if (dot && strcasecmp(dot, ".eml") == 0)
        return 1;
    /* two or more header lines at the top, the first a usual mail header */
    int first = 0;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        first |= n >= strlen(known[k]) &&
                 strncasecmp((const char *)head, known[k], strlen(known[k])) == 0;
    if (!first)
        return 0;
    for (size_t i = 0; i < n && lines < 2;) {
        if (!looks_like_header(head + i, n - i))
            return 0;
        lines++;
        const unsigned char *e = memchr(head + i, '\n', n - i);
        if (!e)
            break;
        i = (size_t)(e - head) + 1;
        while (i < n && (head[i] == ' ' || head[i] == '\t')) { /* folded */
            e = memchr(head + i, '\n', n - i);
            if (!e)
                break;
            i = (size_t)(e - head) + 1;
        }
    }
    return lines >= 2;
}

int extract_mbox_detect(const char *name, const unsigned char *head, size_t n)
{
    const char *dot = name ? strrchr(name, '.') : NULL;

    if (dot && (strcasecmp(dot, ".mbox") == 0 || strcasecmp(dot, ".mbx") == 0))
        return 1;
    if (n < 6 || memcmp(head, "From ", 5) != 0)
        return 0;
    const unsigned char *e = memchr(head, '\n', n);
    return e && extract_mail_detect(NULL, e + 1, n - (size_t)(e + 1 - head));
}

long extract_mail(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    struct extract_budget own;
    struct mctx c;
    struct buf data = BUF_INIT;
    int cut = 0;

    buf_init(&data, EXTRACT_MAIL_MAX_MESSAGE);
    if (buf_read_file(&data, path) < 0) {
        if (errno != EFBIG) {
            snprintf(err, errlen, "cannot open: %s", strerror(errno));
            buf_release(&data);
            return -1;
        }
        cut = 1;
    }
    mctx_init(&c, &own, path, lim, fn, arg);
    json_t *extra = json_object();
    if (cut)
        json_object_set_new(extra, "truncated", json_true());
    /* a maildir file name carries the message's flags: "...:2,FRS" */
    const char *info = name ? strstr(name, ":2,") : NULL;
    if (info && !strchr(info, '/')) {
        static const struct {
            char c;
            const char *flag;
        } fl[] = {{'D', "draft"},   {'F', "flagged"}, {'P', "passed"},
                  {'R', "replied"}, {'S', "seen"},    {'T', "trashed"}};
        json_t *a = json_array();
        for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
            if (strchr(info + 3, fl[i].c))
                json_array_append_new(a, json_string(fl[i].flag));
        json_object_set_new(extra, "maildir_flags", a);
    }
    if (name && (strstr(name, "new/") == name || strstr(name, "/new/")))
        json_object_set_new(extra, "maildir_new", json_true());
    message(&c, data.data ? data.data : "", data.len, NULL, NULL, extra);
    json_decref(extra);
    buf_release(&data);
    return c.docs;
}

/* Emits one message of an mbox: mboxrd ">From " lines lose one '>'. */
static void mbox_message(struct mctx *c, struct buf *msg, long k, int cut)
{
    char part[32];
    json_t *extra = json_object();

    snprintf(part, sizeof part, "%ld", k);
    json_object_set_new(extra, "mbox_index", json_integer(k));
    if (cut)
        json_object_set_new(extra, "truncated", json_true());
    message(c, msg->data ? msg->data : "", msg->len, part, NULL, extra);
    json_decref(extra);
}

long extract_mbox(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    struct extract_budget own;
    struct mctx c;
    struct buf msg = BUF_INIT;
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long k = 0;
    int prev_blank = 1, in = 0, cut = 0;

    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    mctx_init(&c, &own, path, lim, fn, arg);
    buf_init(&msg, EXTRACT_MAIL_MAX_MESSAGE);
    err[0] = '\0';
    while (!c.stop && (len = getline(&line, &cap, f)) > 0) {
        if (len >= 5 && memcmp(line, "From ", 5) == 0 && prev_blank) {
            if (in)
                mbox_message(&c, &msg, k, cut);
            if (c.b->parts++ >= c.lim.max_parts) {
                snprintf(err, errlen,
                         "mbox holds more than %ld messages (max_parts): the rest skipped",
                         c.lim.max_parts);
                in = 0;
                break;
            }
            k++;
            in = 1;
            cut = 0;
            buf_reset(&msg);
            prev_blank = 0;
            continue;
        }
        prev_blank = len == 1 || (len == 2 && line[0] == '\r');
        if (!in) /* text before the first From line */
            continue;
        const char *s = line;
        size_t l = (size_t)len;
        size_t q = 0;
        while (q < l && s[q] == '>')
            q++;
        if (q > 0 && l - q >= 5 && memcmp(s + q, "From ", 5) == 0) {
            s++;
            l--;
        }
        if (!cut && buf_add(&msg, s, l) < 0)
            cut = 1;
    }
    if (in && !c.stop)
        mbox_message(&c, &msg, k, cut);
    free(line);
    fclose(f);
    buf_release(&msg);
    if (k == 0 && c.docs == 0) {
        snprintf(err, errlen, "no 'From ' line: not an mbox");
        return -1;
    }
    if (!c.stop) { /* the mbox itself: what a later run compares versions with */
        struct extract_doc d = {0};
        json_t *meta = json_object();
        char text[96];
        snprintf(text, sizeof text, "mbox with %ld messages", k);
        json_object_set_new(meta, "messages", json_integer(k));
        if (err[0])
            json_object_set_new(meta, "extract_error", json_string(err));
        d.title = name;
        d.mime = "application/mbox";
        d.text = text;
        d.text_len = strlen(text);
        d.metadata = meta;
        fn(&d, arg);
        c.docs++;
        json_decref(meta);
    }
    return c.docs;
}
