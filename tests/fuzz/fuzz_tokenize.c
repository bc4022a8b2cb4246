/* Fuzz target: tokeniser, term vectors, SimHash, summary and slug on any bytes. */
#include "textstat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_token(const char *tok, size_t len, size_t offset, void *ud)
{
    size_t total = *(size_t *)ud;

    (void)tok;

    if (len < 2 || len > TS_TOKEN_MAX || offset + len > total)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ts_doc d;
    struct buf out = BUF_INIT;
    char slug[40];
    char *text;
    size_t i;

    ts_tokenize((const char *)data, size, check_token, &size);
    if (ts_doc_build(&d, (const char *)data, size) == 0) {
        for (i = 1; i < d.n; i++)
            if (strcmp(d.terms[i - 1].term, d.terms[i].term) >= 0)
                abort();
        (void)ts_simhash(&d);
        ts_doc_free(&d);
    }
    if (ts_summary((const char *)data, size, 3, 64, &out) == 0 && out.len > 64)
        abort();
    buf_release(&out);
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (ts_slug(text, slug, sizeof slug) >= sizeof slug)
        abort();
    free(text);
    return 0;
}
