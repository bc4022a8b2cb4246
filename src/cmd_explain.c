/* trawl tree CLIENT --explain PATH: why the documents under PATH were placed
 * there. Every entry the structure phase writes keeps in its metadata
 * `placed_by`: the client's taxonomy (with the keywords that hit), a forum
 * pattern, a noise rule, the topic terms of a discovered skill, or the
 * keywords of an existing skill; entries without it still sit where the
 * explore phase put them (source and folders). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPLAIN_EXAMPLES 3

struct reason {
    char *key; /* placed_by without its per-document detail */
    long count;
    json_t *examples;
};

struct explain {
    struct reason *v;
    size_t n;
    long entries;
    json_t *node;
};

/* "the client's taxonomy: 3 keyword hits (payroll, pension)" and
 * "...: 2 keyword hits (...)" group under their text before ": N keyword". */
static char *reason_key(const char *why)
{
    const char *p = why;

    for (; (p = strstr(p, ": ")); p += 2)
        if (p[2] >= '0' && p[2] <= '9' && strstr(p, " keyword hits"))
            return strndup(why, (size_t)(p - why));
    return strdup(why);
}

static int explain_entry(const struct kb_entry_view *e, void *arg)
{
    struct explain *x = arg;
    json_t *meta = e->metadata_json ? json_loads(e->metadata_json, 0, NULL) : NULL;
    const char *why = json_string_value(json_object_get(meta, "placed_by"));
    char *key =
        reason_key(why ? why : "the explore phase: its source and folders (not structured)");
    size_t i;

    x->entries++;
    for (i = 0; i < x->n && strcmp(x->v[i].key, key) != 0; i++)
        ;
    if (i == x->n) {
        struct reason *nv = realloc(x->v, (x->n + 1) * sizeof *nv);
        if (!nv) {
            free(key);
            json_decref(meta);
            return -1;
        }
        x->v = nv;
        x->v[x->n] = (struct reason){key, 0, json_array()};
        x->n++;
    } else {
        free(key);
    }
    x->v[i].count++;
    if (json_array_size(x->v[i].examples) < EXPLAIN_EXAMPLES)
        json_array_append_new(x->v[i].examples,
                              json_pack("{sIssssss}", "id", (json_int_t)e->id, "path", e->path,
                                        "title", e->title, "placed_by", why ? why : ""));
    json_decref(meta);
    return 0;
}

static int explain_node(const struct kb_node *n, void *arg)
{
    struct explain *x = arg;

    if (!x->node)
        x->node = json_pack("{sssssisosI}", "path", n->path, "title", n->title, "level", n->level,
                            "summary", n->summary ? json_string(n->summary) : json_null(),
                            "entries_total", (json_int_t)n->entries_total);
    return 0;
}

static int cmp_reason(const void *a, const void *b)
{
    const struct reason *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

int tree_explain(struct cli *cli, struct kb *kb, int64_t client_id, const char *client,
                 const char *path, int json)
{
    static const char *const level[] = {"", "domain", "skill", "entry group"};
    struct explain x = {0};
    int rc = EXIT_OK;

    (void)cli;
    if (kb_subtree(kb, client_id, path, 1, explain_node, &x) < 0 ||
        kb_entries_under(kb, client_id, path, explain_entry, &x) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        goto out;
    }
    qsort(x.v, x.n, sizeof *x.v, cmp_reason);
    if (json) {
        json_t *o = json_object(), *rs = json_array();
        for (size_t i = 0; i < x.n; i++)
            json_array_append_new(rs,
                                  json_pack("{sssIsO}", "reason", x.v[i].key, "count",
                                            (json_int_t)x.v[i].count, "examples", x.v[i].examples));
        json_object_set_new(o, "client", json_string(client));
        json_object_set_new(o, "path", json_string(path));
        json_object_set(o, "node", x.node);
        json_object_set_new(o, "entries", json_integer(x.entries));
        json_object_set_new(o, "reasons", rs);
        rc = cli_print_json(o);
        goto out;
    }
    {
        json_int_t lv = json_integer_value(json_object_get(x.node, "level"));
        const char *summary = json_string_value(json_object_get(x.node, "summary"));
        printf("%s: %s \"%s\", %ld entries\n", path, lv >= 1 && lv <= 3 ? level[lv] : "node",
               json_string_value(json_object_get(x.node, "title")), x.entries);
        if (summary)
            printf("  node summary: %s\n", summary);
        for (size_t i = 0; i < x.n; i++) {
            size_t k;
            json_t *ex;
            printf("  %ld placed by %s\n", x.v[i].count, x.v[i].key);
            json_array_foreach(x.v[i].examples, k, ex)
            {
                const char *why = json_string_value(json_object_get(ex, "placed_by"));
                const char *detail = why ? why + strlen(x.v[i].key) : "";
                printf("      e.g. #%lld %s (%s)%s%s\n",
                       (long long)json_integer_value(json_object_get(ex, "id")),
                       json_string_value(json_object_get(ex, "title")),
                       json_string_value(json_object_get(ex, "path")), *detail ? " " : "",
                       *detail == ':' ? detail + 2 : detail);
            }
        }
        if (!x.entries)
            printf("  no entries under this path\n");
    }
out:
    for (size_t i = 0; i < x.n; i++) {
        free(x.v[i].key);
        json_decref(x.v[i].examples);
    }
    free(x.v);
    json_decref(x.node);
    return rc;
}
