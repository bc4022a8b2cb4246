/* Fuzz target: HTML to text on arbitrary bytes: valid UTF-8 out, bounded by
 * the output cap, never a crash. */
#include "extract.h"
#include "extract_html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT;
    char *title = NULL;

    buf_init(&out, 1 << 20);
    if (html_to_text((const char *)data, size, size % 2 ? "UTF-8" : NULL, &out, &title) == 0) {
        if (!extract_utf8_valid(out.data ? out.data : "", out.len))
            abort();
    }
    html_sniff(data, size);
    free(title);
    buf_release(&out);
    return 0;
}
