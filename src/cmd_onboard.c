/* trawl onboard CLIENT SOURCES.json */
#include "cli.h"

#include "master.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int cmd_onboard(struct cli *cli, int argc, char **argv)
{
    char lockpath[4200], zerr[200];
    int lockfd = -1;

    /* Before the sources file is read and any credential is touched: children
     * are forked from this clean copy, not from the master (sandbox.h). */
    if (sandbox_zygote_start(zerr, sizeof zerr) < 0)
        fprintf(stderr, "trawl: %s; explorers are forked from the master\n", zerr);
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'j'},
                                         {"deadline", required_argument, NULL, 'd'},
                                         {"resume", no_argument, NULL, 'r'},
                                         {"keep-workspaces", no_argument, NULL, 'k'},
                                         {"sandbox", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"metrics", required_argument, NULL, 'm'},
                                         {"connectors", required_argument, NULL, 'c'},
                                         {"structurers", required_argument, NULL, 'S'},
                                         {"rebuild", no_argument, NULL, 'R'},
                                         {0}};
    const struct cli_command *cmd = cli_find("onboard");
    struct master_opts mo = {0};
    struct master_result res;
    const char *connectors = NULL;
    struct registry *reg;
    struct sources *src;
    struct kb *kb;
    char err[1024];
    long v;
    int c, rc, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if ((v = cli_parse_count(optarg)) < 1 || v > 4096)
                return cli_usage(cmd, "--jobs needs a number from 1 to 4096, not '%s'", optarg);
            mo.jobs = (int)v;
            break;
        case 'd':
            if ((v = cli_parse_count(optarg)) < 1)
                return cli_usage(cmd, "--deadline needs a positive number of seconds, not '%s'",
                                 optarg);
            mo.deadline_s = (int)v;
            break;
        case 'S':
            if ((v = cli_parse_count(optarg)) < 0 || v > 64)
                return cli_usage(cmd, "--structurers needs a number from 0 to 64, not '%s'",
                                 optarg);
            mo.structurers = (int)v;
            break;
        case 'R':
            mo.rebuild = 1;
            break;
        case 'r':
            mo.resume = 1;
            break;
        case 'k':
            mo.keep_workspaces = 1;
            break;
        case 's':
            if (strcmp(optarg, "strict") != 0 && strcmp(optarg, "best") != 0)
                return cli_usage(cmd, "--sandbox is strict or best, not '%s'", optarg);
            mo.strict = strcmp(optarg, "strict") == 0;
            break;
        case 'J':
            json = 1;
            break;
        case 'm':
            mo.metrics_path = optarg;
            break;
        case 'c':
            connectors = optarg;
            break;
        default:
            return cli_usage(cmd, "unknown option");
        }
    }
    if (argc - optind != 2)
        return cli_usage(cmd, argc - optind < 2 ? "missing CLIENT or SOURCES.json"
                                                : "too many arguments");
    mo.client = argv[optind];
    reg = registry_load(registry_default_dirs(connectors), err, sizeof err);
    if (!reg)
        return cli_fail("%s", err);
    src = sources_load(argv[optind + 1], reg, err, sizeof err);
    if (!src) {
        registry_free(reg);
        return cli_fail("%s", err);
    }
    if (src->client && strcmp(src->client, mo.client) != 0) {
        rc = cli_fail("sources file '%s' is for client '%s', not '%s'", argv[optind + 1],
                      src->client, mo.client);
        goto out_src;
    }
    if ((rc = cli_open(cli, 0, &kb)))
        goto out_src;
    /* One onboarding per client and database at a time: a second one would
     * fight over the same sources, and runs left 'running' by a dead process
     * can only be recognised as such while holding this lock. */
    snprintf(lockpath, sizeof lockpath, "%s.onboard-%s.lock", cli->db_path, mo.client);
    lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
        rc = cli_fail(lockfd < 0 ? "cannot create the lock file '%s': %s"
                                 : "another 'trawl onboard %s' is running on this database "
                                   "(lock '%s' is held); wait for it or stop it",
                      lockfd < 0 ? lockpath : mo.client, lockfd < 0 ? strerror(errno) : lockpath);
        kb_close(kb);
        goto out_src;
    }
    mo.live = isatty(STDERR_FILENO) && !getenv("NO_COLOR") && !json;
    if (master_run(kb, reg, src, &mo, &res, err, sizeof err) < 0) {
        rc = cli_fail("onboard: %s", err);
    } else {
        if (json) {
            json_t *o = json_loads(res.stats_json, 0, NULL);
            cli_print_json(o);
        } else {
            printf("run %lld %s: %ld of %zu sources ok%s\n", (long long)res.run_id, res.status,
                   res.sources_ok, src->n,
                   res.sources_failed ? "; 'trawl runs --json' has the errors" : "");
        }
        rc = strcmp(res.status, "ok") == 0 ? EXIT_OK : EXIT_FAIL;
        free(res.stats_json);
    }
    kb_close(kb); /* the lock file stays: removing it would race with a new run */
out_src:
    if (lockfd >= 0)
        close(lockfd);
    sources_free(src);
    registry_free(reg);
    return rc;
}
