/*
 * extract_dump FILE [NAME] [--max-depth N] [--max-parts N] [--max-expanded N]
 *              [--max-ratio R]
 *
 * Runs extract_file on FILE as an explorer would and prints every document
 * as one JSON line ({"part", "parent_part", "title", "mime", "author",
 * "created", "modified", "text", "metadata"}), so the archive tests can check
 * results with jq. Exit 1 (and the error on stderr) when the file cannot be
 * read at all.
 */
#include "extract.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_doc(const struct extract_doc *d, void *arg)
{
    json_t *o = json_object();
    char *s;

    (void)arg;
    json_object_set_new(o, "part", d->part ? json_string(d->part) : json_null());
    json_object_set_new(o, "parent_part",
                        d->parent_part ? json_string(d->parent_part) : json_null());
    json_object_set_new(o, "title", d->title ? json_string(d->title) : json_null());
    json_object_set_new(o, "mime", d->mime ? json_string(d->mime) : json_null());
    json_object_set_new(o, "author", d->author ? json_string(d->author) : json_null());
    json_object_set_new(o, "created", d->created ? json_string(d->created) : json_null());
    json_object_set_new(o, "modified", d->modified ? json_string(d->modified) : json_null());
    json_object_set_new(o, "text", json_stringn(d->text ? d->text : "", d->text_len));
    json_object_set_new(o, "metadata", d->metadata ? json_deep_copy(d->metadata) : json_object());
    s = json_dumps(o, JSON_COMPACT);
    if (!s) {
        fprintf(stderr, "extract_dump: a document is not valid JSON (part %s)\n",
                d->part ? d->part : "(file)");
        exit(3);
    }
    puts(s);
    free(s);
    json_decref(o);
    return 0;
}

int main(int argc, char **argv)
{
    struct extract_limits lim = {0};
    const char *file = NULL, *name = NULL;
    char err[512] = "";
    long n;

    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--max-depth") == 0)
            lim.max_depth = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--max-parts") == 0)
            lim.max_parts = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--max-expanded") == 0)
            lim.max_expanded = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--max-ratio") == 0)
            lim.max_ratio = atof(argv[++i]);
        else if (!file)
            file = argv[i];
        else if (!name)
            name = argv[i];
        else {
            fprintf(stderr, "usage: extract_dump FILE [NAME] [--max-* N]\n");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: extract_dump FILE [NAME] [--max-* N]\n");
        return 2;
    }
    n = extract_file(file, name ? name : file, &lim, print_doc, NULL, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "extract_dump: %s: %s\n", file, err);
        return 1;
    }
    return 0;
}
