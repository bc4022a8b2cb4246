/* Fuzz target: extract_text_as_is, the explorer's shortcut for content a
 * listing carried. Whenever it says yes, extract_file on the same bytes as a
 * file of the same name must give exactly that: one text/plain document whose
 * text is the bytes as they are. The first input byte picks the name. */
#include "extract.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    int docs;
    int same;
};

static const char *want;
static size_t want_len;

static int collect(const struct extract_doc *d, void *arg)
{
    struct seen *s = arg;
    s->docs++;
    s->same = !d->part && d->mime && strcmp(d->mime, "text/plain") == 0 &&
              d->text_len == want_len && memcmp(d->text ? d->text : "", want, want_len) == 0 &&
              !json_object_get(d->metadata, "extract_error") &&
              !json_object_get(d->metadata, "truncated");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"r000001.json", "Main Page.wiki", "notes.txt", "README",
                                        "page.html",    "rows.csv",       "m.eml",     "a.gz",
                                        "box.mbox",     "x.tar",          "deck.pptx", "p.md"};
    static char path[64];
    const char *name;
    struct seen s = {0, 0};
    char err[256];
    FILE *f;

    if (size < 1)
        return 0;
    name = names[data[0] % (sizeof names / sizeof names[0])];
    data++, size--;
    if (!extract_text_as_is(name, (const char *)data, size))
        return 0;
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/trawl-fuzz-as-is-%d", (int)getpid());
    if (!(f = fopen(path, "wb")))
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    want = (const char *)data;
    want_len = size;
    extract_file(path, name, NULL, collect, &s, err, sizeof err);
    unlink(path);
    if (s.docs != 1 || !s.same) {
        fprintf(stderr, "'%s': extract_file gave %d documents, %s\n", name, s.docs,
                s.same ? "same text" : "not the bytes as text/plain");
        abort();
    }
    return 0;
}
