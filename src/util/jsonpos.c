/*
 * A forgiving JSON walker that only tracks positions: the text has already
 * been validated by jansson, so this skips values without building them.
 */
#include "jsonpos.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct walk {
    const char *s;
    size_t len, pos;
    int line, col;
};

static void adv(struct walk *w)
{
    if (w->pos >= w->len)
        return;
    if (w->s[w->pos] == '\n') {
        w->line++;
        w->col = 1;
    } else if (((unsigned char)w->s[w->pos] & 0xc0) != 0x80) {
        w->col++; /* columns count characters, not UTF-8 continuation bytes */
    }
    w->pos++;
}

static void skip_ws(struct walk *w)
{
    while (w->pos < w->len && strchr(" \t\r\n", w->s[w->pos]) && w->s[w->pos])
        adv(w);
}

static int peek(struct walk *w)
{
    return w->pos < w->len ? (unsigned char)w->s[w->pos] : -1;
}

/* Skips a string; if out is given, copies up to cap-1 raw bytes (escapes kept
 * undecoded except \" \\ \/ and ~-free keys, which is all pointers need). */
static void skip_string(struct walk *w, char *out, size_t cap)
{
    size_t n = 0;

    adv(w); /* opening quote */
    while (w->pos < w->len && w->s[w->pos] != '"') {
        char c = w->s[w->pos];
        if (c == '\\' && w->pos + 1 < w->len) {
            adv(w);
            c = w->s[w->pos];
            if (c != '"' && c != '\\' && c != '/')
                c = '?';
        }
        if (out && n + 1 < cap)
            out[n++] = c;
        adv(w);
    }
    adv(w);
    if (out)
        out[n] = '\0';
}

static void skip_value(struct walk *w, int depth)
{
    int c;

    skip_ws(w);
    c = peek(w);
    if (c == '"') {
        skip_string(w, NULL, 0);
    } else if (c == '{' || c == '[') {
        int close = c == '{' ? '}' : ']';
        adv(w);
        for (;;) {
            skip_ws(w);
            c = peek(w);
            if (c == close || c < 0) {
                adv(w);
                return;
            }
            if (c == ',') {
                adv(w);
                continue;
            }
            if (close == '}') {
                skip_string(w, NULL, 0);
                skip_ws(w);
                if (peek(w) == ':')
                    adv(w);
            }
            if (depth > 512)
                return;
            skip_value(w, depth + 1);
        }
    } else {
        while (w->pos < w->len && !strchr(",}] \t\r\n", w->s[w->pos]))
            adv(w);
    }
}

/* Decodes the next pointer token (~0 ~1 escapes) into tok. */
static const char *next_token(const char *p, char *tok, size_t cap)
{
    size_t n = 0;

    while (*p && *p != '/') {
        char c = *p++;
        if (c == '~' && (*p == '0' || *p == '1'))
            c = *p++ == '0' ? '~' : '/';
        if (n + 1 < cap)
            tok[n++] = c;
    }
    tok[n] = '\0';
    return p;
}

int jsonpos_find(const char *text, size_t len, const char *pointer, int *line, int *column)
{
    struct walk w = {text, len, 0, 1, 1};
    char tok[256], key[256];
    const char *p = pointer;

    skip_ws(&w);
    while (*p == '/') {
        p = next_token(p + 1, tok, sizeof tok);
        int c = peek(&w), found = 0;
        if (c == '{') {
            adv(&w);
            for (;;) {
                skip_ws(&w);
                c = peek(&w);
                if (c == ',') {
                    adv(&w);
                    continue;
                }
                if (c != '"')
                    break;
                skip_string(&w, key, sizeof key);
                skip_ws(&w);
                if (peek(&w) == ':')
                    adv(&w);
                skip_ws(&w);
                if (strcmp(key, tok) == 0) {
                    found = 1;
                    break;
                }
                skip_value(&w, 0);
            }
        } else if (c == '[') {
            long want = tok[0] ? 0 : -1;
            for (const char *d = tok; *d && want >= 0; d++)
                want = (*d >= '0' && *d <= '9' && want < 100000000) ? want * 10 + (*d - '0') : -1;
            adv(&w);
            for (long i = 0;; i++) {
                skip_ws(&w);
                c = peek(&w);
                if (c == ']' || c < 0 || want < 0)
                    break;
                if (i == want) {
                    found = 1;
                    break;
                }
                skip_value(&w, 0);
                skip_ws(&w);
                if (peek(&w) == ',')
                    adv(&w);
            }
        }
        if (!found) {
            *line = w.line;
            *column = w.col;
            return -1;
        }
    }
    *line = w.line;
    *column = w.col;
    return 0;
}

int jsonpos_fail(char *err, size_t errlen, const char *label, const char *text, size_t len,
                 const char *pointer, const char *fmt, ...)
{
    char msg[400];
    int line = 1, col = 1;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jsonpos_find(text ? text : "", len, pointer, &line, &col);
    snprintf(err, errlen, "%s line %d column %d: %s", label, line, col, msg);
    return -1;
}
