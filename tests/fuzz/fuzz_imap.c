/* Fuzz target: the parsers of IMAP server answers (LIST, EXAMINE, SEARCH,
 * FETCH items with literals and Gmail labels, CAPABILITY, modified UTF-7)
 * on arbitrary bytes: no crash, no read past the answer. */
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
    /* inside the answer, or an unescaped copy of a quoted body (shorter) */
    int inside = body >= a->p && body + len <= a->p + a->n;
    if (uid == 0 || (!inside && (len > a->n || memchr(body, '\0', len))))
        abort();
    return 0;
}

static int on_msg(void *arg, const struct imap_msg *m)
{
    const struct span *a = arg;
    int inside = m->body >= a->p && m->body + m->len <= a->p + a->n;
    if (m->has_body && !inside && m->len > a->n) /* a copy is shorter than the answer */
        abort();
    for (int i = 0; i < m->nlabels; i++)
        if (!m->labels[i] || strlen(m->labels[i]) > 2 * a->n + 1)
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
    (void)imap_parse_fetch_msgs(p, size, on_msg, &sp);
    (void)imap_has_capability(p, size, "X-GM-EXT-1");
    {
        /* modified UTF-7 on a NUL-terminated copy */
        char *z = malloc(size + 1);
        if (z) {
            memcpy(z, p, size);
            z[size] = '\0';
            free(imap_mutf7_decode(z));
            free(z);
        }
    }
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
