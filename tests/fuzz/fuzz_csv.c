/* Fuzz target: the CSV/TSV extractor on arbitrary bytes. */
#include "extract_csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const struct extract_doc *d, void *arg)
{
    (void)arg;
    if (!d->text || strlen(d->text) != d->text_len)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    extract_csv_memory((const char *)data, size, "fuzz.csv", NULL, sink, NULL, err, sizeof err);
    return 0;
}
