/* Fuzz target: the sources file parser on arbitrary bytes. A file is either
 * loaded with every source naming a known toolkit, or refused with a message
 * that names the file; never a crash. */
#include "registry.h"
#include "sources.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct registry *reg;
    static char path[64];
    char err[512] = "";
    struct sources *s;
    FILE *f;

    if (!reg) {
        snprintf(path, sizeof path, "/tmp/trawl-fuzz-sources-%d.json", (int)getpid());
        reg = registry_load(registry_default_dirs(NULL), err, sizeof err);
        if (!reg) {
            fprintf(stderr, "registry: %s\n", err);
            abort();
        }
    }
    if (!(f = fopen(path, "w")))
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    s = sources_load(path, reg, err, sizeof err);
    if (s) {
        for (size_t i = 0; i < s->n; i++)
            if (!s->v[i].toolkit || !s->v[i].name || !s->v[i].type)
                abort();
        sources_free(s);
    } else if (!strstr(err, path)) {
        fprintf(stderr, "message does not name the file: %s\n", err);
        abort();
    }
    unlink(path);
    return 0;
}
