/* Fuzz target: the OOXML/ODF extractor on arbitrary zip bytes. */
#include "extract_office.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const struct extract_doc *d, void *arg)
{
    (void)arg;
    if (d->text && strlen(d->text) != d->text_len)
        abort(); /* text must be NUL-free UTF-8 of the stated length */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct extract_limits lim = {0, 0, 64 << 20, 200, NULL};

    extract_office_memory(data, size, "fuzz.docx", &lim, sink, NULL, err, sizeof err);
    return 0;
}
