/*
 * Free text to a safe FTS5 query. FTS5's own syntax (column filters, NEAR,
 * ^, parentheses, bare operators) makes a raw user string a source of SQL
 * errors, so nothing from the input is passed through unquoted: we lex the
 * text ourselves and emit only quoted terms joined by operators we chose.
 */
#include "kb.h"

#include "buf.h"

#include <string.h>

#define KB_QUERY_MAX_TERMS 32

struct term {
    const char *p;
    size_t n;
    int prefix, negated, or_before;
};

/* Length of the valid UTF-8 sequence at s (at most left bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int is_word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Appends s[0..n) inside double quotes, keeping only valid UTF-8. */
static int add_quoted(struct buf *out, const char *s, size_t n)
{
    size_t i = 0, k;

    if (buf_addch(out, '"') < 0)
        return -1;
    while (i < n) {
        k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            if (buf_addch(out, ' ') < 0)
                return -1;
            i++;
            continue;
        }
        if (s[i] == '"' && buf_addch(out, '"') < 0)
            return -1;
        if (buf_add(out, s + i, k) < 0)
            return -1;
        i += k;
    }
    return buf_addch(out, '"');
}

/* True when s[0..n) holds at least one letter or digit (any non-ASCII counts). */
static int has_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_word_byte((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

static int emit_terms(struct buf *out, const struct term *t, int n, int negated)
{
    int first = 1;

    for (int i = 0; i < n; i++) {
        if (t[i].negated != negated)
            continue;
        if (!first && buf_adds(out, negated ? " OR " : (t[i].or_before ? " OR " : " AND ")) < 0)
            return -1;
        if (add_quoted(out, t[i].p, t[i].n) < 0)
            return -1;
        if (t[i].prefix && buf_addch(out, '*') < 0)
            return -1;
        first = 0;
    }
    return 0;
}

int kb_fts_query(const char *text, struct buf *out)
{
    struct term t[KB_QUERY_MAX_TERMS];
    int n = 0, npos = 0, nneg = 0, negate_next = 0, or_next = 0;
    size_t len = strlen(text), i = 0;

    buf_reset(out);
    while (i < len && n < KB_QUERY_MAX_TERMS) {
        unsigned char c = (unsigned char)text[i];
        size_t k;

        if (c == '"') {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i++;
            if (has_word(text + start, i - start)) {
                t[n] = (struct term){text + start, i - start, 0, negate_next, or_next};
                if (i + 1 < len && text[i + 1] == '*')
                    t[n].prefix = 1;
                n++;
                negate_next = or_next = 0;
            }
            if (i < len)
                i++;
            continue;
        }
        if (c == '-' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t') && i + 1 < len &&
            (text[i + 1] == '"' || is_word_byte((unsigned char)text[i + 1]) ||
             (unsigned char)text[i + 1] >= 0x80)) {
            negate_next = 1;
            i++;
            continue;
        }
        k = c >= 0x80 ? utf8_len((const unsigned char *)text + i, len - i)
                      : (size_t)is_word_byte(c);
        if (k == 0) {
            i++; /* separator: punctuation, operators, invalid UTF-8 */
            continue;
        }
        size_t start = i;
        while (i < len) {
            c = (unsigned char)text[i];
            k = c >= 0x80 ? utf8_len((const unsigned char *)text + i, len - i)
                          : (size_t)is_word_byte(c);
            if (k == 0)
                break;
            i += k;
        }
        size_t wl = i - start;
        if (wl == 2 && memcmp(text + start, "OR", 2) == 0) {
            or_next = n > 0;
            continue;
        }
        if ((wl == 3 && memcmp(text + start, "AND", 3) == 0))
            continue;
        if (wl == 3 && memcmp(text + start, "NOT", 3) == 0) {
            negate_next = 1;
            continue;
        }
        t[n] = (struct term){text + start, wl, i < len && text[i] == '*', negate_next, or_next};
        n++;
        negate_next = or_next = 0;
    }
    for (int j = 0; j < n; j++) {
        if (t[j].negated)
            nneg++;
        else
            npos++;
    }
    if (npos == 0) {
        buf_adds(out, nneg ? "a query needs at least one word that is not excluded"
                           : "the query has no searchable words");
        return KB_EINVAL;
    }
    /* The first positive term cannot be an OR's right-hand side. */
    for (int j = 0; j < n; j++) {
        if (!t[j].negated) {
            t[j].or_before = 0;
            break;
        }
    }
    if (nneg && buf_addch(out, '(') < 0)
        return KB_ERROR;
    if (emit_terms(out, t, n, 0) < 0)
        return KB_ERROR;
    if (nneg) {
        if (buf_adds(out, ") NOT (") < 0 || emit_terms(out, t, n, 1) < 0 || buf_addch(out, ')') < 0)
            return KB_ERROR;
    }
    return KB_OK;
}
