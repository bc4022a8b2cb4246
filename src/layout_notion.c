/*
 * Notion exports (Markdown & CSV): each page is "Title <32 hex id>.md"; its
 * subpages live in the folder "Title <id>/" beside it, so the folders are the
 * page hierarchy. A database is "Name <id>.csv" (the view; newer exports add
 * "Name <id>_all.csv" with every row, preferred when present), and its row
 * pages sit in the folder "Name <id>/".
 */
#include "extract_layout.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOTION_MEMBER_MAX ((size_t)64 << 20)
#define NOTION_ROWS_MAX 100000

struct notion {
    json_t *all_csv; /* "Name <id>" -> true when a _all.csv exists */
};

/* Length of name without a trailing " <32 hex>" (and the id into id33), or
 * strlen(name) when it has none. */
static size_t notion_strip_id(const char *name, size_t n, char *id33)
{
    if (n < 33 || name[n - 33] != ' ')
        return n;
    for (size_t i = n - 32; i < n; i++)
        if (!isxdigit((unsigned char)name[i]))
            return n;
    if (id33) {
        memcpy(id33, name + n - 32, 32);
        id33[32] = '\0';
    }
    return n - 33;
}

/* 1 when the base name is "<title> <id>.md|.csv|_all.csv", with the title's
 * length in *tlen and the id in id33. */
static int notion_page_name(const char *base, const char **ext, size_t *tlen, char *id33)
{
    const char *dot = strrchr(base, '.');
    size_t n;

    if (!dot || (strcasecmp(dot, ".md") != 0 && strcasecmp(dot, ".csv") != 0))
        return 0;
    n = (size_t)(dot - base);
    if (n > 4 && strncmp(dot - 4, "_all", 4) == 0 && strcasecmp(dot, ".csv") == 0)
        n -= 4;
    *tlen = notion_strip_id(base, n, id33);
    if (*tlen == n)
        return 0;
    *ext = dot;
    return 1;
}

static int notion_preload(const char *path)
{
    (void)path;
    return 0;
}

static void *notion_begin(const char *const *names, size_t n, json_t *preloaded)
{
    struct notion *st;
    size_t pages = 0;

    (void)preloaded;
    for (size_t i = 0; i < n; i++) {
        const char *ext;
        size_t tlen;
        char id[33];
        pages += notion_page_name(layout_basename(names[i]), &ext, &tlen, id);
    }
    if (pages == 0)
        return NULL;
    st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->all_csv = json_object();
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len > 8 && strcmp(names[i] + len - 8, "_all.csv") == 0) {
            char key[1100];
            snprintf(key, sizeof key, "%.*s", (int)(len - 8), names[i]);
            json_object_set_new(st->all_csv, key, json_true());
        }
    }
    return st;
}

/* The titles of the folders above path (ids stripped): the page hierarchy. */
static json_t *notion_page_path(const char *path)
{
    json_t *arr = json_array();
    const char *p = path, *slash;

    /* newer exports wrap everything in "Export-<uuid>/": not a page */
    if (strncmp(p, "Export-", 7) == 0 && (slash = strchr(p, '/'))) {
        const char *q = p + 7;
        while (q < slash && (isxdigit((unsigned char)*q) || *q == '-'))
            q++;
        if (q == slash)
            p = slash + 1;
    }
    while ((slash = strchr(p, '/'))) {
        size_t n = notion_strip_id(p, (size_t)(slash - p), NULL);
        json_array_append_new(arr, json_stringn(p, n));
        p = slash + 1;
    }
    return arr;
}

/* ---- CSV (RFC 4180, with a UTF-8 BOM as Notion writes it) ------------------------------ */

struct csv {
    const char *p, *end;
};

/* Reads one record into fields (each a string). Returns 0 at the end of input. */
static int csv_record(struct csv *c, json_t *fields)
{
    struct buf f = BUF_INIT;

    json_array_clear(fields);
    if (c->p >= c->end)
        return 0;
    for (;;) {
        buf_reset(&f);
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            while (c->p < c->end) {
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        buf_addch(&f, '"');
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                buf_addch(&f, *c->p++);
            }
            /* junk after a closing quote joins the field */
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
                buf_addch(&f, *c->p++);
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
                buf_addch(&f, *c->p++);
        }
        json_array_append_new(fields, json_stringn(f.data ? f.data : "", f.len));
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        break;
    }
    buf_release(&f);
    return 1;
}

static int notion_csv(struct arc *a, const char *path, const char *data, size_t len, json_t *meta,
                      const char *title, size_t tlen)
{
    struct csv c = {data, data + len};
    json_t *head = json_array(), *row = json_array();
    struct buf dbtext, rtext, part = BUF_INIT, rtitle = BUF_INIT;
    struct extract_doc d = {0};
    long rows = 0;
    int rc = 0;
    char dbname[600];

    buf_init(&dbtext, EXTRACT_MAX_TEXT);
    buf_init(&rtext, EXTRACT_MAX_TEXT);
    snprintf(dbname, sizeof dbname, "%.*s", (int)tlen, title);
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        c.p += 3;
    csv_record(&c, head);
    buf_addf(&dbtext, "Database %s\nColumns:", dbname);
    for (size_t i = 0; i < json_array_size(head); i++)
        buf_addf(&dbtext, "%s %s", i ? "," : "", json_string_value(json_array_get(head, i)));
    buf_adds(&dbtext, "\n\n");
    while (!rc && rows < NOTION_ROWS_MAX && csv_record(&c, row)) {
        json_t *props = json_object(), *m;
        const char *first = json_string_value(json_array_get(row, 0));
        int empty = 1;
        for (size_t i = 0; i < json_array_size(row); i++)
            if (json_string_length(json_array_get(row, i)))
                empty = 0;
        if (empty) {
            json_decref(props);
            continue;
        }
        rows++;
        buf_reset(&rtext);
        for (size_t i = 0; i < json_array_size(row); i++) {
            const char *k = json_string_value(json_array_get(head, i));
            char col[32];
            if (!k || !*k) {
                snprintf(col, sizeof col, "column %zu", i + 1);
                k = col;
            }
            json_object_set(props, k, json_array_get(row, i));
            buf_addf(&rtext, "%s: %s\n", k, json_string_value(json_array_get(row, i)));
        }
        buf_addf(&dbtext, "- %s\n", first && *first ? first : "(untitled)");
        buf_reset(&part);
        buf_addf(&part, "%s/row-%ld", path, rows);
        buf_reset(&rtitle);
        buf_adds(&rtitle, first && *first ? first : "(untitled)");
        m = json_deep_copy(meta);
        json_object_set_new(m, "database", json_string(dbname));
        json_object_set_new(m, "row", json_integer(rows));
        json_object_set_new(m, "properties", props);
        d.part = buf_str(&part);
        d.parent_part = path;
        d.title = buf_str(&rtitle);
        d.mime = "text/plain";
        d.text = buf_str(&rtext);
        d.text_len = rtext.len;
        d.modified = arc_member_mtime(a);
        d.metadata = m;
        rc = arc_emit(a, &d);
        json_decref(m);
    }
    if (!rc) {
        json_t *m = json_deep_copy(meta);
        json_object_set_new(m, "database", json_string(dbname));
        json_object_set_new(m, "rows", json_integer(rows));
        json_object_set(m, "columns", head);
        if (rows == NOTION_ROWS_MAX)
            json_object_set_new(m, "truncated", json_true());
        d.part = path;
        d.parent_part = NULL;
        d.title = dbname;
        d.mime = "text/csv";
        d.text = buf_str(&dbtext);
        d.text_len = dbtext.len;
        d.modified = arc_member_mtime(a);
        d.metadata = m;
        rc = arc_emit(a, &d);
        json_decref(m);
    }
    json_decref(head);
    json_decref(row);
    buf_release(&dbtext);
    buf_release(&rtext);
    buf_release(&part);
    buf_release(&rtitle);
    return rc;
}

static int notion_member(void *stp, struct arc *a, const char *path, json_t *meta)
{
    struct notion *st = stp;
    const char *base = layout_basename(path), *ext;
    size_t tlen;
    char id[33];
    struct buf data, text;
    char err[512];
    json_t *pp = notion_page_path(path);
    int rc, view = 0;

    json_object_set_new(meta, "page_path", pp);
    if (json_array_size(pp))
        json_object_set(meta, "parent_page", json_array_get(pp, json_array_size(pp) - 1));
    if (!notion_page_name(base, &ext, &tlen, id))
        return 0; /* an image or attachment of a page: extracted by its type */
    json_object_set_new(meta, "notion_id", json_string(id));
    if (strcasecmp(ext, ".csv") == 0 && strncmp(ext - 4, "_all", 4) != 0) {
        /* the view of a database that also comes with every row */
        size_t n = strlen(path) - 4;
        char key[1100];
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        if (json_object_get(st->all_csv, key)) {
            /* kept as it is (plain text): its rows come from the _all.csv */
            json_object_set_new(meta, "database_view", json_true());
            view = 1;
        }
    }
    buf_init(&data, NOTION_MEMBER_MAX);
    if (arc_read_member(a, &data, err, sizeof err) < 0) {
        struct extract_doc d = {0};
        json_object_set_new(meta, "extract_error", json_string(err));
        d.part = path;
        d.title = base;
        d.mime = "application/octet-stream";
        d.text = "";
        d.metadata = meta;
        rc = arc_emit(a, &d);
        buf_release(&data);
        return rc || arc_stopped(a) ? -1 : 1;
    }
    if (strcasecmp(ext, ".csv") == 0 && !view) {
        rc = notion_csv(a, path, data.data ? data.data : "", data.len, meta, base, tlen);
    } else {
        struct extract_doc d = {0};
        char title[600];
        const char *t = data.data ? data.data : "";
        buf_init(&text, EXTRACT_MAX_TEXT);
        extract_utf8_clean(&text, t, data.len);
        snprintf(title, sizeof title, "%.*s", (int)tlen, base);
        /* the page's own "# Title" heading is the truest title */
        if (strncmp(buf_str(&text), "# ", 2) == 0) {
            const char *nl = strchr(buf_str(&text), '\n');
            size_t n = nl ? (size_t)(nl - buf_str(&text)) - 2 : text.len - 2;
            if (n > 0 && n < sizeof title)
                snprintf(title, sizeof title, "%.*s", (int)n, buf_str(&text) + 2);
        }
        json_t *full = json_deep_copy(pp);
        json_array_append_new(full, json_stringn(base, tlen));
        json_object_set_new(meta, "page_path", full);
        d.part = path;
        d.title = title;
        d.mime = view ? "text/plain" : "text/markdown";
        d.text = buf_str(&text);
        d.text_len = text.len;
        d.modified = arc_member_mtime(a);
        d.metadata = meta;
        rc = arc_emit(a, &d);
        buf_release(&text);
    }
    buf_release(&data);
    return rc ? -1 : 1;
}

static void notion_free(void *stp)
{
    struct notion *st = stp;

    if (!st)
        return;
    json_decref(st->all_csv);
    free(st);
}

const struct layout_ops layout_notion_ops = {
    "notion", notion_preload, notion_begin, notion_member, NULL, NULL, notion_free,
};
