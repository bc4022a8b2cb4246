/*
 * trawl: onboard a client's data sources into a knowledge base.
 * This file holds the command table and the global options; each command
 * lives in a cmd_*.c file.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TRAWL_VERSION
#define TRAWL_VERSION "dev"
#endif

static const struct cli_command commands[] = {
    {"onboard", cmd_onboard,
     "CLIENT SOURCES.json [--jobs N] [--deadline SECONDS] [--resume] [--keep-workspaces]\n"
     "                   [--sandbox strict|best] [--json] [--metrics FILE] [--connectors DIR]\n"
     "                   [--structurers K] [--rebuild]",
     "run one sandboxed explorer per source and store what they find",
     "SOURCES.json names the client's sources (README, 'Sources file'). One explorer\n"
     "runs per source, at most --jobs at once; a crashed explorer is restarted from\n"
     "its source's last checkpoint (3 attempts). Exit 1 when a source failed.\n\n"
     "  --jobs N             explorers at once (default: 4 per core, at most one per source)\n"
     "  --deadline SECONDS   kill an explorer that runs longer\n"
     "  --resume             continue an interrupted run from its checkpoints\n"
     "  --keep-workspaces    keep the /tmp workspaces (TMPDIR is honoured)\n"
     "  --sandbox strict     refuse to run unless every sandbox layer is available\n"
     "  --json               print the run record as JSON at the end\n"
     "  --metrics FILE       write the run's figures in Prometheus text format\n"
     "  --connectors DIR     also load toolkits from DIR (as $TRAWL_CONNECTORS does)\n"},
    {"tree", cmd_tree, "CLIENT [PATH] [--depth N] [--json]",
     "show a client's knowledge tree (or the subtree at PATH) with entry counts",
     "Each line is a node: its title, its path and the number of entries in its\n"
     "subtree (the entries on the node itself in parentheses when it has both).\n\n"
     "  --depth N   show N levels below PATH (default: all)\n"
     "  --json      print the subtree as nested JSON (see README, 'JSON output')\n"},
    {"search", cmd_search, "CLIENT QUERY [--under PATH] [--limit N] [--json]",
     "ranked full-text search of a client's entries, optionally within a subtree",
     "QUERY is free text: words must all match, \"quoted words\" match as a phrase,\n"
     "OR between words matches either, a trailing * matches a prefix and a leading\n"
     "- excludes a word. Other punctuation is ignored, never an error.\n\n"
     "  --under PATH  only entries in the subtree at PATH\n"
     "  --limit N     at most N results (default 20)\n"
     "  --json        print the results as JSON\n"},
    {"show", cmd_show, "CLIENT ENTRY_ID [--json]",
     "show one entry with the documents it comes from", "  --json  print the entry as JSON\n"},
    {"forum", cmd_forum,
     "search QUERY [--client C | --global] [--source TYPE] [--phase explore|structure]\n"
     "                   [--file-type EXT] [--limit N] [--json]\n"
     "       trawl forum post --agent NAME --source TYPE --phase explore|structure\n"
     "                   [--file-type EXT] [--client C | --global] --title TEXT [--body TEXT | -]",
     "search or post findings on the agent forum",
     "Findings carry a source type, a phase and a file type, and belong to a client\n"
     "or are global patterns. 'forum search --client C' shows C's findings and the\n"
     "global ones; --global shows only global patterns. 'forum post' reads the body\n"
     "from standard input when --body is '-' or missing.\n"},
    {"runs", cmd_runs, "[CLIENT] [--json]", "list onboarding and import runs, newest first",
     "  --json  print the runs with their statistics as JSON\n"},
    {"import", cmd_import, "CLIENT FILE.jsonl",
     "import sources, documents, tree nodes, entries and forum posts from JSONL",
     "FILE is '-' for standard input. The whole file is one transaction: a bad line\n"
     "is reported with its line number and nothing is imported. The format is in\n"
     "README.md, 'JSONL format'; 'trawl export' writes it.\n"},
    {"export", cmd_export, "CLIENT [--format jsonl|markdown] [--output FILE]",
     "write a client's knowledge base as JSONL (importable) or Markdown",
     "  --format jsonl|markdown  default jsonl\n"
     "  --output FILE            default standard output\n"},
    {"connectors", cmd_connectors, "list | show TYPE | check FILE [--json] [--connectors DIR]",
     "list source types, show the tools of one, or check a toolkit file",
     "  list              every source type: its toolkit, driver, tool count and directory\n"
     "  show TYPE         the tools an explorer of that type gets (name, description,\n"
     "                    parameters) and the settings a source of it needs\n"
     "  check FILE        a toolkit file (or a toolkits.json and the toolkits it names):\n"
     "                    'ok', or the problem with its line and column\n"
     "  --connectors DIR  also load toolkits from DIR (as does $TRAWL_CONNECTORS)\n"
     "  --json            print the result as JSON\n"},
    {"doctor", cmd_doctor, "[--json]", "report which sandbox layers this machine supports",
     "One line per layer: available or not, and why. Exits 1 when strict sandbox\n"
     "mode cannot run here.\n\n"
     "  --json  print the report as JSON\n"},
};

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int cli_usage(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "trawl %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: trawl %s %s\n", cmd->name, cmd->usage);
    return EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("trawl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

int cli_help(const struct cli_command *cmd)
{
    printf("usage: trawl [--db PATH] %s %s\n\n%s.\n\n%s", cmd->name, cmd->usage, cmd->summary,
           cmd->help);
    return EXIT_OK;
}

int cli_open(struct cli *cli, unsigned flags, struct kb **kbp)
{
    if (kb_open(cli->db_path, flags, kbp) < 0) {
        cli_fail("%s", kb_errmsg(*kbp));
        kb_close(*kbp);
        *kbp = NULL;
        return EXIT_FAIL;
    }
    return 0;
}

int cli_client(struct kb *kb, const char *name, int64_t *id)
{
    if (kb_client_id(kb, name, 0, id) < 0)
        return cli_fail("%s", kb_errmsg(kb));
    return 0;
}

long cli_parse_count(const char *s)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 1000000)
        return -1;
    return v;
}

int cli_print_json(json_t *o)
{
    int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    fputc('\n', stdout);
    if (rc < 0 || fflush(stdout) != 0)
        return cli_fail("cannot write to standard output");
    return EXIT_OK;
}

static void usage_all(FILE *out)
{
    fprintf(out, "usage: trawl [--db PATH] COMMAND [ARGS]\n\n"
                 "trawl onboards a client's data sources into a knowledge base.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nOptions:\n"
                 "  --db PATH    the knowledge base (default: $TRAWL_DB, else ./trawl.db)\n"
                 "  --help       this text; 'trawl COMMAND --help' for a command\n"
                 "  --version    print the version\n");
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    const struct cli_command *cmd;
    const char *env;
    int i = 1;

    cli.db_path = (env = getenv("TRAWL_DB")) && *env ? env : "trawl.db";
    cli.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    /* Global options end at the first word that is not one. */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_all(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("trawl %s\n", TRAWL_VERSION);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            cli.db_path = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            cli.db_path = argv[i] + 5;
            i++;
        } else {
            fprintf(stderr, "trawl: unknown option '%s'\n", argv[i]);
            usage_all(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage_all(stderr);
        return EXIT_USAGE;
    }
    if (!*cli.db_path) {
        fprintf(stderr, "trawl: --db needs a path\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 < argc && (cmd = cli_find(argv[i + 1])))
            return cli_help(cmd);
        usage_all(stdout);
        return EXIT_OK;
    }
    cmd = cli_find(argv[i]);
    if (!cmd) {
        fprintf(stderr, "trawl: unknown command '%s' (known:", argv[i]);
        for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
            fprintf(stderr, " %s", commands[k].name);
        fprintf(stderr, ")\n");
        return EXIT_USAGE;
    }
    for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
            return cli_help(cmd);
    return cmd->run(&cli, argc - i, argv + i);
}
