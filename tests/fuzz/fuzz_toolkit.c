/* Fuzz target: the toolkit loader (connectors/registry.c) on arbitrary bytes
 * as a toolkit file. It loads, with a driver and tools the master can use, or
 * is refused with a message naming the file; never a crash. */
#include "driver.h"
#include "registry.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], kit[96];
    const char *dirs[2] = {dir, NULL};
    char err[700] = "";
    struct registry *r;
    FILE *f;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/trawl-fuzz-toolkit-%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(kit, sizeof kit, "%s/toolkits.json", dir);
        if (!(f = fopen(kit, "w")))
            abort();
        fputs("{\"fuzzed\": \"fuzzed\"}\n", f);
        fclose(f);
        snprintf(kit, sizeof kit, "%s/fuzzed.json", dir);
    }
    if (!(f = fopen(kit, "w")))
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    r = registry_load(dirs, err, sizeof err);
    if (r) {
        const struct toolkit *tk = registry_toolkit(r, "fuzzed");
        if (!tk || !driver_find(tk->driver) || json_array_size(tk->tools) == 0)
            abort();
        json_decref(toolkit_tools_list(tk));
        registry_free(r);
    } else if (!strstr(err, "fuzzed.json")) {
        fprintf(stderr, "message does not name the file: %s\n", err);
        abort();
    }
    return 0;
}
