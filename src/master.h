#ifndef TRAWL_MASTER_H
#define TRAWL_MASTER_H

/*
 * The master of `trawl onboard`: one process, one poll() loop, the only
 * database writer. It runs one explorer per source (at most `jobs` at once),
 * brokers their JSON-RPC requests, executes their tools, and records the run.
 */

#include "kb.h"
#include "registry.h"
#include "sources.h"

#include <stdio.h>

struct master_opts {
    const char *client;
    int jobs;            /* explorers at once, 0 = from the core count */
    int deadline_s;      /* per explorer, 0 = none */
    int resume;          /* continue from checkpoints, skip completed sources */
    int keep_workspaces; /* keep /tmp workspaces after success */
    int strict;          /* refuse to run without every sandbox layer */
    int max_attempts;    /* restarts of a crashed explorer, 0 = 3 */
    const char *metrics_path;
    FILE *log;       /* progress and log lines; NULL = stderr */
    int live;        /* redraw a live display on a terminal */
    int structurers; /* structure phase with this many structurers, 0 = folder placement */
    int rebuild;     /* re-cluster instead of placing into the existing tree */
};

struct master_result {
    int64_t run_id;
    const char *status; /* ok, failed, interrupted */
    char *stats_json;   /* malloc'd: what `trawl runs --json` shows */
    long sources_ok, sources_failed;
};

/**
 * Onboards every source of src for opts->client into kb. Returns 0 when the
 * run could be carried out (res->status says how it ended), -1 with err when
 * it could not start.
 */
int master_run(struct kb *kb, const struct registry *reg, const struct sources *src,
               const struct master_opts *opts, struct master_result *res, char *err, size_t errlen);

#endif
