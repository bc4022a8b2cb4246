/* Unit tests: the archive member name sanitiser and the Gmail label splitter. */
#include "archive_path.h"
#include "extract_layout.h"
#include "tap.h"

#include <jansson.h>
#include <string.h>

static void check(const char *raw, size_t n, const char *want, int want_flags)
{
    struct buf out = BUF_INIT;
    int flags = archive_path_sanitise(raw, n, &out);

    ok(strcmp(buf_str(&out), want) == 0 && flags == want_flags,
       "'%s' -> '%s' flags %#x (got '%s' %#x)", raw, want, want_flags, buf_str(&out), flags);
    buf_release(&out);
}

static void labels(const char *header, const char *want)
{
    json_t *a = takeout_gmail_labels(header);
    char *s = json_dumps(a, JSON_COMPACT);

    ok(s && strcmp(s, want) == 0, "labels of '%s' are %s (got %s)", header, want, s ? s : "NULL");
    free(s);
    json_decref(a);
}

int main(void)
{
    char longname[700];
    char want[300];

    check("dir/a.txt", 9, "dir/a.txt", 0);
    check("../../etc/passwd", 16, "etc/passwd", ARCHIVE_PATH_DOTDOT);
    check("/etc/passwd", 11, "etc/passwd", ARCHIVE_PATH_ABSOLUTE);
    check("//server/share/x", 16, "server/share/x", ARCHIVE_PATH_ABSOLUTE);
    check("C:\\Windows\\x.txt", 16, "Windows/x.txt",
          ARCHIVE_PATH_ABSOLUTE | ARCHIVE_PATH_BACKSLASH);
    check("C:x.txt", 7, "C:x.txt", 0);
    check("a/./b//c/", 9, "a/b/c", 0);
    check("a\0b", 3, "ab", ARCHIVE_PATH_CONTROL);
    check("tab\there", 8, "tab_here", ARCHIVE_PATH_CONTROL);
    check("caf\xc3\xa9.txt", 9, "caf\xc3\xa9.txt", 0);
    check("bad\xff.txt", 8, "bad\xef\xbf\xbd.txt", ARCHIVE_PATH_UTF8);
    check("", 0, "_", ARCHIVE_PATH_EMPTY);
    check("../..", 5, "_", ARCHIVE_PATH_DOTDOT | ARCHIVE_PATH_EMPTY);
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memset(want, 'x', 255);
    want[255] = '\0';
    check(longname, strlen(longname), want, ARCHIVE_PATH_LONG);

    labels("Inbox,Important,Category Updates", "[\"Inbox\",\"Important\",\"Category Updates\"]");
    labels("\"Work, 2024\",Opened", "[\"Work, 2024\",\"Opened\"]");
    labels(" Sent , ,", "[\"Sent\"]");
    labels("", "[]");
    return tap_done();
}
