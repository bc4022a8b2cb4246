/*
 * Runs extract_file on each file given and prints every document as one JSON
 * line (part, title, mime, author, created, modified, text, metadata), for
 * the extraction tests to assert on.
 */
#include "extract.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int print_doc(const struct extract_doc *d, void *arg)
{
    json_t *o = json_object();
    (void)arg;
#define S(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
    S("part", d->part);
    S("title", d->title);
    S("mime", d->mime);
    S("author", d->author);
    S("created", d->created);
    S("modified", d->modified);
#undef S
    json_object_set_new(o, "text", json_stringn(d->text ? d->text : "", d->text_len));
    json_object_set(o, "metadata", d->metadata ? d->metadata : json_null());
    json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
    putchar('\n');
    json_decref(o);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char err[256] = "";
        const char *name = strrchr(argv[i], '/');
        if (extract_file(argv[i], name ? name + 1 : argv[i], NULL, print_doc, NULL, err,
                         sizeof err) < 0) {
            fprintf(stderr, "extract_dump: %s: %s\n", argv[i], err);
            rc = 1;
        }
    }
    return rc;
}
