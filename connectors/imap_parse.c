/* Parsers for IMAP answers: bounded, never trusting a length or a quote. */
#include "imap_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMAP_MAX_BUF ((size_t)512 << 20)
#define IMAP_MAX_FOLDERS 100000

static unsigned long uid_in(const char *p, const char *end);

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

/* The number after the word "UID " in [p, end), 0 when absent. */
static unsigned long uid_in(const char *p, const char *end)
{
    for (const char *q = p; q + 4 < end; q++) {
        if ((q == p || q[-1] == ' ' || q[-1] == '(') && strncasecmp(q, "UID ", 4) == 0) {
            unsigned long v = 0;
            int digits = 0;
            for (q += 4; q < end && *q >= '0' && *q <= '9' && digits < 10; q++, digits++)
                v = v * 10 + (unsigned long)(*q - '0');
            return digits && v <= 0xffffffffUL ? v : 0;
        }
    }
    return 0;
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

long imap_parse_fetch_each(const char *p, size_t n, imap_fetch_fn fn, void *arg)
{
    const char *end = p + n;
    long count = 0;

    while (p < end) {
        const char *le = eol(p, end), *q;
        if ((size_t)(le - p) < 2 || p[0] != '*' || p[1] != ' ' || !has_word(p, le, "FETCH") ||
            le - p < 3 || le[-1] != '}') {
            p = next_line(p, end);
            continue;
        }
        q = le - 2;
        while (q > p && *q >= '0' && *q <= '9')
            q--;
        if (*q != '{' || q + 1 == le - 1) {
            p = next_line(p, end);
            continue;
        }
        unsigned long long v = 0;
        for (const char *d = q + 1; d < le - 1; d++) {
            v = v * 10 + (unsigned long long)(*d - '0');
            if (v > (unsigned long long)(end - le))
                return -1; /* a literal longer than the answer: cut short */
        }
        const char *b = le;
        if (b < end && *b == '\r')
            b++;
        if (b < end && *b == '\n')
            b++;
        if ((unsigned long long)(end - b) < v)
            return -1;
        /* the UID comes before the literal (as asked) or after it */
        unsigned long uid = uid_in(p, q);
        const char *after = b + v, *ae = eol(after, end);
        if (!uid)
            uid = uid_in(after, ae);
        if (uid) {
            if (fn(arg, uid, b, (size_t)v) < 0)
                return -1;
            count++;
        }
        p = next_line(after, end);
    }
    return count;
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
