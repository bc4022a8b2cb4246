/*
 * Google Takeout: "Takeout/<Service>/..." in one or several archives
 * (takeout-...-001.zip, ...). Members are extracted generically (Mail/<name>.mbox
 * by the mail extractor, Drive files by their type); the layout adds where
 * they came from: the service, the Drive folder path, the mailbox, and the
 * Gmail labels of each message from its X-Gmail-Labels header.
 */
#include "extract_layout.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int takeout_member(void *st, struct arc *a, const char *path, json_t *meta)
{
    struct takeout *t = st;
    const char *svc, *rest, *slash;
    long r = takeout_root(path);

    (void)a;
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
