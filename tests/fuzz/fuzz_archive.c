/*
 * Fuzz target: extract_file on arbitrary bytes as an archive member of the
 * explorer would get them. Every document must be valid UTF-8 JSON-able
 * text with a clean part id; no temporary file may outlive the call.
 */
#include "extract.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson refuses strings that are not UTF-8 */
static int utf8_ok(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    json_decref(j);
    return j != NULL;
}

/* A part id: sanitised paths joined by '/', so a clean relative path. */
static int part_ok(const char *p)
{
    const char *c = p;

    if (!*p || *p == '/' || !utf8_ok(p, strlen(p)))
        return 0;
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '\\')
            return 0;
    for (;;) {
        const char *s = strchr(c, '/');
        size_t n = s ? (size_t)(s - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!s)
            return 1;
        c = s + 1;
    }
}

static int check_doc(const struct extract_doc *d, void *arg)
{
    (void)arg;
    if (d->part && !part_ok(d->part))
        abort();
    if (d->parent_part && !part_ok(d->parent_part))
        abort();
    if (d->text_len && !utf8_ok(d->text, d->text_len))
        abort(); /* not UTF-8 */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    char path[128], err[256];
    struct extract_limits lim = {2, 500, 16 << 20, 200, NULL};
    FILE *f;
    DIR *d;
    struct dirent *e;
    int files = 0;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_archive.%ld", (long)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/input", dir);
    f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    extract_file(path, "input", &lim, check_doc, NULL, err, sizeof err);
    unlink(path);
    d = opendir(dir);
    while (d && (e = readdir(d)))
        files += e->d_name[0] != '.' || strncmp(e->d_name, ".trawl-member", 13) == 0;
    if (d)
        closedir(d);
    if (files)
        abort(); /* a member's temporary file was left behind */
    return 0;
}
