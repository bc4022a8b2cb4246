/*
 * bench/pipeline: brokered tool calls per second with 1, 10 and 100
 * explorers, and the overhead per source, against the same tool work done
 * in-process without broker or child processes, in the same run.
 *
 *   pipeline_bench DIR [calls-per-explorer]
 *
 * DIR is a scratch directory. Prints a table and one JSON line.
 */
#include "driver_fs.h"
#include "kb.h"
#include "master.h"
#include "registry.h"
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* n sources, each a folder with `files` small files. */
static void make_sources(const char *dir, int n, int files, const char *json_path)
{
    FILE *f = fopen(json_path, "w");
    char p[1024];

    fprintf(f, "{\"sources\":[");
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%.900s/src%d", dir, i);
        mkdir(p, 0755);
        for (int k = 0; k < files; k++) {
            char fp[1100];
            snprintf(fp, sizeof fp, "%.1000s/f%d.txt", p, k);
            write_file(fp, "a small file for the pipeline benchmark\n");
        }
        fprintf(f, "%s{\"name\":\"s%d\",\"type\":\"folder\",\"path\":\"%s\"}", i ? "," : "", i, p);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

struct run {
    double seconds;
    long calls;
};

static struct run onboard(const char *dir, const char *name, int n, int files, long calls, int jobs)
{
    char json[1024], db[1024], err[1024];
    struct registry *reg = registry_load(registry_default_dirs(NULL), err, sizeof err);
    struct master_opts mo = {0};
    struct master_result res;
    struct sources *src;
    struct kb *kb;
    struct run r = {0, 0};
    char sub[1024], env[32];
    FILE *devnull = fopen("/dev/null", "w");

    snprintf(sub, sizeof sub, "%.900s/%.64s", dir, name);
    mkdir(sub, 0755);
    snprintf(json, sizeof json, "%.900s/sources.json", sub);
    snprintf(db, sizeof db, "%.900s/kb.db", sub);
    make_sources(sub, n, files, json);
    if (!reg || !(src = sources_load(json, reg, err, sizeof err)) || kb_open(db, 0, &kb) < 0) {
        fprintf(stderr, "pipeline_bench: set-up failed: %s\n", err);
        exit(1);
    }
    snprintf(env, sizeof env, "%ld", calls);
    setenv("TRAWL_BENCH_CALLS", env, 1);
    mo.client = "bench";
    mo.jobs = jobs;
    mo.log = devnull;
    double t0 = now_s();
    if (master_run(kb, reg, src, &mo, &res, err, sizeof err) < 0 || strcmp(res.status, "ok") != 0) {
        fprintf(stderr, "pipeline_bench: run failed: %s %s\n", err,
                res.stats_json ? res.stats_json : "");
        exit(1);
    }
    r.seconds = now_s() - t0;
    {
        json_t *st = json_loads(res.stats_json, 0, NULL);
        r.calls =
            (long)json_integer_value(json_object_get(json_object_get(st, "totals"), "tool_calls"));
        json_decref(st);
    }
    unsetenv("TRAWL_BENCH_CALLS");
    free(res.stats_json);
    kb_close(kb);
    sources_free(src);
    registry_free(reg);
    fclose(devnull);
    return r;
}

/* The same tool work in-process: a one-file page and its version lookup. */
static double inprocess_calls_per_s(const char *dir, long calls)
{
    char p[1024], err[256], db[1024];
    struct fs_source *fs;
    struct kb *kb;
    int64_t cid, sid;
    double t0;

    snprintf(p, sizeof p, "%.900s/inproc", dir);
    mkdir(p, 0755);
    snprintf(db, sizeof db, "%.900s/kb.db", p);
    snprintf(err, sizeof err, "%.200s/f.txt", p);
    write_file(err, "x\n");
    fs = fs_source_open(p, err, sizeof err);
    kb_open(db, 0, &kb);
    kb_client_id(kb, "bench", 1, &cid);
    kb_source_upsert(kb, cid, "s", "folder", NULL, &sid);
    t0 = now_s();
    for (long i = 0; i < calls; i++) {
        const struct fs_file *files;
        int n, more;
        char *v = NULL;
        int del;
        fs_source_page(fs, NULL, 1, &files, &n, &more, err, sizeof err);
        kb_document_version(kb, sid, files[0].path, &v, &del);
        json_t *o = json_pack("{s:[{s:s,s:I,s:b}]}", "files", "path", files[0].path, "size",
                              (json_int_t)files[0].size, "known", 0);
        char *s = json_dumps(o, JSON_COMPACT);
        free(s);
        json_decref(o);
        free(v);
    }
    double dt = now_s() - t0;
    fs_source_free(fs);
    kb_close(kb);
    return (double)calls / dt;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/trawl-bench-pipeline";
    long per = argc > 2 ? atol(argv[2]) : 20000;
    int counts[] = {1, 10, 100};
    double inproc, rate[3];
    struct run r[3], empty;

    mkdir(dir, 0755);
    inproc = inprocess_calls_per_s(dir, per * 5);
    printf("in-process baseline: %.0f tool calls/s (no broker, no child)\n", inproc);
    for (int i = 0; i < 3; i++) {
        char name[32];
        long calls = per / counts[i] > 200 ? per * 5 / counts[i] : 1000;
        snprintf(name, sizeof name, "calls%d", counts[i]);
        r[i] = onboard(dir, name, counts[i], 1, calls, counts[i]);
        rate[i] = (double)r[i].calls / r[i].seconds;
        printf(
            "%3d explorers: %8ld brokered calls in %6.2f s = %8.0f calls/s (%.2f x in-process)\n",
            counts[i], r[i].calls, r[i].seconds, rate[i], rate[i] / inproc);
    }
    empty = onboard(dir, "overhead", 100, 0, 0, 100);
    printf("per-source overhead (spawn, hello, list, done; 100 empty sources): %.2f ms\n",
           empty.seconds * 1000 / 100);
    printf("{\"inprocess_calls_per_s\":%.0f,\"brokered_calls_per_s\":{\"1\":%.0f,\"10\":%.0f,"
           "\"100\":%.0f},\"ratio_to_inprocess\":{\"1\":%.3f,\"10\":%.3f,\"100\":%.3f},"
           "\"per_source_overhead_ms\":%.3f}\n",
           inproc, rate[0], rate[1], rate[2], rate[0] / inproc, rate[1] / inproc, rate[2] / inproc,
           empty.seconds * 1000 / 100);
    return 0;
}
