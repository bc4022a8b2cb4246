/* Fuzz target: the parsers of IMAP server answers (LIST, EXAMINE, SEARCH,
 * FETCH literals) on arbitrary bytes: no crash, no read past the answer. */
#include "imap_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
    const char *p;
    size_t n;
};

static int on_message(void *arg, unsigned long uid, const char *body, size_t len)
{
    const struct span *a = arg;
    if (uid == 0 || body < a->p || body + len > a->p + a->n)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy so ASan sees any read past the end */
    char *p = malloc(size ? size : 1);
    char **folders = NULL;
    int nf = 0;
    unsigned long *uids = NULL;
    const char *body;
    size_t len;
    char q[64];

    if (!p)
        return 0;
    memcpy(p, data, size);
    for (int gmail = 0; gmail < 2; gmail++) {
        if (imap_parse_list(p, size, &folders, &nf, gmail) == 0) {
            for (int i = 0; i < nf; i++) {
                imap_quote(folders[i], q, sizeof q);
                free(folders[i]);
            }
            free(folders);
        }
    }
    (void)imap_parse_uidvalidity(p, size);
    (void)imap_parse_uidnext(p, size);
    int found;
    (void)imap_parse_exists(p, size, &found);
    struct span sp = {p, size};
    (void)imap_parse_fetch_each(p, size, on_message, &sp);
    long n = imap_parse_search(p, size, &uids);
    for (long i = 0; i < n; i++)
        if (uids[i] == 0)
            abort();
    free(uids);
    if (imap_parse_fetch_body(p, size, &body, &len) == 0 && (body < p || body + len > p + size))
        abort();
    free(p);
    return 0;
}
