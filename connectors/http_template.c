#include "http_template.h"

#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_PATH_MAX 512
#define HTTP_SELECT_MAX 100000

json_t *http_path(const json_t *j, const char *path)
{
    char seg[HTTP_PATH_MAX];

    if (!path)
        return NULL;
    while (j && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        if (json_is_object(j)) {
            j = json_object_get(j, seg);
        } else if (json_is_array(j)) {
            char *end;
            long i = strtol(seg, &end, 10);
            if (n == 0 || *end || i < 0)
                return NULL;
            j = json_array_get(j, (size_t)i);
        } else {
            return NULL;
        }
        path += n;
        if (*path == '.')
            path++;
    }
    return (json_t *)j;
}

static size_t select_rec(const json_t *j, const char *path, json_t *out, int depth)
{
    const char *star = strstr(path, "*");
    char head[HTTP_PATH_MAX];
    size_t n, added = 0;
    const json_t *at;

    if (!j || depth > 8 || json_array_size(out) >= HTTP_SELECT_MAX)
        return 0;
    if (!star) {
        at = *path && strcmp(path, ".") != 0 ? http_path(j, path) : j;
        if (!at)
            return 0;
        if (json_is_array(at)) {
            size_t i;
            json_t *v;
            json_array_foreach(at, i, v)
            {
                if (json_array_size(out) >= HTTP_SELECT_MAX)
                    break;
                json_array_append(out, v);
                added++;
            }
            return added;
        }
        json_array_append(out, (json_t *)at);
        return 1;
    }
    n = (size_t)(star - path);
    if (n >= sizeof head)
        return 0;
    memcpy(head, path, n);
    head[n] = '\0';
    if (n && head[n - 1] == '.')
        head[n - 1] = '\0';
    at = *head ? http_path(j, head) : j;
    path = star + 1;
    if (*path == '.')
        path++;
    if (json_is_array(at)) {
        size_t i;
        json_t *v;
        json_array_foreach(at, i, v) added += select_rec(v, path, out, depth + 1);
    } else if (json_is_object(at)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)at, k, v) added += select_rec(v, path, out, depth + 1);
    }
    return added;
}

size_t http_select(const json_t *j, const char *path, json_t *out)
{
    return select_rec(j, path ? path : "", out, 0);
}

char *http_scalar(const json_t *v)
{
    char tmp[64];

    switch (json_typeof(v)) {
    case JSON_STRING:
        return strdup(json_string_value(v));
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return strdup(tmp);
    case JSON_REAL:
        snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v));
        return strdup(tmp);
    case JSON_TRUE:
        return strdup("true");
    case JSON_FALSE:
        return strdup("false");
    default:
        return NULL;
    }
}

static void add_enc(struct buf *b, const char *s, enum http_enc enc)
{
    static const char hex[] = "0123456789ABCDEF";

    if (enc == HTTP_ENC_RAW) {
        buf_adds(b, s);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_addch(b, (char)*p);
        } else {
            buf_addch(b, '%');
            buf_addch(b, hex[*p >> 4]);
            buf_addch(b, hex[*p & 15]);
        }
    }
}

/* The value of one placeholder body ("a.b|c|'lit'"), or NULL. */
static json_t *lookup(const char *expr, size_t n, const json_t *ctx, int *lit, char *litbuf,
                      size_t litlen, char *err, size_t errlen)
{
    char alt[HTTP_PATH_MAX];
    size_t i = 0;

    *lit = 0;
    while (i <= n) {
        size_t s = i, e;
        while (s < n && expr[s] == ' ')
            s++;
        e = s;
        if (e < n && expr[e] == '\'') {
            const char *q = memchr(expr + e + 1, '\'', n - e - 1);
            size_t ln;
            if (!q) {
                snprintf(err, errlen, "unterminated literal in '{{%.*s}}'", (int)(n > 80 ? 80 : n),
                         expr);
                return NULL;
            }
            ln = (size_t)(q - (expr + e + 1));
            if (ln >= litlen)
                ln = litlen - 1;
            memcpy(litbuf, expr + e + 1, ln);
            litbuf[ln] = '\0';
            *lit = 1;
            return NULL;
        }
        while (e < n && expr[e] != '|')
            e++;
        i = e + 1;
        while (e > s && expr[e - 1] == ' ')
            e--;
        if (e - s >= sizeof alt || e == s) {
            snprintf(err, errlen, "bad placeholder '{{%.*s}}'", (int)(n > 80 ? 80 : n), expr);
            return NULL;
        }
        memcpy(alt, expr + s, e - s);
        alt[e - s] = '\0';
        json_t *v = http_path(ctx, alt);
        if (v && !json_is_null(v) && !(json_is_string(v) && !*json_string_value(v)))
            return v;
    }
    return NULL;
}

char *http_render(const char *tpl, const json_t *ctx, enum http_enc enc, int *missing, char *err,
                  size_t errlen)
{
    struct buf b = BUF_INIT;
    const char *p = tpl;

    if (missing)
        *missing = 0;
    buf_adds(&b, "");
    while (*p) {
        const char *open = strstr(p, "{{"), *close;
        char litbuf[256];
        int lit;
        json_t *v;

        if (!open) {
            buf_adds(&b, p);
            break;
        }
        buf_add(&b, p, (size_t)(open - p));
        close = strstr(open + 2, "}}");
        if (!close) {
            snprintf(err, errlen, "unterminated placeholder in '%.80s'", tpl);
            buf_release(&b);
            return NULL;
        }
        err[0] = '\0';
        v = lookup(open + 2, (size_t)(close - open - 2), ctx, &lit, litbuf, sizeof litbuf, err,
                   errlen);
        if (err[0]) {
            buf_release(&b);
            return NULL;
        }
        if (lit) {
            add_enc(&b, litbuf, enc);
        } else if (v) {
            char *s = http_scalar(v);
            if (!s) /* an object or array: its JSON */
                s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            add_enc(&b, s ? s : "", enc);
            free(s);
        } else if (missing) {
            *missing = 1;
        }
        p = close + 2;
    }
    return buf_detach(&b, NULL);
}

json_t *http_render_json(const json_t *tpl, const json_t *ctx, char *err, size_t errlen)
{
    if (json_is_string(tpl)) {
        const char *s = json_string_value(tpl);
        size_t n = strlen(s);
        int missing;
        char *r;
        /* exactly one placeholder: keep the value's type */
        if (n > 4 && strncmp(s, "{{", 2) == 0 && strcmp(s + n - 2, "}}") == 0 &&
            !strstr(s + 2, "{{") && strstr(s + 2, "}}") == s + n - 2) {
            char litbuf[256];
            int lit;
            json_t *v;
            err[0] = '\0';
            v = lookup(s + 2, n - 4, ctx, &lit, litbuf, sizeof litbuf, err, errlen);
            if (err[0])
                return NULL;
            if (lit) { /* '100' in a JSON body is the number 100 */
                char *end;
                long long num = strtoll(litbuf, &end, 10);
                if (*litbuf && !*end && strlen(litbuf) < 16)
                    return json_integer(num);
                return json_string(litbuf);
            }
            return v ? json_deep_copy(v) : json_null();
        }
        r = http_render(s, ctx, HTTP_ENC_RAW, &missing, err, errlen);
        if (!r)
            return NULL;
        json_t *out = missing ? json_null() : json_string(r);
        free(r);
        return out ? out : json_null();
    }
    if (json_is_object(tpl)) {
        json_t *out = json_object(), *v;
        const char *k;
        json_object_foreach((json_t *)tpl, k, v)
        {
            json_t *r = http_render_json(v, ctx, err, errlen);
            if (!r) {
                json_decref(out);
                return NULL;
            }
            if (json_is_null(r))
                json_decref(r);
            else
                json_object_set_new(out, k, r);
        }
        return out;
    }
    if (json_is_array(tpl)) {
        json_t *out = json_array(), *v;
        size_t i;
        json_array_foreach(tpl, i, v)
        {
            json_t *r = http_render_json(v, ctx, err, errlen);
            if (!r) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, r);
        }
        return out;
    }
    return json_deep_copy(tpl);
}

long http_base64_decode(char *s, size_t n)
{
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=' || c == '\n' || c == '\r')
            continue;
        else
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            s[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)o;
}
