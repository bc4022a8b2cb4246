#include "sources.h"

#include "buf.h"
#include "jsonpos.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCES_MAX 10000

struct ctx {
    const char *path;
    struct buf text;
    char *err;
    size_t errlen;
};

/* "sources file 'F' line L column C: ..." with the position of pointer. */
static void fail_at(struct ctx *c, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(struct ctx *c, const char *pointer, const char *fmt, ...)
{
    char msg[400], label[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(label, sizeof label, "sources file '%s'", c->path);
    jsonpos_fail(c->err, c->errlen, label, c->text.data, c->text.len, pointer, "%s", msg);
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

/* Field names that would hold a secret inline. */
static int is_secret_field(const char *k)
{
    static const char *const bad[] = {"password",      "token",         "secret",
                                      "api_key",       "apikey",        "access_token",
                                      "refresh_token", "client_secret", "private_key"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcmp(k, bad[i]) == 0)
            return 1;
    return 0;
}

/* The numeric limits objects a source may give ("budget", "extract"). */
enum limit_kind { LIMIT_POSITIVE_INT, LIMIT_NONNEGATIVE_INT, LIMIT_POSITIVE };

struct limit_key {
    const char *name;
    enum limit_kind kind;
};

static const struct limit_key budget_keys[] = {{"max_items", LIMIT_POSITIVE_INT},
                                               {"max_bytes", LIMIT_POSITIVE_INT},
                                               {"max_depth", LIMIT_NONNEGATIVE_INT},
                                               {"max_seconds", LIMIT_POSITIVE}};
static const struct limit_key extract_keys[] = {{"max_depth", LIMIT_POSITIVE_INT},
                                                {"max_parts", LIMIT_POSITIVE_INT},
                                                {"max_expanded", LIMIT_POSITIVE_INT},
                                                {"max_ratio", LIMIT_POSITIVE}};

/* Checks the object src[field], if present, against keys; what names one key in messages. */
static int check_limits(struct ctx *c, json_t *src, size_t i, const char *field, const char *what,
                        const struct limit_key *keys, size_t nkeys)
{
    json_t *v = json_object_get(src, field), *b;
    char ptr[96], known[160] = "";
    size_t off = 0;
    const char *k;

    for (size_t q = 0; q < nkeys; q++)
        off +=
            (size_t)snprintf(known + off, sizeof known - off, "%s%s", q ? ", " : "", keys[q].name);
    if (!v)
        return 0;
    if (!json_is_object(v)) {
        snprintf(ptr, sizeof ptr, "/sources/%zu/%s", i, field);
        fail_at(c, ptr, "\"%s\" must be an object (keys: %s)", field, known);
        return -1;
    }
    json_object_foreach(v, k, b)
    {
        const struct limit_key *key = NULL;
        int good;
        for (size_t q = 0; q < nkeys; q++)
            if (strcmp(k, keys[q].name) == 0)
                key = &keys[q];
        snprintf(ptr, sizeof ptr, "/sources/%zu/%s/%.20s", i, field, k);
        if (!key) {
            fail_at(c, ptr, "unknown %s '%s' (known: %s)", what, k, known);
            return -1;
        }
        if (key->kind == LIMIT_POSITIVE)
            good = json_is_number(b) && json_number_value(b) > 0;
        else
            good = json_is_integer(b) &&
                   json_integer_value(b) >= (key->kind == LIMIT_NONNEGATIVE_INT ? 0 : 1);
        if (!good) {
            fail_at(c, ptr, "%s '%s' must be a %s number", what, k,
                    key->kind == LIMIT_POSITIVE       ? "positive"
                    : key->kind == LIMIT_POSITIVE_INT ? "positive whole"
                                                      : "non-negative whole");
            return -1;
        }
    }
    return 0;
}

static int check_source(struct ctx *c, const struct registry *reg, json_t *src, size_t i,
                        struct source_def *d)
{
    char ptr[64];
    const char *k;
    json_t *v, *req;

    snprintf(ptr, sizeof ptr, "/sources/%zu", i);
    if (!json_is_object(src)) {
        fail_at(c, ptr, "a source must be an object with a name and a type");
        return -1;
    }
    json_object_foreach(src, k, v)
    {
        if (is_secret_field(k)) {
            snprintf(ptr, sizeof ptr, "/sources/%zu/%s", i, k);
            fail_at(c, ptr,
                    "'%s' holds a secret inline; reference it instead with '%s_env' (an "
                    "environment variable) or '%s_file' (a file)",
                    k, k, k);
            return -1;
        }
        size_t kl = strlen(k);
        if ((kl > 4 && strcmp(k + kl - 4, "_env") == 0) ||
            (kl > 5 && strcmp(k + kl - 5, "_file") == 0)) {
            if (!json_is_string(v) || !*json_string_value(v)) {
                snprintf(ptr, sizeof ptr, "/sources/%zu/%s", i, k);
                fail_at(c, ptr, "'%s' must name an environment variable or a file", k);
                return -1;
            }
        }
    }
    d->json = src;
    d->name = json_string_value(json_object_get(src, "name"));
    d->type = json_string_value(json_object_get(src, "type"));
    if (!d->name || !name_ok(d->name)) {
        snprintf(ptr, sizeof ptr, "/sources/%zu%s", i, json_object_get(src, "name") ? "/name" : "");
        fail_at(c, ptr, "each source needs a \"name\" of 1 to 64 letters, digits, '.', '_' or '-'");
        return -1;
    }
    if (!d->type) {
        fail_at(c, ptr, "source '%s' needs a \"type\" (known: %s)", d->name, registry_types(reg));
        return -1;
    }
    d->toolkit = registry_toolkit(reg, d->type);
    if (!d->toolkit) {
        snprintf(ptr, sizeof ptr, "/sources/%zu/type", i);
        fail_at(c, ptr, "unknown source type '%s' (known: %s)", d->type, registry_types(reg));
        return -1;
    }
    /* The toolkit says which settings a source of its type must give. */
    req = json_object_get(json_object_get(d->toolkit->json, "settings"), "required");
    size_t k2;
    json_array_foreach(req, k2, v)
    {
        const char *f = json_string_value(v);
        if (f && !json_is_string(json_object_get(src, f))) {
            snprintf(ptr, sizeof ptr, "/sources/%zu", i);
            fail_at(c, ptr, "source '%s' of type '%s' needs \"%s\" (a string)", d->name, d->type,
                    f);
            return -1;
        }
    }
    d->path = json_string_value(json_object_get(src, "path"));
    if (check_limits(c, src, i, "budget", "budget", budget_keys,
                     sizeof budget_keys / sizeof budget_keys[0]) < 0 ||
        /* limits for hostile files, handed to the explorer's extraction */
        check_limits(c, src, i, "extract", "extract limit", extract_keys,
                     sizeof extract_keys / sizeof extract_keys[0]) < 0)
        return -1;
    return 0;
}

struct sources *sources_load(const char *path, const struct registry *reg, char *err, size_t errlen)
{
    struct ctx c = {path, BUF_INIT, err, errlen};
    struct sources *s = NULL;
    json_error_t je;
    json_t *root = NULL, *arr, *v;

    buf_init(&c.text, (size_t)16 << 20);
    if (buf_read_file(&c.text, path) < 0) {
        if (errno == EFBIG)
            snprintf(err, errlen, "sources file '%s' is over 16 MiB", path);
        else
            snprintf(err, errlen, "cannot read sources file '%s': %s", path, strerror(errno));
        goto fail;
    }
    root = json_loadb(buf_str(&c.text), c.text.len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "sources file '%s' line %d column %d: %s", path, je.line, je.column,
                 je.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        fail_at(&c, "", "the sources file must be an object with \"client\" and \"sources\"");
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->root = root;
    v = json_object_get(root, "client");
    if (v && (!json_is_string(v) || !name_ok(json_string_value(v)))) {
        fail_at(&c, "/client", "\"client\" must be a client name (letters, digits, '.', '_', '-')");
        goto fail;
    }
    s->client = json_string_value(v);
    arr = json_object_get(root, "sources");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        fail_at(&c, arr ? "/sources" : "", "\"sources\" must be a non-empty array of sources");
        goto fail;
    }
    if (json_array_size(arr) > SOURCES_MAX) {
        fail_at(&c, "/sources", "more than %d sources", SOURCES_MAX);
        goto fail;
    }
    s->n = json_array_size(arr);
    s->v = calloc(s->n, sizeof *s->v);
    if (!s->v) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (check_source(&c, reg, json_array_get(arr, i), i, &s->v[i]) < 0)
            goto fail;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->v[j].name, s->v[i].name) == 0) {
                char ptr[64];
                snprintf(ptr, sizeof ptr, "/sources/%zu/name", i);
                fail_at(&c, ptr, "source name '%s' is used twice", s->v[i].name);
                goto fail;
            }
        }
    }
    s->taxonomy = json_object_get(root, "taxonomy");
    buf_release(&c.text);
    return s;
fail:
    if (s) {
        free(s->v);
        free(s);
    }
    json_decref(root);
    buf_release(&c.text);
    return NULL;
}

void sources_free(struct sources *s)
{
    if (!s)
        return;
    free(s->v);
    json_decref(s->root);
    free(s);
}
