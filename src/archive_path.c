/*
 * The archive member name sanitiser. Names are never used to create files
 * (members go to numbered temporary files), but they become part ids shown to
 * users and stored in the knowledge base, so they must be plain relative
 * UTF-8 paths that no later consumer can misread as "somewhere else".
 */
#include "archive_path.h"

#include "extract.h"

#include <stdio.h>
#include <string.h>

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

int archive_path_sanitise(const char *raw, size_t n, struct buf *out)
{
    struct buf clean, nonul;
    int flags = 0, depth = 0;
    char *p;
    size_t i;

    buf_reset(out);
    buf_init(&clean, 8 * ARCHIVE_PATH_MAX);
    buf_init(&nonul, 2 * ARCHIVE_PATH_MAX);
    if (n > 2 * ARCHIVE_PATH_MAX) { /* no need to look at megabytes of name */
        n = 2 * ARCHIVE_PATH_MAX;
        flags |= ARCHIVE_PATH_LONG;
    }
    /* NULs (a C-string truncation trick) are dropped and flagged; anything
     * else that is not UTF-8 becomes U+FFFD */
    for (i = 0; i < n; i++) {
        if (raw[i] == '\0') {
            flags |= ARCHIVE_PATH_CONTROL;
        } else if (buf_addch(&nonul, raw[i]) < 0) {
            buf_release(&nonul);
            return -1;
        }
    }
    if (extract_utf8_clean(&clean, nonul.data ? nonul.data : "", nonul.len) < 0) {
        buf_release(&nonul);
        buf_release(&clean);
        return -1;
    }
    if (clean.len != nonul.len || (clean.len && memcmp(clean.data, nonul.data, clean.len) != 0))
        flags |= ARCHIVE_PATH_UTF8;
    buf_release(&nonul);
    p = clean.data ? clean.data : (char *)"";
    for (i = 0; i < clean.len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            p[i] = '/';
            flags |= ARCHIVE_PATH_BACKSLASH;
        } else if (c < 0x20 || c == 0x7f) {
            p[i] = '_';
            flags |= ARCHIVE_PATH_CONTROL;
        }
    }
    if (clean.len && p[0] == '/')
        flags |= ARCHIVE_PATH_ABSOLUTE;
    for (i = 0; i < clean.len;) {
        size_t j = i, len, keep;
        while (j < clean.len && p[j] != '/')
            j++;
        len = j - i;
        if (len == 0 || (len == 1 && p[i] == '.')) {
            /* empty or "." components say nothing */
        } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
            flags |= ARCHIVE_PATH_DOTDOT;
        } else if (depth == 0 && len == 2 && p[i + 1] == ':' &&
                   ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) {
            /* "C:/x": a Windows drive is as absolute as "/x" */
            flags |= ARCHIVE_PATH_ABSOLUTE;
        } else if (depth == ARCHIVE_PATH_DEPTH) {
            flags |= ARCHIVE_PATH_LONG;
            break;
        } else {
            keep = utf8_cut(p + i, len, ARCHIVE_PATH_COMPONENT);
            if (keep < len)
                flags |= ARCHIVE_PATH_LONG;
            if (out->len + (out->len ? 1 : 0) + keep > ARCHIVE_PATH_MAX) {
                flags |= ARCHIVE_PATH_LONG;
                break;
            }
            if ((out->len && buf_addch(out, '/') < 0) || buf_add(out, p + i, keep) < 0) {
                buf_release(&clean);
                return -1;
            }
            depth++;
        }
        i = j + 1;
    }
    buf_release(&clean);
    if (out->len == 0) {
        if (buf_addch(out, '_') < 0)
            return -1;
        flags |= ARCHIVE_PATH_EMPTY;
    }
    return flags;
}

void archive_path_describe(int flags, char *dst, size_t dstlen)
{
    static const struct {
        int flag;
        const char *what;
    } names[] = {
        {ARCHIVE_PATH_ABSOLUTE, "absolute path made relative"},
        {ARCHIVE_PATH_DOTDOT, "'..' removed"},
        {ARCHIVE_PATH_BACKSLASH, "backslashes read as '/'"},
        {ARCHIVE_PATH_CONTROL, "control characters replaced"},
        {ARCHIVE_PATH_UTF8, "invalid UTF-8 repaired"},
        {ARCHIVE_PATH_LONG, "overlong name cut"},
        {ARCHIVE_PATH_EMPTY, "empty name"},
    };
    size_t off = 0;

    if (dstlen)
        dst[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & names[i].flag) || off >= dstlen)
            continue;
        int w = snprintf(dst + off, dstlen - off, "%s%s", off ? ", " : "", names[i].what);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}
