/* Query commands: tree, search, show, runs. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define BOLD "\033[1m"
#define DIM "\033[2m"
#define HL "\033[1;33m"
#define RESET "\033[0m"

/* ---- tree ------------------------------------------------------------------------ */

struct tree_out {
    struct cli *cli;
    int json;
    int base_level;
    json_t *root;     /* array of top nodes */
    json_t *stack[4]; /* children arrays by level */
    long nodes;
};

static int tree_node(const struct kb_node *n, void *arg)
{
    struct tree_out *t = arg;
    int depth;

    if (t->base_level < 0)
        t->base_level = n->level;
    depth = n->level - t->base_level;
    t->nodes++;
    if (t->json) {
        json_t *o = json_object(), *kids = json_array();
        json_object_set_new(o, "id", json_integer(n->id));
        json_object_set_new(o, "path", json_string(n->path));
        json_object_set_new(o, "slug", json_string(n->slug));
        json_object_set_new(o, "title", json_string(n->title));
        json_object_set_new(o, "level", json_integer(n->level));
        json_object_set_new(o, "summary", n->summary ? json_string(n->summary) : json_null());
        json_object_set_new(o, "entries", json_integer(n->entries));
        json_object_set_new(o, "entries_total", json_integer(n->entries_total));
        json_object_set_new(o, "children", kids);
        json_array_append_new(depth == 0 ? t->root : t->stack[depth - 1], o);
        t->stack[depth] = kids;
        return 0;
    }
    printf("%*s%s%s%s  %s%s%s  %lld", depth * 2, "", t->cli->color ? BOLD : "", n->title,
           t->cli->color ? RESET : "", t->cli->color ? DIM : "", n->path,
           t->cli->color ? RESET : "", (long long)n->entries_total);
    if (n->entries && n->entries != n->entries_total)
        printf(" (%lld here)", (long long)n->entries);
    putchar('\n');
    return 0;
}

int cmd_tree(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"depth", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"explain", required_argument, NULL, 'e'},
                                         {0}};
    const char *explain = NULL;
    const struct cli_command *cmd = cli_find("tree");
    struct tree_out t = {cli, 0, -1, NULL, {0}, 0};
    struct kb *kb;
    int64_t cid;
    long depth = 0;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') {
            if ((depth = cli_parse_count(optarg)) < 1)
                return cli_usage(cmd, "--depth needs a positive number, not '%s'", optarg);
        } else if (c == 'j') {
            t.json = 1;
        } else if (c == 'e') {
            explain = optarg;
        } else {
            return cli_usage(cmd, "unknown option");
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage(cmd, argc - optind < 1 ? "missing CLIENT" : "too many arguments");
    const char *client = argv[optind], *path = argc - optind == 2 ? argv[optind + 1] : NULL;
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)) || (rc = cli_client(kb, client, &cid))) {
        kb_close(kb);
        return rc;
    }
    if (explain) {
        if (path) {
            kb_close(kb);
            return cli_usage(cmd, "give PATH or --explain PATH, not both");
        }
        rc = tree_explain(cli, kb, cid, client, explain, t.json);
        kb_close(kb);
        return rc;
    }
    if (t.json)
        t.root = json_array();
    if (kb_subtree(kb, cid, path, (int)depth, tree_node, &t) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        json_decref(t.root);
        kb_close(kb);
        return rc;
    }
    kb_close(kb);
    if (t.json) {
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(client));
        json_object_set_new(o, "path", path ? json_string(path) : json_null());
        json_object_set_new(o, "nodes", t.root);
        return cli_print_json(o);
    }
    if (t.nodes == 0)
        printf("client '%s' has no knowledge tree yet\n", client);
    return EXIT_OK;
}

/* ---- search ---------------------------------------------------------------------- */

struct search_out {
    struct cli *cli;
    json_t *hits;
    long n;
};

static int search_hit(const struct kb_hit *h, void *arg)
{
    struct search_out *s = arg;

    s->n++;
    if (s->hits) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(h->id));
        json_object_set_new(o, "path", json_string(h->path));
        json_object_set_new(o, "title", json_string(h->title));
        json_object_set_new(o, "snippet", json_string(h->snippet));
        json_object_set_new(o, "score", json_real(h->score));
        json_array_append_new(s->hits, o);
        return 0;
    }
    if (s->cli->color)
        printf(BOLD "%s" RESET "  " DIM "%s  #%lld" RESET "\n", h->title, h->path,
               (long long)h->id);
    else
        printf("%s  %s  #%lld\n", h->title, h->path, (long long)h->id);
    printf("    ");
    for (const char *p = h->snippet; *p; p++)
        putchar(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    printf("\n\n");
    return 0;
}

int cmd_search(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"under", required_argument, NULL, 'u'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0}};
    const struct cli_command *cmd = cli_find("search");
    struct kb_search_opts so = {0};
    struct search_out s = {cli, NULL, 0};
    struct kb *kb;
    int64_t cid;
    long limit;
    int c, rc, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'u') {
            so.under = optarg;
        } else if (c == 'l') {
            if ((limit = cli_parse_count(optarg)) < 1)
                return cli_usage(cmd, "--limit needs a positive number, not '%s'", optarg);
            so.limit = (int)limit;
        } else if (c == 'j') {
            json = 1;
        } else {
            return cli_usage(cmd, "unknown option");
        }
    }
    if (argc - optind != 2)
        return cli_usage(cmd, argc - optind < 2 ? "missing CLIENT or QUERY"
                                                : "too many "
                                                  "arguments (quote the query)");
    const char *client = argv[optind], *query = argv[optind + 1];
    if (json) {
        s.hits = json_array();
        so.mark_open = "**";
        so.mark_close = "**";
    } else if (cli->color) {
        so.mark_open = HL;
        so.mark_close = RESET;
    }
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)) || (rc = cli_client(kb, client, &cid))) {
        kb_close(kb);
        json_decref(s.hits);
        return rc;
    }
    if (kb_search(kb, cid, query, &so, search_hit, &s) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        kb_close(kb);
        json_decref(s.hits);
        return rc;
    }
    kb_close(kb);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(client));
        json_object_set_new(o, "query", json_string(query));
        json_object_set_new(o, "under", so.under ? json_string(so.under) : json_null());
        json_object_set_new(o, "hits", s.hits);
        return cli_print_json(o);
    }
    if (s.n == 0)
        printf("no entries match '%s'%s%s\n", query, so.under ? " under " : "",
               so.under ? so.under : "");
    return EXIT_OK;
}

/* ---- show ------------------------------------------------------------------------ */

struct show_out {
    struct cli *cli;
    json_t *entry, *docs;
    long ndocs;
};

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int show_entry(const struct kb_entry_view *e, void *arg)
{
    struct show_out *s = arg;

    if (s->entry) {
        json_object_set_new(s->entry, "id", json_integer(e->id));
        json_object_set_new(s->entry, "key", json_string(e->key));
        json_object_set_new(s->entry, "path", json_string(e->path));
        json_object_set_new(s->entry, "title", json_string(e->title));
        json_object_set_new(s->entry, "summary", json_str_or_null(e->summary));
        json_object_set_new(s->entry, "body", json_string(e->body));
        json_object_set_new(s->entry, "metadata",
                            e->metadata_json ? json_loads(e->metadata_json, 0, NULL) : json_null());
        return 0;
    }
    printf("%s%s%s\n", s->cli->color ? BOLD : "", e->title, s->cli->color ? RESET : "");
    printf("entry #%lld in %s (key %s)\n", (long long)e->id, e->path, e->key);
    if (e->summary)
        printf("\nSummary: %s\n", e->summary);
    printf("\n%s\n", e->body);
    if (e->metadata_json)
        printf("\nMetadata: %s\n", e->metadata_json);
    return 0;
}

static int show_doc(const struct kb_doc_view *d, void *arg)
{
    struct show_out *s = arg;

    if (s->docs) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(d->id));
        json_object_set_new(o, "source", json_string(d->source));
        json_object_set_new(o, "source_type", json_string(d->source_type));
        json_object_set_new(o, "external_id", json_string(d->external_id));
        json_object_set_new(o, "mime", json_str_or_null(d->mime));
        json_object_set_new(o, "title", json_str_or_null(d->title));
        json_object_set_new(o, "author", json_str_or_null(d->author));
        json_object_set_new(o, "created", json_str_or_null(d->created_at));
        json_object_set_new(o, "modified", json_str_or_null(d->modified_at));
        json_object_set_new(o, "deleted", json_boolean(d->deleted));
        json_object_set_new(o, "metadata",
                            d->metadata_json ? json_loads(d->metadata_json, 0, NULL) : json_null());
        json_array_append_new(s->docs, o);
        return 0;
    }
    if (s->ndocs++ == 0)
        printf("\nDocuments:\n");
    printf("  [%s] %s%s%s%s%s\n", d->source, d->external_id, d->title ? "  " : "",
           d->title ? d->title : "", d->modified_at ? "  " : "",
           d->modified_at ? d->modified_at : "");
    return 0;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
    const struct cli_command *cmd = cli_find("show");
    struct show_out s = {cli, NULL, NULL, 0};
    struct kb *kb;
    int64_t cid;
    long long id;
    char *end;
    int c, rc, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return cli_usage(cmd, "unknown option");
    }
    if (argc - optind != 2)
        return cli_usage(cmd,
                         argc - optind < 2 ? "missing CLIENT or ENTRY_ID" : "too many arguments");
    const char *client = argv[optind], *ids = argv[optind + 1];
    if (*ids == '#')
        ids++;
    id = strtoll(ids, &end, 10);
    if (!*ids || *end || id <= 0)
        return cli_usage(cmd, "ENTRY_ID must be a positive number, not '%s'", argv[optind + 1]);
    if (json) {
        s.entry = json_object();
        s.docs = json_array();
    }
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)) || (rc = cli_client(kb, client, &cid))) {
        kb_close(kb);
        json_decref(s.entry);
        json_decref(s.docs);
        return rc;
    }
    if (kb_entry_show(kb, cid, id, show_entry, show_doc, &s) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        kb_close(kb);
        json_decref(s.entry);
        json_decref(s.docs);
        return rc;
    }
    kb_close(kb);
    if (json) {
        json_object_set_new(s.entry, "client", json_string(client));
        json_object_set_new(s.entry, "documents", s.docs);
        return cli_print_json(s.entry);
    }
    return EXIT_OK;
}

/* ---- runs ------------------------------------------------------------------------ */

static int runs_row(const struct kb_run *r, void *arg)
{
    json_t *arr = arg;

    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->id));
        json_object_set_new(o, "client", json_string(r->client));
        json_object_set_new(o, "kind", json_string(r->kind));
        json_object_set_new(o, "status", json_string(r->status));
        json_object_set_new(o, "started", json_string(r->started_at));
        json_object_set_new(o, "finished", json_str_or_null(r->finished_at));
        json_t *st = r->stats_json ? json_loads(r->stats_json, 0, NULL) : NULL;
        json_object_set_new(o, "stats", st ? st : json_null());
        json_array_append_new(arr, o);
        return 0;
    }
    printf("%-5lld %-16s %-8s %-11s %s  %s\n", (long long)r->id, r->client, r->kind, r->status,
           r->started_at, r->stats_json ? r->stats_json : "");
    return 0;
}

int cmd_runs(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
    const struct cli_command *cmd = cli_find("runs");
    struct kb *kb;
    json_t *arr = NULL;
    int64_t cid;
    int c, rc, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return cli_usage(cmd, "unknown option");
    }
    if (argc - optind > 1)
        return cli_usage(cmd, "too many arguments");
    const char *client = argc - optind == 1 ? argv[optind] : NULL;
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)))
        return rc;
    if (client && (rc = cli_client(kb, client, &cid))) {
        kb_close(kb);
        return rc;
    }
    if (json)
        arr = json_array();
    else
        printf("%-5s %-16s %-8s %-11s %-20s  %s\n", "RUN", "CLIENT", "KIND", "STATUS", "STARTED",
               "STATS");
    if (kb_runs_list(kb, client, runs_row, arr) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        json_decref(arr);
        kb_close(kb);
        return rc;
    }
    kb_close(kb);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "runs", arr);
        return cli_print_json(o);
    }
    return EXIT_OK;
}
