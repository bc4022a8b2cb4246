/* The fs driver's fetch: one payload file per source, rewritten per item
 * (the explorer keeps it, "reuse"), and what a hostile explorer may leave
 * under its name (a FIFO, a symlink, a hard link) refused without blocking
 * the master and without writing through it. */
#include "driver.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/trawl-test-fs-fetch-XXXXXX";

static int never_known(void *arg, const char *id, const char *v)
{
    (void)arg, (void)id, (void)v;
    return 0;
}

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *rel)
{
    static char got[8192];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(got, 1, sizeof got - 1, f) : 0;
    if (f)
        fclose(f);
    got[n] = '\0';
    return got;
}

/* 0 with *out, or -1 */
static int fetch(const struct driver_ops *d, struct driver_source *s, const char *path,
                 json_t **out, char *err, size_t errlen)
{
    json_t *args = json_pack("{s:s}", "path", path);
    int rc = d->call(s, NULL, "fetch", args, out, err, errlen);
    json_decref(args);
    return rc;
}

int main(void)
{
    const struct driver_ops *d = driver_find("fs");
    struct driver_source s = {0};
    char p[512], err[300] = "";
    json_t *out = NULL, *settings;
    char longtext[4000];

    if (!mkdtemp(dir))
        return 1;
    snprintf(p, sizeof p, "%s/src", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/in", dir);
    mkdir(p, 0755);
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    put("src/long.txt", longtext);
    put("src/short.txt", "short text\n");
    put("src/other.txt", "other\n");

    snprintf(p, sizeof p, "%s/src", dir);
    settings = json_pack("{s:s}", "path", p);
    s.name = "t";
    s.settings = settings;
    snprintf(p, sizeof p, "%s/in", dir);
    s.payload_dirfd = open(p, O_RDONLY | O_DIRECTORY);
    s.payload_dir = "in";
    s.known = never_known;
    ok(d && d->open(&s, err, sizeof err) == 0, "the fs driver opens the source (%s)", err);

    ok(fetch(d, &s, "long.txt", &out, err, sizeof err) == 0, "fetch long.txt (%s)", err);
    is_str(json_string_value(json_object_get(out, "file")), "in/fetched", "the payload file");
    ok(json_is_true(json_object_get(out, "reuse")), "the explorer is told to keep it");
    is_int(json_integer_value(json_object_get(out, "size")), (long)strlen(longtext), "its size");
    is_str(slurp("in/fetched"), longtext, "the long file's bytes");
    json_decref(out);

    ok(fetch(d, &s, "short.txt", &out, err, sizeof err) == 0, "fetch short.txt (%s)", err);
    is_str(slurp("in/fetched"), "short text\n", "the same file, now exactly the short one");
    struct stat st;
    snprintf(p, sizeof p, "%s/in/fetched", dir);
    ok(stat(p, &st) == 0 && st.st_nlink == 1 && st.st_size == 11, "its old tail is cut");
    json_decref(out);

    /* what an explorer may put there: none is written through, none blocks */
    unlink(p);
    ok(mkfifo(p, 0644) == 0, "the explorer leaves a FIFO");
    ok(fetch(d, &s, "other.txt", &out, err, sizeof err) < 0, "refused: %s", err);
    unlink(p);
    char target[512];
    snprintf(target, sizeof target, "%s/victim", dir);
    put("victim", "keep me\n");
    ok(symlink(target, p) == 0, "the explorer leaves a symlink");
    ok(fetch(d, &s, "other.txt", &out, err, sizeof err) < 0, "refused: %s", err);
    is_str(slurp("victim"), "keep me\n", "its target is untouched");
    unlink(p);
    ok(link(target, p) == 0, "the explorer leaves a hard link");
    ok(fetch(d, &s, "other.txt", &out, err, sizeof err) < 0, "refused: %s", err);
    is_str(slurp("victim"), "keep me\n", "the linked file is untouched");
    unlink(p);
    ok(fetch(d, &s, "other.txt", &out, err, sizeof err) == 0, "once it is gone, fetched again");
    is_str(slurp("in/fetched"), "other\n", "with the right bytes");
    json_decref(out);

    d->close(&s);
    close(s.payload_dirfd);
    json_decref(settings);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return tap_done();
}
