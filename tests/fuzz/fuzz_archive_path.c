/* Fuzz target: the archive member name sanitiser's promises hold for any bytes. */
#include "archive_path.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson refuses strings that are not UTF-8 */
static int utf8_ok(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    json_decref(j);
    return j != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT, again = BUF_INIT;
    int flags = archive_path_sanitise((const char *)data, size, &out);
    const char *p = buf_str(&out), *c;
    size_t depth = 1;

    if (flags < 0)
        return 0;
    if (out.len == 0 || out.len > ARCHIVE_PATH_MAX || p[0] == '/' || strlen(p) != out.len)
        abort();
    if (!utf8_ok(p, out.len)) /* jansson refuses invalid UTF-8 */
        abort();
    for (size_t i = 0; i < out.len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            abort();
        depth += ch == '/';
    }
    if (depth > ARCHIVE_PATH_DEPTH)
        abort();
    for (c = p;; c = strchr(c, '/') + 1) {
        size_t n = strchr(c, '/') ? (size_t)(strchr(c, '/') - c) : strlen(c);
        if (n == 0 || n > ARCHIVE_PATH_COMPONENT || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.'))
            abort();
        if (!strchr(c, '/'))
            break;
    }
    /* sanitising is idempotent: a clean name stays as it is */
    if (archive_path_sanitise(p, out.len, &again) != 0 || strcmp(buf_str(&again), p) != 0)
        abort();
    buf_release(&out);
    buf_release(&again);
    return 0;
}
