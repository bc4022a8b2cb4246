#ifndef TRAWL_SOURCES_H
#define TRAWL_SOURCES_H

/*
 * The client's sources file (schema/sources.schema.json): which sources to
 * onboard, of which type, where, and where their credentials are. Secrets
 * are referenced (environment variable or file), never inline; this module
 * refuses inline ones and never reads the referenced secrets itself.
 */

#include "registry.h"

#include <jansson.h>
#include <stddef.h>

struct source_def {
    const char *name;
    const char *type;
    const struct toolkit *toolkit;
    json_t *json;     /* the source's object, as written (references only) */
    const char *path; /* "path", for local drivers; NULL otherwise */
};

struct sources {
    const char *client; /* may be NULL when the file does not name one */
    struct source_def *v;
    size_t n;
    json_t *taxonomy; /* optional, for the structurers */
    json_t *root;
};

/**
 * Reads and checks a sources file against the registry's source types.
 * Errors read "sources file 'F' line L column C: problem" and list valid
 * alternatives. Returns NULL with the message in err.
 */
struct sources *sources_load(const char *path, const struct registry *reg, char *err,
                             size_t errlen);

void sources_free(struct sources *s);

#endif
