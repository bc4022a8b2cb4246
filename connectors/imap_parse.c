/* Parsers for IMAP answers: bounded, never trusting a length or a quote. */
#include "imap_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMAP_MAX_BUF ((size_t)512 << 20)
#define IMAP_MAX_FOLDERS 100000

int imap_buf_add(struct imap_buf *b, const char *p, size_t n)
{
    if (n > IMAP_MAX_BUF - b->len)
        return -1;
    if (b->len + n + 1 > b->alloc) {
        size_t na = b->alloc ? b->alloc : 65536;
        while (na < b->len + n + 1)
            na *= 2;
        char *nd = realloc(b->data, na);
        if (!nd)
            return -1;
        b->data = nd;
        b->alloc = na;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void imap_quote(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen < 3) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (; *s && o + 3 < outlen; s++) {
        if (*s == '\r' || *s == '\n')
            continue;
        if (*s == '"' || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* The end of the line starting at p (at the CR or LF or at end). */
static const char *eol(const char *p, const char *end)
{
    while (p < end && *p != '\r' && *p != '\n')
        p++;
    return p;
}

/* Whether word occurs (any case) in [p, end): bounded, unlike strcasestr. */
static int has_word(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    for (; (size_t)(end - p) >= n; p++)
        if (strncasecmp(p, word, n) == 0)
            return 1;
    return 0;
}

static const char *next_line(const char *p, const char *end)
{
    p = eol(p, end);
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Reads an astring or NIL at p into a malloc'd string; *pp moves past it. */
static char *read_astring(const char **pp, const char *end)
{
    const char *p = *pp;
    char *s;
    size_t o = 0;

    while (p < end && *p == ' ')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '"') {
        s = malloc((size_t)(end - p) + 1);
        if (!s)
            return NULL;
        p++;
        while (p < end && *p != '"') {
            if (*p == '\\' && p + 1 < end)
                p++;
            s[o++] = *p++;
        }
        if (p >= end) {
            free(s);
            return NULL;
        }
        p++;
    } else {
        const char *a = p;
        while (p < end && *p != ' ' && *p != '\r' && *p != '\n')
            p++;
        s = malloc((size_t)(p - a) + 1);
        if (!s)
            return NULL;
        memcpy(s, a, (size_t)(p - a));
        o = (size_t)(p - a);
    }
    s[o] = '\0';
    *pp = p;
    return s;
}

int imap_parse_list(const char *p, size_t n, char ***folders, int *nfolders, int gmail)
{
    const char *end = p + n;
    char **f = NULL;
    int nf = 0;

    *folders = NULL;
    *nfolders = 0;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end), *q, *close;
        char *delim, *name;
        int noselect, all;

        if ((size_t)(le - p) < 8 || strncasecmp(p, "* LIST (", 8) != 0)
            continue;
        close = memchr(p + 8, ')', (size_t)(le - p - 8));
        if (!close)
            continue;
        {
            size_t fl = (size_t)(close - p - 8);
            char flags[256];
            if (fl >= sizeof flags)
                fl = sizeof flags - 1;
            memcpy(flags, p + 8, fl);
            flags[fl] = '\0';
            noselect = has_word(flags, flags + fl, "\\Noselect") ||
                       has_word(flags, flags + fl, "\\NonExistent");
            all = has_word(flags, flags + fl, "\\All");
        }
        q = close + 1;
        delim = read_astring(&q, le);
        if (!delim)
            continue;
        free(delim);
        name = read_astring(&q, le);
        if (!name || !name[0] || name[0] == '{' || noselect) {
            free(name);
            continue;
        }
        if (gmail && !all && strcmp(name, "[Gmail]/All Mail") != 0 &&
            strcmp(name, "[Google Mail]/All Mail") != 0) {
            free(name);
            continue;
        }
        if (nf >= IMAP_MAX_FOLDERS) {
            free(name);
            break;
        }
        char **nfp = realloc(f, (size_t)(nf + 1) * sizeof *f);
        if (!nfp) {
            free(name);
            for (int i = 0; i < nf; i++)
                free(f[i]);
            free(f);
            return -1;
        }
        f = nfp;
        f[nf++] = name;
    }
    *folders = f;
    *nfolders = nf;
    return 0;
}

unsigned long imap_parse_uidvalidity(const char *p, size_t n)
{
    const char *end = p + n;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end);
        for (const char *q = p; q + 12 < le; q++)
            if (strncasecmp(q, "[UIDVALIDITY ", 13) == 0) {
                unsigned long v = 0;
                for (q += 13; q < le && *q >= '0' && *q <= '9'; q++)
                    v = v * 10 + (unsigned long)(*q - '0');
                return v & 0xffffffffUL;
            }
    }
    return 0;
}

long imap_parse_search(const char *p, size_t n, unsigned long **uids)
{
    const char *end = p + n;
    unsigned long *u = NULL;
    long nu = 0, alloc = 0;

    *uids = NULL;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end), *q;
        if ((size_t)(le - p) < 8 || strncasecmp(p, "* SEARCH", 8) != 0)
            continue;
        for (q = p + 8; q < le;) {
            unsigned long v = 0;
            int digits = 0;
            while (q < le && *q == ' ')
                q++;
            while (q < le && *q >= '0' && *q <= '9' && digits < 10) {
                v = v * 10 + (unsigned long)(*q++ - '0');
                digits++;
            }
            while (q < le && *q != ' ')
                q++;
            if (!digits || v == 0 || v > 0xffffffffUL)
                continue;
            if (nu == alloc) {
                long na = alloc ? alloc * 2 : 256;
                unsigned long *nuids = realloc(u, (size_t)na * sizeof *u);
                if (!nuids)
                    break;
                u = nuids;
                alloc = na;
            }
            u[nu++] = v;
        }
    }
    *uids = u;
    return nu;
}

int imap_parse_fetch_body(const char *p, size_t n, const char **body, size_t *len)
{
    const char *end = p + n;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end), *q;
        if ((size_t)(le - p) < 2 || p[0] != '*' || !has_word(p, le, "FETCH"))
            continue;
        /* the line ends with {N} when the body literal follows */
        if (le - p < 3 || le[-1] != '}')
            continue;
        q = le - 2;
        while (q > p && *q >= '0' && *q <= '9')
            q--;
        if (*q != '{' || q + 1 == le - 1)
            continue;
        unsigned long long v = 0;
        for (const char *d = q + 1; d < le - 1; d++) {
            v = v * 10 + (unsigned long long)(*d - '0');
            if (v > (unsigned long long)(end - le))
                return -1;
        }
        const char *b = le;
        if (b < end && *b == '\r')
            b++;
        if (b < end && *b == '\n')
            b++;
        if ((unsigned long long)(end - b) < v)
            return -1;
        *body = b;
        *len = (size_t)v;
        return 0;
    }
    return -1;
}

unsigned long imap_parse_exists(const char *p, size_t n, int *found)
{
    const char *end = p + n;
    *found = 0;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end), *q = p + 2;
        unsigned long v = 0;
        int digits = 0;
        if ((size_t)(le - p) < 10 || p[0] != '*' || p[1] != ' ')
            continue;
        while (q < le && *q >= '0' && *q <= '9' && digits < 10) {
            v = v * 10 + (unsigned long)(*q++ - '0');
            digits++;
        }
        if (digits && (size_t)(le - q) == 7 && strncasecmp(q, " EXISTS", 7) == 0) {
            *found = 1;
            return v;
        }
    }
    return 0;
}

unsigned long imap_parse_uidnext(const char *p, size_t n)
{
    const char *end = p + n;
    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end);
        for (const char *q = p; q + 9 < le; q++)
            if (strncasecmp(q, "[UIDNEXT ", 9) == 0) {
                unsigned long v = 0;
                int digits = 0;
                for (q += 9; q < le && *q >= '0' && *q <= '9' && digits < 10; q++, digits++)
                    v = v * 10 + (unsigned long)(*q - '0');
                return v & 0xffffffffUL;
            }
    }
    return 0;
}

/* ---- FETCH answers, item by item ------------------------------------------------ */

#define IMAP_MAX_DEPTH 16
#define IMAP_MAX_LABELS 1000

struct each_ctx {
    imap_fetch_fn fn;
    void *arg;
    long count;
};

static int each_body(void *arg, const struct imap_msg *m)
{
    struct each_ctx *c = arg;
    if (!m->uid || !m->has_body)
        return 0;
    if (c->fn(c->arg, m->uid, m->body, m->len) < 0)
        return -1;
    c->count++;
    return 0;
}

/* One value of a FETCH item: number, quoted string, literal, NIL or list. */
struct val {
    const char *s; /* string contents (quoted: still escaped) */
    size_t len;
    int quoted, nil, list;
};

static void skip_sp(const char **pp, const char *end)
{
    while (*pp < end && **pp == ' ')
        (*pp)++;
}

/* A literal "{N}" or "{N+}" CRLF and its N bytes at *pp. 0, or -1 when it
 * is malformed (left unread) or -2 when it runs past the answer. */
static int read_literal(const char **pp, const char *end, struct val *v)
{
    const char *q = *pp + 1;
    unsigned long long len = 0;
    int digits = 0;

    while (q < end && *q >= '0' && *q <= '9' && digits < 12) {
        len = len * 10 + (unsigned long long)(*q++ - '0');
        digits++;
    }
    if (q < end && *q == '+')
        q++;
    if (!digits || q >= end || *q != '}')
        return -1;
    q++;
    if (q < end && *q == '\r')
        q++;
    if (q >= end || *q != '\n')
        return -1;
    q++;
    if ((unsigned long long)(end - q) < len)
        return -2;
    v->s = q;
    v->len = (size_t)len;
    *pp = q + len;
    return 0;
}

/* Reads one value at *pp; a list's members go to each (when given) as
 * strings. 0, -1 malformed, -2 a literal past the answer. */
static int read_value(const char **pp, const char *end, struct val *v, int depth,
                      int (*each)(void *arg, const struct val *m), void *arg)
{
    const char *q = *pp;
    int r;

    memset(v, 0, sizeof *v);
    if (q >= end)
        return -1;
    if (*q == '(') {
        if (depth >= IMAP_MAX_DEPTH)
            return -1;
        v->list = 1;
        q++;
        for (;;) {
            struct val m;
            skip_sp(&q, end);
            if (q >= end)
                return -1;
            if (*q == ')') {
                q++;
                break;
            }
            if ((r = read_value(&q, end, &m, depth + 1, NULL, NULL)) < 0)
                return r;
            if (each && !m.list && each(arg, &m) < 0)
                return -1;
        }
    } else if (*q == '"') {
        v->quoted = 1;
        v->s = ++q;
        while (q < end && *q != '"' && *q != '\r' && *q != '\n') {
            if (*q == '\\' && q + 1 < end)
                q++;
            q++;
        }
        if (q >= end || *q != '"')
            return -1;
        v->len = (size_t)(q - v->s);
        q++;
    } else if (*q == '{') {
        if ((r = read_literal(&q, end, v)) < 0)
            return r;
    } else {
        /* an atom (number, NIL, \Flag): up to a space or a parenthesis */
        v->s = q;
        while (q < end && *q != ' ' && *q != '(' && *q != ')' && *q != '\r' && *q != '\n' &&
               *q != '"' && *q != '{')
            q++;
        v->len = (size_t)(q - v->s);
        if (!v->len)
            return -1;
        v->nil = v->len == 3 && strncasecmp(v->s, "NIL", 3) == 0;
    }
    *pp = q;
    return 0;
}

/* A value's text as a malloc'd string (quoted strings unescaped). */
static char *val_dup(const struct val *v)
{
    char *s = malloc(v->len + 1);
    size_t o = 0;

    if (!s)
        return NULL;
    for (size_t i = 0; i < v->len; i++) {
        if (v->quoted && v->s[i] == '\\' && i + 1 < v->len)
            i++;
        s[o++] = v->s[i];
    }
    s[o] = '\0';
    return s;
}

static unsigned long long val_num(const struct val *v, unsigned long long max)
{
    unsigned long long n = 0;
    if (v->list || v->quoted || !v->len || v->len > 20)
        return 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return 0;
        unsigned d = (unsigned)(v->s[i] - '0');
        if (n > (max - d) / 10)
            return 0;
        n = n * 10 + d;
    }
    return n;
}

static int add_label(void *arg, const struct val *m)
{
    struct imap_msg *msg = arg;
    char *raw, *s, **nl;

    if (m->nil || msg->nlabels >= IMAP_MAX_LABELS)
        return 0;
    raw = val_dup(m);
    if (!raw)
        return -1;
    s = imap_mutf7_decode(raw);
    free(raw);
    if (!s)
        return -1;
    nl = realloc(msg->labels, (size_t)(msg->nlabels + 1) * sizeof *nl);
    if (!nl) {
        free(s);
        return -1;
    }
    msg->labels = nl;
    msg->labels[msg->nlabels++] = s;
    return 0;
}

static void msg_release(struct imap_msg *m, char *body_copy)
{
    for (int i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->labels);
    free(body_copy);
    memset(m, 0, sizeof *m);
}

/* Whether the item name is the whole message: BODY[] or BODY[]<origin>, RFC822. */
static int whole_body(const char *name, size_t n)
{
    if (n == 6 && strncasecmp(name, "RFC822", 6) == 0)
        return 1;
    return n >= 6 && strncasecmp(name, "BODY[]", 6) == 0 && (n == 6 || name[6] == '<');
}

static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* Parses the items of one "* N FETCH (" at *pp (just past the parenthesis)
 * into m. 0 (*pp past the closing parenthesis), -1 malformed, -2 cut short. */
static int parse_items(const char **pp, const char *end, struct imap_msg *m, char **body_copy)
{
    const char *q = *pp;
    int r;

    for (;;) {
        const char *name;
        size_t nl;
        struct val v;

        skip_sp(&q, end);
        if (q >= end) {
            *pp = q;
            return -1;
        }
        if (*q == ')') {
            *pp = q + 1;
            return 0;
        }
        /* the item name: an atom, with a [section] (any bytes but a line
         * end) and an <origin> */
        name = q;
        while (q < end && *q != ' ' && *q != '(' && *q != ')' && *q != '\r' && *q != '\n') {
            if (*q == '[') {
                while (q < end && *q != ']' && *q != '\r' && *q != '\n')
                    q++;
                if (q >= end || *q != ']') {
                    *pp = q;
                    return -1;
                }
            }
            q++;
        }
        nl = (size_t)(q - name);
        if (!nl) {
            *pp = q;
            return -1;
        }
        skip_sp(&q, end);
        if (name_is(name, nl, "X-GM-LABELS")) {
            r = read_value(&q, end, &v, 0, add_label, m);
            if (r == 0)
                m->has_labels = 1;
        } else {
            r = read_value(&q, end, &v, 0, NULL, NULL);
        }
        if (r < 0) {
            *pp = q;
            return r;
        }
        if (name_is(name, nl, "UID"))
            m->uid = (unsigned long)val_num(&v, 0xffffffffULL);
        else if (name_is(name, nl, "X-GM-MSGID"))
            m->gm_msgid = val_num(&v, ~0ULL);
        else if (name_is(name, nl, "X-GM-THRID"))
            m->gm_thrid = val_num(&v, ~0ULL);
        else if (whole_body(name, nl) && !v.list && !v.nil && !m->has_body) {
            m->has_body = 1;
            if (v.quoted && memchr(v.s, '\\', v.len)) {
                *body_copy = val_dup(&v);
                if (!*body_copy) {
                    *pp = q;
                    return -1;
                }
                m->body = *body_copy;
                m->len = strlen(*body_copy);
            } else {
                m->body = v.s;
                m->len = v.len;
            }
        }
    }
}

long imap_parse_fetch_msgs(const char *p, size_t n, imap_msg_fn fn, void *arg)
{
    const char *end = p + n;
    long count = 0;

    while (p < end) {
        const char *q = p + 2;
        unsigned long seq = 0;
        int digits = 0, r;
        struct imap_msg m;
        char *body_copy = NULL;

        if ((size_t)(end - p) < 10 || p[0] != '*' || p[1] != ' ') {
            p = next_line(p, end);
            continue;
        }
        while (q < end && *q >= '0' && *q <= '9' && digits < 11) {
            seq = seq * 10 + (unsigned long)(*q++ - '0');
            digits++;
        }
        if (!digits || (size_t)(end - q) < 8 || strncasecmp(q, " FETCH (", 8) != 0) {
            p = next_line(p, end);
            continue;
        }
        q += 8;
        memset(&m, 0, sizeof m);
        m.seq = seq;
        r = parse_items(&q, end, &m, &body_copy);
        if (r == -2) { /* a literal longer than the answer: cut short */
            msg_release(&m, body_copy);
            return -1;
        }
        if (r == 0 && (m.uid || m.seq)) {
            if (fn(arg, &m) < 0) {
                msg_release(&m, body_copy);
                return -1;
            }
            count++;
        }
        msg_release(&m, body_copy);
        /* malformed: on to the next line after what was read (never into a
         * literal, whose lines are message text, not answers) */
        p = next_line(q, end);
    }
    return count;
}

long imap_parse_fetch_each(const char *p, size_t n, imap_fetch_fn fn, void *arg)
{
    struct each_ctx c = {fn, arg, 0};
    return imap_parse_fetch_msgs(p, n, each_body, &c) < 0 ? -1 : c.count;
}

/* ---- modified UTF-7 (RFC 3501 5.1.3) ---------------------------------------- */

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

char *imap_mutf7_decode(const char *s)
{
    size_t n = strlen(s);
    /* each 8 base64 characters give at most 3 UTF-16 units, 2 of them 3
     * UTF-8 bytes each at most or 4 per surrogate pair: 2 bytes out per byte in */
    char *out = malloc(2 * n + 1), *o = out;
    const char *p = s;

    if (!out)
        return NULL;
    while (*p) {
        if (*p != '&') {
            *o++ = *p++;
            continue;
        }
        p++;
        if (*p == '-') { /* "&-" is "&" */
            *o++ = '&';
            p++;
            continue;
        }
        unsigned long bits = 0, hi = 0;
        int nbits = 0;
        while (*p && *p != '-') {
            int v = b64_val(*p);
            if (v < 0)
                goto raw;
            bits = (bits << 6) | (unsigned long)v;
            nbits += 6;
            p++;
            if (nbits >= 16) {
                unsigned long u = (bits >> (nbits - 16)) & 0xffff;
                nbits -= 16;
                if (u >= 0xd800 && u < 0xdc00) {
                    if (hi)
                        goto raw;
                    hi = u;
                    continue;
                }
                if (u >= 0xdc00 && u < 0xe000) {
                    if (!hi)
                        goto raw;
                    u = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
                    hi = 0;
                } else if (hi) {
                    goto raw;
                }
                o += put_utf8(o, u);
            }
        }
        if (*p != '-' || hi || (bits & ((1UL << nbits) - 1)) != 0)
            goto raw; /* unterminated, a lone surrogate or stray bits */
        p++;
    }
    *o = '\0';
    return out;
raw: /* not modified UTF-7: the name as the server sent it */
    memcpy(out, s, n + 1);
    return out;
}

int imap_has_capability(const char *p, size_t n, const char *cap)
{
    const char *end = p + n;
    size_t cl = strlen(cap);

    for (; p < end; p = next_line(p, end)) {
        const char *le = eol(p, end), *q = NULL;
        if ((size_t)(le - p) > 13 && strncasecmp(p, "* CAPABILITY ", 13) == 0)
            q = p + 13;
        else /* "* OK [CAPABILITY ...]" greetings and tagged answers */
            for (const char *x = p; x + 12 < le && !q; x++)
                if (strncasecmp(x, "[CAPABILITY ", 12) == 0)
                    q = x + 12;
        while (q && q < le && *q != ']') {
            const char *w = q;
            while (q < le && *q != ' ' && *q != ']')
                q++;
            if ((size_t)(q - w) == cl && strncasecmp(w, cap, cl) == 0)
                return 1;
            while (q < le && *q == ' ')
                q++;
        }
    }
    return 0;
}

/* ---- listing windows ----------------------------------------------------------- */

unsigned long imap_bounds_cmd(unsigned long after, unsigned long per, unsigned long exists, int max,
                              char *out, size_t outlen)
{
    size_t o;
    unsigned long last = 0, seq;
    int k = 0;

    if (outlen)
        out[0] = '\0';
    if (!per || after >= exists || max < 1 || outlen < 32)
        return 0;
    o = (size_t)snprintf(out, outlen, "FETCH ");
    seq = after > ~0UL - per ? ~0UL : after + per;
    for (; k < max && o + 32 < outlen; k++) {
        if (seq > exists)
            seq = exists; /* the last message ends the last window */
        o += (size_t)snprintf(out + o, outlen - o, "%s%lu", k ? "," : "", seq);
        last = seq;
        if (seq == exists)
            break;
        seq = seq > ~0UL - per ? ~0UL : seq + per;
    }
    snprintf(out + o, outlen - o, " (UID)");
    return last;
}

struct bound {
    unsigned long seq, uid;
};

struct bounds {
    struct bound *b;
    long n, max;
};

static int add_bound(void *arg, const struct imap_msg *m)
{
    struct bounds *c = arg;
    if (m->uid && m->seq && c->n < c->max)
        c->b[c->n++] = (struct bound){m->seq, m->uid};
    return 0;
}

static int cmp_bound(const void *a, const void *b)
{
    const struct bound *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

long imap_parse_bounds(const char *p, size_t n, unsigned long after, unsigned long *uids, long max)
{
    struct bounds c = {NULL, 0, max};
    long k = 0;

    if (max < 1 || !(c.b = malloc((size_t)max * sizeof *c.b)))
        return 0;
    if (imap_parse_fetch_msgs(p, n, add_bound, &c) < 0)
        c.n = 0;
    qsort(c.b, (size_t)c.n, sizeof *c.b, cmp_bound);
    /* UIDs grow with sequence numbers: anything else is dropped, so the
     * windows stay disjoint and in order */
    for (long i = 0; i < c.n; i++)
        if (c.b[i].uid > (k ? uids[k - 1] : after))
            uids[k++] = c.b[i].uid;
    free(c.b);
    return k;
}
