#ifndef TRAWL_CLI_H
#define TRAWL_CLI_H

/* Shared by the CLI's command files (cmd_*.c); not a library interface. */

#include "kb.h"

#include <jansson.h>
#include <stdio.h>

/** Exit codes of every command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
    const char *db_path; /* --db, $TRAWL_DB or ./trawl.db */
    int color;           /* stdout is a terminal and NO_COLOR is unset */
};

struct cli_command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *usage;   /* after "trawl NAME " */
    const char *summary; /* one line for 'trawl --help' */
    const char *help;    /* the rest of 'trawl NAME --help' */
};

/** Prints "trawl NAME: message" and the usage line to stderr; returns EXIT_USAGE. */
int cli_usage(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Prints "trawl: message" to stderr; returns EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Prints the command's full help to stdout; returns EXIT_OK. */
int cli_help(const struct cli_command *cmd);

/** Opens the database or prints why not; returns 0 or EXIT_FAIL. */
int cli_open(struct cli *cli, unsigned flags, struct kb **kbp);

/** Resolves a client name or prints why not; returns 0 or EXIT_FAIL. */
int cli_client(struct kb *kb, const char *name, int64_t *id);

/** Parses a positive integer option value; -1 when it is not one. */
long cli_parse_count(const char *s);

/** Writes o (consumed) to stdout as indented JSON and a newline. */
int cli_print_json(json_t *o);

/** Finds a command in the table by name (tests and main use it). */
const struct cli_command *cli_find(const char *name);

int cmd_onboard(struct cli *cli, int argc, char **argv);
int cmd_tree(struct cli *cli, int argc, char **argv);
int cmd_search(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_runs(struct cli *cli, int argc, char **argv);
int cmd_forum(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_connectors(struct cli *cli, int argc, char **argv);

#endif
