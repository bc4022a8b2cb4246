/* trawl import | export */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

int cmd_import(struct cli *cli, int argc, char **argv)
{
    const struct cli_command *cmd = cli_find("import");
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
    struct kb_import_stats st;
    struct kb *kb;
    FILE *in;
    int c, rc, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return cli_usage(cmd, "unknown option");
    }
    if (argc - optind != 2)
        return cli_usage(cmd, argc - optind < 2 ? "missing CLIENT or FILE" : "too many arguments");
    const char *client = argv[optind], *fname = argv[optind + 1];
    int is_stdin = strcmp(fname, "-") == 0;
    in = is_stdin ? stdin : fopen(fname, "r");
    if (!in)
        return cli_fail("cannot open '%s': %s", fname, strerror(errno));
    if ((rc = cli_open(cli, 0, &kb))) {
        if (!is_stdin)
            fclose(in);
        return rc;
    }
    if (kb_import_jsonl(kb, client, in, is_stdin ? "<stdin>" : fname, &st) < 0) {
        rc = cli_fail("%s; nothing was imported", kb_errmsg(kb));
    } else if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(client));
        json_object_set_new(o, "lines", json_integer(st.lines));
        json_object_set_new(o, "sources", json_integer(st.sources));
        json_object_set_new(o, "nodes", json_integer(st.nodes));
        json_object_set_new(o, "documents", json_integer(st.documents));
        json_object_set_new(o, "entries", json_integer(st.entries));
        json_object_set_new(o, "forum", json_integer(st.forum));
        rc = cli_print_json(o);
    } else {
        printf("imported %ld lines for '%s': %ld sources, %ld nodes, %ld documents, %ld "
               "entries, %ld forum posts\n",
               st.lines, client, st.sources, st.nodes, st.documents, st.entries, st.forum);
    }
    kb_close(kb);
    if (!is_stdin)
        fclose(in);
    return rc;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
    const struct cli_command *cmd = cli_find("export");
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'}, {0}};
    const char *format = "jsonl", *output = NULL;
    struct kb *kb;
    FILE *out = stdout;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            format = optarg;
        else if (c == 'o')
            output = optarg;
        else
            return cli_usage(cmd, "unknown option");
    }
    if (strcmp(format, "jsonl") != 0 && strcmp(format, "markdown") != 0)
        return cli_usage(cmd, "unknown format '%s' (known: jsonl, markdown)", format);
    if (argc - optind != 1)
        return cli_usage(cmd, argc - optind < 1 ? "missing CLIENT" : "too many arguments");
    if ((rc = cli_open(cli, KB_OPEN_NOCREATE, &kb)))
        return rc;
    if (output && !(out = fopen(output, "w"))) {
        kb_close(kb);
        return cli_fail("cannot write '%s': %s", output, strerror(errno));
    }
    if (strcmp(format, "jsonl") == 0)
        rc = kb_export_jsonl(kb, argv[optind], out);
    else
        rc = kb_export_markdown(kb, argv[optind], out);
    if (rc < 0)
        rc = cli_fail("%s", kb_errmsg(kb));
    if (output && fclose(out) != 0 && rc == 0)
        rc = cli_fail("cannot write '%s': %s", output, strerror(errno));
    kb_close(kb);
    return rc;
}
