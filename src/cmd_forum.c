/* trawl forum search | post */
#include "cli.h"

#include "buf.h"

#include <getopt.h>
#include <string.h>

struct forum_out {
    struct cli *cli;
    json_t *hits;
    long n;
};

static int forum_hit(const struct kb_forum_entry *f, void *arg)
{
    struct forum_out *o = arg;

    o->n++;
    if (o->hits) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_integer(f->id));
        json_object_set_new(j, "client", f->client_id ? json_string(f->client) : json_null());
        json_object_set_new(j, "agent", json_string(f->agent));
        json_object_set_new(j, "source_type", json_string(f->source_type));
        json_object_set_new(j, "phase", json_string(f->phase));
        json_object_set_new(j, "file_type", json_string(f->file_type));
        json_object_set_new(j, "title", json_string(f->title));
        json_object_set_new(j, "body", json_string(f->body));
        json_object_set_new(j, "snippet", json_string(f->snippet));
        json_object_set_new(j, "created", json_string(f->created_at));
        json_object_set_new(j, "score", json_real(f->score));
        json_array_append_new(o->hits, j);
        return 0;
    }
    printf("%s%s%s  #%lld  [%s %s%s%s] %s %s\n", o->cli->color ? "\033[1m" : "", f->title,
           o->cli->color ? "\033[0m" : "", (long long)f->id, f->source_type, f->phase,
           *f->file_type ? " ." : "", f->file_type, f->client_id ? f->client : "global", f->agent);
    printf("    ");
    for (const char *p = f->snippet; *p; p++)
        putchar(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    printf("\n\n");
    return 0;
}

static int forum_search(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option opts[] = {{"client", required_argument, NULL, 'c'},
                                         {"global", no_argument, NULL, 'g'},
                                         {"source", required_argument, NULL, 's'},
                                         {"phase", required_argument, NULL, 'p'},
                                         {"file-type", required_argument, NULL, 'f'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0}};
    struct kb_forum_filter flt = {0};
    struct forum_out out = {cli, NULL, 0};
    const char *client = NULL;
    struct kb *kb;
    long limit;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            client = optarg;
            break;
        case 'g':
            flt.global_only = 1;
            break;
        case 's':
            flt.source_type = optarg;
            break;
        case 'p':
            flt.phase = optarg;
            break;
        case 'f':
            flt.file_type = optarg[0] == '.' ? optarg + 1 : optarg;
            break;
        case 'l':
            if ((limit = cli_parse_count(optarg)) < 1)
                return cli_usage(cmd, "--limit needs a positive number, not '%s'", optarg);
            flt.limit = (int)limit;
            break;
        case 'j':
            out.hits = json_array();
            break;
        default:
            return cli_usage(cmd, "unknown option");
        }
    }
    if (client && flt.global_only) {
        json_decref(out.hits);
        return cli_usage(cmd, "--client and --global exclude each other");
    }
    if (argc - optind != 1) {
        json_decref(out.hits);
        return cli_usage(cmd, argc - optind < 1 ? "missing QUERY"
                                                : "too many arguments (quote the query)");
    }
    if (out.hits) {
        flt.mark_open = "**";
        flt.mark_close = "**";
    } else if (cli->color) {
        flt.mark_open = "\033[1;33m";
        flt.mark_close = "\033[0m";
    }
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)) ||
        (client && (rc = cli_client(kb, client, &flt.client_id)))) {
        kb_close(kb);
        json_decref(out.hits);
        return rc;
    }
    if (kb_forum_search(kb, argv[optind], &flt, forum_hit, &out) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
        kb_close(kb);
        json_decref(out.hits);
        return rc;
    }
    kb_close(kb);
    if (out.hits) {
        json_t *o = json_object();
        json_object_set_new(o, "query", json_string(argv[optind]));
        json_object_set_new(o, "hits", out.hits);
        return cli_print_json(o);
    }
    if (out.n == 0)
        printf("no findings match '%s'\n", argv[optind]);
    return EXIT_OK;
}

static int forum_post(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option opts[] = {
        {"agent", required_argument, NULL, 'a'},  {"source", required_argument, NULL, 's'},
        {"phase", required_argument, NULL, 'p'},  {"file-type", required_argument, NULL, 'f'},
        {"client", required_argument, NULL, 'c'}, {"global", no_argument, NULL, 'g'},
        {"title", required_argument, NULL, 't'},  {"body", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},         {0}};
    struct kb_forum_entry f = {0};
    const char *client = NULL, *body = NULL;
    struct buf in;
    struct kb *kb;
    int64_t id;
    int c, rc, global = 0, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            f.agent = optarg;
            break;
        case 's':
            f.source_type = optarg;
            break;
        case 'p':
            f.phase = optarg;
            break;
        case 'f':
            f.file_type = optarg[0] == '.' ? optarg + 1 : optarg;
            break;
        case 'c':
            client = optarg;
            break;
        case 'g':
            global = 1;
            break;
        case 't':
            f.title = optarg;
            break;
        case 'b':
            body = optarg;
            break;
        case 'j':
            json = 1;
            break;
        default:
            return cli_usage(cmd, "unknown option");
        }
    }
    if (argc - optind > 0)
        return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (!f.agent || !f.source_type || !f.phase || !f.title)
        return cli_usage(cmd, "forum post needs --agent, --source, --phase and --title");
    if (!client == !global)
        return cli_usage(cmd, "forum post needs exactly one of --client C and --global");
    buf_init(&in, (size_t)1 << 20);
    if (!body || strcmp(body, "-") == 0) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (buf_add(&in, chunk, n) < 0) {
                buf_release(&in);
                return cli_fail("forum post body from standard input is over 1 MiB");
            }
        }
        body = buf_str(&in);
    }
    f.body = body;
    if ((rc = cli_open(cli, 0, &kb))) {
        buf_release(&in);
        return rc;
    }
    /* an existing client only: a typo must not create a new one */
    if (client && kb_client_id(kb, client, 0, &f.client_id) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
    } else if (kb_forum_post(kb, &f, &id) < 0) {
        rc = cli_fail("%s", kb_errmsg(kb));
    } else if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        rc = cli_print_json(o);
    } else {
        printf("posted finding #%lld\n", (long long)id);
    }
    kb_close(kb);
    buf_release(&in);
    return rc;
}

int cmd_forum(struct cli *cli, int argc, char **argv)
{
    const struct cli_command *cmd = cli_find("forum");

    if (argc < 2)
        return cli_usage(cmd, "missing 'search' or 'post'");
    if (strcmp(argv[1], "search") == 0)
        return forum_search(cli, cmd, argc - 1, argv + 1);
    if (strcmp(argv[1], "post") == 0)
        return forum_post(cli, cmd, argc - 1, argv + 1);
    return cli_usage(cmd, "unknown forum command '%s' (known: search, post)", argv[1]);
}
