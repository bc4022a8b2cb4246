/* Fuzz target: what the master reads from a structurer (term lines) and
 * what a structurer reads of a mail document (header lines, subject, body). */
#include "structurer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ts_doc d;
    struct buf out = BUF_INIT;
    char *text;
    int dropped = sphase_terms_parse((const char *)data, size, &d);

    if (dropped >= 0) {
        for (size_t i = 0; i < d.n; i++) {
            if (!d.terms[i].count || !*d.terms[i].term || !*d.terms[i].word ||
                strlen(d.terms[i].term) > 2 * TS_TOKEN_MAX)
                abort();
            if (i && strcmp(d.terms[i - 1].term, d.terms[i].term) >= 0)
                abort(); /* the master relies on the order (binary search) */
        }
        ts_doc_free(&d);
    }
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sphase_mail_content(text, &out);
    if (out.len > strlen(text) + 1)
        abort(); /* only ever a part of the text, and one newline */
    buf_release(&out);
    free(text);
    return 0;
}
