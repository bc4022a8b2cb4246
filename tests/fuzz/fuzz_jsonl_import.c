/* Fuzz target: the JSONL importer on arbitrary bytes: errors, never crashes,
 * and a failed import leaves nothing behind. */
#include "kb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kb *kb;
    struct kb_import_stats st;
    FILE *f;
    int64_t cid;

    if (!kb && kb_open(":memory:", 0, &kb) < 0)
        abort();
    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    if (kb_import_jsonl(kb, "fuzz", f, "fuzz.jsonl", &st) < 0) {
        /* All or nothing: the client exists only if an earlier import succeeded. */
        if (kb_client_id(kb, "fuzz", 0, &cid) == KB_ERROR)
            abort();
    }
    fclose(f);
    return 0;
}
